package nlu

import (
	_ "embed"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/nyaruka/phonenumbers"

	"github.com/tresen/tresen/internal/person"
)

// slots extracts every slot the utterance states.
func (u *Understander) slots(t *text, now time.Time) Slots {
	var s Slots
	s.BirthDate, s.Date = t.dates(now)
	s.Daypart = t.daypart()
	s.Time = t.clock(s.Daypart)
	s.KVNR = t.kvnr()
	s.Phone = t.phone()
	s.Insurance = t.insurance()
	s.Medication = t.medication()
	s.Doctor = u.doctor(t)
	s.Name = t.name(u.Doctors)
	return s
}

var reKVNR = regexp.MustCompile(`\b([a-z]) ?(\d{9})\b`)

// kvnr finds a Krankenversichertennummer whose check digit is right.
func (t *text) kvnr() string {
	for _, m := range reKVNR.FindAllStringSubmatch(t.canon, -1) {
		k := strings.ToUpper(m[1]) + m[2]
		if person.ValidateKVNR(k) == nil {
			return k
		}
	}
	return ""
}

// rePhone finds digit groups that make a German phone number: a leading 0 or +49/0049,
// groups separated by spaces, slashes or dashes as people write them.
var rePhone = regexp.MustCompile(`(?:\+ ?49|\b0049|\b0)[\d /()-]{5,24}\d`)

// phone finds a phone number and writes it in E.164.
func (t *text) phone() string {
	for _, ix := range rePhone.FindAllStringIndex(t.canon, -1) {
		m := t.canon[ix[0]:ix[1]]
		if ix[0] >= 2 && t.canon[ix[0]-1] == ' ' && isLetterToken(t.canon[:ix[0]-1]) {
			continue // the digits of a KVNR ("k 030182229")
		}
		if e164, ok := PhoneE164(m); ok {
			return e164
		}
	}
	return ""
}

// PhoneE164 reads a phone number written as people write it ("0421 / 123 45-67", "+49 421
// 1234567"; German unless it has another country code) and returns it in E.164. It reports
// false when s is no possible phone number.
func PhoneE164(s string) (string, bool) {
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' || r == '+' {
			return r
		}
		return -1
	}, s)
	if len(strings.TrimPrefix(digits, "+")) < 7 || strings.LastIndexByte(digits, '+') > 0 {
		return "", false
	}
	num, err := phonenumbers.Parse(digits, "DE")
	if err != nil || !phonenumbers.IsPossibleNumber(num) {
		return "", false
	}
	// After the German trunk 0 ("+49 (0) 151 …") the parser keeps a second 0 as part of
	// the number ("+49 00…" becomes "+49 0…"); no German number starts with it.
	if num.GetCountryCode() == 49 && num.GetItalianLeadingZero() {
		return "", false
	}
	return phonenumbers.Format(num, phonenumbers.E164), true
}

// MobileE164 returns the E.164 form of a German mobile number written as people write it
// or as a caller id comes ("0151 23456789", "+4915123456789", "004915123456789"); false for
// landlines, service numbers, other countries' numbers and anything that is no number.
// Only a mobile number can take an SMS.
func MobileE164(s string) (string, bool) {
	e164, ok := PhoneE164(s)
	if !ok {
		return "", false
	}
	num, err := phonenumbers.Parse(e164, "DE")
	if err != nil || phonenumbers.Format(num, phonenumbers.E164) != e164 ||
		phonenumbers.GetRegionCodeForNumber(num) != "DE" || phonenumbers.GetNumberType(num) != phonenumbers.MOBILE {
		return "", false
	}
	return e164, true
}

// isLetterToken reports whether s ends in a single-letter word.
func isLetterToken(s string) bool {
	i := strings.LastIndexByte(s, ' ')
	w := s[i+1:]
	return len(w) == 1 && w[0] >= 'a' && w[0] <= 'z'
}

