package pages

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/tresen/tresen/internal/muster16/synth"
)

// paper returns a w × h page of colour c with scanner noise of ±amp.
func paper(w, h int, c color.RGBA, amp int, seed uint64) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(seed, 1))
	for i := 0; i < len(img.Pix); i += 4 {
		n := 0
		if amp > 0 {
			n = rng.IntN(2*amp+1) - amp
		}
		img.Pix[i] = clamp(int(c.R) + n)
		img.Pix[i+1] = clamp(int(c.G) + n)
		img.Pix[i+2] = clamp(int(c.B) + n)
		img.Pix[i+3] = 0xff
	}
	return img
}

func clamp(v int) uint8 { return uint8(max(0, min(255, v))) }

// write draws text at (x, y) in letters scale times basicfont's 7 × 13 pixels.
func write(dst draw.Image, text string, x, y, scale int, c color.Color) {
	small := image.NewAlpha(image.Rect(0, 0, 7*len(text), 13))
	d := font.Drawer{Dst: small, Src: image.Opaque, Face: basicfont.Face7x13, Dot: fixed.P(0, 11)}
	d.DrawString(text)
	src := image.NewUniform(c)
	for sy := range 13 {
		for sx := range small.Rect.Dx() {
			if small.AlphaAt(sx, sy).A > 0x80 {
				r := image.Rect(x+sx*scale, y+sy*scale, x+(sx+1)*scale, y+(sy+1)*scale)
				draw.Draw(dst, r, src, image.Point{}, draw.Src)
			}
		}
	}
}

