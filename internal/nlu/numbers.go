package nlu

import "strings"

// Number is a number word's value. Ordinal is set for ordinal forms ("zwölfter", "dritten",
// "erste", "siebte", "zwanzigsten").
type Number struct {
	Value   int
	Ordinal bool
}

// maxNumberWordLen bounds the tokens worth looking at: the longest number word up to 999999,
// spelt with "ue" and "und" ("neunhundertundneunundneunzigtausend…neunzigsten"), is about
// 80 bytes, and the bound keeps the fold buffer on the stack.
const maxNumberWordLen = 128

// Morpheme tables, keyed by the folded spelling (see foldNumberWord). German writes a number
// below a million as one word, so a token is split at "tausend" and "hundert" and the
// pieces are looked up here; a piece that is not in a table makes the whole word fail,
// which is what rejects "einmal", "achtung" or "hundertprozentig".
var (
	// numUnits are 1..9 where they stand before "und", "hundert" or "tausend"
	// ("einundzwanzig", "einhundert"): one is "ein" there, never "eins". "fumf" is how
	// many say fünf, and speech recognisers write it so.
	numUnits = map[string]int{
		"ein": 1, "zwei": 2, "zwo": 2, "drei": 3, "vier": 4, "funf": 5, "fumf": 5,
		"sechs": 6, "sieben": 7, "acht": 8, "neun": 9,
	}
	// numTens are the multiples of ten that take a unit before "und". "dreizig",
	// "sechszig" and "siebenzig" are misspellings, accepted like those of the teens.
	numTens = map[string]int{
		"zwanzig": 20, "dreisig": 30, "dreizig": 30, "vierzig": 40, "funfzig": 50, "fumfzig": 50,
		"sechzig": 60, "sechszig": 60, "siebzig": 70, "siebenzig": 70, "achtzig": 80, "neunzig": 90,
	}
	// numLastWords are the words below one hundred that can end a number or stand alone.
	// "sechszehn" and "siebenzehn" are common misspellings of sechzehn and siebzehn.
	numLastWords = map[string]int{
		"eins": 1, "zwei": 2, "zwo": 2, "drei": 3, "vier": 4, "funf": 5, "fumf": 5,
		"sechs": 6, "sieben": 7, "acht": 8, "neun": 9, "zehn": 10, "elf": 11, "zwolf": 12,
		"dreizehn": 13, "vierzehn": 14, "funfzehn": 15, "fumfzehn": 15, "sechzehn": 16,
		"sechszehn": 16, "siebzehn": 17, "siebenzehn": 17, "achtzehn": 18, "neunzehn": 19,
	}
	// numAloneWords are one as it is said on its own, declined like the article: "einer
	// von beiden", "nur einen". "null" belongs here too, as no compound contains it.
	numAloneWords = map[string]int{"null": 0, "ein": 1, "eine": 1, "einen": 1, "einem": 1, "einer": 1}
	// numOrdinalStems are the ordinals below twenty before their ending. Only these are
	// formed with "-t"; from twenty on the ending is "-st" on the cardinal
	// ("zwanzigste"). "acht" takes no second t ("achte"), so "achten" reads as the
	// ordinal eighth: callers say "am achten" far more often than the verb "achten".
	numOrdinalStems = map[string]int{
		"erst": 1, "zweit": 2, "zwot": 2, "dritt": 3, "viert": 4, "funft": 5, "fumft": 5,
		"sechst": 6, "siebt": 7, "siebent": 7, "acht": 8, "neunt": 9, "zehnt": 10, "elft": 11,
		"zwolft": 12, "dreizehnt": 13, "vierzehnt": 14, "funfzehnt": 15, "fumfzehnt": 15,
		"sechzehnt": 16, "sechszehnt": 16, "siebzehnt": 17, "siebenzehnt": 17,
		"achtzehnt": 18, "neunzehnt": 19,
	}
)