// insurers are statutory (gkv) and private (pkv) insurers and other words for the kind of
// insurance, folded.
var insurers = []struct{ phrase, kind string }{
	{"selbstzahler", "self"}, {"selbst zahler", "self"}, {"zahle selbst", "self"}, {"selbst zahlen", "self"}, {"selbst bezahlen", "self"}, {"bezahle selbst", "self"}, {"privat zahlen", "self"}, {"ohne versicherung", "self"}, {"keine versicherung", "self"},
	{"privat versichert", "pkv"}, {"privatversichert", "pkv"}, {"privatpatient", "pkv"}, {"privat", "pkv"}, {"private krankenversicherung", "pkv"}, {"pkv", "pkv"}, {"beihilfe", "pkv"},
	{"debeka", "pkv"}, {"allianz", "pkv"}, {"dkv", "pkv"}, {"axa", "pkv"}, {"signal iduna", "pkv"}, {"huk", "pkv"}, {"barmenia", "pkv"},
	{"gothaer", "pkv"}, {"continentale", "pkv"}, {"hallesche", "pkv"}, {"hanse merkur", "pkv"}, {"hansemerkur", "pkv"}, {"munchener verein", "pkv"},
	{"central", "pkv"}, {"inter ", "pkv"}, {"lkh", "pkv"}, {"arag", "pkv"}, {"ergo", "pkv"}, {"nurnberger", "pkv"}, {"wurttembergische", "pkv"}, {"r+v", "pkv"}, {"postbeamtenkrankenkasse", "pkv"}, {"pbeakk", "pkv"},
	{"gesetzlich", "gkv"}, {"gkv", "gkv"}, {"kasse", "gkv"}, {"kassenpatient", "gkv"}, {"krankenkasse", "gkv"},
	{"aok", "gkv"}, {"tk", "gkv"}, {"techniker", "gkv"}, {"barmer", "gkv"}, {"dak", "gkv"}, {"ikk", "gkv"}, {"bkk", "gkv"}, {"kkh", "gkv"},
	{"hek", "gkv"}, {"hkk", "gkv"}, {"knappschaft", "gkv"}, {"sbk", "gkv"}, {"mobil krankenkasse", "gkv"}, {"viactiv", "gkv"}, {"audi bkk", "gkv"},
	{"svlfg", "gkv"}, {"landwirtschaftliche", "gkv"}, {"big direkt", "gkv"}, {"securvita", "gkv"}, {"vividabkk", "gkv"}, {"pronova", "gkv"}, {"novitas", "gkv"},
}

// insurerPhrases are insurers folded like the text.
var insurerPhrases = func() []struct{ phrase, kind string } {
	out := make([]struct{ phrase, kind string }, len(insurers))
	for i, in := range insurers {
		out[i].phrase, out[i].kind = fold(in.phrase), in.kind
	}
	return out
}()

// insuredContext is what makes "privat" or "Kasse" a statement of one's insurance.
var insuredContext = regexp.MustCompile(`\b(versichert|versicherung|bin (\w+ )?privat|privat (bei|ist|und)|bei der (kranken)?kase( |$)|kasenpatient|privatpatient)`)

// insurance finds the kind of insurance stated.
func (t *text) insurance() string {
	best, at := "", -1
	for _, in := range insurerPhrases {
		i := t.index(in.phrase)
		if i < 0 {
			continue
		}
		end := i + len(in.phrase)
		if in.phrase != "inter " && end < len(t.canon) && t.canon[end] != ' ' && in.kind != "self" && len(in.phrase) <= 4 {
			continue // "tk" must not match "tkk…": short names only as whole words
		}
		if (in.phrase == "privat" || in.phrase == "kase" || in.phrase == "krankenkase") && len(t.toks) > 3 && !insuredContext.MatchString(t.canon) {
			// "es ist privat", "bei meiner Kasse angekommen" say nothing of the insurance; a
			// short answer ("privat", "Kasse") to the question for it does.
			continue
		}
		if in.phrase == "privat" && strings.Contains(t.canon[max(0, i-12):i], "nicht") {
			continue
		}
		if in.phrase == "kase" && strings.HasPrefix(t.canon[end:], "n") && !strings.HasPrefix(t.canon[end:], "npatient") && !strings.HasPrefix(t.canon[end:], "nrezept") {
			continue // "Kassenbon" is no insurance; "Kassenpatient", "Kassenrezept" are
		}
		if at < 0 || i < at {
			best, at = in.kind, i
		}
	}
	return best
}