// disc draws a filled circle, a punched hole's shadow or a speck of dust.
func disc(dst *image.RGBA, cx, cy, r int, c color.RGBA) {
	for y := cy - r; y <= cy+r; y++ {
		for x := cx - r; x <= cx+r; x++ {
			if (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r {
				dst.SetRGBA(x, y, c)
			}
		}
	}
}

// Sizes at 300 dpi: a Muster 16 (A6 landscape) and an A4 sheet.
const (
	a6W, a6H = 1748, 1240
	a4W, a4H = 2480, 3508
)

var (
	white    = color.RGBA{250, 250, 248, 255}
	recycled = color.RGBA{232, 229, 220, 255}
	ink      = color.RGBA{20, 20, 30, 255}
	ballpen  = color.RGBA{30, 50, 150, 255}
)

// jpegRoundTrip returns img as a scanner's JPEG decodes: YCbCr with JPEG noise.
func jpegRoundTrip(tb testing.TB, img image.Image, quality int) image.Image {
	tb.Helper()
	out, err := jpeg.Decode(bytes.NewReader(mustJPEG(tb, img, quality)))
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// form renders a synthetic Muster 16 front.
func form(tb testing.TB, seed uint64) image.Image {
	tb.Helper()
	img, err := synth.Render(synth.Record(seed), synth.Options{JPEG: 80, Seed: seed, Stamp: true, Signature: true})
	if err != nil {
		tb.Fatal(err)
	}
	return img
}

func TestBlank(t *testing.T) {
	tests := []struct {
		name  string
		page  func(t *testing.T) image.Image
		blank bool
	}{
		{"white paper with scanner noise", func(t *testing.T) image.Image { return paper(a6W, a6H, white, 12, 1) }, true},
		{"strong noise, then JPEG", func(t *testing.T) image.Image { return jpegRoundTrip(t, paper(a6W, a6H, white, 25, 2), 60) }, true},
		{"recycled paper", func(t *testing.T) image.Image { return jpegRoundTrip(t, paper(a6W, a6H, recycled, 10, 3), 75) }, true},
		{"A4 white paper", func(t *testing.T) image.Image { return jpegRoundTrip(t, paper(a4W, a4H, white, 10, 4), 75) }, true},
		{"gray scan", func(t *testing.T) image.Image {
			g := image.NewGray(image.Rect(0, 0, a6W, a6H))
			draw.Draw(g, g.Rect, paper(a6W, a6H, white, 10, 5), image.Point{}, draw.Src)
			return g
		}, true},
		{"a speck of dust", func(t *testing.T) image.Image {
			p := paper(a6W, a6H, white, 10, 6)
			disc(p, 700, 500, 4, ink)
			return p
		}, true},
		{"two specks of dust", func(t *testing.T) image.Image {
			p := paper(a6W, a6H, white, 10, 7)
			disc(p, 700, 500, 5, ink)
			disc(p, 1200, 900, 3, ink)
			return jpegRoundTrip(t, p, 75)
		}, true},
		{"punched holes on a black backing", func(t *testing.T) image.Image {
			p := paper(a4W, a4H, white, 10, 8)
			disc(p, 142, a4H/2-472, 35, color.RGBA{10, 10, 10, 255})
			disc(p, 142, a4H/2+472, 35, color.RGBA{10, 10, 10, 255})
			return jpegRoundTrip(t, p, 75)
		}, true},
		{"four punched holes and dust in an A5", func(t *testing.T) image.Image {
			p := paper(1748, 2480, white, 10, 8)
			for _, y := range []int{2480/2 - 1120, 2480/2 - 472, 2480/2 + 472, 2480/2 + 1120} {
				disc(p, 142, y, 35, color.RGBA{10, 10, 10, 255})
			}
			disc(p, 700, 500, 4, ink)
			return jpegRoundTrip(t, p, 75)
		}, true},
		{"streak from dust on the glass", func(t *testing.T) image.Image {
			p := paper(a6W, a6H, white, 10, 9)
			draw.Draw(p, image.Rect(800, 0, 802, a6H), image.NewUniform(color.RGBA{90, 90, 90, 255}), image.Point{}, draw.Src)
			return jpegRoundTrip(t, p, 75)
		}, true},
		{"edge shadow", func(t *testing.T) image.Image {
			p := paper(a6W, a6H, white, 10, 10)
			draw.Draw(p, image.Rect(0, 0, 40, a6H), image.NewUniform(color.RGBA{60, 60, 60, 255}), image.Point{}, draw.Src)
			return p
		}, true},
		{"show-through of a printed front on thin paper", func(t *testing.T) image.Image {
			p := paper(a6W, a6H, white, 10, 17)
			for y := 200; y < 1100; y += 90 {
				write(p, "tropfen N1 1-0-1 mg", 200, y, 3, color.RGBA{215, 215, 215, 255})
			}
			return jpegRoundTrip(t, p, 75)
		}, true},
		{"show-through of a pink form", func(t *testing.T) image.Image {
			return jpegRoundTrip(t, faint(paper(a6W, a6H, white, 10, 18), mirror(form(t, 4)), 0.15), 75)
		}, true},
		{"a few words", func(t *testing.T) image.Image {
			p := paper(a6W, a6H, white, 10, 11)
			write(p, "Bitte wenden", 500, 600, 3, ink)
			return jpegRoundTrip(t, p, 75)
		}, false},
		{"a date in ballpen", func(t *testing.T) image.Image {
			p := paper(a6W, a6H, white, 10, 12)
			write(p, "12.03.25", 900, 300, 3, ballpen)
			return jpegRoundTrip(t, p, 75)
		}, false},
		{"a line of small print on A4", func(t *testing.T) image.Image {
			p := paper(a4W, a4H, white, 10, 13)
			write(p, "Empfang bestaetigt", 400, 2000, 2, ink)
			return jpegRoundTrip(t, p, 75)
		}, false},
		{"pink prescription form", func(t *testing.T) image.Image { return form(t, 1) }, false},
		{"yellow tinted paper", func(t *testing.T) image.Image {
			return jpegRoundTrip(t, paper(a6W, a6H, color.RGBA{255, 243, 170, 255}, 10, 14), 75)
		}, false},
		{"pale blue form print on white", func(t *testing.T) image.Image {
			p := paper(a6W, a6H, white, 10, 15)
			pale := image.NewUniform(color.RGBA{200, 220, 250, 255})
			for y := 200; y < 1100; y += 150 {
				draw.Draw(p, image.Rect(200, y, 1500, y+60), pale, image.Point{}, draw.Src)
			}
			return jpegRoundTrip(t, p, 75)
		}, false},
		{"tiny image", func(t *testing.T) image.Image { return paper(3, 2, white, 0, 16) }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := tt.page(t)
			if got := Blank(img); got != tt.blank {
				t.Errorf("Blank = %v, want %v (survey %+v)", got, tt.blank, measure(img))
			}
		})
	}
}

// mirror flips img left to right, as the front looks through the paper from the back.
func mirror(img image.Image) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := range b.Dy() {
		for x := range b.Dx() {
			out.Set(b.Dx()-1-x, y, img.At(b.Min.X+x, b.Min.Y+y))
		}
	}
	return out
}

