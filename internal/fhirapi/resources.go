package fhirapi

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/tresen/tresen/internal/appointment"
	"github.com/tresen/tresen/internal/person"
)

// Systems this API uses in codings and identifiers.
const (
	sysServiceType = "https://tresen.de/fhir/CodeSystem/appointment-type"
	sysKVNR        = "http://fhir.de/sid/gkv/kvid-10"
	profSchedule   = "https://gematik.de/fhir/isik/StructureDefinition/ISiKKalender"
	profSlot       = "https://gematik.de/fhir/isik/StructureDefinition/ISiKTerminblock"
	profAppt       = "https://gematik.de/fhir/isik/StructureDefinition/ISiKTermin"
	profService    = "https://gematik.de/fhir/isik/StructureDefinition/ISiKMedizinischeBehandlungseinheit"
)

// Meta, Coding and friends are the FHIR data types the resources use.
type (
	Meta struct {
		Profile []string `json:"profile,omitempty"`
	}
	Coding struct {
		System  string `json:"system,omitempty"`
		Code    string `json:"code,omitempty"`
		Display string `json:"display,omitempty"`
	}
	CodeableConcept struct {
		Coding []Coding `json:"coding,omitempty"`
		Text   string   `json:"text,omitempty"`
	}
	Reference struct {
		Reference  string      `json:"reference,omitempty"`
		Display    string      `json:"display,omitempty"`
		Identifier *Identifier `json:"identifier,omitempty"`
	}
	Identifier struct {
		System string `json:"system,omitempty"`
		Value  string `json:"value,omitempty"`
	}
	HumanName struct {
		Text   string   `json:"text,omitempty"`
		Family string   `json:"family,omitempty"`
		Given  []string `json:"given,omitempty"`
	}
	ContactPoint struct {
		System string `json:"system,omitempty"`
		Value  string `json:"value,omitempty"`
	}
)

// Schedule is a doctor's calendar.
type Schedule struct {
	ResourceType string            `json:"resourceType"`
	ID           string            `json:"id"`
	Meta         Meta              `json:"meta"`
	Active       bool              `json:"active"`
	ServiceType  []CodeableConcept `json:"serviceType,omitempty"`
	Actor        []Reference       `json:"actor"`
	Comment      string            `json:"comment,omitempty"`
}

// HealthcareService is an appointment type.
type HealthcareService struct {
	ResourceType string            `json:"resourceType"`
	ID           string            `json:"id"`
	Meta         Meta              `json:"meta"`
	Active       bool              `json:"active"`
	Name         string            `json:"name"`
	Type         []CodeableConcept `json:"type"`
	Comment      string            `json:"comment,omitempty"`
}

// Slot is a free or busy time of a schedule.
type Slot struct {
	ResourceType string            `json:"resourceType"`
	ID           string            `json:"id"`
	Meta         Meta              `json:"meta"`
	ServiceType  []CodeableConcept `json:"serviceType,omitempty"`
	Schedule     Reference         `json:"schedule"`
	Status       string            `json:"status"`
	Start        string            `json:"start"`
	End          string            `json:"end"`
}

// Appointment is a booked or cancelled appointment.
type Appointment struct {
	ResourceType string            `json:"resourceType"`
	ID           string            `json:"id,omitempty"`
	Meta         Meta              `json:"meta"`
	Contained    []Patient         `json:"contained,omitempty"`
	Status       string            `json:"status"`
	ServiceType  []CodeableConcept `json:"serviceType,omitempty"`
	Start        string            `json:"start"`
	End          string            `json:"end"`
	Slot         []Reference       `json:"slot,omitempty"`
	Comment      string            `json:"comment,omitempty"`
	Participant  []Participant     `json:"participant"`
}

// Participant of an appointment.
type Participant struct {
	Actor  Reference `json:"actor"`
	Status string    `json:"status"`
}

// Patient is a patient, stored or contained in an appointment.
type Patient struct {
	ResourceType string         `json:"resourceType"`
	ID           string         `json:"id"`
	Identifier   []Identifier   `json:"identifier,omitempty"`
	Name         []HumanName    `json:"name,omitempty"`
	BirthDate    string         `json:"birthDate,omitempty"`
	Telecom      []ContactPoint `json:"telecom,omitempty"`
}

// Bundle is a searchset.
type Bundle struct {
	ResourceType string  `json:"resourceType"`
	Type         string  `json:"type"`
	Total        int     `json:"total"`
	Entry        []Entry `json:"entry"`
}

// Entry of a Bundle.
type Entry struct {
	FullURL  string `json:"fullUrl"`
	Resource any    `json:"resource"`
}

