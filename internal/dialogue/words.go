package dialogue

import (
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/tresen/tresen/internal/nlu"
	"github.com/tresen/tresen/internal/request"
)

// fold prepares text for the dialogue's own small patterns: lower case, umlauts folded
// (ä → a, ß → ss), every run of other characters one space.
func fold(s string) string {
	var b strings.Builder
	space := true
	for _, r := range strings.ToLower(s) {
		switch r {
		case 'ä':
			r = 'a'
		case 'ö':
			r = 'o'
		case 'ü':
			r = 'u'
		case 'é', 'è':
			r = 'e'
		case 'ß':
			b.WriteString("ss")
			space = false
			continue
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
			space = false
		} else if !space {
			b.WriteByte(' ')
			space = true
		}
	}
	return strings.TrimSpace(b.String())
}

func re(p string) *regexp.Regexp { return regexp.MustCompile(p) }

var (
	reNo  = re(`^(nein|ne|nee|no|noe|nope|falsch|nicht ganz|nicht richtig|nicht korrekt|stimmt nicht|stimmt so nicht|das stimmt nicht|das ist falsch|leider nicht|leider nein|keiner|keinen|keine)\b|\b(stimmt nicht|ist falsch|nicht richtig|passt nicht)\b`)
	reYes = re(`^(ja|jawohl|jo|joa|jep|jup|jaa|genau|richtig|stimmt|korrekt|passt|ok|okay|gern|gerne|einverstanden|klar|sicher|naturlich|perfekt|prima|super|alles klar|in ordnung|mhm|doch|bitte ja|sehr gern|sehr gerne|das stimmt|alles richtig|alles korrekt|gut|machen sie das|bitte verbinden|verbinden sie)\b`)

	reRepeat = re(`^(wie bitte|was|bitte|ha|hae|hm|hmm|wie|nochmal|noch mal|noch einmal|pardon|sorry|entschuldigung|was haben sie gesagt)$|wiederholen|nicht verstanden|nicht gehort|nicht mitbekommen|noch ?mal sagen|noch einmal sagen|langsamer`)

	reGoodbye = re(`\b(tschuss|auf wiederhoren|auf wiedersehen|auf wiederschauen|ciao|bye|adieu|schonen tag noch|ich lege auf|ich leg auf)\b`)
	reDone    = re(`^(nein|ne|nee|no|noe)\b|^(danke|dankeschon|vielen dank|danke schon|danke sehr|besten dank)( \w+){0,3}$|\b(das wars|das war s|das war es|das war alles|nichts mehr|sonst nichts|nichts weiter|alles erledigt|bin fertig)\b`)

	reGreeting = re(`^(hallo|hallochen|guten (tag|morgen|abend)|gruss gott|gruss dich|servus|moin|moin moin|hi|hey|tag|gruezi)( zusammen| ja| erstmal)?$`)

	reHold = re(`^((einen|ein|nen) )?(moment|momentchen|augenblick|sekunde|minute)( mal| bitte| noch)*( ich (schau|gucke?|hole|suche|muss)\w*( \w+){0,4})?$|^(warten sie|bitte warten|ich (schau|guck|hol|such)\w* (mal )?(kurz|nach|eben)\w*)`)

	reWrongNumber = re(`\b(falsch verbunden|verwahlt|falsche nummer)\b`)

	reAnyTime  = re(`\b(egal|beliebig|so (bald|schnell|fruh) wie moglich|baldmoglichst|schnellstmoglich|nachstmoglich\w*|fruhestmoglich\w*|moglichst (bald|schnell|fruh)|wann immer|jederzeit|flexibel|nachsten freien|erstbeste\w*|ist mir gleich)\b`)
	reNoneFits = re(`\b(keiner|keinen|keine davon|passt (mir )?(beides |alles )?nicht|geht (beides |alles )?nicht|andere[nr]? (termin|tag|zeit)|anderen vorschlag|was anderes)\b`)

	// reChannelWord names a way to send a confirmation ("per E-Mail", "aufs Handy").
	reChannelWord = re(`\b(e ?mail|mail|sms|handy\w*|mobil\w*)\b`)

	reCallbackWord = re(`\b(ruckruf|zuruckruf|zuruckrufen|anrufen|rufen sie|ruft)\b`)

	// reWishSeparator splits an utterance into the clauses that may each name a wish.
	reWishSeparator = re(`(?i)[.;!?]+|\b(und|sowie|außerdem|ausserdem|zusätzlich|zusaetzlich|dazu)\b`)
)

