package nlu

import (
	"strconv"
	"strings"
	"unicode"
)

// token is one word, number or sign of an utterance.
type token struct {
	raw  string // as written, for names
	fold string // lower case, umlauts and ß folded (see fold); digits for numbers
	num  int    // the value of a number token, -1 otherwise
	ord  bool   // an ordinal ("zwölften", "12.")
	word bool   // letters (a word that is not a number)
}

// text is an utterance prepared for the extractors: its tokens and canon, the tokens
// joined by single spaces, numbers as digits and ordinals with a period ("zwölfter dritter
// vierundachtzig" → "12. 3. 84"), so that one set of patterns reads speech and writing.
type text struct {
	toks  []token
	canon string
	at    []int // at[i] is the offset of toks[i] in canon
}

// fold lower-cases s and folds what German spelling varies in: umlauts and their
// transcriptions (ä, ae → a), ß and ss (→ s). Keywords are folded the same way, so that
// "Überweisung", "Ueberweisung" and "uberweisung" meet.
func fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	rs := []rune(strings.ToLower(s))
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch r {
		case 'ä', 'à', 'á', 'â':
			r = 'a'
		case 'ö', 'ó', 'ò', 'ô':
			r = 'o'
		case 'ü', 'ú', 'ù', 'û':
			r = 'u'
		case 'é', 'è', 'ê':
			r = 'e'
		case 'ı', 'í', 'î':
			r = 'i'
		case 'ç':
			r = 'c'
		case 'ş', 'ß':
			r = 's'
		case 'ğ':
			r = 'g'
		}
		if i+1 < len(rs) && rs[i+1] == 'e' && (r == 'a' || r == 'o' || r == 'u') && i > 0 && !isVowel(rs[i-1]) {
			// ae, oe, ue after a consonant are umlaut transcriptions ("muede", "groesse");
			// "eue" as in "neue" or "feuer" is left alone.
			b.WriteRune(r)
			i++
			continue
		}
		if r == 's' && i+1 < len(rs) && (rs[i+1] == 's' || rs[i+1] == 'ß') {
			b.WriteRune('s')
			i++
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isVowel(r rune) bool { return strings.ContainsRune("aeiouäöü", r) }

// analyse tokenises an utterance and builds its canon.
func analyse(s string) *text {
	t := &text{}
	var raws []string
	rs := []rune(s)
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case unicode.IsSpace(r) || unicode.IsControl(r):
			i++
		case unicode.IsLetter(r):
			j := i
			for j < len(rs) && (unicode.IsLetter(rs[j]) || unicode.IsMark(rs[j]) || (rs[j] == '-' && j+1 < len(rs) && unicode.IsLetter(rs[j+1])) || rs[j] == '\'') {
				j++
			}
			raws = append(raws, string(rs[i:j]))
			i = j
		case unicode.IsDigit(r):
			j := i
			for j < len(rs) && unicode.IsDigit(rs[j]) {
				j++
			}
			raws = append(raws, string(rs[i:j]))
			i = j
		default:
			raws = append(raws, string(r))
			i++
		}
	}
	for _, raw := range raws {
		tk := token{raw: raw, fold: fold(raw), num: -1}
		switch c := []rune(raw)[0]; {
		case unicode.IsDigit(c):
			tk.num, _ = strconv.Atoi(raw)
			if len(raw) > 6 {
				tk.num = -2 // too long to be a quantity: a phone or insurance number
			}
		case unicode.IsLetter(c):
			if n, ok := ParseNumberWord(tk.fold); ok {
				tk.num, tk.ord, tk.fold = n.Value, n.Ordinal, strconv.Itoa(n.Value)
			} else {
				tk.word = true
			}
		}
		t.toks = append(t.toks, tk)
	}
	t.correctTypos()
	t.combineNumbers()
	t.build()
	return t
}

// keywords are the words the intents hang on, folded; typed words one or two edits away
// from one of them are read as it ("Überweisnug", "Rezpet", "Krankschreibnug").
var keywords = func() []string {
	var out []string
	for _, w := range strings.Fields(`termin termine rezept folgerezept uberweisung krankschreibung krankmeldung
		befund befunde ergebnisse laborwerte blutwerte ruckruf zuruckrufen offnungszeiten geoffnet absagen stornieren
		verschieben verlegen arbeitsunfahigkeitsbescheinigung nachricht adresse parkplatz barrierefrei rollstuhl
		mitarbeiter medikament medikamente tabletten vorbeikommen sprechstunde impfung untersuchung bescheinigung
		notfall ausschlag schmerzen fieber`) {
		out = append(out, fold(w))
	}
	return out
}()

// correctTypos replaces misspelt keywords: one edit for words of six letters or more, two
// for words of eleven or more.
func (t *text) correctTypos() {
	for i, tk := range t.toks {
		n := len(tk.fold)
		if !tk.word || n < 6 || stopword[tk.fold] {
			continue
		}
		limit := 1
		if n >= 11 {
			limit = 2
		}
		for _, k := range keywords {
			if k == tk.fold {
				break
			}
			if abs(len(k)-n) <= limit && k[0] == tk.fold[0] && editDistance(tk.fold, k, limit) <= limit {
				t.toks[i].fold = k
				break
			}
		}
	}
}

