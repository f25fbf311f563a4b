package imaging

import (
	"image"
	"image/color"
	"math"
	"testing"
)

// TestTurn: a marked corner pixel goes where a quarter turn clockwise takes it, and four
// turns give the image back.
func TestTurn(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 4, 2))
	red := color.RGBA{255, 0, 0, 255}
	src.Set(0, 0, red) // top left
	for _, tc := range []struct {
		q    int
		w, h int
		at   image.Point
	}{{0, 4, 2, image.Pt(0, 0)}, {1, 2, 4, image.Pt(1, 0)}, {2, 4, 2, image.Pt(3, 1)}, {3, 2, 4, image.Pt(0, 3)}} {
		got := Turn(src, tc.q)
		if got.Bounds().Dx() != tc.w || got.Bounds().Dy() != tc.h || got.RGBAAt(tc.at.X, tc.at.Y) != red {
			t.Errorf("%d quarters: %v, red at %v: %v", tc.q, got.Bounds(), tc.at, got.RGBAAt(tc.at.X, tc.at.Y))
		}
	}
	back := Turn(Turn(Turn(Turn(src, 1), 1), 1), 1)
	if back.RGBAAt(0, 0) != red || back.Bounds() != src.Bounds() {
		t.Error("four quarter turns did not give the image back")
	}
}

// TestRGB: the direct readers of the decoders' image types read what At does (up to
// YCbCr's rounding), transparent pixels and pixels off the image as white.
func TestRGB(t *testing.T) {
	r := image.Rect(3, 5, 40, 30)
	ycc := image.NewYCbCr(r, image.YCbCrSubsampleRatio420)
	rgba, nrgba, gray := image.NewRGBA(r), image.NewNRGBA(r), image.NewGray(r)
	pal := image.NewPaletted(r, color.Palette{color.White, color.RGBA{200, 30, 20, 255}})
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := color.RGBA{uint8(7 * x), uint8(11 * y), uint8(x * y), 255}
			rgba.Set(x, y, c)
			nrgba.Set(x, y, c)
			gray.Set(x, y, c)
			pal.SetColorIndex(x, y, uint8((x+y)%2))
			yy, cb, cr := color.RGBToYCbCr(c.R, c.G, c.B)
			ycc.Y[ycc.YOffset(x, y)] = yy
			ycc.Cb[ycc.COffset(x, y)], ycc.Cr[ycc.COffset(x, y)] = cb, cr
		}
	}
	for _, img := range []image.Image{ycc, rgba, nrgba, gray, pal} {
		rgb := RGB(img)
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				want := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
				gr, gg, gb := rgb(x, y)
				if gr != want.R || gg != want.G || gb != want.B {
					t.Fatalf("%T at (%d, %d): %d %d %d, want %v", img, x, y, gr, gg, gb, want)
				}
			}
		}
		if r, g, b := rgb(0, 0); r != 255 || g != 255 || b != 255 {
			t.Errorf("%T off the image: %d %d %d, want white", img, r, g, b)
		}
	}
	nrgba.Set(4, 6, color.NRGBA{0, 0, 0, 0})
	if r, g, b := RGB(nrgba)(4, 6); r != 255 || g != 255 || b != 255 {
		t.Errorf("transparent pixel: %d %d %d, want white", r, g, b)
	}
}

// TestWarp: the identity gives the image back; a map that halves shrinks by averaging.
func TestWarp(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 8, 4))
	for y := range 4 {
		for x := range 8 {
			src.Set(x, y, color.RGBA{uint8(30 * x), uint8(60 * y), 9, 255})
		}
	}
	same := Warp(src, Affine{1, 0, 0, 0, 1, 0}, 8, 4)
	for y := range 4 {
		for x := range 8 {
			if same.RGBAAt(x, y) != src.RGBAAt(x, y) {
				t.Fatalf("identity at (%d, %d): %v, want %v", x, y, same.RGBAAt(x, y), src.RGBAAt(x, y))
			}
		}
	}
	half := Warp(src, Affine{2, 0, 0, 0, 2, 0}, 4, 2)
	// Pixel (1, 0) covers source columns 2–3 and rows 0–1: red (60+90)/2, green (0+60)/2.
	if got := half.RGBAAt(1, 0); got != (color.RGBA{75, 30, 9, 255}) {
		t.Errorf("halved (1, 0): %v", got)
	}
	m := Affine{0.5, 0.2, 3, -0.1, 0.9, 7}
	if x, y := m.Then(m.Invert()).Apply(11, 13); math.Abs(x-11) > 1e-9 || math.Abs(y-13) > 1e-9 {
		t.Errorf("a map then its inverse took (11, 13) to (%v, %v)", x, y)
	}
}
