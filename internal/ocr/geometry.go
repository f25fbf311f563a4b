package ocr

import (
	"image"
	"math"
	"slices"

	"github.com/tresen/tresen/internal/imaging"
	"github.com/tresen/tresen/internal/muster16"
)

// geometry maps the form's millimetres to the pixels of a (deskewed) page.
type geometry struct {
	x0, y0 float64 // pixel of the form's corner (0, 0) mm
	scale  float64 // pixels per mm
	found  bool    // the form's pink ground was found; otherwise the page is taken as the form
}

// rect is box, widened by mx and my mm, in pixels.
func (g geometry) rect(box muster16.Box, mx, my float64) image.Rectangle {
	return image.Rect(int(g.x0+(box.X-mx)*g.scale), int(g.y0+(box.Y-my)*g.scale),
		int(math.Ceil(g.x0+(box.X+box.W+mx)*g.scale)), int(math.Ceil(g.y0+(box.Y+box.H+my)*g.scale)))
}

// The pink ground's edges on the form (spec §1): x from 2.0 to 146.0 mm, top at 2.0 mm.
const groundLeft, groundRight, groundTop = 2.0, 146.0, 2.0

// isForm tells the red form print and its pink ground from white paper, black print and
// blue ink.
func isForm(c image.Image, x, y int) bool {
	r, g, b, _ := c.At(x, y).RGBA()
	r, g, b = r>>8, g>>8, b>>8
	return r > 170 && int(r)-int(g) > 18 && int(r)-int(b) > 18
}

// locate finds the form on the page: it measures the skew from the pink ground's top
// edge, turns the page straight, and takes the ground's left, right and top edges for the
// form's position and scale. A page without the pink ground (a grey scan) is taken as the
// form, edge to edge.
func locate(img image.Image) (image.Image, geometry) {
	img = upright(img)
	b := img.Bounds()
	whole := geometry{x0: float64(b.Min.X), y0: float64(b.Min.Y), scale: float64(b.Dx()) / muster16.WidthMM}
	if deg, ok := skew(img); ok && math.Abs(deg) > 0.05 {
		img = imaging.Rotate(img, -deg)
		b = img.Bounds()
	}
	left, right, top := edges(img)
	if left < 0 || right <= left || top < 0 {
		return img, whole
	}
	scale := float64(right-left) / (groundRight - groundLeft)
	if math.Abs(scale-whole.scale)/whole.scale > 0.25 {
		return img, whole // not the form's ground: something else is pink
	}
	return img, geometry{x0: float64(left) - groundLeft*scale, y0: float64(top) - groundTop*scale, scale: scale, found: true}
}

// upright turns a page scanned on its side or upside down: of the turns that make it
// landscape, the one whose lower left holds the form's pink extension below the frame
// (spec §1: x 2–72 mm, y 88.75–103 mm) while the lower right is white paper.
func upright(img image.Image) image.Image {
	b := img.Bounds()
	turns := []int{0, 2}
	if b.Dy() > b.Dx() {
		turns = []int{1, 3}
	}
	best, bestScore := img, math.Inf(-1)
	for _, q := range turns {
		cand := img
		if q != 0 {
			cand = imaging.Turn(img, q)
		}
		cb := cand.Bounds()
		scale := float64(cb.Dx()) / muster16.WidthMM
		band := func(x0, x1 float64) float64 {
			n, form := 0, 0
			for y := 92.0; y < 101; y += 1.5 {
				for x := x0; x < x1; x += 1.5 {
					n++
					if isForm(cand, cb.Min.X+int(x*scale), cb.Min.Y+int(y*scale)) {
						form++
					}
				}
			}
			return float64(form) / float64(n)
		}
		if score := band(5, 68) - band(76, 144); score > bestScore {
			best, bestScore = cand, score
		}
	}
	return best
}

// topEdge is the first row of form colour in column x from the top, -1 if none in the
// upper third.
func topEdge(img image.Image, x int) int {
	b := img.Bounds()
	for y := b.Min.Y; y < b.Min.Y+b.Dy()/3; y++ {
		if isForm(img, x, y) && isForm(img, x, y+1) {
			return y
		}
	}
	return -1
}

// skew is the angle of the pink ground's top edge in degrees (Theil–Sen: the median of
// the slopes between sample points, robust against marks and stamps on the edge).
func skew(img image.Image) (float64, bool) {
	b := img.Bounds()
	type pt struct{ x, y float64 }
	var pts []pt
	for i := 0; i <= 40; i++ {
		x := b.Min.X + b.Dx()/10 + i*(b.Dx()*8/10)/40
		if y := topEdge(img, x); y >= 0 {
			pts = append(pts, pt{float64(x), float64(y)})
		}
	}
	if len(pts) < 10 {
		return 0, false
	}
	var slopes []float64
	for i := range pts {
		for j := i + 1; j < len(pts); j++ {
			if dx := pts[j].x - pts[i].x; dx > float64(b.Dx())/10 {
				slopes = append(slopes, (pts[j].y-pts[i].y)/dx)
			}
		}
	}
	if len(slopes) == 0 {
		return 0, false
	}
	slices.Sort(slopes)
	return math.Atan(slopes[len(slopes)/2]) * 180 / math.Pi, true
}

// edges are the pink ground's left and right edges (medians over rows in the middle of
// the page) and its top edge (median over columns), -1 when not found.
func edges(img image.Image) (left, right, top int) {
	b := img.Bounds()
	var ls, rs, ts []int
	for i := 0; i <= 30; i++ {
		y := b.Min.Y + b.Dy()*2/10 + i*(b.Dy()*4/10)/30
		for x := b.Min.X; x < b.Min.X+b.Dx()/4; x++ {
			if isForm(img, x, y) && isForm(img, x+1, y) {
				ls = append(ls, x)
				break
			}
		}
		for x := b.Max.X - 1; x > b.Max.X-b.Dx()/4; x-- {
			if isForm(img, x, y) && isForm(img, x-1, y) {
				rs = append(rs, x+1)
				break
			}
		}
	}
	for i := 0; i <= 30; i++ {
		x := b.Min.X + b.Dx()/10 + i*(b.Dx()*8/10)/30
		if y := topEdge(img, x); y >= 0 {
			ts = append(ts, y)
		}
	}
	if len(ls) < 8 || len(rs) < 8 || len(ts) < 8 {
		return -1, -1, -1
	}
	return median(ls), median(rs), median(ts)
}

func median(v []int) int {
	slices.Sort(v)
	return v[len(v)/2]
}
