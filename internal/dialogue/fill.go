package dialogue

import (
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/tresen/tresen/internal/nlu"
	"github.com/tresen/tresen/internal/person"
	"github.com/tresen/tresen/internal/request"
)

// fill takes what the utterance says into request r: every slot the type uses, given asked
// or not, and for the fields just asked (asked) also what the understanding engine cannot
// know is meant for them: a bare name, a bare birth date, a free-text reason or message.
// correcting is set while the patient corrects a read-back: a date without a year then
// corrects the birth date when it is closer to it than to the request's date. fill returns
// the fields that changed.
func (t *turn) fill(r *request.Request, asked []request.Field, correcting bool) []request.Field {
	s := t.res.Slots
	isAsked := func(f request.Field) bool {
		for _, a := range asked {
			if a == f {
				return true
			}
		}
		return false
	}
	var changed []request.Field
	set := func(f request.Field, v string) {
		if v != "" && r.Type.Uses(f) && r.Get(f) != v {
			r.Set(f, v)
			changed = append(changed, f)
		}
	}

	name := s.Name
	if name == "" && (isAsked(request.FieldName) || correcting && len(asked) == 0) {
		name = t.bareName(correcting && len(asked) == 0)
	}
	birth := validBirthDate(s.BirthDate, t.now)
	date := s.Date
	if birth == "" && isAsked(request.FieldBirthDate) {
		birth = t.bareBirthDate(r)
		if birth != "" {
			date = ""
		}
	}
	if correcting && birth == "" && date != "" && r.Patient.BirthDate != "" && !isAsked(request.FieldDate) && !isAsked(request.FieldWhen) &&
		(!r.Type.Uses(request.FieldDate) || closerToBirth(date, r.Patient.BirthDate, r.Details.Date)) {
		birth, date = withYear(date, r.Patient.BirthDate, t.now), ""
	}
	set(request.FieldName, name)
	set(request.FieldBirthDate, birth)
	set(request.FieldPhone, s.Phone)
	set(request.FieldInsurance, s.Insurance)
	set(request.FieldKVNR, s.KVNR)
	set(request.FieldMedication, s.Medication)
	set(request.FieldDoctor, s.Doctor)

	// An appointment's wished time: a new day or time replaces the whole wish.
	daypart := s.Daypart
	if daypart == "" && date == "" && s.Time == "" && isAnyTime(t.fold) && (isAsked(request.FieldWhen) || r.Type == request.AppointmentBook) {
		daypart = "any"
	}
	if r.Type == request.AppointmentBook && (date != "" || s.Time != "" || daypart != "") {
		if r.Details.Date != date || r.Details.Time != s.Time || r.Details.Daypart != daypart {
			r.Details.Date, r.Details.Time, r.Details.Daypart = date, s.Time, daypart
			changed = append(changed, request.FieldWhen)
		}
	} else {
		set(request.FieldDate, date)
		set(request.FieldTime, s.Time)
		set(request.FieldDaypart, daypart)
	}

	switch r.Type {
	case request.Referral:
		set(request.FieldReason, specialty(t.fold))
	case request.TestResults:
		if r.Details.Reason == "" || isAsked(request.FieldReason) {
			set(request.FieldReason, finding(t.fold))
		}
	case request.AppointmentBook, request.Callback:
		set(request.FieldReason, because(t.text))
		if r.Details.Reason == "" && r.Type == request.AppointmentBook {
			set(request.FieldReason, visitReason(t.fold))
		}
	case request.Message:
		if r.Details.Note == "" && reMessageText.MatchString(t.text) {
			set(request.FieldNote, freeText(t.text))
		}
	}

	// Free text for the fields just asked, when nothing more specific was found.
	has := func(f request.Field) bool {
		for _, c := range changed {
			if c == f {
				return true
			}
		}
		return false
	}
	for _, f := range []request.Field{request.FieldReason, request.FieldNote} {
		if isAsked(f) && !has(f) {
			set(f, freeText(t.text))
		}
	}
	if isAsked(request.FieldMedication) && !has(request.FieldMedication) && looksLikeMedication(t.fold) {
		set(request.FieldMedication, freeText(t.text))
	}
	t.remember(nlu.Slots{Name: r.Patient.Name, BirthDate: r.Patient.BirthDate, Phone: r.Patient.Phone,
		Insurance: r.Patient.Insurance, KVNR: r.Patient.KVNR})
	return changed
}

