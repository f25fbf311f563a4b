package store_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/person"
	"github.com/tresen/tresen/internal/retention"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
)

func TestFindPersons(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a, b := twoTenants(t, db)
		p, err := db.CreatePerson(ctx, a.ID, person.Person{Name: "Erika  Mustermann", BirthDate: "12.08.1964"})
		if err != nil {
			t.Fatal(err)
		}
		if p.BirthDate != "1964-08-12" {
			t.Errorf("birth date stored as %q, want 1964-08-12", p.BirthDate)
		}
		mustPerson(t, db, b.ID, "Erika Mustermann") // same person at another tenant
		for _, q := range [][2]string{{"Erika Mustermann", "1964-08-12"}, {"erika mustermann", "12.08.1964"}} {
			ids, err := db.FindPersons(ctx, a.ID, q[0], q[1])
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{p.ID}, ids); diff != "" {
				t.Errorf("FindPersons(%q, %q) (-want +got):\n%s", q[0], q[1], diff)
			}
		}
		if ids, _ := db.FindPersons(ctx, a.ID, "Erika Mustermann", "1964-08-13"); len(ids) != 0 {
			t.Errorf("other birth date found %v", ids)
		}
	})
}

func TestUpdateRecord(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a, _ := twoTenants(t, db)
		r, err := db.AddRecord(ctx, a.ID, store.Record{Kind: "transcript", Data: []byte(`{"turns":1}`)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.UpdateRecord(ctx, a.ID, r.ID, []byte(`{"turns":2}`)); err != nil {
			t.Fatal(err)
		}
		got, err := db.FindRecordByID(ctx, a.ID, r.ID)
		if err != nil || string(got.Data) != `{"turns":2}` || !got.CreatedAt.Equal(r.CreatedAt) {
			t.Errorf("after update: %s %v (created %v, was %v)", got.Data, err, got.CreatedAt, r.CreatedAt)
		}
		if err := db.UpdateRecord(ctx, a.ID, r.ID, []byte(`{`)); err == nil {
			t.Error("invalid JSON accepted")
		}
	})
}

func TestRecordLookupAndPeriod(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		clock := storetest.NewClock(time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC))
		db.Now = clock.Now
		a, b := twoTenants(t, db)
		kind := retention.Prescription
		id := "160.100.000.000.019.82"
		first, err := db.AddRecord(ctx, a.ID, store.Record{Kind: kind, Lookup: id, Data: []byte(`{"n":1}`)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Hour)
		if _, err := db.AddRecord(ctx, a.ID, store.Record{Kind: kind, Lookup: "160.100.000.000.023.70", Data: []byte(`{"n":2}`)}, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := db.AddRecord(ctx, b.ID, store.Record{Kind: kind, Lookup: id, Data: []byte(`{"n":3}`)}, nil); err != nil {
			t.Fatal(err)
		}
		got, err := db.ListRecords(ctx, a.ID, store.RecordFilter{Kind: &kind, Lookup: &id})
		if err != nil || len(got) != 1 || got[0].ID != first.ID {
			t.Fatalf("by Rezept-ID: %v %v", got, err)
		}
		other := retention.Request
		if got, _ := db.ListRecords(ctx, a.ID, store.RecordFilter{Kind: &other, Lookup: &id}); len(got) != 0 {
			t.Errorf("the key of a prescription found a request: %v", got)
		}
		if _, err := db.ListRecords(ctx, a.ID, store.RecordFilter{Lookup: &id}); err == nil {
			t.Error("a lookup without kind was accepted")
		}
		since, until := first.CreatedAt.Add(time.Minute), first.CreatedAt.Add(2*time.Hour)
		got, err = db.ListRecords(ctx, a.ID, store.RecordFilter{Kind: &kind, Since: &since, Until: &until})
		if err != nil || len(got) != 1 || string(got[0].Data) != `{"n":2}` {
			t.Errorf("period: %v %v", got, err)
		}
	})
}

// TestFindPersonsBornOn finds the persons of a birth date, also those stored before the
// birth-date index existed (indexed when the store opens).
func TestFindPersonsBornOn(t *testing.T) {
	for _, e := range storetest.Engines {
		t.Run(string(e), func(t *testing.T) {
			cfg := storetest.Config(t, e, storetest.Options{DataDir: t.TempDir()})
			db, err := store.Open(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			a, _ := twoTenants(t, db)
			anna, err := db.CreatePerson(ctx, a.ID, person.Person{Name: "Anna Müller", BirthDate: "12.03.1984"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.CreatePerson(ctx, a.ID, person.Person{Name: "Anna Müller", BirthDate: "1984-03-13"}); err != nil {
				t.Fatal(err)
			}
			old, err := db.CreatePerson(ctx, a.ID, person.Person{Name: "Erika Mustermann", BirthDate: "1984-03-12"})
			if err != nil {
				t.Fatal(err)
			}
			// As if stored before the index existed.
			if err := db.Update(ctx, store.System, func(tx *store.Tx) error {
				_, err := tx.ExecContext(ctx, `UPDATE persons SET birth_lookup = '' WHERE id = $1`, old.ID)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			db.Close()
			if db, err = store.Open(ctx, cfg); err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			got, err := db.FindPersonsBornOn(ctx, a.ID, "1984-03-12")
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, p := range got {
				ids = append(ids, p.ID)
			}
			if diff := cmp.Diff([]string{anna.ID, old.ID}, ids); diff != "" {
				t.Errorf("born on 12 March 1984 (-want +got):\n%s", diff)
			}
			if _, err := db.FindPersonsBornOn(ctx, a.ID, "gestern"); err == nil {
				t.Error("no birth date accepted")
			}
		})
	}
}

// TestClaimRecord: one node at a time holds a record for background work, until its
// claim runs out; another tenant cannot claim it at all.
func TestClaimRecord(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		clock := storetest.NewClock(time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC))
		db.Now = clock.Now
		a, b := twoTenants(t, db)
		r, err := db.AddRecord(ctx, a.ID, store.Record{Kind: retention.PrescriptionImage, Data: []byte(`{}`)}, []byte("page"))
		if err != nil {
			t.Fatal(err)
		}
		claim := func(tenantID string) bool {
			t.Helper()
			ok, err := db.ClaimRecord(ctx, tenantID, r.ID, clock.Now().Add(5*time.Minute))
			if err != nil && !errs.Is(err, errs.NotFound) {
				t.Fatal(err)
			}
			return ok
		}
		if !claim(a.ID) {
			t.Fatal("first claim refused")
		}
		if claim(a.ID) {
			t.Error("second claim granted while the first holds")
		}
		if claim(b.ID) {
			t.Error("another tenant claimed the record")
		}
		clock.Advance(5 * time.Minute)
		if !claim(a.ID) {
			t.Error("claim refused after the first ran out")
		}
	})
}