// numPlace says where in a compound a piece below one hundred stands, because German spells
// one differently in each: "eins" at the end ("hunderteins"), "ein" as a factor
// ("eintausend", "hunderteintausend") and declined forms only on its own ("einer").
type numPlace int

const (
	placeAlone  numPlace = iota // the whole token
	placeLast                   // after "hundert" or "tausend"
	placeFactor                 // before "hundert" or "tausend"
)

// ParseNumberWord parses one lower-case token (already split on spaces; may contain
// umlauts or their ASCII spellings "ue/oe/ae/ss", and ß) as a German number word:
// a cardinal up to 999999 ("zweiundvierzig", "neunzehnhundertvierundachtzig"), an
// ordinal ("zwölften", "erste", "einundzwanzigste"), or digits ("1984", and "12." as an
// ordinal). Words that only contain number parts ("einmal", "achtung", "viertel") are
// not numbers.
func ParseNumberWord(w string) (Number, bool) {
	if w == "" || len(w) > maxNumberWordLen {
		return Number{}, false
	}
	if '0' <= w[0] && w[0] <= '9' {
		return parseDigitsWord(w)
	}
	var buf [maxNumberWordLen]byte
	b, changed, ok := foldNumberWord(buf[:0], w)
	switch {
	case !ok:
		return Number{}, false
	case changed:
		// The conversion does not escape parseFoldedNumber, so for words up to 32 bytes the
		// compiler keeps it on the stack.
		return parseFoldedNumber(string(b))
	default:
		return parseFoldedNumber(w)
	}
}

// parseDigitsWord reads a digit string, with a trailing period as an ordinal: German writes
// "am 12." for "am zwölften".
func parseDigitsWord(w string) (Number, bool) {
	var n Number
	if w[len(w)-1] == '.' {
		n.Ordinal = true
		w = w[:len(w)-1]
	}
	if w == "" || len(w) > 6 {
		return Number{}, false
	}
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c < '0' || c > '9' {
			return Number{}, false
		}
		n.Value = n.Value*10 + int(c-'0')
	}
	return n, true
}

// parseFoldedNumber parses a folded number word.
func parseFoldedNumber(w string) (Number, bool) {
	if v, ok := parseCardinal(w); ok {
		return Number{Value: v}, true
	}
	if v, ok := parseOrdinal(w); ok {
		return Number{Value: v, Ordinal: true}, true
	}
	return Number{}, false
}

// parseCardinal parses a cardinal below one million, or a year said in hundreds.
func parseCardinal(w string) (int, bool) {
	left, right, ok := strings.Cut(w, "tausend")
	if !ok {
		return parseHundreds(w, placeAlone, true)
	}
	f := 1
	if left != "" {
		if f, ok = parseHundreds(left, placeFactor, false); !ok || f == 0 {
			return 0, false
		}
	}
	r := 0
	if right != "" {
		// "tausendundeins", "zweitausendundzwei": "und" only joins a rest below one hundred.
		if rest, cut := strings.CutPrefix(right, "und"); cut {
			r, ok = parseBelow100(rest, placeLast)
		} else {
			r, ok = parseHundreds(right, placeLast, false)
		}
		if !ok {
			return 0, false
		}
	}
	return f*1000 + r, true
}

// parseHundreds parses a number below one thousand standing at p. With years, the factor
// before "hundert" may be 11..99 as in "neunzehnhundertvierundachtzig" (1984).
func parseHundreds(w string, p numPlace, years bool) (int, bool) {
	left, right, ok := strings.Cut(w, "hundert")
	if !ok {
		return parseBelow100(w, p)
	}
	f := 1
	if left != "" {
		if f, ok = parseBelow100(left, placeFactor); !ok || f == 0 || f >= 10 && !(years && f > 10) {
			return 0, false
		}
	}
	r := 0
	if right != "" {
		// Inside a factor one stays "ein" ("hunderteintausend"); at the end it is "eins".
		rp := placeLast
		if p == placeFactor {
			rp = placeFactor
		}
		right, _ = strings.CutPrefix(right, "und") // "hundertundfünf"
		if r, ok = parseBelow100(right, rp); !ok {
			return 0, false
		}
	}
	return f*100 + r, true
}

