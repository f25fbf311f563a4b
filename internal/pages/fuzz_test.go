package pages

import (
	"encoding/binary"
	"errors"
	"image"
	"testing"
	"time"

	"github.com/tresen/tresen/internal/errs"
)

// FuzzRead feeds every format's reader: whatever the bytes, Read must not panic (nor
// recover from a panic: that is a bug found), must refuse with an Invalid error in
// German, and must keep each page's pixels within the limit.
func FuzzRead(f *testing.F) {
	g4, _ := gopher(f)
	small := solid(12, 9, red)
	gray := image.NewGray(image.Rect(0, 0, 7, 5))
	f.Add(mustJPEG(f, small, 80))
	f.Add(mustPNG(f, small))
	f.Add(mustPNG(f, gray))
	f.Add(buildTIFF(binary.LittleEndian, []tiffPage{rgbTIFFPage(f, small, 1), rgbTIFFPage(f, small, 8), grayTIFFPage(gray)}, nil))
	f.Add(buildTIFF(binary.BigEndian, []tiffPage{g4TIFFPage(g4, 153, 55), jpegTIFFPage(f, solid(16, 24, green), 8, true, 6)}, nil))
	f.Add(buildTIFF(binary.LittleEndian, []tiffPage{jpegTIFFPage(f, solid(16, 16, blue), 16, false, 6)}, map[int]int{0: 0}))
	f.Add(mustPDF(f, mustJPEG(f, small, 80), mustPNG(f, small)))
	f.Add(buildPDF([]pdfPage{
		{imageDict: "/Width 4 /Height 2 /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode", data: mustZlib(f, []byte{0, 85, 170, 255, 255, 170, 85, 0})},
		{imageDict: "/Width 4 /Height 2 /ColorSpace [/Indexed /DeviceRGB 1 <FF000000FF00>] /BitsPerComponent 1", data: []byte{0x50, 0xa0}},
		{imageDict: "/Width 153 /Height 55 /ImageMask true /Filter /CCITTFaxDecode /DecodeParms << /K -1 /Columns 153 >>", data: g4},
		{text: "Deckblatt"},
	}))
	lim := Limits{MaxBytes: 1 << 20, MaxPixels: 1 << 20, MaxPages: 20}
	f.Fuzz(func(t *testing.T, data []byte) {
		start := time.Now()
		pages, err := Read("fuzz", data, lim)
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("Read took %v", d)
		}
		checkErr := func(err error) {
			t.Helper()
			var p *panicked
			if errors.As(err, &p) {
				t.Fatalf("recovered a panic: %v\n%s", p.value, p.stack)
			}
			if errs.KindOf(err) != errs.Invalid || errs.Message(err) == "" {
				t.Fatalf("error %v is not an Invalid error with a message", err)
			}
		}
		if err != nil {
			checkErr(err)
			return
		}
		if len(pages) == 0 || len(pages) > lim.MaxPages {
			t.Fatalf("%d pages without error", len(pages))
		}
		for i, p := range pages {
			if p.Number != i+1 || (p.Image == nil) == (p.Err == nil) {
				t.Fatalf("page %d: Number %d, Image %v, Err %v", i+1, p.Number, p.Image != nil, p.Err)
			}
			if p.Err != nil {
				checkErr(p.Err)
				continue
			}
			if b := p.Image.Bounds(); b.Dx()*b.Dy() > lim.MaxPixels {
				t.Fatalf("page %d has %v, over the limit", p.Number, b)
			}
			Blank(p.Image)
		}
		Duplex(pages)
	})
}
