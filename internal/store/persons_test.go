package store_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/person"
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
