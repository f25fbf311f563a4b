package dialogue

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"

	"github.com/tresen/tresen/internal/nlu"
	"github.com/tresen/tresen/internal/request"
)

// The assistant's texts are spoken by text-to-speech as well as shown in the chat: short
// sentences, Sie-form, no abbreviations or symbols that a voice reads out oddly.

// what names a request type as the object of a sentence ("ich nehme … auf").
func what(typ request.Type) string {
	switch typ {
	case request.AppointmentBook:
		return "Ihren Terminwunsch"
	case request.AppointmentCancel:
		return "Ihre Terminabsage"
	case request.AppointmentReschedule:
		return "Ihren Wunsch, einen Termin zu verschieben,"
	case request.PrescriptionRefill:
		return "Ihr Folgerezept"
	case request.Referral:
		return "Ihre Überweisung"
	case request.SickNote:
		return "Ihre Krankschreibung"
	case request.TestResults:
		return "Ihre Frage nach einem Befund"
	case request.Callback:
		return "Ihren Rückrufwunsch"
	case request.Message:
		return "Ihre Nachricht an die Praxis"
	}
	return "Ihr Anliegen"
}

// topic names a request with its main detail, for a note when it turns into a callback.
func topic(r *request.Request) string {
	s := r.Type.Label()
	for _, v := range []string{r.Details.Medication, r.Details.Reason, r.Details.Date} {
		if v != "" {
			return s + ", " + v
		}
	}
	return s
}

// question asks for the fields of r in ask (one, or name and birth date together).
func (t *turn) question(r *request.Request, ask []request.Field) (string, []string) {
	if len(ask) == 2 && ask[0] == request.FieldName && ask[1] == request.FieldBirthDate {
		return "Nennen Sie mir bitte Ihren vollständigen Namen und Ihr Geburtsdatum.", nil
	}
	switch f := ask[0]; f {
	case request.FieldName:
		return "Nennen Sie mir bitte Ihren vollständigen Namen.", nil
	case request.FieldBirthDate:
		return "Wie lautet Ihr Geburtsdatum, mit Tag, Monat und Jahr?", nil
	case request.FieldPhone:
		return "Unter welcher Telefonnummer können wir Sie zurückrufen?", nil
	case request.FieldInsurance:
		return "Sind Sie gesetzlich oder privat versichert?", []string{"Gesetzlich", "Privat"}
	case request.FieldKVNR:
		return "Wie lautet Ihre Versichertennummer?", nil
	case request.FieldMedication:
		return "Welches Medikament brauchen Sie, und in welcher Stärke?", nil
	case request.FieldDoctor:
		return "Zu welcher Ärztin oder welchem Arzt möchten Sie?", t.e.Practice.Doctors
	case request.FieldReason:
		switch r.Type {
		case request.Referral:
			return "Für welche Fachrichtung brauchen Sie die Überweisung?", nil
		case request.TestResults:
			return "Um welchen Befund geht es?", nil
		case request.Callback:
			return "Worum geht es bei dem Rückruf?", nil
		}
		return "Worum geht es bei dem Termin?", nil
	case request.FieldNote:
		if r.Details.Doctor != "" {
			return "Was soll ich " + t.doctor(r.Details.Doctor) + " ausrichten?", nil
		}
		return "Was möchten Sie der Praxis mitteilen?", nil
	case request.FieldWhen, request.FieldDate, request.FieldTime, request.FieldDaypart:
		switch r.Type {
		case request.AppointmentCancel:
			return "An welchem Tag ist der Termin, den Sie absagen möchten?", nil
		case request.AppointmentReschedule:
			return "An welchem Tag ist der Termin, den Sie verschieben möchten?", nil
		case request.SickNote:
			return "Seit wann sind Sie krank?", nil
		case request.Callback:
			return "Wann erreichen wir Sie am besten?", []string{"Vormittags", "Nachmittags"}
		}
		return "Wann passt es Ihnen am besten? Nennen Sie mir gern einen Tag oder eine Tageszeit.", []string{"Vormittags", "Nachmittags", "Nächstmöglich"}
	}
	return "Bitte nennen Sie mir noch: " + r.Type.FieldLabel(ask[0]) + ".", nil
}

