package calendar_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tresen/tresen/internal/appointment"
	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/berlin"
	"github.com/tresen/tresen/internal/calendar"
	"github.com/tresen/tresen/internal/demo"
	"github.com/tresen/tresen/internal/dialogue"
	"github.com/tresen/tresen/internal/nlu"
	"github.com/tresen/tresen/internal/request"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
	"github.com/tresen/tresen/internal/tenant"
)

var ctx = audit.WithActor(context.Background(), audit.Actor{UserID: "assistant", Source: "test"})

// TestAssistantBooks holds a phone conversation with the demo practice's assistant that
// books a real appointment into the store; a second caller who wants the same time gets
// another one.
func TestAssistantBooks(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		pr, err := db.CreateTenant(ctx, tenant.Tenant{Kind: tenant.Practice, Code: "031234567", Name: "Hausarztpraxis Dr. Erika Schneider"})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.SetSchedule(ctx, pr.ID, demo.PracticeSchedule()); err != nil {
			t.Fatal(err)
		}
		now := time.Date(2026, 11, 23, 7, 30, 0, 0, berlin.Location) // Monday morning
		engine := func() *dialogue.Engine {
			p := demo.PracticeInfo()
			return &dialogue.Engine{NLU: &nlu.Understander{Doctors: p.Doctors}, Practice: p,
				Slots: &calendar.Slots{Store: db, TenantID: pr.ID}, Now: func() time.Time { return now }}
		}
		call := func(name, birth string) (*dialogue.Conversation, string) {
			t.Helper()
			e := engine()
			c := &dialogue.Conversation{ID: name, Channel: request.Phone}
			e.Start(c)
			var last dialogue.Reply
			for _, say := range []string{
				"Ich hätte gern einen Termin bei Doktor Schneider am Dienstag um zehn",
				name + ", geboren am " + birth,
				"gesetzlich",
				"wegen Rückenschmerzen",
				"ja",
			} {
				last = e.Handle(ctx, c, say)
			}
			if !strings.Contains(last.Text, "Ich kann Ihnen anbieten") {
				t.Fatalf("%s: no offer:\n%s", name, last.Text)
			}
			r := e.Handle(ctx, c, "der erste")
			return c, r.Text
		}

		c1, reply := call("Erika Mustermann", "12.03.1984")
		if !strings.Contains(reply, "Ihr Termin ist eingetragen: Dienstag, 24. November, um 10 Uhr bei Doktor Schneider") {
			t.Fatalf("first caller:\n%s", reply)
		}
		c2, reply := call("Max Mustermann", "01.02.1990")
		if !strings.Contains(reply, "Ihr Termin ist eingetragen") || strings.Contains(reply, "um 10 Uhr") {
			t.Fatalf("second caller got the same time or none:\n%s", reply)
		}
		list, err := db.ListAppointments(ctx, pr.ID, now, now.AddDate(0, 0, 7))
		if err != nil || len(list) != 2 {
			t.Fatalf("appointments: %d %v", len(list), err)
		}
		a := list[1] // Erika's at 10:00; Max got the nearest free time, 9:45
		if list[0].Patient.Name != "Max Mustermann" || !list[0].Start.Equal(time.Date(2026, 11, 24, 9, 45, 0, 0, berlin.Location)) {
			t.Errorf("second caller: %+v", list[0])
		}
		if a.Doctor != "schneider" || a.Type != "sprechstunde" || a.Patient.Name != "Erika Mustermann" || a.Patient.BirthDate != "1984-03-12" ||
			a.Source != "assistant" || !a.Start.Equal(time.Date(2026, 11, 24, 10, 0, 0, 0, berlin.Location)) || a.Status != appointment.Booked {
			t.Errorf("booked: %+v", a)
		}
		for _, c := range []*dialogue.Conversation{c1, c2} {
			if r := c.Requests[0]; r.Details.SlotID == "" || r.Status != request.Complete {
				t.Errorf("request: %+v", r)
			}
		}
	})
}

// TestFindWithoutSchedule leaves a wish for the team when the practice keeps no calendar.
func TestFindWithoutSchedule(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		pr, err := db.CreateTenant(ctx, tenant.Tenant{Kind: tenant.Practice, Code: "031234567", Name: "Praxis"})
		if err != nil {
			t.Fatal(err)
		}
		s := &calendar.Slots{Store: db, TenantID: pr.ID}
		if _, err := s.Find(ctx, request.Request{Type: request.AppointmentBook}, time.Now()); err == nil {
			t.Error("found slots without a schedule")
		}
	})
}
