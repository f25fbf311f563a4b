package ocr

import (
	"image"

	"github.com/tresen/tresen/internal/imaging"
)

// Form kinds other than the pink Muster 16, told apart by the colour of their paper.
const (
	FormMuster16 = "muster16" // GKV, pink
	FormPrivate  = "privat"   // private prescription, blue
	FormBtM      = "btm"      // Betäubungsmittelrezept, yellow
)

// formLabels are the kinds' German names for review notes.
var formLabels = map[string]string{FormPrivate: "Privatrezept (blau)", FormBtM: "BtM-Rezept (gelb)"}

// tintShare is the share of the sampled page a paper colour must cover to name the form.
const tintShare = 0.2

// formKind tells a blue private or yellow BtM prescription by its paper, "" when the page
// shows neither (white paper, a grey scan). It looks at about 40,000 pixels.
func formKind(page image.Image) string {
	b := page.Bounds()
	rgb := imaging.RGB(page)
	step := max(1, min(b.Dx(), b.Dy())/200)
	var all, blue, yellow int
	for y := b.Min.Y; y < b.Max.Y; y += step {
		for x := b.Min.X; x < b.Max.X; x += step {
			r, g, bl := rgb(x, y)
			all++
			ri, gi, bi := int(r), int(g), int(bl)
			switch {
			case bi > 190 && ri > 120 && bi-ri > 25 && bi-gi > 8: // light blue paper
				blue++
			case ri > 190 && gi > 190 && min(ri, gi)-bi > 40 && abs(ri-gi) < 30: // light yellow paper
				yellow++
			}
		}
	}
	switch {
	case all == 0:
		return ""
	case float64(blue) > tintShare*float64(all):
		return FormPrivate
	case float64(yellow) > tintShare*float64(all):
		return FormBtM
	}
	return ""
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
