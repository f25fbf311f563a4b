// Package imaging holds the image operations scanned pages need: turning by an angle
// (deskew, and the skew of synthetic test pages).
package imaging

import (
	"image"
	"math"

	"golang.org/x/image/draw"
	"golang.org/x/image/math/f64"
)

// Rotate turns src by deg degrees about its centre (positive turns clockwise on screen,
// y pointing down), on white, keeping its size.
func Rotate(src image.Image, deg float64) *image.RGBA {
	b := src.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(dst, dst.Bounds(), image.White, image.Point{}, draw.Src)
	a := deg * math.Pi / 180
	cx, cy := float64(b.Min.X)+float64(b.Dx())/2, float64(b.Min.Y)+float64(b.Dy())/2
	sin, cos := math.Sin(a), math.Cos(a)
	// Maps src to dst: translate to the centre, turn, translate back (dst starts at 0,0).
	ox, oy := float64(b.Dx())/2, float64(b.Dy())/2
	m := f64.Aff3{cos, -sin, ox - cos*cx + sin*cy, sin, cos, oy - sin*cx - cos*cy}
	draw.BiLinear.Transform(dst, m, src, b, draw.Over, nil)
	return dst
}

// Turn turns src by quarter turns clockwise (1: 90°, 2: 180°, 3: 270°), pixel for pixel.
func Turn(src image.Image, quarters int) *image.RGBA {
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	q := ((quarters % 4) + 4) % 4
	dw, dh := w, h
	if q%2 == 1 {
		dw, dh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := range h {
		for x := range w {
			var dx, dy int
			switch q {
			case 0:
				dx, dy = x, y
			case 1:
				dx, dy = h-1-y, x
			case 2:
				dx, dy = w-1-x, h-1-y
			case 3:
				dx, dy = y, w-1-x
			}
			dst.Set(dx, dy, src.At(b.Min.X+x, b.Min.Y+y))
		}
	}
	return dst
}
