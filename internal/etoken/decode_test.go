package etoken

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/datamatrix"

	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/imaging"
)

// Grey values of a scanned printout: paper is not quite white, toner not quite black.
const (
	paper = 236
	ink   = 28
)

// sheet is a printout being drawn in millimetres onto a grey image at dpi.
type sheet struct {
	img *image.Gray
	dpi float64
	rnd *rand.Rand
}

// newSheet returns a blank sheet of w×h millimetres.
func newSheet(wMM, hMM, dpi float64) *sheet {
	w, h := int(math.Round(wMM*dpi/25.4)), int(math.Round(hMM*dpi/25.4))
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = paper
	}
	return &sheet{img: img, dpi: dpi, rnd: rand.New(rand.NewPCG(1, 2))}
}

// rect inks the rectangle from (x, y) of w×h millimetres, with partly covered pixels
// partly dark, as a scanner sees the edges.
func (s *sheet) rect(x, y, w, h float64) {
	px := s.dpi / 25.4
	x0, y0, x1, y1 := x*px, y*px, (x+w)*px, (y+h)*px
	for py := int(math.Floor(y0)); py < int(math.Ceil(y1)); py++ {
		cy := math.Min(y1, float64(py+1)) - math.Max(y0, float64(py))
		for qx := int(math.Floor(x0)); qx < int(math.Ceil(x1)); qx++ {
			cx := math.Min(x1, float64(qx+1)) - math.Max(x0, float64(qx))
			if !image.Pt(qx, py).In(s.img.Rect) {
				continue
			}
			i := s.img.PixOffset(qx, py)
			v := float64(s.img.Pix[i]) - cx*cy*(paper-ink)
			s.img.Pix[i] = uint8(math.Max(ink, v))
		}
	}
}

// text draws a line of words about 12 pt high: letters as strokes and bowls, so that they
// are small connected shapes like real glyphs.
func (s *sheet) text(x, y, width, size float64) {
	stroke := size * 0.12
	for end := x + width; x < end; {
		letters := 2 + s.rnd.IntN(8)
		for range letters {
			lw := size * (0.45 + 0.3*s.rnd.Float64())
			switch s.rnd.IntN(3) {
			case 0: // a bowl, like o or d
				s.rect(x, y+size*0.3, stroke, size*0.7)
				s.rect(x+lw-stroke, y+size*0.3, stroke, size*0.7)
				s.rect(x, y+size*0.3, lw, stroke)
				s.rect(x, y+size-stroke, lw, stroke)
			case 1: // an ascender, like l or t
				s.rect(x+lw/2, y, stroke, size)
			default: // an arch, like n or m
				s.rect(x, y+size*0.3, stroke, size*0.7)
				s.rect(x, y+size*0.3, lw, stroke)
				s.rect(x+lw-stroke, y+size*0.3, stroke, size*0.7)
			}
			x += lw + size*0.15
			if x > end {
				return
			}
		}
		x += size * 0.5
	}
}

// frame draws the outline of a box with a hairline, as the printout frames patient and
// doctor.
func (s *sheet) frame(x, y, w, h float64) {
	const line = 0.2
	s.rect(x, y, w, line)
	s.rect(x, y+h-line, w, line)
	s.rect(x, y, line, h)
	s.rect(x+w-line, y, line, h)
}

// code draws the DataMatrix code for content with its top left corner at (x, y) and modules
// of module millimetres; it returns the code's side in millimetres.
func (s *sheet) code(tb testing.TB, content string, x, y, module float64) float64 {
	tb.Helper()
	m, err := datamatrix.NewDataMatrixWriter().Encode(content, gozxing.BarcodeFormat_DATA_MATRIX, 0, 0, nil)
	if err != nil {
		tb.Fatalf("encode %q: %v", content, err)
	}
	for my := 0; my < m.GetHeight(); my++ {
		for mx := 0; mx < m.GetWidth(); {
			if !m.Get(mx, my) {
				mx++
				continue
			}
			start := mx
			for mx < m.GetWidth() && m.Get(mx, my) {
				mx++
			}
			s.rect(x+float64(start)*module, y+float64(my)*module, float64(mx-start)*module, module)
		}
	}
	return float64(m.GetWidth()) * module
}

