package matching

import (
	"strings"
	"unicode"
)

// Phonetic returns the Kölner Phonetik (Cologne phonetics) code of a single word: the digits
// 0–8 for how the word sounds in German, so that Meier, Meyer, Maier and Mayer all give "67"
// and Schmidt and Schmitt both give "862". Before coding, letters are lower-cased, ä, ö, ü
// become a, o, u, ß becomes s, other accented Latin letters lose their accent, and anything
// that is not a letter is ignored ("Müller-Lüdenscheidt" is coded as one word).
//
// The algorithm is Hans Joachim Postel's (Die Kölner Phonetik, IBM-Nachrichten 19, 1969,
// pp. 925–931) as tabulated in https://de.wikipedia.org/wiki/Kölner_Phonetik (section
// Buchstabencodes; the same table is in Apache Commons Codec's ColognePhonetic):
//
//	A E I J O U Y                                          0
//	H                                                      – (no code)
//	B; P not before H                                      1
//	D T not before C S Z                                   2
//	F V W; P before H                                      3
//	G K Q; C at the start before A H K L O Q R U X;
//	C elsewhere before A H K O Q U X but not after S Z     4
//	X not after C K Q                                      48
//	L                                                      5
//	M N                                                    6
//	R                                                      7
//	S Z; C after S Z; C at the start not before
//	A H K L O Q R U X; C elsewhere not before
//	A H K O Q U X; D T before C S Z; X after C K Q         8
//
// The letters are coded left to right, then runs of the same digit are reduced to one, then
// every 0 is removed except at the start: "Müller-Lüdenscheidt" codes to
// "60550750206880022", reduces to "6050750206802" and ends as "65752682".
func Phonetic(s string) string {
	var lbuf, cbuf [64]byte // names fit; longer words spill to the heap
	return squeeze(rawCode(cbuf[:0], letters(lbuf[:0], s)))
}

// letters appends the letters of s to out, lower-cased and folded to a–z.
func letters(out []byte, s string) []byte {
	for _, r := range s {
		r = unicode.ToLower(r)
		switch {
		case r >= 'a' && r <= 'z':
			out = append(out, byte(r))
		case r == 'ß':
			out = append(out, 's')
		default:
			if f, ok := fold[r]; ok {
				out = append(out, f)
			}
		}
	}
	return out
}

// fold maps the umlauts and the accented Latin letters that occur in names to their base
// letter. Phonetic codes ä as a (a vowel stays a vowel); names compare umlauts as ae, oe, ue
// (see normalize), which gives the same code because vowels all code to 0.
var fold = map[rune]byte{
	'ä': 'a', 'à': 'a', 'á': 'a', 'â': 'a', 'ã': 'a', 'å': 'a',
	'ç': 'c', 'č': 'c', 'ć': 'c',
	'è': 'e', 'é': 'e', 'ê': 'e', 'ë': 'e',
	'ì': 'i', 'í': 'i', 'î': 'i', 'ï': 'i',
	'ñ': 'n', 'ń': 'n',
	'ö': 'o', 'ò': 'o', 'ó': 'o', 'ô': 'o', 'õ': 'o', 'ø': 'o',
	'ü': 'u', 'ù': 'u', 'ú': 'u', 'û': 'u',
	'ý': 'y', 'ÿ': 'y',
	'š': 's', 'ś': 's', 'ž': 'z', 'ź': 'z', 'ż': 'z', 'ł': 'l', 'ř': 'r',
}

// rawCode appends to code the digit of each letter of w by the table in Phonetic's comment,
// before runs are reduced and zeros removed. The context of a letter is the letter before
// and the letter after it.
func rawCode(code, w []byte) []byte {
	for i, c := range w {
		var prev, next byte
		if i > 0 {
			prev = w[i-1]
		}
		if i+1 < len(w) {
			next = w[i+1]
		}
		switch c {
		case 'a', 'e', 'i', 'j', 'o', 'u', 'y':
			code = append(code, '0')
		case 'h':
			// H has no code.
		case 'b':
			code = append(code, '1')
		case 'p':
			if next == 'h' {
				code = append(code, '3')
			} else {
				code = append(code, '1')
			}
		case 'd', 't':
			if in(next, "csz") {
				code = append(code, '8')
			} else {
				code = append(code, '2')
			}
		case 'f', 'v', 'w':
			code = append(code, '3')
		case 'g', 'k', 'q':
			code = append(code, '4')
		case 'c':
			switch {
			case i == 0 && in(next, "ahkloqrux"):
				code = append(code, '4')
			case i == 0:
				code = append(code, '8')
			case in(prev, "sz"):
				code = append(code, '8')
			case in(next, "ahkoqux"):
				code = append(code, '4')
			default:
				code = append(code, '8')
			}
		case 'x':
			if in(prev, "ckq") {
				code = append(code, '8')
			} else {
				code = append(code, '4', '8')
			}
		case 'l':
			code = append(code, '5')
		case 'm', 'n':
			code = append(code, '6')
		case 'r':
			code = append(code, '7')
		case 's', 'z':
			code = append(code, '8')
		}
	}
	return code
}

// squeeze reduces runs of the same digit to one and then drops every 0 but a leading one.
// Runs are reduced before zeros are dropped, so "Lale" (5050) stays "55".
func squeeze(code []byte) string {
	out := code[:0] // writes never overtake reads
	var prev byte
	for i, d := range code {
		if i > 0 && d == prev {
			continue
		}
		prev = d
		if d == '0' && i > 0 {
			continue
		}
		out = append(out, d)
	}
	return string(out)
}

// in reports whether c is one of the letters in set; c == 0 (no neighbour) is in no set.
func in(c byte, set string) bool {
	return c != 0 && strings.IndexByte(set, c) >= 0
}