// remember keeps the patient data of s for the requests still to come.
func (t *turn) remember(s nlu.Slots) {
	k := &t.c.Known
	for _, f := range []struct {
		dst *string
		v   string
	}{{&k.Name, s.Name}, {&k.BirthDate, validBirthDate(s.BirthDate, t.now)}, {&k.Phone, s.Phone}, {&k.Insurance, s.Insurance}, {&k.KVNR, s.KVNR}} {
		if f.v != "" {
			*f.dst = f.v
		}
	}
}

func validBirthDate(s string, now time.Time) string {
	if s == "" {
		return ""
	}
	if _, err := person.ParseBirthDate(s, now); err != nil {
		return ""
	}
	return s
}

// bareName reads an answer to "Wie heißen Sie?" that states only the name ("Anna
// Müller"), which the understanding engine reads only after a cue ("mein Name ist"). In a
// correction (strict) the whole answer after "nein" must be the name.
func (t *turn) bareName(strict bool) string {
	rest := stripLead(t.text, fillerWords)
	if rest == "" || len(rest) > maxReread {
		return ""
	}
	n := t.e.understand("Mein Name ist "+rest, t.now).Slots.Name
	if n == "" || isYes(fold(n)) || isNo(fold(n)) || saysNothing(n) {
		return ""
	}
	for _, w := range strings.Fields(fold(n)) {
		if functionWords[w] {
			return ""
		}
	}
	// "Müller, Anna": surname first, as on a form.
	if m := reSurnameFirst.FindStringSubmatch(rest); m != nil && strings.EqualFold(n, m[1]) {
		first := t.e.understand("Mein Name ist "+m[2], t.now).Slots.Name
		if strings.EqualFold(first, m[2]) {
			return first + " " + n
		}
	}
	if strict && (isYes(t.fold) || fold(n) != fold(rest)) {
		return ""
	}
	return n
}

// bareBirthDate reads an answer to "Wann sind Sie geboren?": a date without a birth cue
// ("zwölf drei vierundachtzig"), or in a correction a day and month for the birth year
// already known.
func (t *turn) bareBirthDate(r *request.Request) string {
	if len(t.text) <= maxReread {
		res := t.e.understand("geboren am "+t.text, t.now)
		if b := validBirthDate(res.Slots.BirthDate, t.now); b != "" {
			return b
		}
	}
	if d := t.res.Slots.Date; d != "" && r.Patient.BirthDate != "" {
		return withYear(d, r.Patient.BirthDate, t.now)
	}
	return ""
}

// closerToBirth reports whether the date d (stated without a year) is nearer in day and
// month to the birth date than to the request's date.
func closerToBirth(d, birth, detail string) bool {
	dd, err1 := time.Parse(time.DateOnly, d)
	bd, err2 := time.Parse(time.DateOnly, birth)
	if err1 != nil || err2 != nil {
		return false
	}
	md := func(t time.Time) int { return int(t.Month())*31 + t.Day() }
	dist := func(a, b int) int { return min(abs(a-b), 12*31-abs(a-b)) }
	toBirth := dist(md(dd), md(bd))
	det, err := time.Parse(time.DateOnly, detail)
	if err != nil {
		return true
	}
	return toBirth < dist(md(dd), md(det))
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// withYear puts day and month of d into the year of birth.
func withYear(d, birth string, now time.Time) string {
	dd, err1 := time.Parse(time.DateOnly, d)
	bd, err2 := time.Parse(time.DateOnly, birth)
	if err1 != nil || err2 != nil {
		return ""
	}
	nd := time.Date(bd.Year(), dd.Month(), dd.Day(), 0, 0, 0, 0, time.UTC)
	if nd.Day() != dd.Day() {
		return "" // 29 February in a year without it
	}
	return validBirthDate(nd.Format(time.DateOnly), now)
}

// fillerWords open an answer without belonging to it.
var fillerWords = map[string]bool{
	"äh": true, "ähm": true, "ah": true, "ahm": true, "öhm": true, "hm": true, "hmm": true, "mhm": true, "also": true,
	"ja": true, "jo": true, "genau": true, "gern": true, "gerne": true, "ok": true, "okay": true, "nein": true, "ne": true,
	"nee": true, "doch": true, "klar": true, "sorry": true, "entschuldigung": true, "natürlich": true, "sicher": true,
}

// stripLead drops leading words of set and punctuation from s.
func stripLead(s string, set map[string]bool) string {
	for {
		s = strings.TrimLeftFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
		i := strings.IndexFunc(s, func(r rune) bool { return !unicode.IsLetter(r) })
		w := s
		if i >= 0 {
			w = s[:i]
		}
		if w == "" || !set[strings.ToLower(w)] {
			return s
		}
		s = s[len(w):]
	}
}

// maxFree bounds a free-text field taken from one turn.
const maxFree = 300

// freeText is an answer kept as said, for a reason or message: without leading fillers,
// at most maxFree characters, empty when it says nothing but yes or no.
func freeText(s string) string {
	s = stripLead(strings.Join(strings.Fields(s), " "), fillerWords)
	s = strings.TrimRight(s, " ,;:-")
	if !strings.ContainsFunc(s, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) {
		return ""
	}
	if saysNothing(s) {
		return ""
	}
	if r := []rune(s); len(r) > maxFree {
		s = string(r[:maxFree-1]) + "…"
	}
	return capitalise(s)
}

func capitalise(s string) string {
	for i, r := range s {
		return string(unicode.ToUpper(r)) + s[i+len(string(r)):]
	}
	return s
}

func joinNote(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "" || strings.Contains(a, b):
		return a
	}
	return a + " " + b
}

