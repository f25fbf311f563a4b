// Package matching finds the patient a caller means among a practice's patient records,
// tolerant of how speech-to-text spells German names, and says how sure it is: a match
// that is ambiguous or weak is never turned into a guess but handed to the team
// ("Patient unklar").
package matching

import (
	"cmp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Candidate is a known patient of the practice.
type Candidate struct {
	ID        string
	Name      string // "Anna Müller" (surname last) or "Müller, Anna" (surname before the comma)
	BirthDate string // YYYY-MM-DD (DD.MM.YYYY is accepted too)
	KVNR      string // Krankenversichertennummer (health insurance number), e.g. A123456780
	Phone     string // E.164, e.g. +4930123456
}

// Query is what a caller said about themselves; any field may be empty. Name may hold the
// names in any order ("Müller Anna", "Anna Müller", "Müller, Anna").
type Query struct {
	Name      string
	BirthDate string // YYYY-MM-DD (DD.MM.YYYY is accepted too)
	KVNR      string
	Phone     string
}

// Status says how a Find came out.
type Status string

// The statuses of a Result. Only Matched names a patient; the others go to the team.
const (
	// Matched means exactly one candidate is clearly the person.
	Matched Status = "matched"
	// Ambiguous means more than one candidate fits about equally.
	Ambiguous Status = "ambiguous"
	// Weak means the best fit is not clear enough to be taken as the person.
	Weak Status = "weak"
	// None means no candidate fits at all.
	None Status = "none"
)

// Match is one candidate with how well it fits the query.
type Match struct {
	ID         string
	Confidence float64  // 0..1
	Reasons    []string // in German, for the team: "Geburtsdatum stimmt", "Nachname klingt gleich (Kölner Phonetik)" …
}

// Result is the outcome of Find.
type Result struct {
	Status Status
	// Best is the patient, set only when Status is Matched.
	Best *Match
	// Candidates are the best fits, highest confidence first (ties by ID), only those with
	// a confidence of at least 0.2, at most 5.
	Candidates []Match
}

// Scoring. Evidence adds points; 100 points is confidence 1. Integers keep the thresholds
// exact.
//
//	KVNR equal (case and spaces ignored)           +90
//	birth date equal                               +50
//	surname exact / sounds the same                +30 / +27
//	a name was said, but no word fits the surname  −30
//	given name exact / sounds the same             +15 / +10
//	a word fits neither surname nor given name     −30 (only when no given name fits)
//	phone equal                                    +20
//
// A KVNR or birth date present on both sides and different excludes the candidate
// (confidence 0): it is someone else, however well the name fits. Without an equal KVNR or
// birth date a candidate gets at most 80, so a name and a phone number never make a match.
// A name that contradicts the record (surname or given name does not fit) caps it at 70, so
// Berta Müller with Anna Müller's KVNR is not taken for Anna. A missing given name costs
// nothing but earns nothing either: surname and birth date alone give 80, not enough.
//
// The status: Matched when the best has at least 90 and leads the second by at least 20;
// else Ambiguous when two or more have at least 60; else Weak when the best has at least
// the floor of 20; else None. So with the birth date, both names sounding the same (87) is
// Weak, the surname exact and the given name sounding the same (90) is a match.
const (
	pointsKVNR            = 90
	pointsBirthDate       = 50
	pointsSurnameExact    = 30
	pointsSurnamePhonetic = 27
	pointsSurnameWrong    = -30
	pointsGivenExact      = 15
	pointsGivenPhonetic   = 10
	pointsGivenWrong      = -30
	pointsPhone           = 20

	capWithoutID = 80  // at most this without an equal KVNR or birth date
	capNameWrong = 70  // at most this when the name contradicts the record
	matchAt      = 90  // Matched needs at least this …
	matchMargin  = 20  // … and this lead over the second
	ambiguousAt  = 60  // two at or above this are Ambiguous
	floor        = 20  // candidates below this are not reported
	maxReported  = 5   // at most this many candidates are reported
	maxWords     = 8   // words of a name looked at; more is not a name but noise
	fullPoints   = 100 // confidence 1
)

// Find looks for the patient the query describes among candidates. It never guesses: a
// patient is named (Status Matched, Best set) only when one candidate is clearly the person.
func Find(q Query, candidates []Candidate) Result {
	pq := parseQuery(q)
	type scored struct {
		points  int
		id      string
		reasons []string
	}
	var all []scored
	for _, c := range candidates {
		p, reasons := pq.score(c)
		if p >= floor {
			all = append(all, scored{p, c.ID, reasons})
		}
	}
	if len(all) == 0 {
		return Result{Status: None}
	}
	slices.SortFunc(all, func(a, b scored) int {
		if a.points != b.points {
			return cmp.Compare(b.points, a.points)
		}
		return strings.Compare(a.id, b.id)
	})

	var r Result
	for i, s := range all {
		if i == maxReported {
			break
		}
		r.Candidates = append(r.Candidates, Match{ID: s.id, Confidence: float64(s.points) / fullPoints, Reasons: s.reasons})
	}
	second := 0
	if len(all) > 1 {
		second = all[1].points
	}
	switch best := all[0].points; {
	case best >= matchAt && best-second >= matchMargin:
		r.Status = Matched
		m := r.Candidates[0]
		m.Reasons = slices.Clone(m.Reasons)
		r.Best = &m
	case second >= ambiguousAt:
		r.Status = Ambiguous
	default:
		r.Status = Weak
	}
	return r
}

// query is a Query made ready to compare: identifiers normalised, name split into tokens.
type query struct {
	birthDate string // YYYY-MM-DD, "" when absent or unreadable
	kvnr      string
	phone     string
	words     int     // name words
	tokens    []token // name words and adjacent pairs of them
}

// token is one name word of the query, or two adjacent ones written together (so "Hans
// Peter" finds "Hanspeter"); it covers words [lo, hi).
type token struct {
	form
	lo, hi int
}

// form is a normalised spelling with its Kölner Phonetik code.
type form struct {
	text, code string
}

func parseQuery(q Query) query {
	pq := query{
		birthDate: normalizeDate(q.BirthDate),
		kvnr:      normalizeKVNR(q.KVNR),
		phone:     normalizePhone(q.Phone),
	}
	var words []string
	for _, group := range splitName(q.Name) {
		for _, part := range group {
			words = append(words, part...)
		}
	}
	if len(words) > maxWords {
		words = words[:maxWords]
	}
	pq.words = len(words)
	for i, w := range words {
		pq.tokens = append(pq.tokens, token{newForm(w), i, i + 1})
		if i+1 < len(words) {
			pq.tokens = append(pq.tokens, token{newForm(w + words[i+1]), i, i + 2})
		}
	}
	return pq
}

// score gives the points of candidate c for the query and the reasons for them.
func (q *query) score(c Candidate) (int, []string) {
	points := 0
	var reasons []string
	identified := false

	if k := normalizeKVNR(c.KVNR); q.kvnr != "" && k != "" {
		if k != q.kvnr {
			return 0, nil
		}
		points += pointsKVNR
		identified = true
		reasons = append(reasons, "Versichertennummer stimmt")
	}
	if d := normalizeDate(c.BirthDate); q.birthDate != "" && d != "" {
		if d != q.birthDate {
			return 0, nil
		}
		points += pointsBirthDate
		identified = true
		reasons = append(reasons, "Geburtsdatum stimmt")
	}
	nameWrong := false
	if len(q.tokens) > 0 {
		p, wrong, r := q.scoreName(c.Name)
		points += p
		nameWrong = wrong
		reasons = append(reasons, r...)
	}
	if p := normalizePhone(c.Phone); q.phone != "" && p == q.phone {
		points += pointsPhone
		reasons = append(reasons, "Telefonnummer stimmt")
	}

	if !identified {
		points = min(points, capWithoutID)
	}
	if nameWrong {
		points = min(points, capNameWrong)
	}
	return max(0, min(points, fullPoints)), reasons
}

// level is how well a token fits a name.
type level int

const (
	noFit level = iota
	soundsSame
	exact
)

// scoreName compares the query's name tokens with a candidate's name, in any order: one
// token is taken as the surname and another, not overlapping, as the given name, whichever
// pair fits best. wrong reports that the name contradicts the record.
func (q *query) scoreName(name string) (points int, wrong bool, reasons []string) {
	surname, given := candidateName(name)
	if len(surname) == 0 {
		return 0, false, nil // nothing to compare with
	}
	fitsSurname := make([]level, len(q.tokens))
	fitsGiven := make([]level, len(q.tokens))
	used := make([]bool, q.words) // words that fit some part of the candidate's name
	for i, t := range q.tokens {
		fitsSurname[i] = fit(t.form, surname)
		fitsGiven[i] = fit(t.form, given)
		if fitsSurname[i] != noFit || fitsGiven[i] != noFit {
			for w := t.lo; w < t.hi; w++ {
				used[w] = true
			}
		}
	}

	bestPoints, bestS, bestG := pointsSurnameWrong, noFit, noFit
	for i := -1; i < len(q.tokens); i++ {
		s := noFit
		if i >= 0 {
			s = fitsSurname[i]
		}
		for j := -1; j < len(q.tokens); j++ {
			if i >= 0 && j >= 0 && q.tokens[i].lo < q.tokens[j].hi && q.tokens[j].lo < q.tokens[i].hi {
				continue // overlapping: a word is either surname or given name
			}
			g := noFit
			if j >= 0 {
				g = fitsGiven[j]
			}
			if p := surnamePoints(s) + givenPoints(g); p > bestPoints {
				bestPoints, bestS, bestG = p, s, g
			}
		}
	}

	switch bestS {
	case exact:
		reasons = append(reasons, "Nachname stimmt")
	case soundsSame:
		reasons = append(reasons, "Nachname klingt gleich (Kölner Phonetik)")
	default:
		wrong = true
		reasons = append(reasons, "Nachname passt nicht")
	}
	switch bestG {
	case exact:
		reasons = append(reasons, "Vorname stimmt")
	case soundsSame:
		reasons = append(reasons, "Vorname klingt gleich (Kölner Phonetik)")
	default:
		// A word that fits nothing, while the candidate has a given name, is a different
		// given name: Anna is not Berta.
		if len(given) > 0 && slices.Contains(used, false) {
			bestPoints += pointsGivenWrong
			wrong = true
			reasons = append(reasons, "Vorname passt nicht")
		}
	}
	return bestPoints, wrong, reasons
}

func surnamePoints(l level) int {
	switch l {
	case exact:
		return pointsSurnameExact
	case soundsSame:
		return pointsSurnamePhonetic
	}
	return pointsSurnameWrong
}

func givenPoints(l level) int {
	switch l {
	case exact:
		return pointsGivenExact
	case soundsSame:
		return pointsGivenPhonetic
	}
	return 0
}

// fit is the best level at which f fits one of forms.
func fit(f form, forms []form) level {
	best := noFit
	for _, g := range forms {
		switch {
		case f.text == g.text:
			return exact
		case f.code == g.code && len(f.code) >= 2:
			// A one-digit code ("Ai", "Ha": 0) says too little to count.
			best = soundsSame
		}
	}
	return best
}

// candidateName splits a record's name into the forms of its surname and of its given
// names. The surname is the part before a comma ("Müller, Anna") or else the last part
// ("Anna Müller", "Anna Müller-Lüdenscheidt"). Adjacent words also count written together,
// so "Hans-Peter" is found as "Hans Peter" and as "Hanspeter".
func candidateName(name string) (surname, given []form) {
	groups := splitName(name)
	var s, g []string
	switch {
	case len(groups) == 0:
		return nil, nil
	case len(groups) > 1:
		for _, part := range groups[0] {
			s = append(s, part...)
		}
		for _, group := range groups[1:] {
			for _, part := range group {
				g = append(g, part...)
			}
		}
	default:
		parts := groups[0]
		s = parts[len(parts)-1]
		for _, part := range parts[:len(parts)-1] {
			g = append(g, part...)
		}
	}
	return forms(s), forms(g)
}

// forms gives the words and each pair of adjacent words written together.
func forms(words []string) []form {
	if len(words) > maxWords {
		words = words[:maxWords]
	}
	var fs []form
	for i, w := range words {
		fs = append(fs, newForm(w))
		if i+1 < len(words) {
			fs = append(fs, newForm(w+words[i+1]))
		}
	}
	return fs
}

func newForm(w string) form { return form{w, Phonetic(w)} }

// ignored are words that are not part of anyone's name for matching: titles and forms of
// address ("Dr.", "Prof.", "Frau"), and the particles of noble and Dutch names ("von",
// "van", "zu"), which callers and records drop or keep at will.
var ignored = map[string]bool{
	"dr": true, "prof": true, "med": true, "dent": true, "dipl": true, "ing": true,
	"phil": true, "rer": true, "nat": true, "habil": true, "herr": true, "frau": true,
	"von": true, "vom": true, "van": true, "zu": true, "zum": true, "zur": true, "und": true,
	"de": true, "der": true, "den": true, "ten": true, "ter": true, "da": true, "di": true,
	"del": true, "la": true, "le": true,
}

// splitName normalises a name and splits it into groups (separated by commas), parts
// (separated by spaces or dots) and words (a part's pieces joined by hyphens). Words are
// lower case a–z, with ä, ö, ü, ß written ae, oe, ue, ss, so that Müller and Mueller, Strauß
// and Strauss are the same word; titles and particles are dropped.
func splitName(s string) [][][]string {
	var (
		groups [][][]string
		parts  [][]string
		words  []string
		word   []byte
	)
	endWord := func() {
		if w := string(word); w != "" && !ignored[w] {
			words = append(words, w)
		}
		word = word[:0]
	}
	endPart := func() {
		endWord()
		if len(words) > 0 {
			parts = append(parts, words)
		}
		words = nil
	}
	endGroup := func() {
		endPart()
		if len(parts) > 0 {
			groups = append(groups, parts)
		}
		parts = nil
	}
	for _, r := range s {
		r = unicode.ToLower(r)
		switch {
		case r >= 'a' && r <= 'z':
			word = append(word, byte(r))
		case r == 'ä':
			word = append(word, 'a', 'e')
		case r == 'ö':
			word = append(word, 'o', 'e')
		case r == 'ü':
			word = append(word, 'u', 'e')
		case r == 'ß':
			word = append(word, 's', 's')
		case r == '\'' || r == '’' || r == '`':
			// O'Brien is Obrien.
		case r == '-' || r == '‐' || r == '–':
			endWord()
		case r == ',' || r == ';':
			endGroup()
		default:
			if f, ok := fold[r]; ok {
				word = append(word, f)
			} else {
				endPart()
			}
		}
	}
	endGroup()
	return groups
}

// normalizeDate writes a birth date given as YYYY-MM-DD or DD.MM.YYYY as YYYY-MM-DD; ""
// means absent or unreadable, which neither confirms nor excludes anyone. It compares
// strings rather than parsing times because Find reads every record's date on every call.
func normalizeDate(s string) string {
	s = strings.TrimSpace(s)
	if len(s) != 10 {
		return ""
	}
	if s[2] == '.' && s[5] == '.' {
		s = s[6:] + "-" + s[3:5] + "-" + s[:2]
	}
	for i := 0; i < len(s); i++ {
		if i == 4 || i == 7 {
			if s[i] != '-' {
				return ""
			}
		} else if s[i] < '0' || s[i] > '9' {
			return ""
		}
	}
	if m := s[5:7]; m < "01" || m > "12" {
		return ""
	}
	if d := s[8:]; d < "01" || d > "31" {
		return ""
	}
	return s
}

// normalizeKVNR upper-cases a KVNR and drops spaces, as speech-to-text may group the digits.
func normalizeKVNR(s string) string {
	clean := true
	for i := 0; i < len(s) && clean; i++ {
		clean = s[i] > ' ' && s[i] < utf8.RuneSelf && !(s[i] >= 'a' && s[i] <= 'z')
	}
	if clean {
		return s // the usual case: a record's KVNR, already as it should be
	}
	return strings.ToUpper(strings.Join(strings.Fields(s), ""))
}

// normalizePhone keeps a leading + and the digits, so "+49 30 123456" is "+4930123456".
func normalizePhone(s string) string {
	var b strings.Builder
	for i, r := range strings.TrimSpace(s) {
		if r >= '0' && r <= '9' || r == '+' && i == 0 {
			b.WriteRune(r)
		}
	}
	if b.Len() < 3 {
		return "" // "+", "0": no number at all
	}
	return b.String()
}
