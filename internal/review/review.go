// Package review prepares a practice's conversations for quality review, when the practice
// opted in: every name, birth date, phone number, KVNR, address, e-mail address and other
// identifying number is replaced by a placeholder before anything leaves the practice's
// tenant. Only the practice stays identifiable.
//
// Anonymisation errs on the side of removing: it replaces what the patient's data says
// (the requests and what the understanding engine read from each turn, in every form the
// texts may write it), and then whatever looks like an identifier, known or not.
package review

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/tresen/tresen/internal/berlin"
	"github.com/tresen/tresen/internal/dialogue"
	"github.com/tresen/tresen/internal/nlu"
	"github.com/tresen/tresen/internal/request"
)

// Placeholders that replace identifiers.
const (
	Name      = "[NAME]"
	BirthDate = "[GEBURTSDATUM]"
	Phone     = "[TELEFON]"
	KVNR      = "[KVNR]"
	Address   = "[ADRESSE]"
	Email     = "[E-MAIL]"
	Number    = "[NUMMER]"
)

// Conversation is an anonymised conversation.
type Conversation struct {
	// ID is a pseudonym: the same conversation has the same one in every export, and it
	// cannot be traced back to the record.
	ID       string          `json:"id"`
	Practice string          `json:"practice"`
	Channel  request.Channel `json:"channel"`
	Day      string          `json:"day"` // the day it began, YYYY-MM-DD
	Turns    []Turn          `json:"turns"`
	Requests []Request       `json:"requests"`
}

// Turn is one anonymised turn.
type Turn struct {
	Who  dialogue.Speaker `json:"who"`
	Text string           `json:"text"`
}

// Request is what a request was, without whom it was for.
type Request struct {
	Type    request.Type    `json:"type"`
	Status  request.Status  `json:"status"`
	Urgency request.Urgency `json:"urgency,omitempty"`
	Unclear bool            `json:"patient_unclear,omitempty"`
	Booked  bool            `json:"booked,omitempty"`
}

// Anonymizer anonymises conversations of one practice.
type Anonymizer struct {
	Practice string
	// Doctors are the practice's doctors' surnames: staff, not patients; they stay.
	Doctors []string
	// Secret keys the pseudonyms; per installation.
	Secret []byte
	nlu    nlu.Understander
}

// Anonymize returns c with every identifier replaced.
func (a *Anonymizer) Anonymize(c dialogue.Conversation) Conversation {
	out := Conversation{ID: a.pseudonym(c.ID), Practice: a.Practice, Channel: c.Channel, Turns: []Turn{}, Requests: []Request{}}
	if len(c.Turns) > 0 {
		out.Day = c.Turns[0].At.In(berlin.Location).Format(time.DateOnly)
	}
	a.nlu.Doctors = a.Doctors
	known := []request.Patient{c.Known}
	for _, r := range c.Requests {
		known = append(known, r.Patient)
		out.Requests = append(out.Requests, Request{Type: r.Type, Status: r.Status, Urgency: r.Urgency, Unclear: r.PatientUnclear, Booked: r.Details.SlotID != ""})
	}
	// What the understanding engine reads from each patient turn, also what it did not
	// keep (a correction, a relative's name).
	spoken := map[int]nlu.Slots{}
	for i, t := range c.Turns {
		if t.Who == dialogue.Patient {
			s := a.nlu.Understand(t.Text, t.At).Slots
			spoken[i] = s
			known = append(known, request.Patient{Name: s.Name, BirthDate: s.BirthDate, Phone: s.Phone, KVNR: s.KVNR})
		}
	}
	r := a.replacer(known)
	for i, t := range c.Turns {
		// E-mail addresses first: a name inside one would break it apart.
		text := r.replace(reEmail.ReplaceAllString(t.Text, Email))
		if t.Who == dialogue.Patient {
			text = nameClauses(text)
		}
		if s, ok := spoken[i]; ok {
			// Spoken numbers ("zwölfter dritter neunzehnhundertvierundachtzig", "null
			// eins sieben eins …") have no written form to find: a turn that stated a
			// birth date or phone number loses all its number words.
			switch {
			case s.BirthDate != "":
				text = numberWords(text, BirthDate)
			case s.Phone != "" || s.KVNR != "":
				text = numberWords(text, Phone)
			}
		}
		out.Turns = append(out.Turns, Turn{Who: t.Who, Text: nameNeighbours(generic(text, a.Doctors))})
	}
	return out
}

