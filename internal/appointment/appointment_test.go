package appointment_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/appointment"
	"github.com/tresen/tresen/internal/berlin"
	"github.com/tresen/tresen/internal/errs"
)

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, berlin.Location)
	if err != nil {
		panic(err)
	}
	return t
}

// practice is a small Bremen practice: two doctors, an ECG room, a lunch break, acute
// capacity on Monday mornings.
func practice() *appointment.Schedule {
	weekdays := []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}
	s := &appointment.Schedule{
		State: "HB",
		Resources: []appointment.Resource{
			{ID: "schneider", Kind: appointment.Doctor, Name: "Frau Dr. Schneider", Surname: "Schneider"},
			{ID: "weber", Kind: appointment.Doctor, Name: "Herrn Weber", Surname: "Weber"},
			{ID: "ekg", Kind: appointment.Room, Name: "EKG-Raum"},
		},
		Types: []appointment.Type{
			{ID: "kontrolle", Name: "Kontrolle", Minutes: 15, Assistant: true},
			{ID: "vorsorge", Name: "Vorsorge", Minutes: 30, Assistant: true, NewPatients: true, LeadHours: 24, Doctors: []string{"schneider"}},
			{ID: "ekg", Name: "Belastungs-EKG", Minutes: 20, Assistant: true, Doctors: []string{"weber"}, Resources: []string{"ekg"}},
			{ID: "akut", Name: "Akutsprechstunde", Minutes: 10, Assistant: true, Acute: true, NewPatients: true},
			{ID: "op", Name: "Kleiner Eingriff", Minutes: 45},
			{ID: "privat", Name: "Reiseberatung", Minutes: 20, Assistant: true, Insurances: []string{"pkv", "self"}},
		},
		Closures: []appointment.Closure{{Resource: "schneider", From: "2026-11-25", To: "2026-11-27", Reason: "Fortbildung"}},
	}
	for _, wd := range weekdays {
		h := appointment.Hours{Resource: "schneider", Weekday: wd, Open: []appointment.Interval{{"08:00", "12:00"}, {"15:00", "18:00"}}}
		if wd == time.Monday {
			h.Acute = []appointment.Interval{{"08:00", "09:00"}}
		}
		s.Hours = append(s.Hours, h, appointment.Hours{Resource: "ekg", Weekday: wd, Open: []appointment.Interval{{"08:00", "18:00"}}})
	}
	for _, wd := range []time.Weekday{time.Monday, time.Wednesday} {
		s.Hours = append(s.Hours, appointment.Hours{Resource: "weber", Weekday: wd, Open: []appointment.Interval{{"09:00", "13:00"}}})
	}
	return s
}

// monday is the reference time: Monday, 23 November 2026, 7:00 in Bremen.
var monday = at("2026-11-23 07:00")

type found struct{ Doctor, Start string }

func starts(slots []appointment.Slot) []found {
	var out []found
	for _, s := range slots {
		out = append(out, found{s.Doctor, s.Start.In(berlin.Location).Format("2006-01-02 15:04")})
	}
	return out
}