// printout draws a Patientenausdruck after gematik's A5 landscape layout: title, patient and
// doctor frames with text in the header, the Sammelcode at the top right when there are two
// or three prescriptions, and below each prescription's code with its medication beside it,
// two to a row. On A4 portrait the prescriptions stand one below the other.
func printout(tb testing.TB, a4 bool, dpi, module float64, tokens ...Token) *image.Gray {
	tb.Helper()
	w, h := 210.0, 148.0
	if a4 {
		w, h = 210, 297
	}
	s := newSheet(w, h, dpi)
	s.text(10, 6, 85, 4)
	s.frame(10, 13, 120, 12)
	s.text(12, 17, 70, 3)
	s.text(100, 17, 20, 3)
	s.frame(10, 29, 120, 24)
	for i := range 4 {
		s.text(12, 33+float64(i)*4.5, 60+10*float64(i%2), 3)
	}
	if len(tokens) > 1 {
		side := s.code(tb, payload(tokens...), 0, -1000, module) // measure only
		s.code(tb, payload(tokens...), w-12-side, 8, module)
		s.text(w-12-side, 10+side, side, 2.5)
	}
	for i, t := range tokens {
		x, y := 10+float64(i%2)*95, 62+float64(i/2)*42
		if a4 {
			x, y = 10, 70+float64(i)*55
		}
		side := s.code(tb, payload(t), x, y, module)
		s.text(x+side+2, y+3, 55, 3.5)
		s.text(x+side+2, y+9, 40, 3)
		s.text(x+side+2, y+14, 30, 3)
	}
	s.text(10, h-12, 120, 3)
	return s.img
}

// toJPEG returns img as a JPEG decoder returns it after compression at quality q.
func toJPEG(tb testing.TB, img image.Image, q int) image.Image {
	tb.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: q}); err != nil {
		tb.Fatal(err)
	}
	out, err := jpeg.Decode(&b)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

func TestDecode(t *testing.T) {
	three := []Token{tokenA, tokenB, tokenC}
	tests := []struct {
		name   string
		a4     bool
		dpi    float64
		module float64 // millimetres
		tokens []Token
		turn   int     // quarter turns clockwise
		skew   float64 // degrees clockwise
		jpeg   int     // quality, 0 for none
		decoy  bool    // a halftone picture that looks like a code to the eye of Decode
	}{
		{"A5 three clean", false, 300, 0.5, three, 0, 0, 0, false},
		{"A5 three JPEG 60", false, 300, 0.5, three, 0, 0, 60, false},
		{"A5 three skewed 2.5° JPEG 60", false, 300, 0.5, three, 0, 2.5, 60, false},
		{"A5 three skewed -3° JPEG 60", false, 300, 0.5, three, 0, -3, 60, false},
		{"A5 three 200 dpi skewed 3° JPEG 60", false, 200, 0.5, three, 0, 3, 60, false},
		{"A5 two 200 dpi skewed -2° JPEG 60", false, 200, 0.5, []Token{tokenP, tokenB}, 0, -2, 60, false},
		{"A5 one 200 dpi JPEG 60", false, 200, 0.5, []Token{tokenC}, 0, 0, 60, false},
		{"A5 three 0.4 mm 200 dpi skewed 2° JPEG 60", false, 200, 0.4, three, 0, 2, 60, false},
		{"A5 three gematik's 0.7 mm skewed 2°", false, 300, 0.7, three, 0, 2, 75, false},
		{"A5 three skewed 15° JPEG 60", false, 300, 0.5, three, 0, 15, 60, false},
		{"A5 three turned sideways 200 dpi skewed 2° JPEG 60", false, 200, 0.5, three, 1, 2, 60, false},
		{"A5 three upside down 200 dpi JPEG 60", false, 200, 0.5, three, 2, 0, 60, false},
		{"A5 three turned left JPEG 60", false, 300, 0.5, three, 3, -1, 60, false},
		{"A5 three 600 dpi skewed 1° JPEG 60", false, 600, 0.5, three, 0, 1, 60, false},
		{"A4 three skewed 2° JPEG 60", true, 300, 0.5, three, 0, 2, 60, false},
		{"A4 three 200 dpi skewed -2.5° JPEG 60", true, 200, 0.5, three, 0, -2.5, 60, false},
		{"A4 three and a decoy skewed 2° JPEG 60", true, 300, 0.5, three, 0, 2, 60, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := printout(t, tt.a4, tt.dpi, tt.module, tt.tokens...)
			if tt.decoy {
				s := &sheet{img: page, dpi: tt.dpi, rnd: rand.New(rand.NewPCG(5, 6))}
				for y := range 80 {
					for x := range 80 {
						if s.rnd.IntN(2) == 0 {
							s.rect(120+float64(x)*0.5, 200+float64(y)*0.5, 0.5, 0.5)
						}
					}
				}
			}
			var img image.Image = page
			if tt.turn != 0 {
				img = imaging.Turn(img, tt.turn)
			}
			if math.Abs(tt.skew) > 5 {
				img = pad(img)
			}
			if tt.skew != 0 {
				img = imaging.Rotate(img, tt.skew)
			}
			if tt.jpeg != 0 {
				img = toJPEG(t, img, tt.jpeg)
			}
			start := time.Now()
			got, err := Decode(img)
			t.Logf("%v: %v", img.Bounds().Size(), time.Since(start))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if diff := cmp.Diff(tt.tokens, got); diff != "" {
				t.Errorf("Decode (-want +got):\n%s", diff)
			}
		})
	}
}