func (a *Anonymizer) pseudonym(id string) string {
	h := sha256.New()
	h.Write(a.Secret)
	h.Write([]byte("review|" + id))
	return "g-" + hex.EncodeToString(h.Sum(nil)[:8])
}

// replacer replaces known values in all their written forms.
type replacer struct{ pairs []pair }

type pair struct {
	re *regexp.Regexp
	to string
}

func (a *Anonymizer) replacer(known []request.Patient) replacer {
	var r replacer
	add := func(to string, forms ...string) {
		for _, f := range forms {
			if f = strings.TrimSpace(f); len([]rune(f)) < 2 {
				continue
			}
			r.pairs = append(r.pairs, pair{regexp.MustCompile(`(?i)(^|[^\p{L}\p{N}])` + regexp.QuoteMeta(f) + `($|[^\p{L}\p{N}])`), to})
		}
	}
	for _, p := range known {
		if p.BirthDate != "" {
			add(BirthDate, dateForms(p.BirthDate)...)
		}
		if p.KVNR != "" {
			add(KVNR, p.KVNR, p.KVNR[:1]+" "+p.KVNR[1:])
		}
		if p.Phone != "" {
			add(Phone, phoneForms(p.Phone)...)
		}
		for _, part := range strings.Fields(p.Name) {
			if part = strings.Trim(part, ".,"); len([]rune(part)) > 1 && !slices.ContainsFunc(a.Doctors, func(d string) bool { return strings.EqualFold(d, part) }) {
				add(Name, part, folded(part))
			}
		}
	}
	// Longest first, so that "12.03.1984" goes before "12.03.".
	slices.SortStableFunc(r.pairs, func(x, y pair) int { return len(y.re.String()) - len(x.re.String()) })
	return r
}

func (r replacer) replace(s string) string {
	for _, p := range r.pairs {
		// The pattern keeps the neighbouring characters it needs to see word bounds.
		for {
			next := p.re.ReplaceAllString(s, "${1}"+p.to+"${2}")
			if next == s {
				break
			}
			s = next
		}
	}
	return s
}

var monthNames = [...]string{"", "Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"}

// dateForms are the ways a text may write a date.
func dateForms(iso string) []string {
	d, err := time.Parse(time.DateOnly, iso)
	if err != nil {
		return []string{iso}
	}
	y, m, day := d.Year(), int(d.Month()), d.Day()
	yy := y % 100
	var out []string
	for _, ds := range []string{fmt.Sprintf("%02d", day), fmt.Sprint(day)} {
		for _, ms := range []string{fmt.Sprintf("%02d", m), fmt.Sprint(m)} {
			for _, ys := range []string{fmt.Sprint(y), fmt.Sprintf("%02d", yy)} {
				out = append(out, ds+"."+ms+"."+ys, ds+"/"+ms+"/"+ys, ds+"-"+ms+"-"+ys)
			}
		}
		out = append(out, ds+". "+monthNames[m]+" "+fmt.Sprint(y), ds+". "+monthNames[m]+fmt.Sprint(y), ds+" "+monthNames[m]+" "+fmt.Sprint(y))
	}
	return append(out, iso)
}

// phoneForms are the ways a text may write a phone number given as E.164.
func phoneForms(e164 string) []string {
	digits := strings.TrimPrefix(e164, "+")
	national := "0" + strings.TrimPrefix(digits, "49")
	return []string{e164, digits, national, "0049" + strings.TrimPrefix(digits, "49")}
}

// folded writes umlauts as the texts of people without them do.
func folded(s string) string {
	return strings.NewReplacer("ä", "ae", "ö", "oe", "ü", "ue", "ß", "ss", "Ä", "Ae", "Ö", "Oe", "Ü", "Ue").Replace(s)
}