//go:embed drugs.txt
var drugList string

// drug is a medication name as it is written, and folded for matching.
type drug struct{ name, fold string }

var drugs = func() []drug {
	var out []drug
	for line := range strings.Lines(drugList) {
		if n := strings.TrimSpace(line); n != "" && !strings.HasPrefix(n, "#") {
			out = append(out, drug{n, fold(n)})
		}
	}
	return out
}()

// drugIndex maps each folded drug word to its drugs, for exact lookups; misspellings are
// matched by edit distance against the same list.
var drugIndex = func() map[string]int {
	m := map[string]int{}
	for i, d := range drugs {
		m[d.fold] = i
	}
	return m
}()

// drugsByLen groups the drugs by the length of their folded name, for typo matching.
var drugsByLen = func() map[int][]drug {
	m := map[int][]drug{}
	for _, d := range drugs {
		m[len(d.fold)] = append(m[len(d.fold)], d)
	}
	return m
}()

var units = map[string]string{
	"mg": "mg", "milligramm": "mg", "milli": "mg", "µg": "µg", "ug": "µg", "mcg": "µg", "mikrogramm": "µg", "mikro": "µg",
	"g": "g", "gramm": "g", "ml": "ml", "milliliter": "ml", "ie": "I.E.", "i.e": "I.E.", "einheiten": "I.E.", "iu": "I.E.",
}

// medication finds a drug name from the shipped list, tolerant of typos, with the strength
// that follows it.
func (t *text) medication() string {
	found := ""
	for i, tk := range t.toks {
		if !tk.word {
			continue
		}
		d, j, ok := t.lookupDrug(i)
		if !ok {
			continue
		}
		out := d.name + t.strength(j)
		if found == "" || strings.HasPrefix(found, "Pille") {
			// "die Pille, die Valette": the brand says more than the kind.
			found = out
			if d.name != "Pille" {
				return found
			}
		}
	}
	return found
}

// strength reads the strength after a drug name at j: a number, optionally a decimal part
// and a unit ("5 mg", "fünf milligramm", "75", "47,5", "20000 I.E."), the last one when the
// caller corrects it ("zwanzig milligramm, äh nein, zehn").
func (t *text) strength(j int) string {
	if j >= len(t.toks) || t.toks[j].num <= 0 {
		return ""
	}
	out := " " + t.toks[j].fold
	if j+2 < len(t.toks) && (t.toks[j+1].raw == "," || t.toks[j+1].fold == "komma") && t.toks[j+2].num >= 0 {
		out += "," + t.toks[j+2].fold
		j += 2
	}
	if j+1 < len(t.toks) {
		u := t.toks[j+1].fold
		if j+3 < len(t.toks) && u == "i" && t.toks[j+2].raw == "." && t.toks[j+3].fold == "e" {
			u, j = "ie", j+2
		}
		if unit, ok := units[u]; ok {
			out += " " + unit
			j++
		}
	}
	// a correction: "… äh nein zehn milligramm"
	k := j + 1
	for k < len(t.toks) && (t.toks[k].fold == "ah" || t.toks[k].fold == "ahm" || t.toks[k].raw == ",") {
		k++
	}
	if k+1 < len(t.toks) && (t.toks[k].fold == "nein" || t.toks[k].fold == "sorry") {
		for k++; k < len(t.toks) && (t.toks[k].fold == "ah" || t.toks[k].raw == ","); k++ {
		}
		if k < len(t.toks) && t.toks[k].num > 0 {
			return t.strength(k)
		}
	}
	return out
}