func isNo(f string) bool  { return reNo.MatchString(f) }
func isYes(f string) bool { return !isNo(f) && reYes.MatchString(f) }

func isRepeat(f string) bool      { return reRepeat.MatchString(f) }
func isGoodbye(f string) bool     { return reGoodbye.MatchString(f) }
func isDone(f string) bool        { return reDone.MatchString(f) }
func isGreeting(f string) bool    { return reGreeting.MatchString(f) }
func isHold(f string) bool        { return reHold.MatchString(f) }
func isWrongNumber(f string) bool { return reWrongNumber.MatchString(f) }
func isAnyTime(f string) bool     { return reAnyTime.MatchString(f) }
func isNoneFits(f string) bool    { return reNoneFits.MatchString(f) }

// medicalQuestions ask for advice, a diagnosis or a dosage, which only a doctor gives.
var medicalQuestions = []*regexp.Regexp{
	re(`\bsoll (ich|er|sie|man) (\w+ ){0,5}(nehmen|einnehmen|absetzen|weglassen|erhohen|reduzieren|verdoppeln|halbieren|schlucken|spritzen|trinken|kuhlen|warmen)\b`),
	re(`\b(darf|kann|muss) (ich|er|sie|man) (\w+ ){0,5}(einnehmen|absetzen|kombinieren|zusammen nehmen|gleichzeitig nehmen|weiter nehmen|weiternehmen|mehr nehmen)\b`),
	re(`\b(darf|kann) (ich|er|sie|man) (\w+ ){0,4}(alkohol|sport|baden|duschen|autofahren|auto fahren|fliegen|stillen)\b`),
	re(`\bwie ?viele? (\w+ ){0,4}(soll|darf|kann|muss) (ich|er|sie|man)\b`),
	re(`\bwie oft (soll|darf|muss) (ich|er|sie|man)\b`),
	re(`\b(welche|welches|welchen) (medikament|tablette|mittel|salbe|tropfen|dosis|antibiotikum)\w* (\w+ ){0,3}(soll|kann|darf|hilft|empfehlen)`),
	re(`\b(dosis|dosierung|nebenwirkung\w*|wechselwirkung\w*)\b`),
	re(`\bwas (soll|kann|muss) (ich|er|sie|man) (\w+ ){0,3}(tun|machen|nehmen)\b`),
	re(`\bwas hilft (gegen|bei)\b`),
	re(`\bist (das|es|so etwas|sowas) (\w+ ){0,2}(gefahrlich|schlimm|normal|ansteckend|bedenklich|harmlos|krebs)\b`),
	re(`\b(habe|hab|hat) (ich|er|sie|mein \w+|meine \w+) (\w+ ){0,2}(krebs|corona|grippe|diabetes|eine entzundung|eine infektion|einen infarkt)\b`),
	re(`\bwas (habe|hab|hat) (ich|er|sie|mein \w+|meine \w+)( denn)?$`),
	re(`\b(empfehlen sie|was empfehlen|raten sie|was raten|konnen sie mir (\w+ ){0,3}(empfehlen|raten))\b`),
	re(`\bmuss (ich|er|sie) (damit )?(zum arzt|ins krankenhaus|in die notaufnahme|in die klinik)\b`),
}

func isMedicalQuestion(f string) bool {
	for _, r := range medicalQuestions {
		if r.MatchString(f) {
			return true
		}
	}
	return false
}

// askingFreeText reports whether the question asked for text in the patient's own words.
func askingFreeText(asked []request.Field) bool {
	for _, f := range asked {
		if f == request.FieldReason || f == request.FieldNote || f == request.FieldMedication {
			return true
		}
	}
	return false
}

