package escltest

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"testing"

	"github.com/tresen/tresen/internal/muster16/synth"
)

// Sheets renders n synthetic prescriptions scanned at dpi (100 to 1200) as the JPEGs a
// duplex scanner sends, front and back in turn: the front is the Muster 16 (prescription
// form) of synth.Record(100+i), the back a white page with a blue signature stroke,
// different on each sheet. The same n and dpi give the same bytes.
func Sheets(tb testing.TB, n int, dpi float64) [][]byte {
	tb.Helper()
	var docs [][]byte
	for i := range n {
		front, err := synth.Render(synth.Record(uint64(100+i)), synth.Options{DPI: dpi, Seed: uint64(i)})
		if err != nil {
			tb.Fatal(err)
		}
		back := image.NewRGBA(front.Bounds())
		draw.Draw(back, back.Bounds(), image.White, image.Point{}, draw.Src)
		signature(back, i, dpi/100)
		for _, img := range []image.Image{front, back} {
			var b bytes.Buffer
			if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 85}); err != nil {
				tb.Fatal(err)
			}
			docs = append(docs, b.Bytes())
		}
	}
	return docs
}

// signature draws a zigzag stroke on the back of sheet i, laid out at 100 dpi and
// scaled by k, so that it covers the same part of the page at any resolution.
func signature(img draw.Image, i int, k float64) {
	ink := color.RGBA{0x1F, 0x2A, 0x8C, 0xFF}
	width, period := max(1, int(k+0.5)), max(1, int(40*k))
	x0, x1, y0 := int(float64(100+20*i)*k), int(400*k), int(300*k)
	for x := x0; x < x1; x++ {
		y := y0 + (x%period)/2
		for d := range width {
			img.Set(x, y+d, ink)
		}
	}
}
