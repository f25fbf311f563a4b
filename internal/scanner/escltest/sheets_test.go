package escltest

import (
	"bytes"
	"image/jpeg"
	"testing"
)

// At 300 dpi, as the service scans, each sheet gives a landscape front and a back of the
// same size whose signature is still there after scaling and JPEG.
func TestSheets(t *testing.T) {
	docs := Sheets(t, 2, 300)
	if len(docs) != 4 {
		t.Fatalf("%d documents, want 4", len(docs))
	}
	for i := 0; i < len(docs); i += 2 {
		front, err := jpeg.Decode(bytes.NewReader(docs[i]))
		if err != nil {
			t.Fatal(err)
		}
		back, err := jpeg.Decode(bytes.NewReader(docs[i+1]))
		if err != nil {
			t.Fatal(err)
		}
		if fb, bb := front.Bounds(), back.Bounds(); fb != bb || fb.Dx() < 1700 || fb.Dx() <= fb.Dy() {
			t.Errorf("sheet %d: front %v, back %v; want the same landscape A5 at 300 dpi", i/2+1, fb, bb)
		}
		if r, g, b, _ := back.At(1080, 901).RGBA(); b>>8 < 0x60 || r>>8 > 0x60 || g>>8 > 0x60 {
			t.Errorf("sheet %d: back at (1080, 901) is %02x%02x%02x, want the signature's blue", i/2+1, r>>8, g>>8, b>>8)
		}
	}
}
