// Package imaging holds the image operations scanned pages need: reading a pixel's colour
// fast whatever type the decoder returned, resampling through an affine map (deskew,
// cropping to the form, the skew of synthetic test pages) and quarter turns.
package imaging

import (
	"image"
	"image/color"
	"math"
)

// RGBReader reads the colour of the pixel at (x, y) as 8-bit red, green and blue; a pixel
// off the image, or a transparent one, reads as white paper.
type RGBReader func(x, y int) (r, g, b uint8)

// RGB returns the reader of img: direct access to the pixels of the types decoders
// return (*image.YCbCr from JPEG, *image.RGBA, *image.NRGBA, *image.Gray), img.At for the
// rest. The direct ones matter: At boxes every pixel in an interface and converts it
// through 16-bit colour, about ten times the work on a page of millions of pixels.
func RGB(img image.Image) RGBReader {
	b := img.Bounds()
	switch m := img.(type) {
	case *image.YCbCr:
		return func(x, y int) (uint8, uint8, uint8) {
			if !(image.Point{x, y}).In(b) {
				return 255, 255, 255
			}
			yi, ci := m.YOffset(x, y), m.COffset(x, y)
			return color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
		}
	case *image.RGBA:
		return func(x, y int) (uint8, uint8, uint8) {
			if !(image.Point{x, y}).In(b) {
				return 255, 255, 255
			}
			p := m.Pix[m.PixOffset(x, y):]
			w := 255 - p[3] // premultiplied: what shows through is white
			return p[0] + w, p[1] + w, p[2] + w
		}
	case *image.NRGBA:
		return func(x, y int) (uint8, uint8, uint8) {
			if !(image.Point{x, y}).In(b) {
				return 255, 255, 255
			}
			p := m.Pix[m.PixOffset(x, y):]
			if a := uint32(p[3]); a != 255 {
				over := func(c uint8) uint8 { return uint8((uint32(c)*a + 255*(255-a)) / 255) }
				return over(p[0]), over(p[1]), over(p[2])
			}
			return p[0], p[1], p[2]
		}
	case *image.Gray:
		return func(x, y int) (uint8, uint8, uint8) {
			if !(image.Point{x, y}).In(b) {
				return 255, 255, 255
			}
			v := m.Pix[m.PixOffset(x, y)]
			return v, v, v
		}
	}
	return func(x, y int) (uint8, uint8, uint8) {
		if !(image.Point{x, y}).In(b) {
			return 255, 255, 255
		}
		r, g, bl, a := img.At(x, y).RGBA()
		w := 0xffff - a
		return uint8((r + w) >> 8), uint8((g + w) >> 8), uint8((bl + w) >> 8)
	}
}

// Affine maps a point (x, y) to (A[0]x + A[1]y + A[2], A[3]x + A[4]y + A[5]).
type Affine [6]float64

// Apply maps (x, y).
func (m Affine) Apply(x, y float64) (float64, float64) {
	return m[0]*x + m[1]*y + m[2], m[3]*x + m[4]*y + m[5]
}

// Then is the map that applies m first and n to its result.
func (m Affine) Then(n Affine) Affine {
	return Affine{
		n[0]*m[0] + n[1]*m[3], n[0]*m[1] + n[1]*m[4], n[0]*m[2] + n[1]*m[5] + n[2],
		n[3]*m[0] + n[4]*m[3], n[3]*m[1] + n[4]*m[4], n[3]*m[2] + n[4]*m[5] + n[5],
	}
}

// Invert is the map that undoes m (m must not squash the plane to a line).
func (m Affine) Invert() Affine {
	det := m[0]*m[4] - m[1]*m[3]
	a, b, d, e := m[4]/det, -m[1]/det, -m[3]/det, m[0]/det
	return Affine{a, b, -(a*m[2] + b*m[5]), d, e, -(d*m[2] + e*m[5])}
}

// Warp resamples src into a new image of size w × h: destination pixel (x, y) shows the
// source around m applied to its centre (x+0.5, y+0.5), with pixel (i, j) of src covering
// [i, i+1) × [j, j+1). It interpolates bilinearly; where the destination shrinks the
// source to half or less (a 600 dpi scan to 300 dpi), it averages an n × n grid of source
// pixels instead, so thin strokes are not lost between samples. What falls off src is
// white.
func Warp(src image.Image, m Affine, w, h int) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	rgb := RGB(src)
	at := bilinear(src, rgb)
	// Source pixels per destination pixel, the larger of the two directions.
	shrink := math.Max(math.Hypot(m[0], m[3]), math.Hypot(m[1], m[4]))
	n := max(1, int(math.Round(shrink)))
	for y := range h {
		row := dst.Pix[y*dst.Stride:]
		for x := range w {
			p := row[4*x : 4*x+4 : 4*x+4]
			p[3] = 255
			if n == 1 {
				sx, sy := m.Apply(float64(x)+0.5, float64(y)+0.5)
				p[0], p[1], p[2] = at(sx-0.5, sy-0.5)
				continue
			}
			var r, g, b int
			for sj := range n {
				for si := range n {
					sx, sy := m.Apply(float64(x)+(float64(si)+0.5)/float64(n), float64(y)+(float64(sj)+0.5)/float64(n))
					cr, cg, cb := rgb(int(math.Floor(sx)), int(math.Floor(sy)))
					r, g, b = r+int(cr), g+int(cg), b+int(cb)
				}
			}
			k := n * n
			p[0], p[1], p[2] = uint8((r+k/2)/k), uint8((g+k/2)/k), uint8((b+k/2)/k)
		}
	}
	return dst
}

