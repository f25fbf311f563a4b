// Package request defines the Anliegen (a patient's request): what a conversation with the
// assistant leaves for the practice team — a prescription refill, an appointment, a
// callback … — with the patient's data, the details it needs and a short German summary.
package request

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/person"
)

// Type is the kind of request. The values are the names of the understanding engine's
// intents that produce a request.
type Type string

const (
	AppointmentBook       Type = "appointment_book"
	AppointmentCancel     Type = "appointment_cancel"
	AppointmentReschedule Type = "appointment_reschedule"
	PrescriptionRefill    Type = "prescription_refill" // Folgerezept
	Referral              Type = "referral"            // Überweisung
	SickNote              Type = "sick_note"           // Arbeitsunfähigkeitsbescheinigung (AU)
	TestResults           Type = "test_results"        // Befund, Laborwerte
	Callback              Type = "callback"            // Rückruf
	Message               Type = "message"             // Nachricht an die Praxis
)

// Types lists every request type.
var Types = []Type{AppointmentBook, AppointmentCancel, AppointmentReschedule, PrescriptionRefill, Referral,
	SickNote, TestResults, Callback, Message}

// Valid reports whether t is one of Types.
func (t Type) Valid() bool {
	for _, x := range Types {
		if x == t {
			return true
		}
	}
	return false
}

// Label names the type in German, as the team and the patient call it.
func (t Type) Label() string {
	switch t {
	case AppointmentBook:
		return "Terminwunsch"
	case AppointmentCancel:
		return "Terminabsage"
	case AppointmentReschedule:
		return "Terminverschiebung"
	case PrescriptionRefill:
		return "Folgerezept"
	case Referral:
		return "Überweisung"
	case SickNote:
		return "Krankschreibung"
	case TestResults:
		return "Befundanfrage"
	case Callback:
		return "Rückruf"
	case Message:
		return "Nachricht"
	}
	return "Anliegen"
}

// Urgency grades a request: routine (empty), urgent (care needed today) or life-threatening
// (the patient was sent to the 112).
type Urgency string

const (
	Routine         Urgency = ""
	Urgent          Urgency = "urgent"
	LifeThreatening Urgency = "life_threatening"
)

// Channel is where the request came in.
type Channel string

const (
	Phone Channel = "phone"
	Chat  Channel = "chat"
)

// Status is how far the request got.
type Status string

const (
	// Open: the assistant is still collecting its data.
	Open Status = "open"
	// Complete: everything the type needs was given and confirmed.
	Complete Status = "complete"
	// Incomplete: the conversation ended before that; the request keeps what was said.
	Incomplete Status = "incomplete"
)

// Patient is who the request is for (not necessarily the caller: a mother may call for her
// son).
type Patient struct {
	Name      string `json:"name,omitempty"`
	BirthDate string `json:"birth_date,omitempty"` // YYYY-MM-DD
	Phone     string `json:"phone,omitempty"`      // E.164: "+491711234567"
	Insurance string `json:"insurance,omitempty"`  // "gkv", "pkv" or "self" (Selbstzahler)
	KVNR      string `json:"kvnr,omitempty"`       // Krankenversichertennummer (health insurance number)
}

// Details are what the request is about; which of them matter depends on the type.
type Details struct {
	Medication string `json:"medication,omitempty"` // "Ramipril 5 mg"
	Date       string `json:"date,omitempty"`       // YYYY-MM-DD: wished, booked, cancelled day; sick since
	Time       string `json:"time,omitempty"`       // HH:MM
	// Daypart is "morning", "afternoon", "evening", or "any" when the patient has no
	// preference and takes the earliest free appointment.
	Daypart string `json:"daypart,omitempty"`
	Doctor  string `json:"doctor,omitempty"` // the doctor's surname
	// Reason is why: the appointment's reason, the referral's specialty, the results asked
	// for.
	Reason string `json:"reason,omitempty"`
	Note   string `json:"note,omitempty"` // a message's text, or anything else the team should know
	// SlotID is the booked appointment slot, set once an appointment was booked in the
	// conversation (without it an appointment request is a wish for the team to answer).
	SlotID string `json:"slot_id,omitempty"`
}

