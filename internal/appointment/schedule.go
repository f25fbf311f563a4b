// Package appointment is the practice calendar: who can be booked (doctors, rooms,
// devices), for what (appointment types), when (consultation hours with breaks, acute
// capacity, closures, public holidays), and the search for free slots that fit a
// patient's wish. It does no I/O; the store keeps schedules and appointments and makes
// sure no slot is given twice.
package appointment

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/holiday"
)

// Resource kinds.
const (
	Doctor = "doctor"
	Room   = "room"
	Device = "device"
)

// Resource is someone or something an appointment takes.
type Resource struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
	// Name is how the patient hears it: "Frau Dr. Schneider", "Raum 2", "EKG".
	Name string `json:"name"`
	// Surname is a doctor's surname, for "bei Schneider".
	Surname string `json:"surname,omitempty"`
}

// Type is a kind of appointment the practice offers.
type Type struct {
	ID      string `json:"id"`
	Name    string `json:"name"` // "Vorsorgeuntersuchung"
	Minutes int    `json:"minutes"`
	// Doctors who offer it; empty: every doctor.
	Doctors []string `json:"doctors,omitempty"`
	// Resources it needs besides the doctor (a room, a device), all of them.
	Resources []string `json:"resources,omitempty"`
	// Insurances that may book it ("gkv", "pkv", "self"); empty: all.
	Insurances []string `json:"insurances,omitempty"`
	// LeadHours is how long before its start it can be booked at the earliest.
	LeadHours int `json:"lead_hours,omitempty"`
	// Assistant: the phone and chat assistant may book it; else only the team.
	Assistant bool `json:"assistant"`
	// NewPatients: patients not yet known to the practice may book it.
	NewPatients bool `json:"new_patients"`
	// Acute: it may use the acute capacity (Akutsprechstunde).
	Acute bool `json:"acute,omitempty"`
}

// Interval is a time of day: "08:00" to "12:00".
type Interval struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Hours are a resource's consultation hours on one weekday. Breaks are the gaps between
// the open intervals. Acute intervals, inside the open ones, are kept for acute cases: only
// the team and urgent requests may book them.
type Hours struct {
	Resource string       `json:"resource"`
	Weekday  time.Weekday `json:"weekday"`
	Open     []Interval   `json:"open"`
	Acute    []Interval   `json:"acute,omitempty"`
}

// Closure is a time the practice or one resource is away: vacation, training.
type Closure struct {
	Resource string `json:"resource,omitempty"` // "": the whole practice
	From     string `json:"from"`               // YYYY-MM-DD
	To       string `json:"to"`                 // YYYY-MM-DD, inclusive
	Reason   string `json:"reason,omitempty"`
}

// Schedule is a practice's whole calendar setup.
type Schedule struct {
	// State is the Bundesland ("HB", "BY" …) whose public holidays close the practice.
	State     string     `json:"state"`
	Resources []Resource `json:"resources"`
	Types     []Type     `json:"types"`
	Hours     []Hours    `json:"hours"`
	Closures  []Closure  `json:"closures,omitempty"`
}

// Resource returns a resource by id.
func (s *Schedule) Resource(id string) (Resource, bool) {
	for _, r := range s.Resources {
		if r.ID == id {
			return r, true
		}
	}
	return Resource{}, false
}

// Type returns an appointment type by id.
func (s *Schedule) Type(id string) (Type, bool) {
	for _, t := range s.Types {
		if t.ID == id {
			return t, true
		}
	}
	return Type{}, false
}

// DoctorBySurname finds a doctor by surname, as a patient names them.
func (s *Schedule) DoctorBySurname(surname string) (Resource, bool) {
	for _, r := range s.Resources {
		if r.Kind == Doctor && strings.EqualFold(r.Surname, strings.TrimSpace(surname)) {
			return r, true
		}
	}
	return Resource{}, false
}