// describe reads a request back in one sentence.
func (t *turn) describe(r *request.Request) string {
	d, p := r.Details, r.Patient
	who := "für " + p.Name
	if p.BirthDate != "" {
		who += ", geboren am " + birthDate(p.BirthDate)
	}
	var ins string
	switch p.Insurance {
	case "gkv":
		ins = "gesetzlich versichert"
	case "pkv":
		ins = "privat versichert"
	case "self":
		ins = "als Selbstzahler"
	}
	var parts []string
	switch r.Type {
	case request.PrescriptionRefill:
		parts = []string{"Folgerezept für " + t.spoken(d.Medication) + " " + who, ins}
	case request.AppointmentBook:
		s := "Termin"
		switch {
		case len(strings.Fields(d.Reason)) > 4:
			s += ", Ihr Anliegen: " + strings.TrimRight(d.Reason, ".!? ")
		case d.Reason != "":
			s += " wegen " + d.Reason
		}
		parts = []string{s + ", " + t.when(d), who, ins}
		if d.Doctor != "" {
			parts[0] += " bei " + t.doctor(d.Doctor)
		}
	case request.AppointmentCancel:
		parts = []string{"Absage Ihres Termins " + t.on(d) + " " + who}
	case request.AppointmentReschedule:
		parts = []string{"Verschiebung Ihres Termins " + t.on(d) + " " + who}
	case request.Referral:
		parts = []string{"Überweisung, Fachrichtung " + d.Reason + ", " + who, ins}
	case request.SickNote:
		parts = []string{"Krankschreibung seit " + t.day(d.Date) + " " + who, ins}
	case request.TestResults:
		parts = []string{"Frage nach Ihrem Befund, " + d.Reason + ", " + who}
	case request.Callback:
		s := "Rückruf " + who + ", unter der Nummer " + t.phone(p.Phone)
		if w := t.callbackWhen(d); w != "" {
			s += ", " + w
		}
		parts = []string{s}
		if d.Reason != "" {
			parts = append(parts, "es geht um "+d.Reason)
		}
	case request.Message:
		parts = []string{"Nachricht von " + p.Name + ": " + strings.TrimRight(d.Note, ".!? ")}
	}
	var out []string
	for _, s := range parts {
		if s != "" {
			out = append(out, s)
		}
	}
	return strings.Join(out, ", ")
}

// confirmation is said when a request is complete.
func confirmation(r *request.Request) string {
	switch r.Type {
	case request.AppointmentBook:
		return "Vielen Dank, Ihr Terminwunsch ist notiert. Das Praxisteam meldet sich mit einem Terminvorschlag."
	case request.AppointmentCancel:
		return "Vielen Dank, Ihre Absage ist notiert."
	case request.AppointmentReschedule:
		return "Vielen Dank, das ist notiert. Das Praxisteam meldet sich mit einem neuen Terminvorschlag."
	case request.TestResults:
		return "Vielen Dank, das Praxisteam meldet sich bei Ihnen zu Ihrem Befund."
	case request.Callback:
		return "Vielen Dank, das Praxisteam ruft Sie zurück."
	case request.Message:
		return "Vielen Dank, ich gebe Ihre Nachricht weiter."
	}
	return "Vielen Dank, das ist notiert. Das Praxisteam kümmert sich darum."
}

// doctor names a doctor for the channel: spelled out for the voice.
func (t *turn) doctor(surname string) string {
	if t.c.Channel == request.Chat {
		return "Dr. " + surname
	}
	return "Doktor " + surname
}

// offerText says an offered appointment: "Donnerstag, 26. November, um 9:30 Uhr bei
// Doktor Schneider".
func (t *turn) offerText(o Offer) string {
	if o.Text != "" {
		return o.Text
	}
	start := o.Start.In(t.now.Location())
	s := t.dayName(start) + ", um " + clock(start.Format("15:04"))
	if o.Doctor != "" {
		s += " bei " + t.doctor(o.Doctor)
	}
	return s
}

var (
	weekdayNames = [...]string{"Sonntag", "Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag"}
	monthNames   = [...]string{"Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"}
)

// dayName says a day: "Donnerstag, 26. November", with the year when it is far off.
func (t *turn) dayName(d time.Time) string {
	s := fmt.Sprintf("%s, %d. %s", weekdayNames[d.Weekday()], d.Day(), monthNames[d.Month()-1])
	if d.Sub(t.now) > 300*24*time.Hour || d.Before(t.now.AddDate(0, -6, 0)) {
		s += fmt.Sprintf(" %d", d.Year())
	}
	return s
}

// day says a YYYY-MM-DD date.
func (t *turn) day(s string) string {
	d, err := time.ParseInLocation(time.DateOnly, s, t.now.Location())
	if err != nil {
		return s
	}
	return t.dayName(d)
}

// on says the day and time of an appointment: "am Donnerstag, 26. November, um 9:30 Uhr".
func (t *turn) on(d request.Details) string {
	s := "am " + t.day(d.Date)
	if d.Time != "" {
		s += ", um " + clock(d.Time) + ","
	}
	return s
}

