package ocr

import (
	"image"
	"testing"

	"github.com/tresen/tresen/internal/muster16"
	"github.com/tresen/tresen/internal/muster16/synth"
)

// benchPages are a generated record at 300 dpi, clean and degraded the ways scans are.
func benchPages(b *testing.B) []struct {
	name string
	img  image.Image
} {
	b.Helper()
	var pages []struct {
		name string
		img  image.Image
	}
	for _, c := range []struct {
		name string
		o    synth.Options
	}{
		{"clean", synth.Options{Seed: 7}},
		{"degraded", synth.Options{Skew: -3.2, OffsetX: 1.4, OffsetY: -1.1, PharmacyOffsetX: -0.8, PharmacyOffsetY: 1.5, JPEG: 65,
			Stamp: true, Signature: true, FaintRed: true, Comma: true, Bold: true, Proportional: true, Seed: 7}},
	} {
		img, err := synth.Render(synth.Record(7), c.o)
		if err != nil {
			b.Fatal(err)
		}
		pages = append(pages, struct {
			name string
			img  image.Image
		}{c.name, img})
	}
	return pages
}

// BenchmarkReadPage reads a 300 dpi page with one engine, so a page's time is one core's
// (see docs/benchmarks.md, OCR):
//
//	go test ./internal/ocr -run '^$' -bench ReadPage -benchtime 20x
func BenchmarkReadPage(b *testing.B) {
	e, err := New(1)
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	for _, pg := range benchPages(b) {
		b.Run(pg.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := e.ReadPage(pg.img); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pages/s")
		})
	}
}

// BenchmarkPrepare is the part of a page's reading before Tesseract: finding the form,
// turning it upright at 300 dpi, dropping the red, the printers' offsets, each field's
// line of print.
func BenchmarkPrepare(b *testing.B) {
	for _, pg := range benchPages(b) {
		b.Run(pg.name, func(b *testing.B) {
			for b.Loop() {
				pp := prepare(pg.img)
				for _, f := range muster16.Fields {
					for _, box := range f.Boxes {
						printIn(pp.ink, box, f.Pitch, pp.off[f.By], pp.boxes[1-f.By])
					}
				}
			}
		})
	}
}
