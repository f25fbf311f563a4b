package muster16

// Check-digit-guided correction (issue 8): OCR confuses a few shapes of letters and
// digits — 0 and O, 8 and B, 1 and I or l, 5 and S, 2 and Z, 6 and G. A character of the
// wrong kind for its place is put right only when exactly one way of undoing such
// confusions passes the number's check digit; otherwise, and whenever the check fails
// with digits read as digits, the field goes to review with what was read. A number that
// passes as read is taken as read.

// position says what may stand at a place of a number.
type position int

const (
	digitPosition  position = iota // a digit
	letterPosition                 // a capital letter (the KVNR's first)
)

var kvnrPositions = []position{letterPosition, digitPosition, digitPosition, digitPosition, digitPosition,
	digitPosition, digitPosition, digitPosition, digitPosition, digitPosition}

// asDigit are the characters OCR reads for a digit, with the digits they may be.
var asDigit = map[rune][]rune{
	'O': {'0'}, 'o': {'0'}, 'D': {'0'}, 'Q': {'0'}, 'U': {'0'},
	'I': {'1'}, 'l': {'1'}, 'i': {'1'}, '|': {'1'}, '!': {'1'}, 'L': {'1'},
	'Z': {'2'}, 'z': {'2'},
	'S': {'5', '8'}, 's': {'5'},
	'G': {'6'}, 'b': {'6'},
	'T': {'7'},
	'B': {'8', '3'},
	'g': {'9'}, 'q': {'9'},
	'A': {'4'},
}

// asLetter are the digits OCR reads for a capital letter, with the letters they may be.
var asLetter = map[rune][]rune{
	'0': {'O', 'D', 'Q'}, '1': {'I', 'L'}, '2': {'Z'}, '4': {'A'}, '5': {'S'}, '6': {'G'},
	'7': {'T'}, '8': {'B'},
}

// correct checks s against its positions and check: as read, then by undoing confusions.
func correct(s string, pos []position, check func(string) error, what string) Reading {
	r := []rune(s)
	if len(r) != len(pos) {
		return Reading{Value: s, Review: what + " hat die falsche Länge"}
	}
	// Characters of the wrong kind must be undone; each has one or a few readings.
	options := make([][]rune, len(r))
	wrongKind := 0
	for i, c := range r {
		switch ok := fits(c, pos[i]); {
		case ok:
			options[i] = []rune{c}
		case pos[i] == digitPosition && asDigit[c] != nil:
			options[i], wrongKind = asDigit[c], wrongKind+1
		case pos[i] == letterPosition && asLetter[c] != nil:
			options[i], wrongKind = asLetter[c], wrongKind+1
		default:
			return Reading{Value: s, Review: what + ": unlesbares Zeichen"}
		}
	}
	if wrongKind > 2 {
		return Reading{Value: s, Review: what + ": zu viele unsichere Zeichen"}
	}
	var passing []string
	for _, cand := range combinations(options) {
		if check(cand) == nil {
			passing = append(passing, cand)
		}
	}
	switch {
	case wrongKind == 0 && len(passing) == 1:
		return Reading{Value: s} // as read
	case len(passing) == 1:
		return Reading{Value: passing[0], Corrected: true}
	case len(passing) > 1:
		return Reading{Value: s, Review: what + ": mehrere Lesarten bestehen die Prüfziffer"}
	}
	// A digit read as another digit is not undone: any digit may stand for any, and a
	// guess that passes the check could still be wrong.
	return Reading{Value: s, Review: what + ": Prüfziffer stimmt nicht"}
}

func fits(c rune, p position) bool {
	if p == letterPosition {
		return c >= 'A' && c <= 'Z'
	}
	return c >= '0' && c <= '9'
}

// combinations are every string with one option per place.
func combinations(options [][]rune) []string {
	out := []string{""}
	for _, opts := range options {
		next := make([]string, 0, len(out)*len(opts))
		for _, prefix := range out {
			for _, c := range opts {
				next = append(next, prefix+string(c))
			}
		}
		out = next
	}
	return out
}
