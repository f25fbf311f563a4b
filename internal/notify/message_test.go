package notify_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/appointment"
	"github.com/tresen/tresen/internal/notify"
)

var practice = notify.Practice{
	Name:    "Hausarztpraxis Dr. Erika Schneider",
	Address: "Hauptstraße 1, 28195 Bremen",
	Phone:   "0421 123456",
	Email:   "praxis@example.de",
}

func booked() notify.Appointment {
	return notify.Appointment{
		ID:     "0193b1c2-7d3e-7000-8000-000000000001",
		Start:  start,
		End:    start.Add(15 * time.Minute),
		Doctor: "Frau Dr. Schneider",
		Status: appointment.Booked,
	}
}

func TestConfirmation(t *testing.T) {
	m := notify.Confirmation(practice, booked())
	want := notify.Message{
		Subject: "Terminbestätigung: Donnerstag, 26.11.2026, 9:30 Uhr",
		Text: `Guten Tag,

Ihr Termin am Donnerstag, 26. November 2026, um 9:30 Uhr bei Frau Dr. Schneider ist bestätigt.

Den Termin finden Sie auch im Anhang, zum Eintragen in Ihren Kalender.

Wenn Sie den Termin nicht wahrnehmen können, sagen Sie ihn bitte rechtzeitig ab, telefonisch unter 0421 123456 oder per E-Mail an praxis@example.de. Dann können wir ihn an jemand anderen vergeben.

Mit freundlichen Grüßen
Ihr Praxisteam
Hausarztpraxis Dr. Erika Schneider
Hauptstraße 1, 28195 Bremen
Telefon 0421 123456
E-Mail praxis@example.de

Diese Nachricht wurde automatisch erstellt.
`,
		SMS: "Hausarztpraxis Dr. Erika Schneider: Ihr Termin am Do. 26.11.2026 um 9:30 Uhr bei Frau Dr. Schneider ist bestätigt. Absage bitte unter 0421 123456.",
	}
	ics := m.ICS
	m.ICS = nil
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("Confirmation (-want +got):\n%s", diff)
	}

	cal := mustParseICS(t, ics)
	e := cal.Subs[0]
	got := map[string]string{
		"METHOD":      cal.Get("METHOD"),
		"UID":         e.Text("UID"),
		"DTSTART":     e.Get("DTSTART"),
		"DTEND":       e.Get("DTEND"),
		"SEQUENCE":    e.Get("SEQUENCE"),
		"STATUS":      e.Get("STATUS"),
		"SUMMARY":     e.Text("SUMMARY"),
		"LOCATION":    e.Text("LOCATION"),
		"DESCRIPTION": e.Text("DESCRIPTION"),
		"ORGANIZER":   e.Get("ORGANIZER"),
	}
	wantICS := map[string]string{
		"METHOD":      "REQUEST",
		"UID":         "0193b1c2-7d3e-7000-8000-000000000001",
		"DTSTART":     "20261126T083000Z",
		"DTEND":       "20261126T084500Z",
		"SEQUENCE":    "0",
		"STATUS":      "CONFIRMED",
		"SUMMARY":     "Termin: Hausarztpraxis Dr. Erika Schneider (Frau Dr. Schneider)",
		"LOCATION":    "Hausarztpraxis Dr. Erika Schneider, Hauptstraße 1, 28195 Bremen",
		"DESCRIPTION": "Absagen oder verschieben: telefonisch unter 0421 123456 oder per E-Mail an praxis@example.de.",
		"ORGANIZER":   "mailto:praxis@example.de",
	}
	if diff := cmp.Diff(wantICS, got); diff != "" {
		t.Errorf("invitation (-want +got):\n%s", diff)
	}
	if !e.Has("DTSTAMP") {
		t.Error("no DTSTAMP")
	}
}