// lookupDrug matches the word at i against the drug list: exactly, or with one edit for
// names of five letters or more and two for ten or more. It returns the index after the
// name.
func (t *text) lookupDrug(i int) (drug, int, bool) {
	w := t.toks[i].fold
	if i+2 < len(t.toks) && t.toks[i+1].raw == "-" { // "L - Thyroxin" split at the dash
		if k, ok := drugIndex[w+"-"+t.toks[i+2].fold]; ok {
			return drugs[k], i + 3, true
		}
	}
	if len(w) == 1 && i+1 < len(t.toks) { // "l thyroxin" as speech recognition writes it
		if k, ok := drugIndex[w+"-"+t.toks[i+1].fold]; ok {
			return drugs[k], i + 2, true
		}
	}
	if k, ok := drugIndex[w]; ok && (len(w) >= 3 || w == "as") {
		return drugs[k], i + 1, true
	}
	if len(w) < 5 || stopword[w] {
		return drug{}, 0, false
	}
	limit := 1
	if len(w) >= 10 {
		limit = 2
	}
	for n := len(w) - limit; n <= len(w)+limit; n++ {
		for _, d := range drugsByLen[n] {
			// Typos rarely hit the first letter; requiring it keeps this fast.
			if len(d.fold) >= 5 && d.fold[0] == w[0] && editDistance(w, d.fold, limit) <= limit {
				return d, i + 1, true
			}
		}
	}
	return drug{}, 0, false
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// editDistance is the Damerau-Levenshtein distance (with adjacent transpositions) of a and
// b, or limit+1 as soon as it must exceed limit.
func editDistance(a, b string, limit int) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
			rowMin = min(rowMin, cur[j])
		}
		if rowMin > limit {
			return limit + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// doctor finds a doctor's surname after a title ("Frau Doktor Schneider", "Dr. Weber"),
// matched tolerantly against the practice's doctors.
func (u *Understander) doctor(t *text) string {
	for i, tk := range t.toks {
		if tk.fold != "dr" && tk.fold != "doktor" && tk.fold != "doc" && tk.fold != "arztin" && tk.fold != "arzt" && tk.fold != "doktorin" {
			continue
		}
		j := i + 1
		for j < len(t.toks) && (t.toks[j].raw == "." || t.toks[j].fold == "med" || t.toks[j].fold == "dr") {
			j++
		}
		if j >= len(t.toks) || !t.toks[j].word {
			continue
		}
		w := t.toks[j]
		if known := u.knownDoctor(w.fold); known != "" {
			return known
		}
		if (tk.fold == "dr" || tk.fold == "doktor") && !stopword[w.fold] {
			return capitalise(w.raw)
		}
	}
	// A known doctor's name without title ("bei Schneider", "Termin bei Frau Weber").
	for _, tk := range t.toks {
		if tk.word && len(tk.fold) >= 4 {
			for _, d := range u.Doctors {
				if fold(d) == tk.fold {
					return d
				}
			}
		}
	}
	return ""
}

func (u *Understander) knownDoctor(w string) string {
	for _, d := range u.Doctors {
		fd := fold(d)
		if fd == w || (len(w) >= 4 && fd[0] == w[0] && editDistance(fd, w, 1) <= 1) {
			return d
		}
	}
	return ""
}

// capitalise writes a name as names are written: "müller-lüdenscheidt" → "Müller-Lüdenscheidt".
func capitalise(s string) string {
	rs := []rune(strings.ToLower(s))
	up := true
	for i, r := range rs {
		if up {
			rs[i] = unicode.ToUpper(r)
		}
		up = r == '-' || r == ' ' || r == '\''
	}
	return string(rs)
}