// when says an appointment wish.
func (t *turn) when(d request.Details) string {
	var parts []string
	if d.Date != "" {
		parts = append(parts, "am "+t.day(d.Date))
	}
	if d.Time != "" {
		parts = append(parts, "um "+clock(d.Time))
	}
	switch d.Daypart {
	case "any":
		parts = append(parts, "so bald wie möglich")
	case "":
	default:
		parts = append(parts, request.DaypartLabel(d.Daypart))
	}
	return strings.Join(parts, " ")
}

func (t *turn) callbackWhen(d request.Details) string {
	switch {
	case d.Time != "":
		return "am besten um " + clock(d.Time)
	case d.Daypart != "" && d.Daypart != "any":
		return "am besten " + request.DaypartLabel(d.Daypart)
	}
	return ""
}

// birthDate says a birth date: "12. März 1984".
func birthDate(s string) string {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return s
	}
	return fmt.Sprintf("%d. %s %d", d.Day(), monthNames[d.Month()-1], d.Year())
}

// clock says "09:30" as "9:30 Uhr" and "14:00" as "14 Uhr".
func clock(hhmm string) string {
	hhmm = strings.TrimPrefix(hhmm, "0")
	if h, ok := strings.CutSuffix(hhmm, ":00"); ok {
		return h + " Uhr"
	}
	return hhmm + " Uhr"
}

// phone says a phone number: grouped as written in the chat, digit by digit on the phone.
func (t *turn) phone(e164 string) string {
	n, err := phonenumbers.Parse(e164, "DE")
	national := e164
	if err == nil {
		national = phonenumbers.Format(n, phonenumbers.NATIONAL)
	}
	if t.c.Channel == request.Chat {
		return national
	}
	var groups []string
	for _, g := range strings.Fields(national) {
		groups = append(groups, strings.Join(strings.Split(strings.Trim(g, "()-/"), ""), " "))
	}
	return strings.Join(groups, ", ")
}

// units are spelled out for the voice.
var units = strings.NewReplacer(" mg", " Milligramm", " µg", " Mikrogramm", " ml", " Milliliter", " I.E.", " Einheiten", " g", " Gramm")

func (t *turn) spoken(s string) string {
	if t.c.Channel == request.Chat {
		return s
	}
	return units.Replace(s)
}

// faq answers a question about the practice from its settings.
func (e *Engine) faq(in nlu.Intent, f string, now time.Time) string {
	p := e.Practice
	if in == nlu.OpeningHours {
		var s string
		if p.OpeningHours != "" {
			s = "Unsere Sprechzeiten: " + strings.TrimRight(p.OpeningHours, ". ") + "."
		} else {
			s = "Die Sprechzeiten kann ich Ihnen leider nicht nennen."
		}
		if e.open(now) {
			s += " Im Moment ist die Praxis geöffnet."
		} else {
			s += " Im Moment ist die Praxis geschlossen."
		}
		return s
	}
	for _, topic := range faqTopics {
		if !topic.re.MatchString(f) {
			continue
		}
		switch topic.key {
		case "address":
			if p.Address != "" {
				s := "Sie finden uns hier: " + strings.TrimRight(p.Address, ". ") + "."
				if dir := p.FAQ[FAQDirections]; dir != "" {
					s += " " + dir
				}
				return s
			}
		case "phone":
			if p.Phone != "" {
				return "Sie erreichen die Praxis unter " + p.Phone + "."
			}
		default:
			if a := p.FAQ[topic.key]; a != "" {
				return a
			}
		}
	}
	return "Dazu habe ich leider keine Angabe. Das Praxisteam hilft Ihnen gern weiter, ich kann auch eine Nachricht für die Praxis aufnehmen."
}

// faqTopics map a question about the practice to the setting that answers it (folded).
var faqTopics = []struct {
	re  *regexp.Regexp
	key string
}{
	{re(`\b(park\w*)`), FAQParking},
	{re(`\b(barrierefrei\w*|rollstuhl\w*|rollator|aufzug|fahrstuhl|treppe\w*|stufe\w*|gehbehindert)`), FAQAccessibility},
	{re(`\b(kassen?|krankenkassen?|privat\w*|kassenpatient\w*|versichert\w*|versicherung\w*)\b`), FAQInsurances},
	{re(`\b(adresse|anschrift|wo (ist|sind|befindet|liegt|finde)|anfahrt|wie komme|haltestelle|bus|bahn|u bahn|s bahn|eingang|stock|etage|hinterhof)\b`), "address"},
	{re(`\b(telefonnummer|faxnummer|fax|e ?mail|mailadresse|nummer)\b`), "phone"},
	{re(`\b(impf\w*|leistung\w*|bieten sie|akupunktur|untersuchung\w*|check ?up|igel|video\w*|online|sprechen sie|englisch|turkisch|russisch|arabisch)`), FAQServices},
}