// pad puts img in the middle of a white square large enough to turn it by any angle without
// losing its corners.
func pad(img image.Image) image.Image {
	b := img.Bounds()
	side := int(math.Hypot(float64(b.Dx()), float64(b.Dy()))) + 1
	out := image.NewGray(image.Rect(0, 0, side, side))
	for i := range out.Pix {
		out.Pix[i] = paper
	}
	draw.Draw(out, b.Add(image.Pt((side-b.Dx())/2, (side-b.Dy())/2).Sub(b.Min)), img, b.Min, draw.Src)
	return out
}

// TestDecodeSingleCode reads an image of nothing but one code, as a screenshot or a photo
// cropped to the code gives.
func TestDecodeSingleCode(t *testing.T) {
	s := newSheet(26, 26, 254) // 10 px per millimetre
	s.code(t, payload(tokenB), 3, 3, 0.5)
	got, err := Decode(s.img)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if diff := cmp.Diff([]Token{tokenB}, got); diff != "" {
		t.Errorf("Decode (-want +got):\n%s", diff)
	}
}

func TestDecodeErrors(t *testing.T) {
	badCheck := `{"urls":["Task/160.000.000.000.123.77/$accept?ac=` + tokenA.AccessCode + `"]}`
	withCode := func(content string) func(testing.TB) image.Image {
		return func(tb testing.TB) image.Image {
			img := printout(tb, false, 300, 0.5)
			s := &sheet{img: img, dpi: 300}
			s.code(tb, content, 20, 70, 0.5)
			return toJPEG(tb, img, 60)
		}
	}
	tests := []struct {
		name string
		page func(testing.TB) image.Image
		want string
	}{
		{"blank page", func(tb testing.TB) image.Image { return newSheet(148, 210, 300).img }, "kein lesbarer DataMatrix-Code"},
		{"text only", func(tb testing.TB) image.Image { return toJPEG(tb, printout(tb, false, 300, 0.5), 60) }, "kein lesbarer DataMatrix-Code"},
		{"not JSON", withCode("Liebe Apotheke, bitte die Rezepte bis Freitag bereitlegen, ich hole sie nach der Arbeit ab. Danke!"), "kein JSON"},
		{"wrong check digit", withCode(badCheck), "160.000.000.000.123.77 hat eine falsche Prüfziffer"},
		{"second code not a token", func(tb testing.TB) image.Image {
			img := printout(tb, false, 300, 0.5, tokenA)
			s := &sheet{img: img, dpi: 300}
			s.code(tb, "01040123456789011710053110ABC123", 105, 110, 0.5) // a securPharm code
			return img
		}, "2. DataMatrix-Code des Ausdrucks (von oben): der Code ist kein E-Rezept-Token"},
		{"one id, two AccessCodes", func(tb testing.TB) image.Image {
			img := printout(tb, false, 300, 0.5, tokenA, tokenB)
			s := &sheet{img: img, dpi: 300}
			s.code(tb, payload(Token{tokenA.TaskID, tokenC.AccessCode}), 105, 104, 0.5)
			return img
		}, "zwei verschiedenen AccessCodes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(tt.page(t))
			if err == nil {
				t.Fatalf("Decode = %v, want an error", got)
			}
			if !errs.Is(err, errs.Invalid) {
				t.Errorf("kind = %v, want Invalid: %v", errs.KindOf(err), err)
			}
			if msg := errs.Message(err); !strings.Contains(msg, tt.want) {
				t.Errorf("message %q does not contain %q", msg, tt.want)
			}
			if strings.Contains(err.Error(), tokenA.AccessCode[:16]) {
				t.Errorf("error %q repeats an AccessCode", err)
			}
		})
	}
}

