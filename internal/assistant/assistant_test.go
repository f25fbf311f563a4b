package assistant_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tresen/tresen/internal/assistant"
	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/demo"
	"github.com/tresen/tresen/internal/dialogue"
	"github.com/tresen/tresen/internal/request"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
	"github.com/tresen/tresen/internal/tenant"
)

var ctx = audit.WithActor(context.Background(), audit.Actor{UserID: "test", Source: "test"})

// TestEngineFromSettings: the assistant speaks with what its practice told it, names the
// doctors of its calendar, and a practice that told it nothing gets no other practice's
// address.
func TestEngineFromSettings(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		told, err := db.CreateTenant(ctx, tenant.Tenant{Kind: tenant.Practice, Code: "031234567", Name: "Hausarztpraxis am Deich"})
		if err != nil {
			t.Fatal(err)
		}
		silent, err := db.CreateTenant(ctx, tenant.Tenant{Kind: tenant.Practice, Code: "031234568", Name: "Praxis Neu"})
		if err != nil {
			t.Fatal(err)
		}
		set := assistant.Settings{Hours: [7]string{time.Monday: "08:00-12:00"}, Address: "Deichstraße 1, 26506 Norden",
			Greeting: "Moin, hier ist die Praxis am Deich.", Types: []request.Type{request.AppointmentBook}}
		if err := db.SetSetting(ctx, told.ID, store.SettingAssistant, set); err != nil {
			t.Fatal(err)
		}
		if err := db.SetSchedule(ctx, told.ID, demo.PracticeSchedule()); err != nil {
			t.Fatal(err)
		}
		engine := assistant.Engine(db)
		e, err := engine(ctx, told.ID)
		if err != nil {
			t.Fatal(err)
		}
		p := e.Practice
		if p.Name != told.Name || p.Address != set.Address || p.OpeningHours != "Montag von 8 bis 12 Uhr." || p.Takes(request.PrescriptionRefill) ||
			!slices.Equal(p.Doctors, demo.PracticeDoctors) || e.Slots == nil {
			t.Errorf("practice %+v, slots %v", p, e.Slots)
		}
		if r := e.Start(&dialogue.Conversation{ID: "c"}); !strings.HasPrefix(r.Text, set.Greeting) {
			t.Errorf("greeting %q", r.Text)
		}

		e, err = engine(ctx, silent.ID)
		if err != nil {
			t.Fatal(err)
		}
		if p := e.Practice; p.Name != silent.Name || p.Address != "" || p.OpeningHours != "" || len(p.FAQ) != 0 || e.Slots != nil {
			t.Errorf("a practice without settings: %+v", p)
		}
	})
}

// TestPracticeByNumber: a call reaches the practice whose settings list the number, in
// whatever form it is dialled; other numbers reach the demo practice when there is one.
func TestPracticeByNumber(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		deich, err := db.CreateTenant(ctx, tenant.Tenant{Kind: tenant.Practice, Code: "031234599", Name: "Hausarztpraxis am Deich"})
		if err != nil {
			t.Fatal(err)
		}
		demoP, err := db.CreateTenant(ctx, demo.PracticeTenant)
		if err != nil {
			t.Fatal(err)
		}
		set := assistant.Settings{Numbers: []string{"04931 123456"}}
		if err := set.Validate(); err != nil {
			t.Fatal(err)
		}
		if err := db.SetSetting(ctx, deich.ID, store.SettingAssistant, set); err != nil {
			t.Fatal(err)
		}
		route := assistant.PracticeByNumber(db, demo.PracticeTenant.Code)
		for called, want := range map[string]string{"+494931123456": deich.ID, "00494931123456": deich.ID, "+4930999999": demoP.ID, "": demoP.ID} {
			if got, err := route(ctx, called); err != nil || got != want {
				t.Errorf("%q: %q, %v; want %q", called, got, err, want)
			}
		}
		if _, err := assistant.PracticeByNumber(db, "")(ctx, "+4930999999"); err == nil {
			t.Error("an unknown number without a demo practice reached a practice")
		}
	})
}

// TestRingFirst: a practice's calls ring at its own phone while it is open, and nowhere
// after hours or for a practice without one.
func TestRingFirst(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		p, err := db.CreateTenant(ctx, tenant.Tenant{Kind: tenant.Practice, Code: "031234598", Name: "Praxis am Wall"})
		if err != nil {
			t.Fatal(err)
		}
		other, err := db.CreateTenant(ctx, tenant.Tenant{Kind: tenant.Practice, Code: "031234597", Name: "Praxis am Markt"})
		if err != nil {
			t.Fatal(err)
		}
		set := assistant.Settings{Hours: [7]string{time.Monday: "08:00-12:00"}, RingFirst: "sip:anmeldung@praxis-am-wall.example", RingSeconds: 15}
		if err := set.Validate(); err != nil {
			t.Fatal(err)
		}
		if err := db.SetSetting(ctx, p.ID, store.SettingAssistant, set); err != nil {
			t.Fatal(err)
		}
		monday := time.Date(2026, 11, 23, 9, 0, 0, 0, time.FixedZone("CET", 3600))
		ring := assistant.RingFirst(db)
		for _, tc := range []struct {
			tenantID string
			now      time.Time
			target   string
			wait     time.Duration
		}{
			{p.ID, monday, "sip:anmeldung@praxis-am-wall.example", 15 * time.Second},
			{p.ID, monday.Add(4 * time.Hour), "", 0},
			{other.ID, monday, "", 0},
		} {
			db.Now = func() time.Time { return tc.now }
			target, wait, err := ring(ctx, tc.tenantID)
			if err != nil || target != tc.target || wait != tc.wait {
				t.Errorf("%s at %s: %q %v %v; want %q %v", tc.tenantID, tc.now.Format(time.TimeOnly), target, wait, err, tc.target, tc.wait)
			}
		}
	})
}
