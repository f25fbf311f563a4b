package espeak

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// abbreviations end with a period that does not end a sentence (lower case, without the
// period). Single letters ("z. B.", "u. a.", initials) count too, without being listed.
var abbreviations = map[string]bool{
	"dr": true, "prof": true, "med": true, "dent": true, "dipl": true, "ing": true, "hr": true,
	"fr": true, "frl": true, "nr": true, "str": true, "tel": true, "bzw": true, "ca": true,
	"usw": true, "etc": true, "evtl": true, "ggf": true, "inkl": true, "exkl": true, "vgl": true,
	"min": true, "std": true, "max": true, "mind": true, "sog": true, "bzgl": true, "geb": true,
	"jan": true, "feb": true, "mär": true, "apr": true, "jun": true, "jul": true, "aug": true,
	"sep": true, "sept": true, "okt": true, "nov": true, "dez": true, "mo": true, "di": true,
	"mi": true, "do": true, "sa": true, "so": true, "abs": true, "allg": true, "zzgl": true,
	"gem": true, "tägl": true, "mio": true, "mrd": true, "od": true, "bspw": true, "inh": true,
	"zb": true, "ua": true, "uvm": true, "dh": true, "ev": true, "kath": true, "pd": true,
}

// Sentences splits text into the pieces that are synthesised one after another. A piece
// ends at "!", "?" or "." followed by a space, except after an abbreviation ("Dr.",
// "z. B."), a single letter, an ordinal or a date ("am 12. März", "12.03."), or when the
// next word starts in lower case. Splitting where the text does not end a sentence would
// make espeak-ng end the sentence there (intonation, pause); not splitting where it could
// only delays the first audio a little: so when in doubt, it does not split. Times
// ("9:30.") do end a sentence.
func Sentences(text string) []string {
	var out []string
	start := 0
	for i := 0; i < len(text); {
		r, n := utf8.DecodeRuneInString(text[i:])
		i += n
		if r != '.' && r != '!' && r != '?' && r != '…' {
			continue
		}
		end := i
		// Further punctuation and closing quotes or brackets belong to the sentence.
		for end < len(text) {
			r2, n2 := utf8.DecodeRuneInString(text[end:])
			if !strings.ContainsRune(".!?…\"'»«“”‘’)]", r2) {
				break
			}
			end += n2
		}
		next, _ := utf8.DecodeRuneInString(text[end:])
		if end < len(text) && !unicode.IsSpace(next) {
			i = end
			continue // "12.03.2025", "www.example.de", "?!"
		}
		if r == '.' && !endsSentence(text[start:i-n], strings.TrimLeftFunc(text[end:], unicode.IsSpace)) {
			i = end
			continue
		}
		if s := strings.TrimSpace(text[start:end]); s != "" {
			out = append(out, s)
		}
		start, i = end, end
	}
	if s := strings.TrimSpace(text[start:]); s != "" {
		out = append(out, s)
	}
	return out
}

// endsSentence says whether a period after before, followed by after, ends a sentence.
func endsSentence(before, after string) bool {
	if after == "" {
		return true
	}
	if r, _ := utf8.DecodeRuneInString(after); unicode.IsLower(r) {
		return false
	}
	word := before
	if k := strings.LastIndexFunc(before, unicode.IsSpace); k >= 0 {
		word = before[k+1:]
	}
	word = strings.TrimLeft(word, "\"'„»«“‘([")
	if utf8.RuneCountInString(word) == 1 && unicode.IsLetter([]rune(word)[0]) {
		return false // "z. B.", "Erika S."
	}
	if abbreviations[strings.ToLower(strings.ReplaceAll(word, ".", ""))] {
		return false // "Dr.", "z.B.", "u.a."
	}
	if word != "" && strings.Trim(word, "0123456789.") == "" {
		return false // "12." (ordinal, "am 12. März"), "12.03."
	}
	return true
}
