package store_test

import (
	"testing"
	"time"

	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/retention"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
	"github.com/tresen/tresen/internal/user"
)

// TestSupportReports: a report shares its copy with support, who may read it (audited in
// the practice's log) until it is closed or expires; then the copy is gone.
func TestSupportReports(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		clock := storetest.NewClock(time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC))
		db.Now = clock.Now
		practice, _ := twoTenants(t, db)
		staff := mustUser(t, db, practice.ID, "praxis.team", user.Staff)
		support := mustUser(t, db, "", "support.anna", user.Support)
		rec, err := db.AddRecord(ctx, practice.ID, store.Record{Kind: retention.Request, Data: []byte(`{"type":"callback"}`)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		transcript, err := db.AddRecord(ctx, practice.ID, store.Record{Kind: retention.Transcript, Data: []byte(`{}`)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.CreateReport(ctx, practice.ID, transcript.ID, []byte(`{}`)); !errs.Is(err, errs.NotFound) {
			t.Errorf("report on a transcript: %v, want not found", err)
		}
		if _, err := db.CreateReport(ctx, practice.ID, rec.ID, []byte(`{kaputt`)); !errs.Is(err, errs.Invalid) {
			t.Errorf("report with broken data: %v", err)
		}
		data := `{"description":"Der Assistent hat den Termin doppelt genannt"}`
		first, err := db.CreateReport(ctx, practice.ID, rec.ID, []byte(data))
		if err != nil {
			t.Fatal(err)
		}
		second, err := db.CreateReport(ctx, practice.ID, rec.ID, []byte(`{"description":"noch einmal"}`))
		if err != nil {
			t.Fatal(err)
		}
		open, err := db.OpenReports(ctx)
		if err != nil || len(open) != 2 || open[0].ID != first.ID || open[0].Tenant.ID != practice.ID || open[0].Data != nil {
			t.Fatalf("open reports %+v, %v (want both, without data)", open, err)
		}

		if _, err := db.ReadReport(ctx, first.ID, staff); !errs.Is(err, errs.Forbidden) {
			t.Errorf("staff reads: %v", err)
		}
		got, err := db.ReadReport(ctx, first.ID, support)
		if err != nil || string(got.Data) != data {
			t.Fatalf("support reads: %s, %v", got.Data, err)
		}
		if e := lastAudit(t, db, practice.ID, audit.SupportAccess); e.ObjectID != first.ID || e.ObjectType != "support_report" {
			t.Errorf("reading not audited: %+v", e)
		}
		if e := lastAudit(t, db, practice.ID, audit.SupportReport); e.ObjectID != second.ID {
			t.Errorf("report not audited: %+v", e)
		}

		// Closing deletes the copy.
		if err := db.CloseReport(ctx, practice.ID, first.ID); err != nil {
			t.Fatal(err)
		}
		if err := db.CloseReport(ctx, practice.ID, first.ID); !errs.Is(err, errs.NotFound) {
			t.Errorf("closed twice: %v", err)
		}
		if _, err := db.ReadReport(ctx, first.ID, support); !errs.Is(err, errs.NotFound) {
			t.Errorf("support reads a closed report: %v", err)
		}
		list, err := db.ListReports(ctx, practice.ID)
		if err != nil || len(list) != 2 || list[1].ID != first.ID || list[1].Data != nil || list[1].ClosedAt.IsZero() || list[0].Data == nil {
			t.Fatalf("reports %+v, %v", list, err)
		}

		// After 14 days the other one expires: unreadable, and the purge deletes its copy.
		clock.Advance(store.ReportAccess)
		if _, err := db.ReadReport(ctx, second.ID, support); !errs.Is(err, errs.NotFound) {
			t.Errorf("support reads an expired report: %v", err)
		}
		if open, _ := db.OpenReports(ctx); len(open) != 0 {
			t.Errorf("expired reports still open: %+v", open)
		}
		if _, err := db.Purge(ctx); err != nil {
			t.Fatal(err)
		}
		if list, _ := db.ListReports(ctx, practice.ID); len(list) != 2 || list[0].Data != nil {
			t.Errorf("the purge left the expired copy: %+v", list)
		}
	})
}
