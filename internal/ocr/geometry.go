package ocr

import (
	"cmp"
	"image"
	"math"
	"slices"

	"github.com/tresen/tresen/internal/imaging"
	"github.com/tresen/tresen/internal/muster16"
)

// The prepared page (Page.Image) is the form at 300 dpi, the resolution Tesseract reads
// Courier 12 pt best at and the spec's pixel figures use: 1748 × 1240 pixels.
const pxPerMM = 300 / 25.4

var formW, formH = int(math.Round(muster16.WidthMM * pxPerMM)), int(math.Round(muster16.HeightMM * pxPerMM))

// pageToMM maps the prepared page's pixels to the form's millimetres.
var pageToMM = imaging.Affine{1 / pxPerMM, 0, 0, 0, 1 / pxPerMM, 0}

// rect is box, widened by mx and my mm and moved by (dx, dy) mm, in the prepared page's
// pixels.
func rect(box muster16.Box, mx, my, dx, dy float64) image.Rectangle {
	return image.Rect(int((box.X-mx+dx)*pxPerMM), int((box.Y-my+dy)*pxPerMM),
		int(math.Ceil((box.X+box.W+mx+dx)*pxPerMM)), int(math.Ceil((box.Y+box.H+my+dy)*pxPerMM)))
}

// The pink ground (spec §1): x from 2.0 to 146.0 mm, y from 2.0 to 88.75 mm, and below
// it, left of x = 71.89 mm, the extension down to 103.0 mm.
const groundLeft, groundRight, groundTop, groundBottom = 2.0, 146.0, 2.0, 103.0

// isForm tells the red form print and its pink ground from white paper, black print and
// blue ink.
func isForm(r, g, b uint8) bool {
	return r > 170 && int(r)-int(g) > 18 && int(r)-int(b) > 18
}

// locate finds the form on a page of any size, upright or turned by any angle: the largest
// patch of the form's colour is its pink ground, whose outline (ground and extension, 144
// × 101 mm) gives the form's axes and size, and the extension at the lower left tells up
// from down. The ground's top, left and right edges, found again at the page's full
// resolution, then fix the angle, position and scale. It returns the map from the form's
// millimetres to the page's pixels; ok is false when the page has no such patch (a grey
// scan), and the page is then taken as the form, edge to edge.
func locate(page image.Image) (form imaging.Affine, ok bool) {
	b := page.Bounds()
	rgb := imaging.RGB(page)
	scale := float64(b.Dx()) / muster16.WidthMM
	whole := imaging.Affine{scale, 0, float64(b.Min.X), 0, scale, float64(b.Min.Y)}
	hull := groundOutline(rgb, b)
	if len(hull) < 4 {
		return whole, false
	}
	rough, ok := fitGround(rgb, hull)
	if !ok {
		return whole, false
	}
	return refine(rgb, b, rough), true
}

// groundOutline is the convex hull, in page pixels, of the largest connected patch of form
// colour, sampled on a grid of about 400 points across the page's shorter side.
func groundOutline(rgb imaging.RGBReader, b image.Rectangle) []point {
	step := max(1, min(b.Dx(), b.Dy())/400)
	gw, gh := b.Dx()/step, b.Dy()/step
	mask := make([]bool, gw*gh)
	for j := range gh {
		for i := range gw {
			mask[j*gw+i] = isForm(rgb(b.Min.X+i*step+step/2, b.Min.Y+j*step+step/2))
		}
	}
	// Grown by a point each way: at this spacing the ground's narrow strips between the
	// white boxes (0.7 mm between the Taxzeilen) break where JPEG noise makes a sample
	// miss the colour, and the patch would fall apart.
	grown := make([]bool, len(mask))
	for j := range gh {
		for i := range gw {
			for dj := max(0, j-1); dj <= min(gh-1, j+1) && !grown[j*gw+i]; dj++ {
				for di := max(0, i-1); di <= min(gw-1, i+1); di++ {
					if mask[dj*gw+di] {
						grown[j*gw+i] = true
						break
					}
				}
			}
		}
	}
	mask = grown
	// The largest 4-connected patch.
	label := make([]int32, len(mask))
	var best []int
	stack := []int{}
	for start, on := range mask {
		if !on || label[start] != 0 {
			continue
		}
		var cells []int
		label[start] = 1
		stack = append(stack[:0], start)
		for len(stack) > 0 {
			c := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			cells = append(cells, c)
			x, y := c%gw, c/gw
			for _, n := range [4][2]int{{x - 1, y}, {x + 1, y}, {x, y - 1}, {x, y + 1}} {
				if n[0] < 0 || n[1] < 0 || n[0] >= gw || n[1] >= gh {
					continue
				}
				if k := n[1]*gw + n[0]; mask[k] && label[k] == 0 {
					label[k] = 1
					stack = append(stack, k)
				}
			}
		}
		if len(cells) > len(best) {
			best = cells
		}
	}
	// Too small to be a form: fewer than 1 % of the page, or a few hundred points.
	if len(best) < max(300, len(mask)/100) {
		return nil
	}
	// The hull needs only each row's outermost points.
	first, last := make([]int, gh), make([]int, gh)
	for j := range gh {
		first[j], last[j] = gw, -1
	}
	for _, c := range best {
		x, y := c%gw, c/gw
		first[y], last[y] = min(first[y], x), max(last[y], x)
	}
	var pts []point
	for j := range gh {
		if last[j] >= 0 {
			y := float64(b.Min.Y + j*step + step/2)
			pts = append(pts, point{float64(b.Min.X + first[j]*step + step/2), y}, point{float64(b.Min.X + last[j]*step + step/2), y})
		}
	}
	return convexHull(pts)
}

