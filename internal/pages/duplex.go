package pages

import "math"

// Sheet is one sheet of paper: its front and, unless that was blank, its back.
type Sheet struct {
	Front Page
	Back  *Page
}

// Duplex pairs pages scanned in the order front, back, front, back … into sheets:
//
//   - a blank back is dropped;
//   - a sheet fed the wrong way round (blank front, written back) has its written side
//     as Front;
//   - a back that is clearly a front of its own — not blank, and covered by form colour
//     like the front (at least half the front's coloured area and of the same hue) — is
//     taken as the next sheet's front, and pairing goes on from there: a stack of forms
//     scanned one-sided by mistake comes out as one sheet per form instead of every second
//     form hidden as a back. A front without form colour (a black-and-white printout)
//     gives no such evidence, so its back stays its back;
//   - a page that could not be read stays where it is, with its error;
//   - an odd trailing page is a front without back.
func Duplex(pages []Page) []Sheet {
	surveys := make([]*survey, len(pages))
	measured := func(i int) survey {
		if surveys[i] == nil {
			s := measure(pages[i].Image)
			surveys[i] = &s
		}
		return *surveys[i]
	}
	var sheets []Sheet
	for i := 0; i < len(pages); {
		front := pages[i]
		if i+1 == len(pages) {
			sheets = append(sheets, Sheet{Front: front})
			break
		}
		back := pages[i+1]
		switch {
		case front.Err != nil || back.Err != nil || front.Image == nil || back.Image == nil:
			sheets = append(sheets, Sheet{Front: front, Back: &back})
		case measured(i + 1).blank():
			sheets = append(sheets, Sheet{Front: front})
		case measured(i).blank():
			sheets = append(sheets, Sheet{Front: back})
		case ownFront(measured(i), measured(i+1)):
			sheets = append(sheets, Sheet{Front: front})
			i++
			continue
		default:
			sheets = append(sheets, Sheet{Front: front, Back: &back})
		}
		i += 2
	}
	return sheets
}

// Form colour that makes a back a front of its own.
const (
	formArea   = 0.05               // share of a side in form colour for it to count as a form
	formShare  = 0.5                // the back's form colour at least this share of the front's
	formHueGap = math.Pi * 35 / 180 // the largest difference of hue between front and back
)

// ownFront reports whether back is covered by form colour like front.
func ownFront(front, back survey) bool {
	if front.colourArea < formArea || back.colourArea < max(formArea, formShare*front.colourArea) {
		return false
	}
	d := math.Abs(front.hue - back.hue)
	if d > math.Pi {
		d = 2*math.Pi - d
	}
	return d <= formHueGap
}
