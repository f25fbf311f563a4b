package notify_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/appointment"
	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/berlin"
	"github.com/tresen/tresen/internal/demo"
	"github.com/tresen/tresen/internal/notify"
	"github.com/tresen/tresen/internal/notify/notifytest"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
	"github.com/tresen/tresen/internal/tenant"
)

// TestNotices sends a patient's message through the practice's stored settings, only on
// the channel they agreed to, and never with the reason for the visit.
func TestNotices(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := audit.WithActor(context.Background(), audit.Actor{UserID: "test", Source: "test"})
		pr, err := db.CreateTenant(ctx, tenant.Tenant{Kind: tenant.Practice, Code: "031234567", Name: "Hausarztpraxis Dr. Erika Schneider"})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.SetSchedule(ctx, pr.ID, demo.PracticeSchedule()); err != nil {
			t.Fatal(err)
		}
		n := &notify.Notices{Store: db, Now: func() time.Time { return time.Date(2026, 11, 23, 9, 0, 0, 0, berlin.Location) }}
		start := time.Date(2026, 11, 24, 10, 0, 0, 0, berlin.Location)
		a := appointment.Appointment{ID: "a1", Type: "sprechstunde", Doctor: "weber", Start: start, End: start.Add(15 * time.Minute), Status: appointment.Booked,
			Patient: appointment.Patient{Name: "Erika Mustermann", Phone: "+4915123456789", Notify: appointment.NotifySMS}, Note: "Rückenschmerzen"}

		// Nothing set up: no SMS, no e-mail, and a message is refused with the reason.
		if ok, err := n.CanSMS(ctx, pr.ID); ok || err != nil {
			t.Errorf("CanSMS before any settings: %v, %v", ok, err)
		}
		if ok, err := n.CanEmail(ctx, pr.ID); ok || err != nil {
			t.Errorf("CanEmail before any settings: %v, %v", ok, err)
		}
		if err := n.Send(ctx, pr.ID, notify.Confirmation, a); !errors.Is(err, notify.ErrNotSetUp) {
			t.Errorf("Send before any settings: %v", err)
		}
		// E-mail only: still no SMS.
		if err := db.SetSetting(ctx, pr.ID, store.SettingNotify, notify.Settings{Practice: notify.Practice{Name: pr.Name},
			SMTP: notify.SMTPSettings{Addr: "mail.example.de:587", From: "praxis@example.de", StartTLS: true}}); err != nil {
			t.Fatal(err)
		}
		if ok, err := n.CanSMS(ctx, pr.ID); ok || err != nil {
			t.Errorf("CanSMS with e-mail only: %v, %v", ok, err)
		}
		if ok, err := n.CanEmail(ctx, pr.ID); !ok || err != nil {
			t.Errorf("CanEmail with e-mail: %v, %v", ok, err)
		}

		gw := notifytest.StartGateway(t)
		if err := db.SetSetting(ctx, pr.ID, store.SettingNotify, gw.Settings(notify.Practice{Name: pr.Name, Phone: "0421 123456"})); err != nil {
			t.Fatal(err)
		}
		if ok, err := n.CanSMS(ctx, pr.ID); !ok || err != nil {
			t.Errorf("CanSMS with a gateway: %v, %v", ok, err)
		}
		if ok, err := n.CanEmail(ctx, pr.ID); ok || err != nil {
			t.Errorf("CanEmail with a gateway only: %v, %v", ok, err)
		}
		withoutConsent := a
		withoutConsent.Patient.Notify = ""
		if err := n.Send(ctx, pr.ID, notify.Confirmation, withoutConsent); err != nil {
			t.Errorf("Send without consent: %v", err)
		}
		if err := n.Send(ctx, pr.ID, notify.Confirmation, a); err != nil {
			t.Fatal(err)
		}
		want := []notifytest.SMS{{To: "+4915123456789",
			Text: "Hausarztpraxis Dr. Erika Schneider: Ihr Termin am Di. 24.11.2026 um 10:00 Uhr bei Dr. Weber ist bestätigt. Absage bitte unter 0421 123456."}}
		got := gw.Messages()
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("messages (-want +got):\n%s", diff)
		}
		for _, m := range got {
			if strings.Contains(m.Text, "Rücken") {
				t.Errorf("the SMS names the reason for the visit: %q", m.Text)
			}
		}
	})
}