// Patterns of identifiers whatever they belong to.
var (
	reEmail  = regexp.MustCompile(`[\p{L}\p{N}._%+-]+@[\p{L}\p{N}.-]+\.\p{L}{2,}`)
	reKVNR   = regexp.MustCompile(`\b[A-Za-z]\s?\d{9}\b`)
	reIBAN   = regexp.MustCompile(`\b[A-Z]{2}\d{2}(?:\s?[A-Za-z0-9]{4}){3,7}\b`)
	reStreet = regexp.MustCompile(`(?i)\b[\p{L}-]+(?:straße|strasse|str\.|weg|allee|platz|gasse|ring|damm|ufer|chaussee|stieg|pfad)\s*\d+\s*[a-z]?\b`)
	rePLZ    = regexp.MustCompile(`\b\d{5}\s+\p{Lu}[\p{L}-]+`)
	// A run of digits with the separators phone numbers and dates use.
	reDigits = regexp.MustCompile(`\+?\d[\d\s/().-]*\d`)
	reDate   = regexp.MustCompile(`\b\d{1,2}\.\s?\d{1,2}\.\s?(?:19|20)?\d{2}\b`)
	// Frau/Herr followed by a name; the practice's doctors stay.
	reTitle = regexp.MustCompile(`\b(Frau|Herrn?|Fr\.|Hr\.)\s+(?:Dr\.\s*)?(\p{Lu}[\p{L}-]+)`)
)

// generic replaces what looks like an identifier, whoever it belongs to.
func generic(s string, doctors []string) string {
	s = reEmail.ReplaceAllString(s, Email)
	s = reIBAN.ReplaceAllString(s, Number)
	s = reKVNR.ReplaceAllString(s, KVNR)
	s = reStreet.ReplaceAllString(s, Address)
	s = rePLZ.ReplaceAllString(s, Address)
	s = reTitle.ReplaceAllStringFunc(s, func(m string) string {
		sub := reTitle.FindStringSubmatch(m)
		if slices.ContainsFunc(doctors, func(d string) bool { return strings.EqualFold(d, sub[2]) }) {
			return m
		}
		return strings.Replace(m, sub[2], Name, 1)
	})
	// Dates of birth are long past; an appointment's day is near and stays readable.
	s = reDate.ReplaceAllStringFunc(s, func(m string) string {
		f := strings.FieldsFunc(m, func(r rune) bool { return r == '.' || unicode.IsSpace(r) })
		if len(f) == 3 && (len(f[2]) == 4 && f[2] < "2010" || len(f[2]) == 2 && f[2] > "26") {
			return BirthDate
		}
		return m
	})
	s = reDigits.ReplaceAllStringFunc(s, func(m string) string {
		n := 0
		for _, r := range m {
			if unicode.IsDigit(r) {
				n++
			}
		}
		if n >= 5 {
			return Number
		}
		return m
	})
	return s
}

// notNames are capitalised words that are no names: titles, greetings and the like.
var notNames = map[string]bool{"Frau": true, "Herr": true, "Herrn": true, "Dr": true, "Doktor": true, "Prof": true, "Praxis": true,
	"Hallo": true, "Guten": true, "Tag": true, "Morgen": true, "Abend": true, "Moin": true, "Servus": true, "Grüß": true, "Gott": true,
	"Vielen": true, "Dank": true, "Danke": true, "Ja": true, "Nein": true, "Okay": true, "Bitte": true, "Ich": true, "Hier": true,
	"Mein": true, "Meine": true, "Telefon": true, "Tel": true, "Geburtsdatum": true, "Geb": true, "Name": true}

var (
	reWord = regexp.MustCompile(`\p{L}[\p{L}-]*`)
	// reClause is a clause of the patient's that is only two or three capitalised words:
	// "Erika Musterfrau, 02.01.1990".
	reClause = regexp.MustCompile(`(^|[,;:.!?]\s*)(\p{Lu}[\p{L}-]+(?:\s+\p{Lu}[\p{L}-]+){1,2})\s*($|[,;:.!?])`)
	// reNextToName is a capitalised word next to a name placeholder: "Anna [NAME]".
	reBeforeName = regexp.MustCompile(`(\p{Lu}[\p{L}-]+)(\s+\[NAME\])`)
	reAfterName  = regexp.MustCompile(`(\[NAME\]\s+)(\p{Lu}[\p{L}-]+)`)
)