// A message states its text when it says what to pass on: "richten Sie aus, dass …".
var reMessageText = regexp.MustCompile(`(?i)\b(dass|daß)\b|:`)

var reBecause = regexp.MustCompile(`(?i)\bwegen\s+(.+)`)

// reasonStop ends a reason at the next clause or the wished time.
var reasonStop = regexp.MustCompile(`(?i)[,.;!?]|\s(und|am|um|ab|bei|nächste\w*|naechste\w*|morgen|heute|übermorgen|diese\w*|vormittags?|nachmittags?|abends?|gegen|möglichst|bitte)\b`)

var reasonLead = regexp.MustCompile(`(?i)^(meiner|meinem|meines|meinen|meine|einer|einem|eines|einen|eine|der|dem|des|den|die|das|so|solchen?)\s+`)

// because finds the reason after "wegen": "einen Termin wegen meiner Rückenschmerzen".
func because(text string) string {
	m := reBecause.FindStringSubmatch(text)
	if m == nil {
		return ""
	}
	s := m[1]
	if loc := reasonStop.FindStringIndex(s); loc != nil {
		s = s[:loc[0]]
	}
	for {
		t := reasonLead.ReplaceAllString(s, "")
		if t == s {
			break
		}
		s = t
	}
	return freeText(s)
}

type keyword struct {
	re    *regexp.Regexp
	label string
}

func keywords(pairs ...string) []keyword {
	out := make([]keyword, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, keyword{regexp.MustCompile(`\b(?:` + pairs[i] + `)`), pairs[i+1]})
	}
	return out
}

func firstKeyword(list []keyword, folded string) string {
	for _, k := range list {
		if k.re.MatchString(folded) {
			return k.label
		}
	}
	return ""
}

// specialties are what a referral is for, as patients name them (folded).
var specialties = keywords(
	`orthop`, "Orthopädie", `kardio|herzspezialist|herzarzt`, "Kardiologie", `haut ?arzt|dermatolog`, "Hautarzt",
	`augen ?arzt|augenklinik|ophthalmolog`, "Augenarzt", `frauen ?arzt|gynakolog|gyn\b`, "Frauenarzt",
	`hno|hals nasen ohren|ohrenarzt`, "Hals-Nasen-Ohren-Arzt", `urolog`, "Urologie", `neurolog|nervenarzt`, "Neurologie",
	`mrt|kernspin`, "MRT", `ct\b|computertomo`, "CT", `radiolog|rontgen`, "Radiologie",
	`physiotherap|krankengymnast|physio\b`, "Physiotherapie", `gastroenterolog|magenspiegel|darmspiegel`, "Gastroenterologie",
	`psychotherap`, "Psychotherapie", `psychiat`, "Psychiatrie", `lungen ?arzt|pneumolog`, "Lungenarzt",
	`rheuma`, "Rheumatologie", `endokrinolog`, "Endokrinologie", `nephrolog|nieren ?arzt`, "Nephrologie",
	`onkolog`, "Onkologie", `chirurg`, "Chirurgie", `internist`, "Innere Medizin", `krankenhaus|klinik`, "Krankenhaus",
)

func specialty(folded string) string { return firstKeyword(specialties, folded) }

