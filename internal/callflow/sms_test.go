package callflow_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tresen/tresen/internal/appointment"
	"github.com/tresen/tresen/internal/assistant"
	"github.com/tresen/tresen/internal/berlin"
	"github.com/tresen/tresen/internal/callflow"
	"github.com/tresen/tresen/internal/demo"
	"github.com/tresen/tresen/internal/notify"
	"github.com/tresen/tresen/internal/notify/notifytest"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
)

// bookingCall is a caller who books Tuesday 10:00 with Dr. Schneider.
var bookingCall = []string{
	"Ich hätte gern einen Termin bei Doktor Schneider am Dienstag um zehn",
	"Erika Mustermann, geboren am 12.03.1984",
	"gesetzlich",
	"wegen Rückenschmerzen",
	"ja",
	"der erste",
}

// withPractice runs calls through the practice's assistant as the server builds it
// (assistant.Reception): the demo calendar and, when gw is set, its SMS gateway, set up as
// the call reaches the practice.
func withPractice(t *testing.T, db *store.DB, gw *notifytest.Gateway) func(*callflow.Flow) {
	return func(f *callflow.Flow) {
		practice := f.Practice
		f.Practice = func(ctx context.Context, called string) (string, error) {
			id, err := practice(ctx, called)
			if err != nil {
				return "", err
			}
			// This runs on the call's goroutine: errors end the call, and the test fails
			// on what the caller then hears.
			if err := db.SetSchedule(ctx, id, demo.PracticeSchedule()); err != nil {
				t.Error(err)
				return "", err
			}
			if gw != nil {
				if err := db.SetSetting(ctx, id, store.SettingNotify, gw.Settings(notify.Practice{Name: "Hausarztpraxis Dr. Erika Schneider", Phone: "030 1234567"})); err != nil {
					t.Error(err)
					return "", err
				}
			}
			return id, nil
		}
		f.Reception = assistant.Reception(db)
	}
}

// TestCallConfirmsBySMS: a caller from a mobile number books by phone and agrees to a
// confirmation by SMS: the consent is on the appointment and the confirmation, without
// the reason for the visit, reaches the practice's SMS gateway for the caller's number.
func TestCallConfirmsBySMS(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		now := time.Date(2026, 11, 23, 7, 30, 0, 0, berlin.Location) // Monday morning
		db.Now = func() time.Time { return now }
		gw := notifytest.StartGateway(t)
		h := newHarnessWith(t, db, "+4915123456789", append(bookingCall, "ja", "nein danke, tschüss"), false, withPractice(t, db, gw))
		h.hears("Hausarztpraxis Dr. Erika Schneider")
		for _, want := range []string{"Namen", "gesetzlich oder privat", "Worum geht es", "Stimmt das?", "Welcher Termin"} {
			h.says()
			h.hears(want)
		}
		h.says()
		h.hears("Möchten Sie eine Bestätigung und eine Erinnerung per SMS an die Nummer, von der Sie anrufen?")
		h.says()
		h.hears("Bestätigung kommt gleich per SMS")
		h.says()
		h.hears("Auf Wiederhören")
		h.wait()

		list, err := db.ListAppointments(ctx, h.p.ID, now, now.AddDate(0, 0, 7))
		if err != nil || len(list) != 1 {
			t.Fatalf("appointments: %+v, %v", list, err)
		}
		if p := list[0].Patient; p.Notify != appointment.NotifySMS || p.Phone != "+4915123456789" || list[0].Source != "assistant" {
			t.Errorf("appointment: %+v", list[0])
		}
		sent := gw.Messages()
		if len(sent) != 1 || sent[0].To != "+4915123456789" || !strings.Contains(sent[0].Text, "Di. 24.11.2026 um 10:00 Uhr") ||
			strings.Contains(sent[0].Text, "Rücken") {
			t.Errorf("SMS: %+v", sent)
		}
		reqs := h.requests()
		if len(reqs) != 1 || !strings.Contains(reqs[0].Details.Note, "per SMS gewünscht") {
			t.Errorf("requests: %+v", reqs)
		}
	})
}

// TestCallWithoutSMSGateway: a practice without an SMS gateway never offers one; the
// call goes on as before.
func TestCallWithoutSMSGateway(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		now := time.Date(2026, 11, 23, 7, 30, 0, 0, berlin.Location)
		db.Now = func() time.Time { return now }
		h := newHarnessWith(t, db, "+4915123456789", append(bookingCall, "nein danke, tschüss"), false, withPractice(t, db, nil))
		h.hears("Hausarztpraxis Dr. Erika Schneider")
		for _, want := range []string{"Namen", "gesetzlich oder privat", "Worum geht es", "Stimmt das?", "Welcher Termin"} {
			h.says()
			h.hears(want)
		}
		h.says()
		said := h.hears("Ihr Termin ist eingetragen")
		if strings.Contains(said, "SMS") || !strings.Contains(said, "Kann ich sonst noch etwas für Sie tun?") {
			t.Errorf("after the booking: %q", said)
		}
		h.says()
		h.hears("Auf Wiederhören")
		h.wait()
		list, err := db.ListAppointments(ctx, h.p.ID, now, now.AddDate(0, 0, 7))
		if err != nil || len(list) != 1 || list[0].Patient.Notify != "" {
			t.Errorf("appointments: %+v, %v", list, err)
		}
	})
}
