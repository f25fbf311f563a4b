package assistant_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tresen/tresen/internal/assistant"
	"github.com/tresen/tresen/internal/berlin"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/holiday"
	"github.com/tresen/tresen/internal/request"
)

func TestHoursText(t *testing.T) {
	s := assistant.Settings{Hours: [7]string{time.Monday: "08:00-12:00, 15:00-18:00", time.Tuesday: "8-12, 15-18",
		time.Wednesday: "08:00-12:00", time.Thursday: "08:00-12:00,15:00-18:00", time.Friday: "08:00-12:30", time.Saturday: "09:00-11:00"}}
	want := "Montag, Dienstag und Donnerstag von 8 bis 12 Uhr und von 15 bis 18 Uhr, Mittwoch von 8 bis 12 Uhr, Freitag von 8 bis 12:30 Uhr, Samstag von 9 bis 11 Uhr."
	if got := s.HoursText(); got != want {
		t.Errorf("HoursText:\n got %q\nwant %q", got, want)
	}
	if got := (&assistant.Settings{}).HoursText(); got != "" {
		t.Errorf("no hours: %q", got)
	}
}

func TestOpen(t *testing.T) {
	s := assistant.Settings{Hours: [7]string{time.Monday: "08:00-12:00, 15:00-18:00", time.Thursday: "08:00-12:00"}}
	hb, _ := holiday.For("HB")
	open := s.Open(hb)
	at := func(day string, hour, minute int) time.Time {
		d, _ := time.ParseInLocation(time.DateOnly, day, berlin.Location)
		return d.Add(time.Duration(hour)*time.Hour + time.Duration(minute)*time.Minute)
	}
	for _, tc := range []struct {
		at   time.Time
		want bool
	}{
		{at("2026-11-23", 8, 0), true},    // Monday, opening
		{at("2026-11-23", 11, 59), true},  // before the break
		{at("2026-11-23", 12, 0), false},  // the break
		{at("2026-11-23", 17, 59), true},  // afternoon
		{at("2026-11-23", 18, 0), false},  // closed
		{at("2026-11-24", 9, 0), false},   // Tuesday: no hours
		{at("2026-12-24", 9, 0), true},    // Thursday, Christmas Eve: a working day
		{at("2026-12-21", 9, 0), true},    // Monday
		{at("2026-12-28", 9, 0), true},    // Monday
		{at("2027-01-01", 9, 0), false},   // Friday, New Year: no hours anyway
		{at("2026-10-01", 9, 0), true},    // Thursday
		{at("2027-05-06", 9, 0), false},   // Thursday, Ascension Day: a public holiday
		{at("2026-11-23", 7, 59), false},  // before opening
		{at("2026-11-26", 10, 30), true},  // Thursday
		{at("2026-11-26", 15, 30), false}, // Thursday afternoon: no hours
	} {
		if got := open(tc.at); got != tc.want {
			t.Errorf("open at %s: %v, want %v", tc.at.Format("Mon 2006-01-02 15:04"), got, tc.want)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		s     assistant.Settings
		field string
	}{
		{"bad hours", assistant.Settings{Hours: [7]string{time.Monday: "8 bis 12"}}, "hours.1"},
		{"reversed", assistant.Settings{Hours: [7]string{time.Friday: "12:00-08:00"}}, "hours.5"},
		{"overlap", assistant.Settings{Hours: [7]string{time.Tuesday: "08:00-12:00, 11:00-13:00"}}, "hours.2"},
		{"25 o'clock", assistant.Settings{Hours: [7]string{time.Tuesday: "08:00-25:00"}}, "hours.2"},
		{"long greeting", assistant.Settings{Greeting: strings.Repeat("Moin ", 200)}, "greeting"},
		{"markup", assistant.Settings{Closing: "<b>Tschüss</b>"}, "closing"},
		{"unknown FAQ", assistant.Settings{FAQ: map[string]string{"weather": "sonnig"}}, "faq.weather"},
		{"unknown type", assistant.Settings{Types: []request.Type{"pizza"}}, "types"},
		{"bad alert address", assistant.Settings{Alerts: []string{"team@praxis.example", "kein Mail"}}, "alerts"},
		{"named alert address", assistant.Settings{Alerts: []string{"Team <team@praxis.example>"}}, "alerts"},
		{"ring first nowhere", assistant.Settings{RingFirst: "die Anmeldung"}, "ring_first"},
		{"ring first bad SIP", assistant.Settings{RingFirst: "sip:anmeldung"}, "ring_first"},
		{"ring too short", assistant.Settings{RingFirst: "sip:anmeldung@praxis.example", RingSeconds: 2}, "ring_seconds"},
		{"ring too long", assistant.Settings{RingFirst: "sip:anmeldung@praxis.example", RingSeconds: 90}, "ring_seconds"},
	} {
		err := tc.s.Validate()
		var e *errs.Error
		if !errs.Is(err, errs.Invalid) || !errors.As(err, &e) || e.Field != tc.field {
			t.Errorf("%s: %v, want invalid %s", tc.name, err, tc.field)
		}
	}
	ok := assistant.Settings{Hours: [7]string{time.Monday: "08:00-12:00, 15:00-18:00"}, Types: []request.Type{request.AppointmentBook},
		Alerts: []string{"team@praxis-schneider.example"}}
	if err := ok.Validate(); err != nil {
		t.Errorf("valid settings: %v", err)
	}
}

// TestRingFirstNow: the practice's phone rings first only while the practice is open
// (not on a public holiday), for its seconds or 20 by default.
func TestRingFirstNow(t *testing.T) {
	s := assistant.Settings{Hours: [7]string{time.Monday: "08:00-12:00", time.Thursday: "08:00-12:00"}, RingFirst: "0421 1234500"}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if s.RingFirst != "+494211234500" {
		t.Errorf("RingFirst stored as %q, want E.164", s.RingFirst)
	}
	hb, _ := holiday.For("HB")
	at := func(day string, hour int) time.Time {
		d, _ := time.ParseInLocation(time.DateOnly, day, berlin.Location)
		return d.Add(time.Duration(hour) * time.Hour)
	}
	for _, tc := range []struct {
		at     time.Time
		target string
		wait   time.Duration
	}{
		{at("2026-11-23", 9), "+494211234500", 20 * time.Second}, // Monday morning: open
		{at("2026-11-23", 14), "", 0},                            // Monday afternoon: closed
		{at("2026-11-24", 9), "", 0},                             // Tuesday: no hours
		{at("2027-05-06", 9), "", 0},                             // Thursday, Ascension Day
	} {
		target, wait := s.RingFirstNow(hb, tc.at)
		if target != tc.target || wait != tc.wait {
			t.Errorf("%s: %q for %v, want %q for %v", tc.at.Format("Mon 2006-01-02 15:04"), target, wait, tc.target, tc.wait)
		}
	}
	s.RingSeconds = 12
	if _, wait := s.RingFirstNow(hb, at("2026-11-23", 9)); wait != 12*time.Second {
		t.Errorf("wait %v, want 12s", wait)
	}
	none := assistant.Settings{Hours: s.Hours}
	if target, _ := none.RingFirstNow(hb, at("2026-11-23", 9)); target != "" {
		t.Errorf("no phone to ring: %q", target)
	}
}