// TestDecodeOddImages gives Decode images of every kind and shape; none may panic, and
// none holds a code.
func TestDecodeOddImages(t *testing.T) {
	noise := image.NewGray(image.Rect(-7, 13, 393, 313))
	rnd := rand.New(rand.NewPCG(3, 4))
	for i := range noise.Pix {
		noise.Pix[i] = uint8(rnd.IntN(256))
	}
	checker := image.NewGray(image.Rect(0, 0, 400, 400))
	for y := range 400 {
		for x := range 400 {
			if (x/4+y/4)%2 == 0 {
				checker.Pix[y*400+x] = 255
			}
		}
	}
	transparent := image.NewNRGBA(image.Rect(0, 0, 300, 300))
	pal := image.NewPaletted(image.Rect(0, 0, 200, 100), color.Palette{color.Black, color.White})
	for _, img := range []image.Image{
		image.NewGray(image.Rect(0, 0, 0, 0)),
		image.NewGray(image.Rect(5, 5, 6, 6)),
		image.NewRGBA(image.Rect(0, 0, 1, 5000)),
		image.NewGray(image.Rect(0, 0, 40, 100_000)),
		image.NewGray16(image.Rect(0, 0, 64, 64)),
		image.NewUniform(color.White), // unbounded
		noise, checker, transparent, pal,
		image.NewCMYK(image.Rect(0, 0, 50, 50)),
	} {
		got, err := Decode(img)
		if err == nil || !errs.Is(err, errs.Invalid) {
			// An Internal error would be a panic recovered.
			t.Errorf("Decode(%T %v) = %v, %v; want an Invalid error", img, img.Bounds(), got, err)
		}
	}
}

// FuzzDecode makes grey images from bytes: the first two give the width, the rest the
// pixels. Decode must not panic on any of them.
func FuzzDecode(f *testing.F) {
	s := newSheet(26, 26, 101.6) // 4 px per millimetre
	s.code(f, payload(tokenA), 3, 3, 0.5)
	seed := append([]byte{0, byte(s.img.Rect.Dx())}, s.img.Pix...)
	f.Add(seed)
	f.Add([]byte{0, 3, 0, 255, 0, 255, 0, 255})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 3 {
			return
		}
		w := int(data[0])<<8 | int(data[1])
		pix := data[2:]
		if w == 0 || len(pix) < w {
			return
		}
		img := &image.Gray{Pix: pix, Stride: w, Rect: image.Rect(0, 0, w, len(pix)/w)}
		tokens, err := Decode(img)
		if err != nil && !errs.Is(err, errs.Invalid) {
			t.Fatalf("Decode: %v", err)
		}
		if err == nil && len(tokens) == 0 {
			t.Fatal("Decode returned no tokens and no error")
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	for _, bc := range []struct {
		name string
		a4   bool
		dpi  float64
	}{{"A5_300dpi", false, 300}, {"A4_300dpi", true, 300}, {"A4_200dpi", true, 200}} {
		img := toJPEG(b, imaging.Rotate(printout(b, bc.a4, bc.dpi, 0.5, tokenA, tokenB, tokenC), 2), 60)
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := Decode(img); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