// fieldNames are how patients name what is wrong in a read-back (folded).
var fieldNames = []struct {
	re    *regexp.Regexp
	field request.Field
}{
	{re(`\b(geburtsdatum|geburtstag|geboren|geburtsjahr|jahrgang)\b`), request.FieldBirthDate},
	{re(`\b(name|namen|nachname|vorname|heisse)\b`), request.FieldName},
	{re(`\b(telefonnummer|nummer|handynummer|rufnummer|telefon)\b`), request.FieldPhone},
	{re(`\b(versicherung|versichert|kasse|krankenkasse)\b`), request.FieldInsurance},
	{re(`\b(medikament|tablette|tabletten|praparat|starke|mittel)\b`), request.FieldMedication},
	{re(`\b(fachrichtung|facharzt|grund|befund|anliegen)\b`), request.FieldReason},
	{re(`\b(nachricht|text)\b`), request.FieldNote},
	{re(`\b(datum|tag|termin|uhrzeit|zeit|wann)\b`), request.FieldDate},
}

// namedField finds the field a correction names without giving its value ("nein, das
// Geburtsdatum").
func namedField(f string, typ request.Type) (request.Field, bool) {
	for _, fn := range fieldNames {
		if !fn.re.MatchString(f) {
			continue
		}
		field := fn.field
		if field == request.FieldDate && typ == request.AppointmentBook {
			field = request.FieldWhen
		}
		if typ.Uses(field) {
			return field, true
		}
	}
	return "", false
}

var ordinals = []*regexp.Regexp{
	re(`\b(erste|ersten|erster|erstes|eins|1|nummer eins|den ersten)\b`),
	re(`\b(zweite|zweiten|zweiter|zweites|zwei|2|nummer zwei)\b`),
	re(`\b(dritte|dritten|dritter|drittes|drei|3|nummer drei)\b`),
}

var reLast = re(`\b(letzte|letzten|letzter|letztes)\b`)

var weekdayWords = map[string]time.Weekday{
	"montag": time.Monday, "dienstag": time.Tuesday, "mittwoch": time.Wednesday, "donnerstag": time.Thursday,
	"freitag": time.Friday, "samstag": time.Saturday, "sonnabend": time.Saturday, "sonntag": time.Sunday,
}

// choose finds the offer the patient picked: by a stated time, day, daypart or doctor,
// or by its place ("der erste", "Nummer zwei"); -1 when that is not one offer.
func choose(offers []Offer, f string, s nlu.Slots, now time.Time) int {
	if len(offers) == 0 {
		return -1
	}
	loc := now.Location()
	cands := make([]int, 0, len(offers))
	for i := range offers {
		cands = append(cands, i)
	}
	filter := func(keep func(o Offer) bool) {
		var out []int
		for _, i := range cands {
			if keep(offers[i]) {
				out = append(out, i)
			}
		}
		if len(out) > 0 {
			cands = out
		} else {
			cands = nil
		}
	}
	criteria := 0
	if s.Time != "" {
		criteria++
		filter(func(o Offer) bool { return o.Start.In(loc).Format("15:04") == s.Time })
	}
	var days []time.Weekday
	for _, w := range strings.Fields(f) {
		if wd, ok := weekdayWords[w]; ok {
			days = append(days, wd)
		}
	}
	if len(days) > 0 {
		criteria++
		filter(func(o Offer) bool {
			for _, d := range days {
				if o.Start.In(loc).Weekday() == d {
					return true
				}
			}
			return false
		})
	} else if s.Date != "" {
		criteria++
		filter(func(o Offer) bool { return o.Start.In(loc).Format(time.DateOnly) == s.Date })
	}
	if s.Daypart != "" {
		criteria++
		filter(func(o Offer) bool { return daypartOf(o.Start.In(loc)) == s.Daypart })
	}
	if s.Doctor != "" {
		criteria++
		filter(func(o Offer) bool { return strings.EqualFold(o.Doctor, s.Doctor) })
	}
	if criteria > 0 {
		if len(cands) == 1 {
			return cands[0]
		}
		if len(cands) == 0 || s.Time != "" {
			return -1
		}
	}
	// By place, among what is left ("der zweite" of all; "Donnerstag, der erste").
	if reLast.MatchString(f) {
		return cands[len(cands)-1]
	}
	for n, r := range ordinals {
		if r.MatchString(f) && n < len(cands) {
			return cands[n]
		}
	}
	return -1
}

// daypartOf says which part of the day t is in.
func daypartOf(t time.Time) string {
	switch h := t.Hour(); {
	case h < 12:
		return "morning"
	case h < 17:
		return "afternoon"
	}
	return "evening"
}