type point struct{ x, y float64 }

// convexHull is Andrew's monotone chain.
func convexHull(pts []point) []point {
	slices.SortFunc(pts, func(a, b point) int {
		if a.x != b.x {
			return cmp.Compare(a.x, b.x)
		}
		return cmp.Compare(a.y, b.y)
	})
	cross := func(o, a, b point) float64 { return (a.x-o.x)*(b.y-o.y) - (a.y-o.y)*(b.x-o.x) }
	var hull []point
	for pass := range 2 {
		start := len(hull)
		for i := range pts {
			p := pts[i]
			if pass == 1 {
				p = pts[len(pts)-1-i]
			}
			for len(hull) >= start+2 && cross(hull[len(hull)-2], hull[len(hull)-1], p) <= 0 {
				hull = hull[:len(hull)-1]
			}
			hull = append(hull, p)
		}
		hull = hull[:len(hull)-1]
	}
	return hull
}

// fitGround lays the form's ground onto the outline: the rectangle of least area around
// it (one of its sides lies on an edge of the hull) has the ground's long side along the
// form's x axis; of the two ways round, the one with the pink extension at the lower left
// and white paper at the lower right is upright. It fails when the rectangle does not
// have the ground's proportions (144 × 101 mm) or the patch not the form's look.
func fitGround(rgb imaging.RGBReader, hull []point) (imaging.Affine, bool) {
	bestArea := math.Inf(1)
	var u point           // unit vector along the rectangle's first side
	var lo, hi [2]float64 // its extent along u and along the normal
	for i := range hull {
		a, b := hull[i], hull[(i+1)%len(hull)]
		l := math.Hypot(b.x-a.x, b.y-a.y)
		if l == 0 {
			continue
		}
		e := point{(b.x - a.x) / l, (b.y - a.y) / l}
		mn, mx := [2]float64{math.Inf(1), math.Inf(1)}, [2]float64{math.Inf(-1), math.Inf(-1)}
		for _, p := range hull {
			s, t := p.x*e.x+p.y*e.y, -p.x*e.y+p.y*e.x
			mn[0], mx[0] = math.Min(mn[0], s), math.Max(mx[0], s)
			mn[1], mx[1] = math.Min(mn[1], t), math.Max(mx[1], t)
		}
		if area := (mx[0] - mn[0]) * (mx[1] - mn[1]); area < bestArea {
			bestArea, u, lo, hi = area, e, mn, mx
		}
	}
	n := point{-u.y, u.x}
	long, short := hi[0]-lo[0], hi[1]-lo[1]
	// The centre of the rectangle.
	cs, ct := (lo[0]+hi[0])/2, (lo[1]+hi[1])/2
	c := point{cs*u.x + ct*n.x, cs*u.y + ct*n.y}
	if short > long {
		long, short = short, long
		u = n
	}
	const ratio = (groundBottom - groundTop) / (groundRight - groundLeft)
	if r := short / long; r < ratio*0.85 || r > ratio*1.15 {
		return imaging.Affine{}, false
	}
	s := long / (groundRight - groundLeft) // pixels per mm
	var best imaging.Affine
	bestScore := math.Inf(-1)
	for _, sign := range []float64{1, -1} {
		ex := point{sign * u.x, sign * u.y}
		ey := point{-ex.y, ex.x} // the form's y axis, a quarter turn clockwise from x
		// The form's point (x, y) mm is at c + s·(x − centre x)·ex + s·(y − centre y)·ey.
		mx, my := (groundLeft+groundRight)/2, (groundTop+groundBottom)/2
		m := imaging.Affine{s * ex.x, s * ey.x, c.x - s*(mx*ex.x+my*ey.x), s * ex.y, s * ey.y, c.y - s*(mx*ex.y+my*ey.y)}
		// Below the ground's main part (y 92 to 101 mm) the extension is pink, the rest
		// white.
		if score := formShare(rgb, m, 5, 68, 92, 101) - formShare(rgb, m, 76, 144, 92, 101); score > bestScore {
			best, bestScore = m, score
		}
	}
	// Not the form but a patch of its size: without the extension, or coloured where the
	// Personalienfeld is white (a page all pink, or noise).
	if bestScore < 0.4 || formShare(rgb, best, 12, 86, 8, 50) > 0.3 {
		return imaging.Affine{}, false
	}
	return best, true
}