// combineNumbers joins numbers spoken in several words: "neunzehn hundert vierundachtzig"
// (1984), "zwei tausend zwei" (2002), "vier und achtzig" (84); it marks digits followed by
// a period as ordinals ("12." in "12.3.84") and turns runs of single digits, as phone and
// insurance numbers are read out, into one digit string.
func (t *text) combineNumbers() {
	var out []token
	toks := t.toks
	for i := 0; i < len(toks); i++ {
		tk := toks[i]
		if isWordNumber(tk) {
			tk, i = t.wordNumber(i)
			for i+1 < len(toks) && isWordNumber(toks[i+1]) && !tk.ord {
				nx, j := t.wordNumber(i + 1)
				switch {
				case (nx.num == 100 || nx.num == 1000) && tk.num > 0 && tk.num < 100:
					tk.num *= nx.num // "neunzehn hundert", "zwei tausend"
				case tk.num >= 100 && tk.num%100 == 0 && nx.num < 100,
					tk.num >= 1000 && tk.num%1000 == 0 && nx.num < 1000:
					tk.num += nx.num // "neunzehnhundert vierundachtzig", "zweitausend zwei"
				default:
					goto done
				}
				tk.ord, tk.raw, i = nx.ord, tk.raw+" "+nx.raw, j
			}
		done:
			tk.fold = strconv.Itoa(tk.num)
		}
		if isDigitString(tk.raw) && len(tk.raw) <= 2 && !tk.ord && i+1 < len(toks) && toks[i+1].raw == "." {
			tk.ord = true // "12." as in "12.3.84" or "am 12. Dezember"
			i++
		}
		out = append(out, tk)
	}
	t.toks = mergeDigitRuns(out)
}

// isWordNumber reports whether tk is a number written as a word.
func isWordNumber(tk token) bool { return tk.num >= 0 && !isDigitString(tk.raw) }

// wordNumber reads the word number at i, with a following "und" and tens ("vier und
// achtzig"), and returns it with the index of its last token.
func (t *text) wordNumber(i int) (token, int) {
	tk := t.toks[i]
	if tk.num > 0 && tk.num < 10 && !tk.ord && i+2 < len(t.toks) && t.toks[i+1].fold == "und" {
		if nx := t.toks[i+2]; isWordNumber(nx) && nx.num >= 20 && nx.num < 100 && nx.num%10 == 0 {
			tk.num, tk.ord, tk.raw = tk.num+nx.num, nx.ord, tk.raw+" und "+nx.raw
			return tk, i + 2
		}
	}
	return tk, i
}

func isDigitString(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// mergeDigitRuns joins spoken digit sequences ("null eins sieben eins …", "doppel drei",
// also in pairs "siebzehn zwölf") into one digit token (see DigitSequence) when the run
// starts with a single digit word, or "doppel", and has at least four numbers: no date or
// time is read that way.
func mergeDigitRuns(toks []token) []token {
	folds := make([]string, len(toks))
	for i, tk := range toks {
		folds[i] = tk.fold
		if isDigitString(tk.raw) {
			folds[i] = "|" // digits as written stay apart from the spoken ones
		}
	}
	var out []token
	for i := 0; i < len(toks); {
		single := isWordNumber(toks[i]) && !toks[i].ord && toks[i].num < 10
		if single || strings.HasPrefix(folds[i], "doppel") {
			digits, n, ok := DigitSequence(folds, i)
			if ok && (n >= 4 || strings.HasPrefix(folds[i], "doppel") && n >= 2) {
				out = append(out, token{raw: digits, fold: digits, num: -2})
				i += n
				continue
			}
		}
		out = append(out, toks[i])
		i++
	}
	return out
}

// build writes canon and the token offsets.
func (t *text) build() {
	var b strings.Builder
	t.at = make([]int, len(t.toks))
	for i, tk := range t.toks {
		if i > 0 {
			b.WriteByte(' ')
		}
		t.at[i] = b.Len()
		b.WriteString(tk.fold)
		if tk.ord {
			b.WriteByte('.')
		}
	}
	t.canon = b.String()
}

// tokenAt returns the index of the token that starts at or contains canon offset off.
func (t *text) tokenAt(off int) int {
	i := 0
	for i+1 < len(t.at) && t.at[i+1] <= off {
		i++
	}
	return i
}

// index returns the canon offset of the first occurrence of phrase that starts at a word
// boundary, or -1.
func (t *text) index(phrase string) int {
	for from := 0; ; {
		i := strings.Index(t.canon[from:], phrase)
		if i < 0 {
			return -1
		}
		i += from
		if i == 0 || t.canon[i-1] == ' ' {
			return i
		}
		from = i + 1
	}
}
