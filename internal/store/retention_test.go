package store_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/appointment"
	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/retention"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
	"github.com/tresen/tresen/internal/tenant"
)

// TestPurge90Days walks a clock through the retention periods: a pharmacy's prescriptions
// and their images stay exactly 90 days, files included; a practice's requests stay 30 days
// by default or what it chose, and call audio not at all.
func TestPurge90Days(t *testing.T) {
	storetestRunWithDir(t, func(t *testing.T, db *store.DB, dir string) {
		day0 := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
		clock := storetest.NewClock(day0)
		db.Now = clock.Now
		practice, pharmacy := twoTenants(t, db)
		other := mustTenant(t, db, tenant.Practice, "721234500", "Praxis Dr. Max Mustermann")

		if err := db.SetRetention(ctx, pharmacy.ID, retention.Prescription, 120); !errs.Is(err, errs.Invalid) {
			t.Errorf("SetRetention(prescription, 120): %v, want Invalid", err)
		}
		if err := db.SetRetention(ctx, other.ID, retention.Request, 7); err != nil {
			t.Fatal(err)
		}

		add := func(tenantID string, kind retention.Kind, file []byte) store.Record {
			t.Helper()
			r, err := db.AddRecord(ctx, tenantID, store.Record{Kind: kind, Data: []byte(`{"synthetisch":true}`)}, file)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		rx := []store.Record{
			add(pharmacy.ID, retention.Prescription, nil),
			add(pharmacy.ID, retention.Prescription, nil),
			add(pharmacy.ID, retention.PrescriptionImage, []byte("Scan Muster 16, Seite 1")),
			add(pharmacy.ID, retention.PrescriptionImage, []byte("Scan Muster 16, Seite 2")),
		}
		request := add(practice.ID, retention.Request, nil)
		audio := add(practice.ID, retention.CallAudio, []byte("RIFF synthetische Aufnahme"))
		otherRequest := add(other.ID, retention.Request, nil)

		// exists reports which of the records are still there; for those with a file,
		// whether the file is still on disk must agree.
		exists := func(tenantID string, recs ...store.Record) []bool {
			t.Helper()
			var out []bool
			for _, r := range recs {
				_, err := db.FindRecordByID(ctx, tenantID, r.ID)
				if err != nil && !errs.Is(err, errs.NotFound) {
					t.Fatal(err)
				}
				out = append(out, err == nil)
				if r.HasFile {
					_, ferr := os.Stat(filepath.Join(dir, "blobs", tenantID, r.ID))
					if onDisk := ferr == nil; onDisk != (err == nil) {
						t.Errorf("record %s (%s) exists %v, but its file on disk %v", r.ID, r.Kind, err == nil, onDisk)
					}
				}
			}
			return out
		}
		type state struct {
			Pharmacy     []bool
			Request      bool
			Audio        bool
			OtherRequest bool
		}
		steps := []struct {
			at   time.Duration
			want state
		}{
			{time.Hour, state{[]bool{true, true, true, true}, true, false, true}},           // audio: 0 days
			{6 * 24 * time.Hour, state{[]bool{true, true, true, true}, true, false, true}},  // 7-day request at day 6
			{7 * 24 * time.Hour, state{[]bool{true, true, true, true}, true, false, false}}, // … at day 7
			{29 * 24 * time.Hour, state{[]bool{true, true, true, true}, true, false, false}},
			{30 * 24 * time.Hour, state{[]bool{true, true, true, true}, false, false, false}},
			{89 * 24 * time.Hour, state{[]bool{true, true, true, true}, false, false, false}},
			{90*24*time.Hour - time.Second, state{[]bool{true, true, true, true}, false, false, false}},
			{90 * 24 * time.Hour, state{[]bool{false, false, false, false}, false, false, false}}, // exactly 90 days
		}
		for _, s := range steps {
			clock.T = day0.Add(s.at)
			res, err := db.Purge(ctx)
			if err != nil {
				t.Fatalf("Purge at %v: %v", s.at, err)
			}
			got := state{
				Pharmacy:     exists(pharmacy.ID, rx...),
				Request:      exists(practice.ID, request)[0],
				Audio:        exists(practice.ID, audio)[0],
				OtherRequest: exists(other.ID, otherRequest)[0],
			}
			if diff := cmp.Diff(s.want, got); diff != "" {
				t.Errorf("after purge at day %.2f (-want +got):\n%s", s.at.Hours()/24, diff)
			}
			if s.at == 90*24*time.Hour {
				want := map[retention.Kind]int{retention.Prescription: 2, retention.PrescriptionImage: 2}
				if diff := cmp.Diff(want, res.Records[pharmacy.ID]); diff != "" || res.Files != 2 {
					t.Errorf("PurgeResult at day 90: files %d, records (-want +got):\n%s", res.Files, diff)
				}
			}
		}

		// The blob directories are empty and nothing is left in the trash.
		if left := blobFiles(t, dir, pharmacy.ID); len(left) != 0 {
			t.Errorf("prescription images left on disk: %v", left)
		}
		if left := blobFiles(t, dir, practice.ID); len(left) != 0 {
			t.Errorf("call audio left on disk: %v", left)
		}
		if rows := rawRows(t, db, `SELECT blob_key FROM blob_trash`); len(rows) != 0 {
			t.Errorf("blob trash: %v", rows)
		}
		// Every purge left an audit entry with its counts in each tenant's chain.
		rxZero, pracZero := "prescription=0 prescription_image=0 files=0", "request=0 transcript=0 call_audio=0 files=0"
		for tenantID, want := range map[string][]string{
			pharmacy.ID: {rxZero, rxZero, rxZero, rxZero, rxZero, rxZero, rxZero, "prescription=2 prescription_image=2 files=2"},
			practice.ID: {"request=0 transcript=0 call_audio=1 files=1", pracZero, pracZero, pracZero, "request=1 transcript=0 call_audio=0 files=0", pracZero, pracZero, pracZero},
			other.ID:    {pracZero, pracZero, "request=1 transcript=0 call_audio=0 files=0", pracZero, pracZero, pracZero, pracZero, pracZero},
		} {
			purge := audit.Purge
			entries, err := db.ListAudit(ctx, tenantID, store.AuditFilter{Action: &purge})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range slices.Backward(entries) {
				got = append(got, e.Detail)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("purge audit entries of %s, oldest first (-want +got):\n%s", tenantID, diff)
			}
		}
		if v, err := db.VerifyAudit(ctx); err != nil || !v.OK() {
			t.Errorf("VerifyAudit: %v, %v", v.Problems, err)
		}
	})
}

// TestPersonExportErase exports everything stored about a person (Art. 15 DSGVO) and then
// erases it (Art. 17): person, records and files are gone, another person of the tenant is
// untouched, and both steps are audited with their counts.
func TestPersonExportErase(t *testing.T) {
	storetestRunWithDir(t, func(t *testing.T, db *store.DB, dir string) {
		clock := storetest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
		db.Now = clock.Now
		a, _ := twoTenants(t, db)
		erika := mustPerson(t, db, a.ID, "Erika Mustermann")
		maxPerson := mustPerson(t, db, a.ID, "Max Mustermann")

		add := func(personID string, kind retention.Kind, data string, file []byte) store.Record {
			t.Helper()
			clock.Advance(time.Minute)
			r, err := db.AddRecord(ctx, a.ID, store.Record{PersonID: personID, Kind: kind, Data: []byte(data)}, file)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		erikaRecords := []store.Record{
			add(erika.ID, retention.Request, `{"anliegen":"Folgerezept","text":"Erika Mustermann bittet um ein Folgerezept"}`, nil),
			add(erika.ID, retention.Transcript, `{"zeilen":["Guten Tag, Mustermann hier"]}`, []byte("Gesprächsverlauf als Datei")),
			add(erika.ID, retention.Request, `{"anliegen":"Rückruf"}`, nil),
		}
		erikaAppt, err := db.BookAppointment(ctx, a.ID, appointment.Appointment{Type: "kontrolle", Doctor: "schneider",
			Start: clock.Now().Add(48 * time.Hour), End: clock.Now().Add(48*time.Hour + 15*time.Minute), PersonID: erika.ID,
			Patient: appointment.Patient{Name: "Erika Mustermann"}, Source: "staff"})
		if err != nil {
			t.Fatal(err)
		}
		maxRecord := add(maxPerson.ID, retention.Request, `{"anliegen":"Termin"}`, []byte("Anhang von Max"))
		unowned := add("", retention.Request, `{"anliegen":"anonym"}`, nil)
		maxBefore := exportOf(t, db, a.ID, maxPerson.ID)

		x, err := db.ExportPerson(ctx, a.ID, erika.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(erika, x.Person); diff != "" {
			t.Errorf("exported person (-stored +exported):\n%s", diff)
		}
		if diff := cmp.Diff(erikaRecords, x.Records); diff != "" {
			t.Errorf("exported records (-stored +exported):\n%s", diff)
		}
		wantFiles := map[string][]byte{erikaRecords[1].ID: []byte("Gesprächsverlauf als Datei")}
		if diff := cmp.Diff(wantFiles, x.Files); diff != "" {
			t.Errorf("exported files (-stored +exported):\n%s", diff)
		}
		if len(x.Appointments) != 1 || x.Appointments[0].ID != erikaAppt.ID || x.Appointments[0].Patient.Name != "Erika Mustermann" {
			t.Errorf("exported appointments: %+v", x.Appointments)
		}
		if e := lastAudit(t, db, a.ID, audit.Export); e.ObjectID != erika.ID || e.Detail != "records=3 appointments=1" {
			t.Errorf("export audit entry: %+v", e)
		}

		erikaFile := filepath.Join(dir, "blobs", a.ID, erikaRecords[1].ID)
		if _, err := os.Stat(erikaFile); err != nil {
			t.Fatalf("file before erasure: %v", err)
		}
		if err := db.ErasePerson(ctx, a.ID, erika.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.FindPersonByID(ctx, a.ID, erika.ID); !errs.Is(err, errs.NotFound) {
			t.Errorf("FindPersonByID after erasure: %v, want NotFound", err)
		}
		if _, err := db.ExportPerson(ctx, a.ID, erika.ID); !errs.Is(err, errs.NotFound) {
			t.Errorf("ExportPerson after erasure: %v, want NotFound", err)
		}
		for _, r := range erikaRecords {
			if _, err := db.FindRecordByID(ctx, a.ID, r.ID); !errs.Is(err, errs.NotFound) {
				t.Errorf("record %s after erasure: %v, want NotFound", r.Kind, err)
			}
		}
		if recs, err := db.ListRecords(ctx, a.ID, store.RecordFilter{PersonID: &erika.ID}); err != nil || len(recs) != 0 {
			t.Errorf("records of the erased person: %d, %v", len(recs), err)
		}
		if _, err := os.Stat(erikaFile); !os.IsNotExist(err) {
			t.Errorf("file after erasure: %v, want it gone", err)
		}
		if ids, err := db.FindPersons(ctx, a.ID, "Erika Mustermann", erika.BirthDate); err != nil || len(ids) != 0 {
			t.Errorf("FindPersons after erasure: %v, %v", ids, err)
		}
		if rows := rawRows(t, db, `SELECT * FROM persons WHERE id = $1`, erika.ID); len(rows) != 0 {
			t.Errorf("person row left: %d", len(rows))
		}
		if rows := rawRows(t, db, `SELECT blob_key FROM blob_trash`); len(rows) != 0 {
			t.Errorf("blob trash: %v", rows)
		}
		if _, err := db.FindAppointmentByID(ctx, a.ID, erikaAppt.ID); !errs.Is(err, errs.NotFound) {
			t.Errorf("appointment after erasure: %v, want NotFound", err)
		}
		if e := lastAudit(t, db, a.ID, audit.Erase); e.ObjectID != erika.ID || e.Detail != "records=3 appointments=1 files=1" {
			t.Errorf("erase audit entry: %+v", e)
		}

		// The other person and the record of no one are untouched.
		if diff := cmp.Diff(maxBefore, exportOf(t, db, a.ID, maxPerson.ID)); diff != "" {
			t.Errorf("the other person after erasure (-before +after):\n%s", diff)
		}
		if _, err := os.Stat(filepath.Join(dir, "blobs", a.ID, maxRecord.ID)); err != nil {
			t.Errorf("the other person's file: %v", err)
		}
		if _, err := db.FindRecordByID(ctx, a.ID, unowned.ID); err != nil {
			t.Errorf("record of no person: %v", err)
		}
		if v, err := db.VerifyAudit(ctx); err != nil || !v.OK() {
			t.Errorf("VerifyAudit: %v, %v", v.Problems, err)
		}
	})
}

func exportOf(t *testing.T, db *store.DB, tenantID, personID string) store.PersonExport {
	t.Helper()
	x, err := db.ExportPerson(ctx, tenantID, personID)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// lastAudit returns the newest entry of an action in a tenant's chain.
func lastAudit(t *testing.T, db *store.DB, tenantID string, action audit.Action) audit.Entry {
	t.Helper()
	entries, err := db.ListAudit(ctx, tenantID, store.AuditFilter{Action: &action, Limit: 1})
	if err != nil || len(entries) == 0 {
		t.Fatalf("no %s entry: %v", action, err)
	}
	return entries[0]
}
