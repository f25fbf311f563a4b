package request

import (
	"fmt"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"
)

// Summary is the two-line German summary the practice team reads in its inbox: what is
// wanted, then who it is for. What the type needs but was not given says "fehlt".
//
//	Folgerezept: Ramipril 5 mg
//	Anna Müller, geb. 12.03.1984, GKV, Tel. +49 171 1234567
func (r *Request) Summary() string {
	return r.what() + "\n" + r.who()
}

// what is the first line: the type, its main detail and the urgency.
func (r *Request) what() string {
	var b strings.Builder
	switch r.Urgency {
	case LifeThreatening:
		b.WriteString("NOTFALL (an 112 verwiesen) – ")
	case Urgent:
		b.WriteString("DRINGEND – ")
	}
	d := r.Details
	need := func(f Field, v string) string {
		if v != "" {
			return v
		}
		return r.Type.FieldLabel(f) + " fehlt"
	}
	var parts []string
	switch r.Type {
	case AppointmentBook:
		if d.SlotID != "" {
			b.WriteString("Termin gebucht: ")
			parts = append(parts, joinNonEmpty(" ", shortDate(d.Date), d.Time))
			if d.Doctor != "" {
				parts = append(parts, "Dr. "+d.Doctor)
			}
			parts = append(parts, need(FieldReason, d.Reason))
		} else {
			b.WriteString("Terminwunsch: ")
			parts = append(parts, need(FieldReason, d.Reason))
			when := joinNonEmpty(" ", shortDate(d.Date), d.Time, DaypartLabel(d.Daypart))
			parts = append(parts, need(FieldWhen, when))
			if d.Doctor != "" {
				parts = append(parts, "bei Dr. "+d.Doctor)
			}
		}
	case AppointmentCancel, AppointmentReschedule:
		b.WriteString(r.Type.Label() + ": ")
		if d.Date == "" {
			parts = append(parts, "Termindatum fehlt")
		} else {
			parts = append(parts, "Termin am "+joinNonEmpty(" ", shortDate(d.Date), d.Time))
		}
	case PrescriptionRefill:
		b.WriteString("Folgerezept: ")
		parts = append(parts, need(FieldMedication, d.Medication))
	case Referral:
		b.WriteString("Überweisung: ")
		parts = append(parts, need(FieldReason, d.Reason))
	case SickNote:
		b.WriteString("Krankschreibung: ")
		if d.Date == "" {
			parts = append(parts, "krank seit fehlt")
		} else {
			parts = append(parts, "krank seit "+shortDate(d.Date))
		}
	case TestResults:
		b.WriteString("Befundanfrage: ")
		parts = append(parts, need(FieldReason, d.Reason))
	case Callback:
		b.WriteString("Rückruf")
		parts = append(parts, d.Reason)
		if when := joinNonEmpty(" ", d.Time, DaypartLabel(d.Daypart)); when != "" {
			parts = append(parts, "am liebsten "+when)
		}
	case Message:
		b.WriteString("Nachricht")
		if d.Doctor != "" {
			b.WriteString(" an Dr. " + d.Doctor)
		}
		b.WriteString(": ")
		parts = append(parts, need(FieldNote, d.Note))
	default:
		b.WriteString(r.Type.Label() + ": ")
	}
	if d.Note != "" && r.Type != Message {
		parts = append(parts, d.Note)
	}
	parts = nonEmpty(parts)
	if r.Type == Callback && len(parts) > 0 {
		b.WriteString(": ")
	}
	b.WriteString(strings.Join(parts, ", "))
	return oneLine(b.String(), 200)
}

// who is the second line: the patient.
func (r *Request) who() string {
	p := r.Patient
	var parts []string
	if p.Name != "" {
		parts = append(parts, oneLine(p.Name, 80))
	} else {
		parts = append(parts, "Name fehlt")
	}
	if t, err := time.Parse(time.DateOnly, p.BirthDate); err == nil {
		parts = append(parts, "geb. "+t.Format("02.01.2006"))
	} else {
		parts = append(parts, "Geburtsdatum fehlt")
	}
	switch {
	case p.Insurance != "":
		parts = append(parts, InsuranceLabel(p.Insurance))
	case r.needs(FieldInsurance):
		parts = append(parts, "Versicherung fehlt")
	}
	if p.KVNR != "" {
		parts = append(parts, "KVNR "+p.KVNR)
	}
	switch {
	case p.Phone != "":
		parts = append(parts, "Tel. "+FormatPhone(p.Phone))
	case r.needs(FieldPhone):
		parts = append(parts, "Tel. fehlt")
	}
	s := strings.Join(parts, ", ")
	if r.PatientUnclear {
		s += " (Person bitte prüfen)"
	}
	return s
}

func (r *Request) needs(f Field) bool {
	for _, x := range r.Type.Needs() {
		if x == f {
			return true
		}
	}
	return false
}

// FormatPhone writes an E.164 number as people read it: "+49 171 1234567".
func FormatPhone(e164 string) string {
	n, err := phonenumbers.Parse(e164, "DE")
	if err != nil {
		return e164
	}
	return phonenumbers.Format(n, phonenumbers.INTERNATIONAL)
}

var shortWeekdays = [...]string{"So", "Mo", "Di", "Mi", "Do", "Fr", "Sa"}

// shortDate writes YYYY-MM-DD as "Do 26.11.2026" for the team.
func shortDate(s string) string {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return s
	}
	return fmt.Sprintf("%s %s", shortWeekdays[t.Weekday()], t.Format("02.01.2006"))
}

func joinNonEmpty(sep string, parts ...string) string {
	return strings.Join(nonEmpty(parts), sep)
}

func nonEmpty(parts []string) []string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}