// nameClauses replaces clauses that are only a name.
func nameClauses(s string) string {
	return reClause.ReplaceAllStringFunc(s, func(m string) string {
		sub := reClause.FindStringSubmatch(m)
		for _, w := range strings.Fields(sub[2]) {
			if notNames[w] {
				return m
			}
		}
		return sub[1] + reWord.ReplaceAllString(sub[2], Name) + sub[3]
	})
}

// nameNeighbours replaces capitalised words next to a name placeholder: the first name
// of a surname the engine read, and the other way round.
func nameNeighbours(s string) string {
	for range 3 {
		next := reBeforeName.ReplaceAllStringFunc(s, func(m string) string {
			sub := reBeforeName.FindStringSubmatch(m)
			if notNames[sub[1]] {
				return m
			}
			return Name + sub[2]
		})
		next = reAfterName.ReplaceAllStringFunc(next, func(m string) string {
			sub := reAfterName.FindStringSubmatch(m)
			if notNames[sub[2]] {
				return m
			}
			return sub[1] + Name
		})
		if next == s {
			break
		}
		s = next
	}
	return s
}

// numberStems are the parts of German number words, longest first where one begins
// another.
var numberStems = []string{"zwanzig", "dreißig", "dreissig", "vierzig", "fünfzig", "fuenfzig", "sechzig", "siebzig", "achtzig", "neunzig",
	"hundert", "tausend", "sieben", "sechs", "zwölf", "zwoelf", "fuenf", "fünf", "null", "eins", "zwei", "drei", "vier", "acht", "neun", "zehn",
	"erst", "dritt", "sech", "sieb", "ein", "zwo", "elf"}

// numberSuffixes are the endings of ordinals and inflected numbers.
var numberSuffixes = map[string]bool{"": true, "e": true, "en": true, "er": true, "es": true, "n": true, "r": true, "s": true, "te": true, "ten": true,
	"ter": true, "tes": true, "ste": true, "sten": true, "ster": true, "stes": true}

// isNumberWord reports whether w (lower case) is a number word, cardinal or ordinal,
// also compounds ("neunzehnhundertvierundachtzig", "zwölften"), or a month name.
func isNumberWord(w string) bool {
	for _, m := range monthNames[1:] {
		if w == strings.ToLower(m) || w == folded(strings.ToLower(m)) {
			return true
		}
	}
	rest, matched := w, false
	for rest != "" {
		i := slices.IndexFunc(numberStems, func(st string) bool { return strings.HasPrefix(rest, st) })
		switch {
		case i >= 0:
			rest, matched = rest[len(numberStems[i]):], true
		case matched && strings.HasPrefix(rest, "und"):
			rest = rest[len("und"):]
		default:
			return matched && numberSuffixes[rest]
		}
	}
	return matched
}

// articles are number words that mostly are articles; they count only within a run.
var articles = map[string]bool{"ein": true, "eine": true, "einen": true, "einer": true, "eines": true, "einem": true}

// numberWords replaces each run of number words, digits and month names (with the small
// words between them) by one placeholder.
func numberWords(s, placeholder string) string {
	var out []string
	inRun := false
	for _, w := range strings.Fields(s) {
		core := strings.ToLower(strings.TrimFunc(w, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }))
		// Digits alone are left to generic, which knows dates from phone numbers.
		isNum := core != "" && (inRun && strings.IndexFunc(core, unicode.IsDigit) >= 0 || isNumberWord(core) && (inRun || !articles[core]))
		glue := inRun && (core == "und" || core == "am" || core == "den" || core == "der")
		switch {
		case isNum && !inRun:
			out = append(out, placeholder+trailing(w))
			inRun = true
		case isNum || glue:
			out[len(out)-1] = placeholder + trailing(w)
		default:
			out = append(out, w)
			inRun = false
		}
	}
	return strings.Join(out, " ")
}

// trailing keeps a word's closing punctuation.
func trailing(w string) string {
	i := len(w)
	for i > 0 && strings.ContainsRune(".,;:!?", rune(w[i-1])) {
		i--
	}
	return w[i:]
}
