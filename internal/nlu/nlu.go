// Package nlu understands one German utterance of a patient, spoken (a speech-to-text
// transcript) or typed: what they want (the intent) and the data they gave (the slots).
// It is deterministic, works offline and does no I/O; the dialogue engine builds on it.
package nlu

import (
	"strings"
	"time"
	"unicode/utf8"
)

// Intent is what the patient wants.
type Intent string

const (
	AppointmentBook       Intent = "appointment_book"
	AppointmentCancel     Intent = "appointment_cancel"
	AppointmentReschedule Intent = "appointment_reschedule"
	PrescriptionRefill    Intent = "prescription_refill" // Folgerezept
	Referral              Intent = "referral"            // Überweisung
	SickNote              Intent = "sick_note"           // Arbeitsunfähigkeitsbescheinigung (AU)
	TestResults           Intent = "test_results"        // Befund, Laborwerte
	Callback              Intent = "callback"
	Message               Intent = "message"
	OpeningHours          Intent = "opening_hours"
	PracticeInfo          Intent = "practice_info"
	Emergency             Intent = "emergency"
	Human                 Intent = "human"
	Other                 Intent = "other"
)

// Intents lists every intent, for validation and reports.
var Intents = []Intent{AppointmentBook, AppointmentCancel, AppointmentReschedule, PrescriptionRefill, Referral,
	SickNote, TestResults, Callback, Message, OpeningHours, PracticeInfo, Emergency, Human, Other}

// Slots are the data stated in an utterance; a field is empty when it was not stated.
type Slots struct {
	Name       string `json:"name,omitempty"`       // "Anna Müller"
	BirthDate  string `json:"birth_date,omitempty"` // "1984-03-12"
	Phone      string `json:"phone,omitempty"`      // E.164: "+491711234567"
	Insurance  string `json:"insurance,omitempty"`  // "gkv", "pkv" or "self"
	KVNR       string `json:"kvnr,omitempty"`       // "K030182229", check digit verified
	Date       string `json:"date,omitempty"`       // the requested or affected day, "2026-11-24"
	Time       string `json:"time,omitempty"`       // "09:30"
	Daypart    string `json:"daypart,omitempty"`    // "morning", "afternoon" or "evening"
	Medication string `json:"medication,omitempty"` // "Ramipril 5 mg"
	Doctor     string `json:"doctor,omitempty"`     // the doctor's surname
}

// Urgency grades what the patient describes.
type Urgency string

const (
	Routine Urgency = ""
	// Urgent is acute but not life-threatening: outside opening hours the patient belongs to
	// the Bereitschaftsdienst (116117).
	Urgent Urgency = "urgent"
	// LifeThreatening belongs to the emergency services (112), at once.
	LifeThreatening Urgency = "life_threatening"
)

// Result is what was understood of one utterance.
type Result struct {
	Intent  Intent  `json:"intent"`
	Slots   Slots   `json:"slots"`
	Urgency Urgency `json:"-"`
	// Suicidal is set when the patient speaks of ending their life: besides 112 the
	// Telefonseelsorge (0800 111 0 111) is named.
	Suicidal bool `json:"-"`
	// Truncated is set when the utterance was longer than MaxInput and only its beginning
	// was read.
	Truncated bool `json:"-"`
}

// MaxInput is the longest utterance read, in bytes; longer input is cut (at a rune
// boundary) and marked Truncated. A patient's turn is far shorter.
const MaxInput = 4000

// Understander understands utterances for one practice: its doctors make the doctor slot
// tolerant of misspellings. The zero value knows no doctors.
type Understander struct {
	Doctors []string // surnames, as the practice writes them ("Schneider", "Özdemir")
}

// Understand reads one utterance; now resolves relative dates ("morgen", "nächsten
// Dienstag") in its location.
func (u *Understander) Understand(text string, now time.Time) Result {
	var r Result
	if len(text) > MaxInput {
		cut := MaxInput
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text, r.Truncated = text[:cut], true
	}
	text = strings.ToValidUTF8(text, " ")
	t := analyse(text)
	r.Slots = u.slots(t, now)
	r.Urgency, r.Suicidal = triage(t)
	if r.Urgency == LifeThreatening {
		r.Intent = Emergency
	} else {
		r.Intent = classify(t, r.Slots)
	}
	return r
}