// formShare is the share of form colour in the part of the form between x0 and x1 and y0
// and y1 mm.
func formShare(rgb imaging.RGBReader, m imaging.Affine, x0, x1, y0, y1 float64) float64 {
	n, form := 0, 0
	for y := y0; y < y1; y += 1.5 {
		for x := x0; x < x1; x += 1.5 {
			px, py := m.Apply(x, y)
			n++
			if isForm(rgb(int(px), int(py))) {
				form++
			}
		}
	}
	return float64(form) / float64(n)
}

// refine measures the ground's top, left and right edges at the page's full resolution
// along the rough placement (in its millimetres): the angle is the median slope between
// pairs of edge points (Theil–Sen, robust against marks on an edge), the position and
// scale the medians of the edges' distances.
func refine(rgb imaging.RGBReader, page image.Rectangle, rough imaging.Affine) imaging.Affine {
	pxmm := math.Hypot(rough[0], rough[3]) // page pixels per mm
	step := 1 / pxmm
	// edge walks from `from` towards `to` (mm along the walk) and returns the first
	// point of form colour that the next step confirms, coming from paper: where the
	// page cuts the form off (a corner turned out of a skewed scan) there is no edge.
	edge := func(at func(t float64) (float64, float64), from, to float64) (point, bool) {
		dir := math.Copysign(step, to-from)
		paper := false
		for t := from; (to-t)*dir > 0; t += dir {
			x, y := at(t)
			px, py := rough.Apply(x, y)
			p := image.Pt(int(math.Floor(px)), int(math.Floor(py)))
			if !p.In(page) {
				paper = false
				continue
			}
			if !isForm(rgb(p.X, p.Y)) {
				paper = true
				continue
			}
			qx, qy := rough.Apply(at(t + dir))
			if paper && isForm(rgb(int(math.Floor(qx)), int(math.Floor(qy)))) {
				return point{x, y}, true
			}
		}
		return point{}, false
	}
	var top, left, right []point
	for x := 8.0; x <= 140; x += 3 {
		if p, ok := edge(func(t float64) (float64, float64) { return x, t }, groundTop-3, groundTop+4); ok {
			top = append(top, p)
		}
	}
	for y := 8.0; y <= 98; y += 3 {
		if p, ok := edge(func(t float64) (float64, float64) { return t, y }, groundLeft-3, groundLeft+4); ok {
			left = append(left, p)
		}
		if y > 85 {
			continue // the ground's right edge ends at 88.75 mm
		}
		if p, ok := edge(func(t float64) (float64, float64) { return t, y }, groundRight+3, groundRight-4); ok {
			right = append(right, p)
		}
	}
	if len(top) < 10 || len(left) < 8 || len(right) < 8 {
		return rough
	}
	var slopes []float64
	for i := range top {
		for j := i + 1; j < len(top); j++ {
			if dx := top[j].x - top[i].x; dx > 20 {
				slopes = append(slopes, (top[j].y-top[i].y)/dx)
			}
		}
	}
	for _, side := range [][]point{left, right} {
		for i := range side {
			for j := i + 1; j < len(side); j++ {
				if dy := side[j].y - side[i].y; dy > 20 {
					slopes = append(slopes, -(side[j].x-side[i].x)/dy)
				}
			}
		}
	}
	a := math.Atan(medianF(slopes))
	dT, dL := point{math.Cos(a), math.Sin(a)}, point{-math.Sin(a), math.Cos(a)}
	along := func(pts []point, d point) float64 {
		v := make([]float64, len(pts))
		for i, p := range pts {
			v[i] = p.x*d.x + p.y*d.y
		}
		return medianF(v)
	}
	cL, cR, cT := along(left, dT), along(right, dT), along(top, dL)
	k := (cR - cL) / (groundRight - groundLeft)
	if k < 0.9 || k > 1.1 {
		return rough
	}
	corner := point{cL*dT.x + cT*dL.x, cL*dT.y + cT*dL.y}
	// From the true form's mm to the rough placement's mm, then on to the page.
	fix := imaging.Affine{
		k * dT.x, k * dL.x, corner.x - k*(groundLeft*dT.x+groundTop*dL.x),
		k * dT.y, k * dL.y, corner.y - k*(groundLeft*dT.y+groundTop*dL.y),
	}
	return fix.Then(rough)
}

func medianF(v []float64) float64 {
	slices.Sort(v)
	return v[len(v)/2]
}