// Request is one Anliegen.
type Request struct {
	ID      string  `json:"id"`
	Type    Type    `json:"type"`
	Patient Patient `json:"patient"`
	Details Details `json:"details"`
	Urgency Urgency `json:"urgency,omitempty"`
	Channel Channel `json:"channel"`
	Status  Status  `json:"status"`
	// PatientUnclear tells the team to check who the patient is: the name or birth date is
	// missing, the patient never confirmed them, or several or only a weak match of the
	// practice's patient records fit.
	PatientUnclear bool `json:"patient_unclear,omitempty"`
	// PersonID is the patient record the request is clearly about; Match says how the
	// records were searched: "matched", "ambiguous", "weak", "new" (no record: a new
	// patient) or "unchecked" (the practice's system could not be asked).
	PersonID string `json:"person_id,omitempty"`
	// PatientRef is the patient in the practice's own system (a PVS over FHIR,
	// "Patient/123"), when the practice keeps its patients there and not in Tresen.
	PatientRef string    `json:"patient_ref,omitempty"`
	Match      string    `json:"match,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// New starts a request of type t that is still being collected.
func New(id string, t Type, ch Channel, now time.Time) Request {
	return Request{ID: id, Type: t, Channel: ch, Status: Open, CreatedAt: now}
}

// Field is a piece of data a request type needs.
type Field string

const (
	FieldName       Field = "name"
	FieldBirthDate  Field = "birth_date"
	FieldPhone      Field = "phone"
	FieldInsurance  Field = "insurance"
	FieldKVNR       Field = "kvnr"
	FieldMedication Field = "medication"
	FieldDate       Field = "date"
	FieldTime       Field = "time"
	FieldDaypart    Field = "daypart"
	FieldDoctor     Field = "doctor"
	FieldReason     Field = "reason"
	FieldNote       Field = "note"
	// FieldWhen is an appointment's preferred day or time: a date, a time or a daypart.
	FieldWhen Field = "when"
)

// Label names the field in German.
func (f Field) Label() string {
	switch f {
	case FieldName:
		return "Name"
	case FieldBirthDate:
		return "Geburtsdatum"
	case FieldPhone:
		return "Telefonnummer"
	case FieldInsurance:
		return "Versicherung"
	case FieldKVNR:
		return "Versichertennummer"
	case FieldMedication:
		return "Medikament"
	case FieldDate:
		return "Datum"
	case FieldTime:
		return "Uhrzeit"
	case FieldDaypart:
		return "Tageszeit"
	case FieldDoctor:
		return "Ärztin oder Arzt"
	case FieldReason:
		return "Grund"
	case FieldNote:
		return "Nachricht"
	case FieldWhen:
		return "Wunschtermin"
	}
	return string(f)
}

// FieldLabel names field f as it is meant in a request of type t: a referral's reason is
// its specialty, a sick note's date the first day of illness.
func (t Type) FieldLabel(f Field) string {
	switch {
	case f == FieldReason && t == Referral:
		return "Fachrichtung"
	case f == FieldReason && t == TestResults:
		return "Befund"
	case f == FieldReason && t == Callback:
		return "Anliegen"
	case f == FieldDate && t == SickNote:
		return "krank seit"
	case f == FieldDate && (t == AppointmentCancel || t == AppointmentReschedule):
		return "Termin am"
	}
	return f.Label()
}

// Needs lists the fields a request of type t needs, in the order they are asked.
func (t Type) Needs() []Field {
	switch t {
	case PrescriptionRefill:
		return []Field{FieldName, FieldBirthDate, FieldMedication, FieldInsurance}
	case AppointmentBook:
		return []Field{FieldName, FieldBirthDate, FieldInsurance, FieldReason, FieldWhen}
	case AppointmentCancel, AppointmentReschedule:
		return []Field{FieldName, FieldBirthDate, FieldDate}
	case Referral:
		return []Field{FieldName, FieldBirthDate, FieldInsurance, FieldReason}
	case SickNote:
		return []Field{FieldName, FieldBirthDate, FieldDate, FieldInsurance}
	case TestResults:
		return []Field{FieldName, FieldBirthDate, FieldReason}
	case Callback:
		return []Field{FieldName, FieldPhone}
	case Message:
		return []Field{FieldName, FieldNote}
	}
	return nil
}

// Uses reports whether field f belongs in a request of type t: what it needs, and the
// optional details that make sense for it (a wished doctor, a time for a callback).
func (t Type) Uses(f Field) bool {
	switch f {
	case FieldName, FieldBirthDate, FieldPhone, FieldInsurance, FieldKVNR, FieldDoctor, FieldNote:
		return true
	case FieldMedication:
		return t == PrescriptionRefill
	case FieldDate:
		return t == AppointmentBook || t == AppointmentCancel || t == AppointmentReschedule || t == SickNote
	case FieldTime:
		return t == AppointmentBook || t == AppointmentCancel || t == AppointmentReschedule || t == Callback
	case FieldDaypart:
		return t == AppointmentBook || t == Callback
	case FieldReason:
		return t == AppointmentBook || t == Referral || t == TestResults || t == Callback
	case FieldWhen:
		return t == AppointmentBook
	}
	return false
}

// Get returns the value of field f ("" when not given); FieldWhen gives the first of date,
// time and daypart that is set.
func (r *Request) Get(f Field) string {
	switch f {
	case FieldName:
		return r.Patient.Name
	case FieldBirthDate:
		return r.Patient.BirthDate
	case FieldPhone:
		return r.Patient.Phone
	case FieldInsurance:
		return r.Patient.Insurance
	case FieldKVNR:
		return r.Patient.KVNR
	case FieldMedication:
		return r.Details.Medication
	case FieldDate:
		return r.Details.Date
	case FieldTime:
		return r.Details.Time
	case FieldDaypart:
		return r.Details.Daypart
	case FieldDoctor:
		return r.Details.Doctor
	case FieldReason:
		return r.Details.Reason
	case FieldNote:
		return r.Details.Note
	case FieldWhen:
		for _, v := range []string{r.Details.Date, r.Details.Time, r.Details.Daypart} {
			if v != "" {
				return v
			}
		}
	}
	return ""
}

// Set sets field f to v. FieldWhen cannot be set: set a date, time or daypart.
func (r *Request) Set(f Field, v string) {
	switch f {
	case FieldName:
		r.Patient.Name = v
	case FieldBirthDate:
		r.Patient.BirthDate = v
	case FieldPhone:
		r.Patient.Phone = v
	case FieldInsurance:
		r.Patient.Insurance = v
	case FieldKVNR:
		r.Patient.KVNR = v
	case FieldMedication:
		r.Details.Medication = v
	case FieldDate:
		r.Details.Date = v
	case FieldTime:
		r.Details.Time = v
	case FieldDaypart:
		r.Details.Daypart = v
	case FieldDoctor:
		r.Details.Doctor = v
	case FieldReason:
		r.Details.Reason = v
	case FieldNote:
		r.Details.Note = v
	}
}

// Missing lists what the request's type still needs, in the order it is asked.
func (r *Request) Missing() []Field {
	var out []Field
	for _, f := range r.Type.Needs() {
		if r.Get(f) == "" {
			out = append(out, f)
		}
	}
	return out
}

// HasData reports whether the patient gave anything for this request.
func (r *Request) HasData() bool {
	return r.Patient != Patient{} || r.Details != Details{}
}

// maxText bounds free-text fields; a patient's turn is far shorter.
const maxText = 2000

// Validate checks a request's fields; now bounds the birth date.
func (r *Request) Validate(now time.Time) error {
	if !r.Type.Valid() {
		return errs.Field("type", "unbekannte Art des Anliegens")
	}
	if r.Channel != Phone && r.Channel != Chat {
		return errs.Field("channel", "unbekannter Kanal")
	}
	if r.Status != Open && r.Status != Complete && r.Status != Incomplete {
		return errs.Field("status", "unbekannter Status")
	}
	if r.Urgency != Routine && r.Urgency != Urgent && r.Urgency != LifeThreatening {
		return errs.Field("urgency", "unbekannte Dringlichkeit")
	}
	for f, v := range map[Field]string{FieldName: r.Patient.Name, FieldMedication: r.Details.Medication, FieldDoctor: r.Details.Doctor,
		FieldReason: r.Details.Reason, FieldNote: r.Details.Note, FieldPhone: r.Patient.Phone} {
		if !utf8.ValidString(v) || utf8.RuneCountInString(v) > maxText {
			return errs.Field(string(f), "ungültig oder länger als %d Zeichen", maxText)
		}
	}
	if r.Patient.BirthDate != "" {
		if _, err := person.ParseBirthDate(r.Patient.BirthDate, now); err != nil {
			return err
		}
	}
	if r.Patient.KVNR != "" {
		if err := person.ValidateKVNR(r.Patient.KVNR); err != nil {
			return err
		}
	}
	switch r.Patient.Insurance {
	case "", "gkv", "pkv", "self":
	default:
		return errs.Field("insurance", "unbekannte Versicherungsart")
	}
	if r.Details.Date != "" {
		if _, err := time.Parse(time.DateOnly, r.Details.Date); err != nil {
			return errs.Field("date", "kein gültiges Datum (JJJJ-MM-TT)")
		}
	}
	if r.Details.Time != "" {
		if _, err := time.Parse("15:04", r.Details.Time); err != nil {
			return errs.Field("time", "keine gültige Uhrzeit (HH:MM)")
		}
	}
	switch r.Details.Daypart {
	case "", "morning", "afternoon", "evening", "any":
	default:
		return errs.Field("daypart", "unbekannte Tageszeit")
	}
	if r.Status == Complete {
		if m := r.Missing(); len(m) > 0 {
			return errs.Field(string(m[0]), "fehlt in einem vollständigen Anliegen")
		}
	}
	return nil
}

// InsuranceLabel names a kind of insurance for the team.
func InsuranceLabel(kind string) string {
	switch kind {
	case "gkv":
		return "GKV"
	case "pkv":
		return "PKV"
	case "self":
		return "Selbstzahler"
	}
	return kind
}

// DaypartLabel names a daypart in German ("vormittags").
func DaypartLabel(d string) string {
	switch d {
	case "morning":
		return "vormittags"
	case "afternoon":
		return "nachmittags"
	case "evening":
		return "abends"
	case "any":
		return "nächstmöglich"
	}
	return d
}

// oneLine keeps free text to one line of at most n runes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > n {
		s = string([]rune(s)[:n-1]) + "…"
	}
	return s
}

// Handling states of a request in the practice's inbox.
const (
	HandlingNew      = "new"
	HandlingAssigned = "assigned"
	HandlingDone     = "done"
)

// Handling is how the practice team deals with a request.
type Handling struct {
	Status    string `json:"status"`
	Assignee  string `json:"assignee,omitempty"` // user id
	Escalated bool   `json:"escalated,omitempty"`
	Notes     []Note `json:"notes,omitempty"`
	// DoneAt is when the team marked the request done (for the handling time).
	DoneAt time.Time `json:"done_at,omitzero"`
}

// Note is a remark of the team on a request.
type Note struct {
	By   string    `json:"by"` // user id
	At   time.Time `json:"at"`
	Text string    `json:"text"`
	// ToPatient marks a reply the patient reads in the website chat.
	ToPatient bool `json:"to_patient,omitempty"`
}