// faint blends share of over into dst, as light through paper does.
func faint(dst *image.RGBA, over image.Image, share float64) *image.RGBA {
	for y := range dst.Rect.Dy() {
		for x := range dst.Rect.Dx() {
			c := rgbAt(over, x, y)
			p := dst.Pix[dst.PixOffset(x, y):]
			for k := range 3 {
				// Light passes what the ink on the other side does not absorb.
				p[k] = uint8(float64(p[k]) * (1 - share*(1-float64(c[k])/255)))
			}
		}
	}
	return dst
}

func BenchmarkBlank(b *testing.B) {
	img := jpegRoundTrip(b, paper(a4W, a4H, white, 10, 1), 75)
	for b.Loop() {
		Blank(img)
	}
}

// sheetNumbers is a sheet as page numbers, 0 for no back.
type sheetNumbers struct{ Front, Back int }

func TestDuplex(t *testing.T) {
	f1, f2, f3 := form(t, 1), form(t, 2), form(t, 3)
	blank := jpegRoundTrip(t, paper(a6W, a6H, white, 10, 20), 75)
	written := paper(a6W, a6H, white, 10, 21)
	write(written, "Empfang bestaetigt", 300, 500, 3, ballpen)
	printout := paper(a6W, a6H, white, 10, 22)
	write(printout, "E-Rezept Ausdruck", 200, 200, 4, ink)
	write(printout, "Ibuprofen 400 mg", 200, 500, 4, ink)
	pages := func(imgs ...image.Image) []Page {
		var ps []Page
		for i, img := range imgs {
			p := Page{File: "scan.pdf", Number: i + 1, Image: img}
			if img == nil {
				p.Err = errsPage(i + 1)
			}
			ps = append(ps, p)
		}
		return ps
	}
	tests := []struct {
		name  string
		pages []Page
		want  []sheetNumbers
	}{
		{"blank backs dropped", pages(f1, blank, f2, blank), []sheetNumbers{{1, 0}, {3, 0}}},
		{"written back kept", pages(f1, written, f2, blank), []sheetNumbers{{1, 2}, {3, 0}}},
		{"forms scanned one-sided into a duplex stack", pages(f1, f2, f3, blank), []sheetNumbers{{1, 0}, {2, 0}, {3, 0}}},
		{"sheet fed the wrong way round", pages(blank, f1), []sheetNumbers{{2, 0}}},
		{"odd trailing page", pages(f1, blank, f2), []sheetNumbers{{1, 0}, {3, 0}}},
		{"unreadable back stays", pages(f1, nil, f2, blank), []sheetNumbers{{1, 2}, {3, 0}}},
		{"black-and-white printouts: no colour, no evidence", pages(printout, printout), []sheetNumbers{{1, 2}}},
		{"empty", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []sheetNumbers
			for _, s := range Duplex(tt.pages) {
				n := sheetNumbers{Front: s.Front.Number}
				if s.Back != nil {
					n.Back = s.Back.Number
				}
				got = append(got, n)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("sheets (-want +got):\n%s", diff)
			}
		})
	}
}

func errsPage(n int) error {
	return prefixPage(n, invalid(nil, "die Bilddaten sind beschädigt oder unvollständig"))
}