// parseBelow100 parses a number below one hundred standing at p.
func parseBelow100(w string, p numPlace) (int, bool) {
	if p == placeAlone {
		if v, ok := numAloneWords[w]; ok {
			return v, true
		}
	}
	if v, ok := numLastWords[w]; ok && !(p == placeFactor && w == "eins") {
		return v, true
	}
	if p == placeFactor && w == "ein" {
		return 1, true
	}
	if v, ok := numTens[w]; ok {
		return v, true
	}
	if u, t, ok := strings.Cut(w, "und"); ok {
		uv, uok := numUnits[u]
		tv, tok := numTens[t]
		if uok && tok {
			return uv + tv, true
		}
	}
	return 0, false
}

// parseOrdinal parses an ordinal: a stem and one of the endings -e, -er, -en, -es, -em. The
// ending is required, so the adverbs "erst" and "zu zweit" are not ordinals.
func parseOrdinal(w string) (int, bool) {
	var stem string
	switch n := len(w); {
	case n >= 2 && w[n-1] == 'e':
		stem = w[:n-1]
	case n >= 3 && w[n-2] == 'e' && strings.IndexByte("rnsm", w[n-1]) >= 0:
		stem = w[:n-2]
	default:
		return 0, false
	}
	// From twenty on, and after a round hundred or thousand, the ordinal is the cardinal
	// with "-st": "zwanzigste", "einundzwanzigste", "hundertste", "zweitausendste".
	if c, ok := strings.CutSuffix(stem, "st"); ok {
		if v, ok := parseCardinal(c); ok && v > 0 && (v%100 == 0 || v%100 >= 20) {
			return v, true
		}
	}
	// Otherwise the last piece is an ordinal below twenty, after any hundreds and
	// thousands: "dritte", "hundertdritte", "zweitausendachte".
	head, tail := "", stem
	if i := strings.LastIndex(stem, "hundert"); i >= 0 {
		head, tail = stem[:i+len("hundert")], stem[i+len("hundert"):]
	}
	if i := strings.LastIndex(stem, "tausend"); i >= 0 && i+len("tausend") > len(head) {
		head, tail = stem[:i+len("tausend")], stem[i+len("tausend"):]
	}
	if head != "" {
		tail, _ = strings.CutPrefix(tail, "und")
	}
	v, ok := numOrdinalStems[tail]
	if !ok {
		return 0, false
	}
	if head != "" {
		h, ok := parseCardinal(head)
		if !ok {
			return 0, false
		}
		v += h
	}
	return v, true
}

// foldNumberWord appends w to dst folded as fold does for the whole utterance (umlauts and
// their "ae/oe/ue" spellings to a/o/u, ß and ss to s, upper case to lower), so that a
// token parses the same whether or not the caller folded it; changed reports whether
// the result differs from w. Anything but ASCII letters and German umlauts cannot be a
// number word, and ok is false for it.
func foldNumberWord(dst []byte, w string) (b []byte, changed, ok bool) {
	b = dst
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch {
		case 'a' <= c && c <= 'z':
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
			changed = true
		case c == 0xc3 && i+1 < len(w):
			// The two-byte UTF-8 forms of ä ö ü ß Ä Ö Ü.
			switch w[i+1] {
			case 0xa4, 0x84:
				c = 'a'
			case 0xb6, 0x96:
				c = 'o'
			case 0xbc, 0x9c:
				c = 'u'
			case 0x9f:
				c = 's'
			default:
				return dst, false, false
			}
			i++
			changed = true
		default:
			return dst, false, false
		}
		n := len(b)
		switch {
		case c == 'e' && n >= 2 && (b[n-1] == 'a' || b[n-1] == 'o' || b[n-1] == 'u') && !isASCIIVowel(b[n-2]):
			// "fuenf", "zwoelf": the e only marks the umlaut. After a vowel it is a
			// letter of its own ("neue"), as fold has it.
			changed = true
			continue
		case c == 's' && n >= 1 && b[n-1] == 's':
			// "dreissig", "dreißig" → "dreisig". No number word has a double s of
			// its own, so runs collapse to one s.
			changed = true
			continue
		}
		b = append(b, c)
	}
	return b, changed, true
}

