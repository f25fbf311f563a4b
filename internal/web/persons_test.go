package web

import (
	"archive/zip"
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/person"
	"github.com/tresen/tresen/internal/retention"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
)

// TestPersonRights: an owner finds a patient by name and birth date, downloads what is
// stored about her and erases it, each step audited.
func TestPersonRights(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		_, ts := newTestServer(t, db)
		f := newFixture(t, db)
		p, err := db.CreatePerson(testCtx, f.a.ID, person.Person{Name: "Erika Musterpatientin", BirthDate: "1964-08-12", KVNR: "K030182229"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.AddRecord(testCtx, f.a.ID, store.Record{PersonID: p.ID, Kind: retention.Request, Data: []byte(`{"anliegen":"Folgerezept"}`)}, []byte("Sprachnachricht")); err != nil {
			t.Fatal(err)
		}

		b := newLoggedIn(t, ts.URL, "a.inhaber")
		_, body := b.get("/admin/persons?name=" + url.QueryEscape("erika musterpatientin") + "&birth_date=12.08.1964")
		if !strings.Contains(body, "Erika Musterpatientin") || !strings.Contains(body, "/admin/persons/"+p.ID+"/export") {
			t.Fatalf("search did not find the patient: %s", errorOf(body))
		}
		_, body = b.get("/admin/persons?name=Erika+Musterpatientin&birth_date=31.02.1964")
		if !strings.Contains(errorOf(body), "birth_date: kein gültiges Datum") {
			t.Errorf("bad birth date: %q", errorOf(body))
		}

		resp, body := b.get("/admin/persons/" + p.ID + "/export")
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/zip" {
			t.Fatalf("export: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		z, err := zip.NewReader(bytes.NewReader([]byte(body)), int64(len(body)))
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]string{}
		for _, zf := range z.File {
			rc, _ := zf.Open()
			c, _ := io.ReadAll(rc)
			rc.Close()
			names[zf.Name] = string(c)
		}
		if !strings.Contains(names["Zusammenfassung.txt"], "Versichertennummer: K030182229") || len(names) != 3 {
			t.Errorf("export archive: %v", names)
		}

		resp, body = b.postCSRF("/admin/persons/"+p.ID+"/erase", url.Values{})
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Bitte bestätigen") {
			t.Errorf("erase without confirmation: %d %q", resp.StatusCode, errorOf(body))
		}
		resp, body = b.postCSRF("/admin/persons/"+p.ID+"/erase", url.Values{"confirm": {"yes"}})
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "wurden gelöscht") {
			t.Fatalf("erase: %d %s", resp.StatusCode, errorOf(body))
		}
		if _, err := db.FindPersonByID(testCtx, f.a.ID, p.ID); !errs.Is(err, errs.NotFound) {
			t.Errorf("person after erasure: %v", err)
		}
		entries, _ := db.ListAudit(testCtx, f.a.ID, store.AuditFilter{})
		seen := map[audit.Action]bool{}
		for _, e := range entries {
			if e.ObjectID == p.ID && e.Actor == f.aOwner.ID {
				seen[e.Action] = true
			}
		}
		for _, a := range []audit.Action{audit.Read, audit.Export, audit.Erase} {
			if !seen[a] {
				t.Errorf("no %s entry by the owner for the person", a)
			}
		}
	})
}
