package ocr

import (
	"image"
	"image/color"
	"testing"

	"github.com/tresen/tresen/internal/muster16"
)

// TestPrintInKeepsDescenders: the patient's street and town are printed so close that the
// street's descenders ("Musterweg") touch the town's capitals. The line is cut from the
// next one below its descenders, where the ink is as thin as in their stems, so that a
// "g" is not read as an "a".
func TestPrintInKeepsDescenders(t *testing.T) {
	f, _ := muster16.FieldByKey("patient_address")
	street := f.Boxes[0]
	ink := image.NewGray(image.Rect(0, 0, px(150), px(110)))
	for i := range ink.Pix {
		ink.Pix[i] = 255
	}
	win := rect(street, marginX, searchY, 0, 0)
	x0 := rect(street, 0, 0, 0, 0).Min.X
	fill := func(from, to, width int) { // rows [from, to) of the window, width dark pixels each
		for y := win.Min.Y + from; y < win.Min.Y+to; y++ {
			for x := x0; x < x0+width; x++ {
				ink.SetGray(x, y, color.Gray{Y: 0})
			}
		}
	}
	// The row profile of such a scan (rows at 300 dpi from the window's top).
	fill(21, 54, 120) // the street's letters
	fill(54, 64, 6)   // the stem of the g below the baseline
	fill(64, 67, 5)   // its tail touching the capitals below
	fill(67, 110, 180)
	part, where := printIn(ink, street, f.Pitch, offset{}, nil)
	if part == nil {
		t.Fatal("no print found")
	}
	if bottom := where.Max.Y - win.Min.Y; bottom < 64 {
		t.Errorf("the line ends %d rows below the window's top, want ≥ 64 (below the descenders)", bottom)
	}
	if top := where.Min.Y - win.Min.Y; top > 21 {
		t.Errorf("the line starts %d rows below the window's top, want ≤ 21", top)
	}
}