func isASCIIVowel(c byte) bool {
	return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u'
}

// DigitSequence reads digits said one by one from toks starting at i, as callers read
// out phone and insurance numbers: single digit words ("null eins sieben zwei", "zwo"),
// "doppel null" or "doppelnull" for "00", tokens that already are digits ("0171"), and
// pairs said as numbers ("zwölf" → "12", "achtunddreißig" → "38"). It returns the digits
// and how many tokens it consumed; ok is false for fewer than two digits and for a lone
// number token ("zwölf", "0171"), which is a number rather than a sequence. Whether a
// run is a phone number is the caller's call: "zwölf dreißig" is also a time.
//
// One is only "eins": "ein" is far more often the article after a number than a
// mumbled digit, and a wrong digit in a phone number is worse than a missing one.
func DigitSequence(toks []string, i int) (digits string, n int, ok bool) {
	if i < 0 || i >= len(toks) {
		return "", 0, false
	}
	// A phone number has at most 15 digits (E.164); room for twice that covers
	// extensions and insurance numbers without letting a run grow without bound.
	var buf [32]byte
	b := buf[:0]
	doubled := false
	j := i
	for j < len(toks) {
		tok := toks[j]
		used := 1
		var d [2]byte
		var nd int
		if rest, ok := strings.CutPrefix(tok, "doppel"); ok {
			rest, _ = strings.CutPrefix(rest, "-")
			if rest == "" && j+1 < len(toks) {
				rest, used = toks[j+1], 2
			}
			c, ok := spokenDigit(rest)
			if !ok {
				break
			}
			d, nd, doubled = [2]byte{c, c}, 2, true
		} else if isDigitString(tok) {
			if len(b)+len(tok) > cap(b) {
				break
			}
			b = append(b, tok...)
			j++
			continue
		} else if num, ok := ParseNumberWord(tok); ok && !num.Ordinal && num.Value < 100 && !isEinArticle(tok) {
			if num.Value < 10 {
				d, nd = [2]byte{byte('0' + num.Value)}, 1
			} else {
				d, nd = [2]byte{byte('0' + num.Value/10), byte('0' + num.Value%10)}, 2
			}
		} else {
			break
		}
		if len(b)+nd > cap(b) {
			break
		}
		b = append(b, d[:nd]...)
		j += used
	}
	n = j - i
	if len(b) < 2 || n == 1 && !doubled {
		return "", 0, false
	}
	return string(b), n, true
}

// spokenDigit reads one digit, as a word or a digit, after "doppel".
func spokenDigit(tok string) (byte, bool) {
	if len(tok) == 1 && '0' <= tok[0] && tok[0] <= '9' {
		return tok[0], true
	}
	if isEinArticle(tok) {
		return 0, false
	}
	num, ok := ParseNumberWord(tok)
	if !ok || num.Ordinal || num.Value > 9 || isDigitString(tok) {
		return 0, false
	}
	return byte('0' + num.Value), true
}

// isEinArticle reports whether tok is one of the forms of "ein" that are read as one on
// their own but not in a string of digits (see DigitSequence).
func isEinArticle(tok string) bool {
	switch tok {
	case "ein", "eine", "einen", "einem", "einer":
		return true
	}
	return false
}