func TestSearch(t *testing.T) {
	booked := []appointment.Busy{
		{Resource: "ekg", Start: at("2026-11-23 09:00"), End: at("2026-11-23 10:00")},
	}
	tests := []struct {
		name string
		q    appointment.Query
		busy []appointment.Busy
		want []found
	}{
		{"acute hour kept free, one offer per doctor and hour",
			appointment.Query{Type: "kontrolle"}, nil,
			[]found{{"schneider", "2026-11-23 09:00"}, {"weber", "2026-11-23 09:00"}, {"schneider", "2026-11-23 10:00"}}},
		{"the team may use the acute hour",
			appointment.Query{Type: "kontrolle", Doctor: "schneider", Staff: true, Limit: 1}, nil,
			[]found{{"schneider", "2026-11-23 08:00"}}},
		{"an urgent acute request may too",
			appointment.Query{Type: "akut", Doctor: "schneider", Urgent: true, Limit: 1}, nil,
			[]found{{"schneider", "2026-11-23 08:00"}}},
		{"booked times are skipped",
			appointment.Query{Type: "kontrolle", Doctor: "schneider", Limit: 1},
			[]appointment.Busy{{Resource: "schneider", Start: at("2026-11-23 09:00"), End: at("2026-11-23 09:20")}},
			[]found{{"schneider", "2026-11-23 09:30"}}},
		{"lead time of 24 hours",
			appointment.Query{Type: "vorsorge", Limit: 1}, nil,
			[]found{{"schneider", "2026-11-24 08:00"}}},
		{"nearest to the wished time, before the lunch break",
			appointment.Query{Type: "kontrolle", Doctor: "schneider", Day: "2026-11-23", Time: "12:30", Limit: 2}, nil,
			[]found{{"schneider", "2026-11-23 11:45"}, {"schneider", "2026-11-23 10:45"}}},
		{"afternoon",
			appointment.Query{Type: "kontrolle", Doctor: "schneider", Daypart: "afternoon", Limit: 1}, nil,
			[]found{{"schneider", "2026-11-23 15:00"}}},
		{"the room must be free too",
			appointment.Query{Type: "ekg", Limit: 1}, booked,
			[]found{{"weber", "2026-11-23 10:00"}}},
		{"the doctor's training days",
			appointment.Query{Type: "kontrolle", Doctor: "schneider", Day: "2026-11-26", Limit: 1}, nil,
			[]found{{"schneider", "2026-11-23 09:00"}}},
		{"Christmas in Bremen",
			appointment.Query{Type: "kontrolle", Doctor: "schneider", Day: "2026-12-25", Time: "10:00", Days: 60, Limit: 1}, nil,
			[]found{{"schneider", "2026-11-23 10:00"}}},
	}
	s := practice()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Search(tc.q, tc.busy, monday)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, starts(got)); diff != "" {
				t.Errorf("slots (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSearchRestrictions(t *testing.T) {
	s := practice()
	tests := []struct {
		name string
		q    appointment.Query
		kind errs.Kind
		msg  string
	}{
		{"team only", appointment.Query{Type: "op"}, errs.Forbidden, "nur das Praxisteam"},
		{"known patients only", appointment.Query{Type: "kontrolle", NewPatient: true}, errs.Forbidden, "Patientinnen und Patienten der Praxis"},
		{"private only", appointment.Query{Type: "privat", Insurance: "gkv"}, errs.Forbidden, "Versicherung"},
		{"unknown type", appointment.Query{Type: "yoga"}, errs.Invalid, "unbekannte Terminart"},
		{"doctor does not offer it", appointment.Query{Type: "vorsorge", Doctor: "weber"}, errs.Invalid, "bietet"},
		{"bad day", appointment.Query{Type: "kontrolle", Day: "26.11.2026"}, errs.Invalid, "JJJJ-MM-TT"},
		{"bad time", appointment.Query{Type: "kontrolle", Time: "25:00"}, errs.Invalid, "HH:MM"},
	}
	for _, tc := range tests {
		_, err := s.Search(tc.q, nil, monday)
		if errs.KindOf(err) != tc.kind || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v, want %v with %q", tc.name, err, tc.kind, tc.msg)
		}
	}
	// The team books what the assistant may not.
	if got, err := s.Search(appointment.Query{Type: "op", Staff: true, Limit: 1}, nil, monday); err != nil || len(got) != 1 {
		t.Errorf("team booking: %v %v", got, err)
	}
	if got, err := s.Search(appointment.Query{Type: "privat", Insurance: "pkv", Limit: 1}, nil, monday); err != nil || len(got) != 1 {
		t.Errorf("private patient: %v %v", got, err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(s *appointment.Schedule)
		field string
	}{
		{"overlapping hours", func(s *appointment.Schedule) {
			s.Hours[0].Open = []appointment.Interval{{"08:00", "12:00"}, {"11:00", "13:00"}}
		}, "hours.open"},
		{"end before start", func(s *appointment.Schedule) { s.Hours[0].Open = []appointment.Interval{{"12:00", "08:00"}} }, "hours.open"},
		{"acute outside hours", func(s *appointment.Schedule) { s.Hours[0].Acute = []appointment.Interval{{"07:00", "08:00"}} }, "hours.acute"},
		{"negative duration", func(s *appointment.Schedule) { s.Types[0].Minutes = -15 }, "types.minutes"},
		{"unknown doctor", func(s *appointment.Schedule) { s.Types[1].Doctors = []string{"house"} }, "types.doctors"},
		{"a doctor as a room", func(s *appointment.Schedule) { s.Types[2].Resources = []string{"weber"} }, "types.resources"},
		{"hours of nobody", func(s *appointment.Schedule) { s.Hours[0].Resource = "niemand" }, "hours.resource"},
		{"weekday twice", func(s *appointment.Schedule) { s.Hours = append(s.Hours, s.Hours[0]) }, "hours"},
		{"closure backwards", func(s *appointment.Schedule) { s.Closures[0].To = "2026-11-01" }, "closures"},
		{"duplicate resource", func(s *appointment.Schedule) { s.Resources = append(s.Resources, s.Resources[0]) }, "resources.id"},
		{"doctor without surname", func(s *appointment.Schedule) { s.Resources[0].Surname = "" }, "resources.surname"},
		{"unknown state", func(s *appointment.Schedule) { s.State = "XX" }, "state"},
		{"unknown insurance", func(s *appointment.Schedule) { s.Types[5].Insurances = []string{"bg"} }, "types.insurances"},
	}
	for _, tc := range tests {
		s := practice()
		tc.edit(s)
		err := s.Validate()
		if !errs.Is(err, errs.Invalid) || !strings.HasPrefix(err.Error(), tc.field+":") {
			t.Errorf("%s: %v, want an error on %s", tc.name, err, tc.field)
		}
	}
}

func TestSpoken(t *testing.T) {
	got := appointment.Spoken(at("2026-11-26 09:30"), "Frau Dr. Schneider")
	if want := "Donnerstag, 26. November, um 9:30 Uhr bei Frau Dr. Schneider"; got != want {
		t.Errorf("Spoken = %q, want %q", got, want)
	}
}