// minutes reads "HH:MM" as minutes after midnight.
func minutes(hhmm string) (int, bool) {
	h, m, ok := strings.Cut(hhmm, ":")
	if !ok || len(h) != 2 || len(m) != 2 {
		return 0, false
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || hh > 24 || mm < 0 || mm > 59 || hh == 24 && mm != 0 {
		return 0, false
	}
	return hh*60 + mm, true
}

// span is an interval in minutes after midnight.
type span struct{ from, to int }

func spans(field string, in []Interval) ([]span, error) {
	out := make([]span, 0, len(in))
	for i, iv := range in {
		f, ok1 := minutes(iv.From)
		t, ok2 := minutes(iv.To)
		if !ok1 || !ok2 {
			return nil, errs.Field(field, "Zeiten im Format HH:MM angeben (Zeile %d)", i+1)
		}
		if t <= f {
			return nil, errs.Field(field, "%s bis %s: das Ende muss nach dem Beginn liegen", iv.From, iv.To)
		}
		out = append(out, span{f, t})
	}
	slices.SortFunc(out, func(a, b span) int { return a.from - b.from })
	for i := 1; i < len(out); i++ {
		if out[i].from < out[i-1].to {
			return nil, errs.Field(field, "Zeiten überschneiden sich")
		}
	}
	return out, nil
}

var validInsurance = map[string]bool{"gkv": true, "pkv": true, "self": true}

// Validate reports the first thing wrong with a schedule, naming the field.
func (s *Schedule) Validate() error {
	ids := map[string]string{}
	for _, r := range s.Resources {
		switch {
		case r.ID == "" || strings.ContainsAny(r.ID, "|/ "):
			return errs.Field("resources.id", "jede Ressource braucht eine ID ohne Leerzeichen, | oder /")
		case ids[r.ID] != "":
			return errs.Field("resources.id", "die ID %q ist doppelt vergeben", r.ID)
		case r.Kind != Doctor && r.Kind != Room && r.Kind != Device:
			return errs.Field("resources.kind", "%s: Art muss Arzt, Raum oder Gerät sein", r.ID)
		case strings.TrimSpace(r.Name) == "":
			return errs.Field("resources.name", "%s: Name fehlt", r.ID)
		case r.Kind == Doctor && strings.TrimSpace(r.Surname) == "":
			return errs.Field("resources.surname", "%s: Nachname der Ärztin oder des Arztes fehlt", r.ID)
		}
		ids[r.ID] = r.Kind
	}
	types := map[string]bool{}
	for _, t := range s.Types {
		switch {
		case t.ID == "" || types[t.ID]:
			return errs.Field("types.id", "jede Terminart braucht eine eigene ID (%q)", t.ID)
		case strings.TrimSpace(t.Name) == "":
			return errs.Field("types.name", "%s: Name fehlt", t.ID)
		case t.Minutes <= 0 || t.Minutes > 8*60:
			return errs.Field("types.minutes", "%s: Dauer zwischen 1 und 480 Minuten angeben", t.ID)
		case t.LeadHours < 0:
			return errs.Field("types.lead_hours", "%s: die Vorlaufzeit darf nicht negativ sein", t.ID)
		}
		for _, d := range t.Doctors {
			if ids[d] != Doctor {
				return errs.Field("types.doctors", "%s: %q ist keine Ärztin und kein Arzt der Praxis", t.ID, d)
			}
		}
		for _, r := range t.Resources {
			if k := ids[r]; k == "" || k == Doctor {
				return errs.Field("types.resources", "%s: %q ist kein Raum und kein Gerät der Praxis", t.ID, r)
			}
		}
		for _, in := range t.Insurances {
			if !validInsurance[in] {
				return errs.Field("types.insurances", "%s: unbekannte Versicherungsart %q", t.ID, in)
			}
		}
		types[t.ID] = true
	}
	seen := map[string]bool{}
	for _, h := range s.Hours {
		key := h.Resource + "|" + h.Weekday.String()
		switch {
		case ids[h.Resource] == "":
			return errs.Field("hours.resource", "Sprechzeiten für unbekannte Ressource %q", h.Resource)
		case h.Weekday < time.Sunday || h.Weekday > time.Saturday:
			return errs.Field("hours.weekday", "unbekannter Wochentag")
		case seen[key]:
			return errs.Field("hours", "%s: %s ist doppelt angegeben", h.Resource, weekdays[h.Weekday])
		}
		seen[key] = true
		open, err := spans("hours.open", h.Open)
		if err != nil {
			return err
		}
		acute, err := spans("hours.acute", h.Acute)
		if err != nil {
			return err
		}
		for _, a := range acute {
			if !slices.ContainsFunc(open, func(o span) bool { return o.from <= a.from && a.to <= o.to }) {
				return errs.Field("hours.acute", "%s, %s: die Akutsprechstunde muss in den Sprechzeiten liegen", h.Resource, weekdays[h.Weekday])
			}
		}
	}
	for _, c := range s.Closures {
		from, err1 := time.Parse(time.DateOnly, c.From)
		to, err2 := time.Parse(time.DateOnly, c.To)
		switch {
		case err1 != nil || err2 != nil:
			return errs.Field("closures", "Daten im Format JJJJ-MM-TT angeben")
		case to.Before(from):
			return errs.Field("closures", "%s bis %s: das Ende liegt vor dem Beginn", c.From, c.To)
		case c.Resource != "" && ids[c.Resource] == "":
			return errs.Field("closures.resource", "unbekannte Ressource %q", c.Resource)
		}
	}
	if _, ok := holiday.For(s.State); !ok {
		return errs.Field("state", "unbekanntes Bundesland %q", s.State)
	}
	return nil
}

var weekdays = [...]string{"Sonntag", "Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag"}

var months = [...]string{"", "Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"}

// Spoken says a start and a resource as the assistant reads it out: "Donnerstag,
// 26. November, um 9:30 Uhr bei Frau Dr. Schneider".
func Spoken(start time.Time, who string) string {
	s := fmt.Sprintf("%s, %d. %s, um %d:%02d Uhr", weekdays[start.Weekday()], start.Day(), months[start.Month()], start.Hour(), start.Minute())
	if who != "" {
		s += " bei " + who
	}
	return s
}

// Appointment statuses.
const (
	Booked    = "booked"
	Cancelled = "cancelled"
)

// Patient is who an appointment is for, as the caller or the team gave it.
type Patient struct {
	Name      string `json:"name,omitempty"`
	BirthDate string `json:"birth_date,omitempty"`
	Phone     string `json:"phone,omitempty"`
	Insurance string `json:"insurance,omitempty"`
	KVNR      string `json:"kvnr,omitempty"`
	Email     string `json:"email,omitempty"`
	// Notify is the channel the patient agreed to get confirmations, changes and
	// reminders on: NotifyEmail, NotifySMS, or "" (none).
	Notify string `json:"notify,omitempty"`
}

// Channels a patient may agree to be notified on.
const (
	NotifyEmail = "email"
	NotifySMS   = "sms"
)

// A patient who agreed to messages is reminded ReminderAhead before the appointment, by
// runs every ReminderEvery (package reminder), each of which takes the appointments that
// start in that long after ReminderAhead.
const (
	ReminderAhead = 24 * time.Hour
	ReminderEvery = time.Hour
)

// Reminded reports whether an appointment at start gets its reminder when the patient
// agrees at now: the run that takes it is still to come.
func Reminded(start, now time.Time) bool { return start.Sub(now) >= ReminderAhead+ReminderEvery }

// Appointment is a booked (or cancelled) appointment.
type Appointment struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	Doctor    string    `json:"doctor"`
	Resources []string  `json:"resources,omitempty"` // rooms and devices besides the doctor
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	Status    string    `json:"status"`
	PersonID  string    `json:"person_id,omitempty"`
	Patient   Patient   `json:"patient"`
	Note      string    `json:"note,omitempty"`
	// Source is who booked it: "assistant", "staff", "fhir".
	Source string `json:"source"`
}

// Takes lists every resource the appointment occupies: the doctor first.
func (a Appointment) Takes() []string { return append([]string{a.Doctor}, a.Resources...) }

// FromSlot starts an appointment for a slot.
func FromSlot(s Slot) Appointment {
	return Appointment{Type: s.Type, Doctor: s.Doctor, Resources: s.Resources, Start: s.Start, End: s.End, Status: Booked}
}