func searchset(base string, resources []any, ids []string) Bundle {
	b := Bundle{ResourceType: "Bundle", Type: "searchset", Total: len(resources), Entry: []Entry{}}
	for i, r := range resources {
		b.Entry = append(b.Entry, Entry{FullURL: base + ids[i], Resource: r})
	}
	return b
}

func instant(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func serviceType(t appointment.Type) []CodeableConcept {
	return []CodeableConcept{{Coding: []Coding{{System: sysServiceType, Code: t.ID, Display: t.Name}}}}
}

func scheduleOf(s appointment.Schedule, r appointment.Resource) Schedule {
	out := Schedule{ResourceType: "Schedule", ID: r.ID, Meta: Meta{Profile: []string{profSchedule}}, Active: true,
		Actor: []Reference{{Reference: "Practitioner/" + r.ID, Display: r.Name}}}
	if r.Kind != appointment.Doctor {
		out.Actor = []Reference{{Display: r.Name}}
	}
	for _, t := range s.Types {
		if r.Kind == appointment.Doctor && (len(t.Doctors) == 0 || contains(t.Doctors, r.ID)) {
			out.ServiceType = append(out.ServiceType, serviceType(t)...)
		}
	}
	return out
}

func serviceOf(t appointment.Type) HealthcareService {
	return HealthcareService{ResourceType: "HealthcareService", ID: t.ID, Meta: Meta{Profile: []string{profService}}, Active: true,
		Name: t.Name, Type: serviceType(t), Comment: strconv.Itoa(t.Minutes) + " Minuten"}
}

// slotID encodes what a free slot is: its type, doctor and start.
func slotID(s appointment.Slot) string {
	return base64.RawURLEncoding.EncodeToString([]byte(s.Type + "|" + s.Doctor + "|" + strconv.FormatInt(s.Start.Unix(), 10)))
}

// parseSlotID decodes a slot id.
func parseSlotID(id string) (typ, doctor string, start time.Time, ok bool) {
	raw, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil {
		return "", "", time.Time{}, false
	}
	parts := strings.Split(string(raw), "|")
	if len(parts) != 3 {
		return "", "", time.Time{}, false
	}
	sec, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil {
		return "", "", time.Time{}, false
	}
	return parts[0], parts[1], time.Unix(sec, 0), true
}

func slotOf(s appointment.Slot, t appointment.Type, status string) Slot {
	return Slot{ResourceType: "Slot", ID: slotID(s), Meta: Meta{Profile: []string{profSlot}}, ServiceType: serviceType(t),
		Schedule: Reference{Reference: "Schedule/" + s.Doctor}, Status: status, Start: instant(s.Start), End: instant(s.End)}
}

func appointmentOf(sched appointment.Schedule, a appointment.Appointment) Appointment {
	out := Appointment{ResourceType: "Appointment", ID: a.ID, Meta: Meta{Profile: []string{profAppt}}, Status: a.Status,
		Start: instant(a.Start), End: instant(a.End), Comment: a.Note}
	if t, ok := sched.Type(a.Type); ok {
		out.ServiceType = serviceType(t)
	}
	p := Patient{ResourceType: "Patient", ID: "patient", BirthDate: a.Patient.BirthDate}
	if a.Patient.Name != "" {
		p.Name = []HumanName{{Text: a.Patient.Name}}
	}
	if a.Patient.KVNR != "" {
		p.Identifier = []Identifier{{System: sysKVNR, Value: a.Patient.KVNR}}
	}
	if a.Patient.Phone != "" {
		p.Telecom = []ContactPoint{{System: "phone", Value: a.Patient.Phone}}
	}
	patient := Reference{Reference: "#patient", Display: a.Patient.Name}
	if a.PersonID != "" {
		patient = Reference{Reference: "Patient/" + a.PersonID, Display: a.Patient.Name}
	} else {
		out.Contained = []Patient{p}
	}
	doc, _ := sched.Resource(a.Doctor)
	out.Participant = []Participant{
		{Actor: patient, Status: "accepted"},
		{Actor: Reference{Reference: "Practitioner/" + a.Doctor, Display: doc.Name}, Status: "accepted"},
	}
	for _, r := range a.Resources {
		res, _ := sched.Resource(r)
		out.Participant = append(out.Participant, Participant{Actor: Reference{Display: res.Name}, Status: "accepted"})
	}
	return out
}

func patientOf(p person.Person) Patient {
	out := Patient{ResourceType: "Patient", ID: p.ID, BirthDate: p.BirthDate, Name: []HumanName{{Text: p.Name}}}
	if p.KVNR != "" {
		out.Identifier = []Identifier{{System: sysKVNR, Value: p.KVNR}}
	}
	if p.Phone != "" {
		out.Telecom = []ContactPoint{{System: "phone", Value: p.Phone}}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