// findings are the results patients ask for (folded).
var findings = keywords(
	`blut ?werte?|blutbild|blutergebnis|blutuntersuchung|blutabnahme`, "Blutwerte", `laborwert|laborergebnis|labor\b`, "Laborwerte",
	`schilddrusen`, "Schilddrüsenwerte", `zucker|hba1c|langzeitzucker`, "Zuckerwerte", `cholesterin`, "Cholesterinwerte",
	`urin`, "Urinbefund", `mrt`, "MRT-Befund", `ct\b`, "CT-Befund", `rontgen`, "Röntgenbefund", `ultraschall`, "Ultraschallbefund",
	`langzeit ?ekg|ekg`, "EKG", `abstrich`, "Abstrich", `biopsie|gewebeprobe`, "Gewebeprobe", `allergietest`, "Allergietest",
	`corona|covid|pcr`, "Corona-Test", `arztbrief|entlassbrief|bericht`, "Arztbrief",
)

func finding(folded string) string { return firstKeyword(findings, folded) }

// visitReasons name an appointment's purpose when no "wegen" does (folded).
var visitReasons = keywords(
	`vorsorge|check ?up|gesundheitscheck|gesundheitsuntersuchung`, "Vorsorgeuntersuchung", `impf`, "Impfung",
	`blutabnahme|blut abnehmen|blutentnahme`, "Blutabnahme", `nachsorge`, "Nachsorge", `lungenfunktion`, "Lungenfunktionstest",
	`langzeit ?ekg`, "Langzeit-EKG", `ekg`, "EKG", `ultraschall`, "Ultraschall", `hausbesuch`, "Hausbesuch",
	`neupatient|neue patientin|neuer patient|erstvorstellung`, "Erstvorstellung", `jugendschutz|j1\b`, "Jugendschutzuntersuchung",
	`befundbesprechung|befund besprechen|ergebnisse besprechen`, "Befundbesprechung", `kontrolle`, "Kontrolle",
)

func visitReason(folded string) string { return firstKeyword(visitReasons, folded) }

// politeWords carry no content of their own.
var politeWords = map[string]bool{"danke": true, "dankeschon": true, "vielen": true, "dank": true, "bitte": true, "schon": true,
	"sehr": true, "moment": true, "augenblick": true}

// saysNothing reports whether s consists of fillers and polite words only ("nein danke").
func saysNothing(s string) bool {
	for _, w := range strings.Fields(fold(s)) {
		if !fillerWords[w] && !politeWords[w] && !isYes(w) && !isNo(w) {
			return false
		}
	}
	return true
}

var reSurnameFirst = regexp.MustCompile(`^(\p{L}[\p{L}-]+)\s*,\s*(\p{L}[\p{L}-]+)(?:$|[\s,.!])`)

// functionWords are common words that a drug name is not made of (folded).
var functionWords = map[string]bool{
	"ich": true, "du": true, "er": true, "sie": true, "es": true, "wir": true, "ihr": true, "das": true, "der": true,
	"die": true, "dem": true, "den": true, "des": true, "ein": true, "eine": true, "einen": true, "mit": true, "im": true,
	"in": true, "am": true, "an": true, "auf": true, "und": true, "oder": true, "da": true, "so": true, "hm": true,
	"also": true, "ja": true, "nein": true, "weiss": true, "nicht": true, "keine": true, "kein": true, "ahnung": true,
	"gerade": true, "bin": true, "ist": true, "war": true, "habe": true, "hab": true, "was": true, "wie": true, "wo": true,
	"warum": true, "wer": true, "bitte": true, "danke": true, "hallo": true, "moment": true, "mal": true, "doch": true,
	"augenblick": true, "sekunde": true, "warten": true, "kurz": true, "nochmal": true, "egal": true,
}

var reMedicationWord = re(`\b(tablette\w*|pille\w*|kapsel\w*|tropfen|spray|salbe|creme|gel|pflaster|saft|insulin|\w*mittel|spritze\w*|inhalator|zapfchen|dragee\w*|\d+)\b`)

// looksLikeMedication reports whether an answer to "Welches Medikament?" that the drug
// list does not know can be a drug: a form or strength ("die Schilddrüsentabletten", "Xyz
// 20"), or a short name of no common words.
func looksLikeMedication(f string) bool {
	if reMedicationWord.MatchString(f) && !functionWords[strings.Fields(f + " x")[0]] {
		return true
	}
	words := strings.Fields(f)
	if len(words) == 0 || len(words) > 3 {
		return false
	}
	for _, w := range words {
		if functionWords[w] {
			return false
		}
	}
	return true
}
