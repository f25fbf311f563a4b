package nlu

import "strings"

// Number is a number word's value. Ordinal is set for ordinal forms ("zwölfter",
// "dritten", "erste").
type Number struct {
	Value   int
	Ordinal bool
}

// small holds the number words below one hundred that are not compounds, folded.
var small = map[string]int{
	"null": 0, "ein": 1, "eins": 1, "eine": 1, "einen": 1, "einem": 1, "einer": 1, "zwei": 2, "zwo": 2, "drei": 3,
	"vier": 4, "funf": 5, "fumf": 5, "sechs": 6, "sieben": 7, "acht": 8, "neun": 9, "zehn": 10, "elf": 11, "zwolf": 12,
	"dreizehn": 13, "vierzehn": 14, "funfzehn": 15, "sechzehn": 16, "sechszehn": 16, "siebzehn": 17, "siebenzehn": 17,
	"achtzehn": 18, "neunzehn": 19, "zwanzig": 20, "dreisig": 30, "dreizig": 30, "vierzig": 40, "funfzig": 50,
	"sechzig": 60, "siebzig": 70, "achtzig": 80, "neunzig": 90,
}

// unitWords may stand before "und" in a compound ("einundzwanzig").
var unitWords = map[string]int{"ein": 1, "zwei": 2, "drei": 3, "vier": 4, "funf": 5, "sechs": 6, "sieben": 7, "acht": 8, "neun": 9}

// irregularOrdinals are the ordinals not formed as cardinal + "te".
var irregularOrdinals = map[string]int{"erste": 1, "dritte": 3, "siebte": 7, "achte": 8}

// ParseNumberWord parses one token, folded (see fold), as a German number: cardinal
// ("zweiundvierzig", "neunzehnhundertvierundachtzig") or ordinal ("zwölften", "erste"),
// up to 999999, or digits. Words that only contain number parts ("einmal", "achtung",
// "viertel") are not numbers.
func ParseNumberWord(w string) (Number, bool) {
	if w == "" || len(w) > 60 {
		return Number{}, false
	}
	if isDigitString(w) {
		if len(w) > 6 {
			return Number{}, false
		}
		return Number{Value: atoi(w)}, true
	}
	if n, ok := cardinal(w); ok {
		return Number{Value: n}, true
	}
	// Ordinals: cardinal + "te" below twenty, + "ste" from twenty, and an ending
	// ("zwölfte", "zwölften", "zwanzigster").
	for _, end := range []string{"", "r", "n", "s", "m"} {
		stem, ok := strings.CutSuffix(w, end)
		if !ok {
			continue
		}
		if n, ok := irregularOrdinals[stem]; ok {
			return Number{Value: n, Ordinal: true}, true
		}
		if c, ok := strings.CutSuffix(stem, "ste"); ok {
			if n, ok := cardinal(c); ok && n >= 20 {
				return Number{Value: n, Ordinal: true}, true
			}
		}
		if c, ok := strings.CutSuffix(stem, "te"); ok && c != "ein" && c != "drei" && c != "acht" {
			if n, ok := cardinal(c); ok && n >= 2 && n < 20 {
				return Number{Value: n, Ordinal: true}, true
			}
		}
	}
	return Number{}, false
}

// cardinal parses a cardinal number word.
func cardinal(w string) (int, bool) {
	if i := strings.Index(w, "tausend"); i >= 0 {
		left, right := w[:i], w[i+len("tausend"):]
		l := 1
		if left != "" {
			var ok bool
			if l, ok = below1000(left); !ok || l == 0 || left == "eins" {
				return 0, false
			}
		}
		r := 0
		if right != "" {
			var ok bool
			if r, ok = below1000(right); !ok {
				return 0, false
			}
		}
		return l*1000 + r, true
	}
	if i := strings.Index(w, "hundert"); i >= 0 {
		// "neunzehnhundertvierundachtzig": years are said in hundreds up to 99 hundred.
		left, right := w[:i], w[i+len("hundert"):]
		l := 1
		if left != "" {
			var ok bool
			if l, ok = below100(left); !ok || l == 0 || left == "eins" {
				return 0, false
			}
		}
		r := 0
		if right != "" {
			var ok bool
			if r, ok = below100(right); !ok {
				return 0, false
			}
		}
		return l*100 + r, true
	}
	return below100(w)
}

func below1000(w string) (int, bool) {
	if strings.Contains(w, "tausend") {
		return 0, false
	}
	n, ok := cardinal(w)
	return n, ok && n < 1000
}

// below100 parses a number word below one hundred.
func below100(w string) (int, bool) {
	if n, ok := small[w]; ok {
		return n, true
	}
	if u, t, ok := strings.Cut(w, "und"); ok {
		un, uok := unitWords[u]
		tn, tok := small[t]
		if uok && tok && tn >= 20 && tn%10 == 0 {
			return un + tn, true
		}
	}
	return 0, false
}