// bilinear returns the colour of src at (x, y), interpolated between the centres of the
// four nearest pixels (pixel centres at integer coordinates here), with 8-bit weights. A
// JPEG's YCbCr is interpolated as it is and turned into RGB once (the conversion is
// linear); other types go through rgb, as do points at the image's edge.
func bilinear(src image.Image, rgb RGBReader) func(x, y float64) (r, g, b uint8) {
	lerp := func(c00, c10, c01, c11 uint8, wx, wy int) uint8 {
		top := int(c00)*(256-wx) + int(c10)*wx
		bottom := int(c01)*(256-wx) + int(c11)*wx
		return uint8((top*(256-wy) + bottom*wy + 1<<15) >> 16)
	}
	weights := func(x, y float64) (ix, iy, wx, wy int) {
		x0, y0 := math.Floor(x), math.Floor(y)
		return int(x0), int(y0), int((x-x0)*256 + 0.5), int((y-y0)*256 + 0.5)
	}
	slow := func(x, y float64) (uint8, uint8, uint8) {
		ix, iy, wx, wy := weights(x, y)
		r00, g00, b00 := rgb(ix, iy)
		r10, g10, b10 := rgb(ix+1, iy)
		r01, g01, b01 := rgb(ix, iy+1)
		r11, g11, b11 := rgb(ix+1, iy+1)
		return lerp(r00, r10, r01, r11, wx, wy), lerp(g00, g10, g01, g11, wx, wy), lerp(b00, b10, b01, b11, wx, wy)
	}
	b := src.Bounds()
	inside := func(ix, iy int) bool { return ix >= b.Min.X && iy >= b.Min.Y && ix+1 < b.Max.X && iy+1 < b.Max.Y }
	switch m := src.(type) {
	case *image.YCbCr:
		return func(x, y float64) (uint8, uint8, uint8) {
			ix, iy, wx, wy := weights(x, y)
			if !inside(ix, iy) {
				return slow(x, y)
			}
			y0, y1 := m.YOffset(ix, iy), m.YOffset(ix, iy+1)
			c00, c10, c01, c11 := m.COffset(ix, iy), m.COffset(ix+1, iy), m.COffset(ix, iy+1), m.COffset(ix+1, iy+1)
			return color.YCbCrToRGB(lerp(m.Y[y0], m.Y[y0+1], m.Y[y1], m.Y[y1+1], wx, wy),
				lerp(m.Cb[c00], m.Cb[c10], m.Cb[c01], m.Cb[c11], wx, wy),
				lerp(m.Cr[c00], m.Cr[c10], m.Cr[c01], m.Cr[c11], wx, wy))
		}
	case *image.RGBA:
		return func(x, y float64) (uint8, uint8, uint8) {
			ix, iy, wx, wy := weights(x, y)
			if !inside(ix, iy) {
				return slow(x, y)
			}
			i, j := m.PixOffset(ix, iy), m.PixOffset(ix, iy+1)
			p, q := m.Pix[i:i+8:i+8], m.Pix[j:j+8:j+8]
			// Premultiplied: what shows through is white.
			a := 255 - lerp(p[3], p[7], q[3], q[7], wx, wy)
			return lerp(p[0], p[4], q[0], q[4], wx, wy) + a, lerp(p[1], p[5], q[1], q[5], wx, wy) + a, lerp(p[2], p[6], q[2], q[6], wx, wy) + a
		}
	}
	return slow
}

// Rotate turns src by deg degrees about its centre (positive turns clockwise on screen,
// y pointing down), on white, keeping its size.
func Rotate(src image.Image, deg float64) *image.RGBA {
	b := src.Bounds()
	a := deg * math.Pi / 180
	sin, cos := math.Sin(a), math.Cos(a)
	cx, cy := float64(b.Min.X)+float64(b.Dx())/2, float64(b.Min.Y)+float64(b.Dy())/2
	ox, oy := float64(b.Dx())/2, float64(b.Dy())/2
	// From the destination back to the source: about the centre, by −deg.
	m := Affine{cos, sin, cx - cos*ox - sin*oy, -sin, cos, cy + sin*ox - cos*oy}
	return Warp(src, m, b.Dx(), b.Dy())
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
	rgb := RGB(src)
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
			p := dst.Pix[dst.PixOffset(dx, dy):]
			p[0], p[1], p[2] = rgb(b.Min.X+x, b.Min.Y+y)
			p[3] = 255
		}
	}
	return dst
}
