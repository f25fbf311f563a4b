package demo_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/demo"
	"github.com/tresen/tresen/internal/rxcheck"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
	"github.com/tresen/tresen/internal/tenant"
)

// TestSeed: the demo's practice and pharmacy come with their logins, the practice's
// calendar and the pharmacy's Bundesland; a second start adds nothing and prints no
// password again.
func TestSeed(t *testing.T) {
	ctx := audit.WithActor(context.Background(), audit.Actor{UserID: "system", Source: "demo"})
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		var first bytes.Buffer
		if err := demo.Seed(ctx, db, &first); err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(first.String(), "Demo-Zugang"); n < 4 {
			t.Errorf("%d logins printed, want one per demo user:\n%s", n, first.String())
		}
		ph, err := db.FindTenantByCode(ctx, tenant.Pharmacy, demo.PharmacyTenant.Code)
		if err != nil {
			t.Fatal(err)
		}
		var set rxcheck.Settings
		if err := db.Setting(ctx, ph.ID, store.SettingRx, &set); err != nil || set.State != "HB" {
			t.Errorf("pharmacy's Rezeptprüfung settings %+v, %v; want Bremen", set, err)
		}
		pr, err := db.FindTenantByCode(ctx, tenant.Practice, demo.PracticeTenant.Code)
		if err != nil {
			t.Fatal(err)
		}
		if sched, err := db.Schedule(ctx, pr.ID); err != nil || sched.State != "HB" || len(sched.Resources) == 0 {
			t.Errorf("practice's calendar %+v, %v", sched, err)
		}
		users, err := db.ListUsers(ctx, ph.ID)
		if err != nil {
			t.Fatal(err)
		}

		var again bytes.Buffer
		if err := demo.Seed(ctx, db, &again); err != nil {
			t.Fatal(err)
		}
		if again.Len() != 0 {
			t.Errorf("the second start printed:\n%s", again.String())
		}
		tenants, err := db.ListTenants(ctx)
		if err != nil || len(tenants) != 2 {
			t.Errorf("tenants after two starts: %d, %v", len(tenants), err)
		}
		if after, err := db.ListUsers(ctx, ph.ID); err != nil || len(after) != len(users) {
			t.Errorf("pharmacy's users %d after the second start, %d before (%v)", len(after), len(users), err)
		}
	})
}