func TestChange(t *testing.T) {
	before := booked()
	before.Sequence = 3
	after := before
	after.Start = time.Date(2027, 7, 1, 7, 0, 0, 0, time.UTC) // summer time: 9:00 in Berlin
	after.End = after.Start.Add(30 * time.Minute)
	after.Doctor = "Herr Dr. Wagner"
	m := notify.Change(practice, before, after)

	if want := "Terminänderung: jetzt Donnerstag, 01.07.2027, 9:00 Uhr"; m.Subject != want {
		t.Errorf("Subject = %q, want %q", m.Subject, want)
	}
	if want := "Ihr Termin am Donnerstag, 26. November 2026, um 9:30 Uhr wurde verlegt. Ihr neuer Termin ist am Donnerstag, 1. Juli 2027, um 9:00 Uhr bei Herr Dr. Wagner."; !strings.Contains(m.Text, want) {
		t.Errorf("Text lacks %q:\n%s", want, m.Text)
	}
	if want := "Hausarztpraxis Dr. Erika Schneider: Ihr Termin wurde verlegt auf Do. 01.07.2027 um 9:00 Uhr bei Herr Dr. Wagner. Absage bitte unter 0421 123456."; m.SMS != want {
		t.Errorf("SMS = %q, want %q", m.SMS, want)
	}
	cal := mustParseICS(t, m.ICS)
	e := cal.Subs[0]
	got := []string{cal.Get("METHOD"), e.Text("UID"), e.Get("SEQUENCE"), e.Get("DTSTART"), e.Get("DTEND"), e.Get("STATUS")}
	want := []string{"REQUEST", before.ID, "4", "20270701T070000Z", "20270701T073000Z", "CONFIRMED"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("METHOD, UID, SEQUENCE, DTSTART, DTEND, STATUS (-want +got):\n%s", diff)
	}
}

func TestCancellation(t *testing.T) {
	a := booked()
	a.Sequence = 1
	m := notify.Cancellation(practice, a)
	if want := "Terminabsage: Donnerstag, 26.11.2026, 9:30 Uhr"; m.Subject != want {
		t.Errorf("Subject = %q, want %q", m.Subject, want)
	}
	for _, want := range []string{
		"Ihr Termin am Donnerstag, 26. November 2026, um 9:30 Uhr bei Frau Dr. Schneider wurde abgesagt.",
		"Für einen neuen Termin melden Sie sich gern telefonisch unter 0421 123456 oder per E-Mail an praxis@example.de.",
	} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("Text lacks %q:\n%s", want, m.Text)
		}
	}
	cal := mustParseICS(t, m.ICS)
	e := cal.Subs[0]
	got := []string{cal.Get("METHOD"), e.Text("UID"), e.Get("SEQUENCE"), e.Get("STATUS")}
	if diff := cmp.Diff([]string{"CANCEL", a.ID, "1", "CANCELLED"}, got); diff != "" {
		t.Errorf("METHOD, UID, SEQUENCE, STATUS (-want +got):\n%s", diff)
	}
}

func TestReminder(t *testing.T) {
	m := notify.Reminder(practice, booked())
	if m.ICS != nil {
		t.Errorf("a reminder carries an invitation")
	}
	if want := "Guten Tag,\n\nwir erinnern Sie an Ihren Termin am Donnerstag, 26. November 2026, um 9:30 Uhr bei Frau Dr. Schneider.\n\n"; !strings.HasPrefix(m.Text, want) {
		t.Errorf("Text does not start with %q:\n%s", want, m.Text)
	}
	if want := "Hausarztpraxis Dr. Erika Schneider: Erinnerung an Ihren Termin am Do. 26.11.2026 um 9:30 Uhr bei Frau Dr. Schneider. Absage bitte unter 0421 123456."; m.SMS != want {
		t.Errorf("SMS = %q, want %q", m.SMS, want)
	}
}

// TestSparsePractice: a practice without phone or e-mail, an appointment without a
// doctor — no dangling words.
func TestSparsePractice(t *testing.T) {
	a := booked()
	a.Doctor = ""
	m := notify.Confirmation(notify.Practice{Name: "Praxis am Markt"}, a)
	for _, bad := range []string{" bei ", "unter", "E-Mail", "Telefon", ", ."} {
		if strings.Contains(m.Text, bad) || strings.Contains(m.SMS, bad) {
			t.Errorf("%q in\n%s\n%s", bad, m.Text, m.SMS)
		}
	}
	if want := "Praxis am Markt: Ihr Termin am Do. 26.11.2026 um 9:30 Uhr ist bestätigt."; m.SMS != want {
		t.Errorf("SMS = %q, want %q", m.SMS, want)
	}
	e := mustParseICS(t, m.ICS).Subs[0]
	if e.Has("ORGANIZER") || e.Has("DESCRIPTION") {
		t.Errorf("ORGANIZER or DESCRIPTION without a way to reach the practice")
	}
}

// TestAppointmentViewHasNoHealthData guards the promise of the package: patient messages
// are built from a view that cannot hold the reason for the visit. Adding a field here
// needs a look at what it may reveal.
func TestAppointmentViewHasNoHealthData(t *testing.T) {
	var fields []string
	for f := range reflect.TypeFor[notify.Appointment]().Fields() {
		fields = append(fields, f.Name)
	}
	if diff := cmp.Diff([]string{"ID", "Start", "End", "Doctor", "Status", "Sequence"}, fields); diff != "" {
		t.Errorf("Appointment fields (-want +got):\n%s", diff)
	}
}
