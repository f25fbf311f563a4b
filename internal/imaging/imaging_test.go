package imaging

import (
	"image"
	"image/color"
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
