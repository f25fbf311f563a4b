package web

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tresen/tresen/internal/retention"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
	"github.com/tresen/tresen/internal/tenant"
	"github.com/tresen/tresen/internal/user"
)

const fixtures = "../../../shared/fixtures/erezept/kbv-1.4_dav-2026-07-01"

// upload posts files as the upload form does (multipart, with the CSRF token).
func (b *browser) upload(path string, files map[string][]byte) (*http.Response, string) {
	b.tb.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("csrf", b.csrf)
	for name, data := range files {
		part, err := w.CreateFormFile("files", name)
		if err != nil {
			b.tb.Fatal(err)
		}
		part.Write(data)
	}
	w.Close()
	req, err := http.NewRequest(http.MethodPost, b.base+path, &body)
	if err != nil {
		b.tb.Fatal(err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	return b.do(req)
}

func fixtureFiles(tb testing.TB, names ...string) map[string][]byte {
	tb.Helper()
	out := map[string][]byte{}
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(fixtures, n))
		if err != nil {
			tb.Fatal(err)
		}
		out[n] = data
	}
	return out
}

var reRxLink = regexp.MustCompile(`href="/rx/([0-9a-f-]{36})"`)

// TestRxWorkflow uploads a pharmacy's E-Rezept files, finds the checked prescriptions
// with their traffic lights, decides on a finding, and exports the period.
var reExportLink = regexp.MustCompile(`href="/rx/export/csv[^"]*"`)

func TestRxWorkflow(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		_, ts := newTestServer(t, db)
		f := newFixture(t, db)
		b := newLoggedIn(t, ts.URL, "b.team")
		b.get("/rx")
		period := "?from=2026-01-01&to=2030-12-31"
		files := fixtureFiles(t, "PZN_Nr33_VerordnungArzt.xml", "PZN_Nr31_VerordnungArzt.xml", "PZN_Nr31_eAbgabedaten.xml", "PZN_Nr1_TA7_Rechnung_Bundle.xml")
		files["kaputt.xml"] = []byte("<Bundle")
		resp, body := b.upload("/rx/upload"+period, files)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "2 Rezept(e) geprüft.") {
			t.Fatalf("upload: status %d, notice missing; error %q", resp.StatusCode, errorOf(body))
		}
		for _, want := range []string{"kaputt.xml", "XML Zeile 1", "PZN_Nr1_TA7_Rechnung_Bundle.xml", "160.065.873.704.859.46", "160.115.468.135.035.50", `class="light red"`} {
			if !strings.Contains(body, want) {
				t.Errorf("upload result lacks %q", want)
			}
		}
		// Nr31's MedicationDispense comes later, on its own: it joins its prescription.
		later := fixtureFiles(t, "PZN_Nr31_MedicationDispense.xml")
		if resp, body := b.upload("/rx/upload"+period, later); resp.StatusCode != http.StatusOK || !strings.Contains(body, "1 Rezept(e) geprüft.") {
			t.Fatalf("second upload: %d %q", resp.StatusCode, errorOf(body))
		}
		recs, err := db.ListRecords(testCtx, f.b.ID, store.RecordFilter{Kind: ptr(retention.Prescription)})
		if err != nil || len(recs) != 2 {
			t.Fatalf("stored %d prescriptions (%v), want 2: a later file joins its prescription", len(recs), err)
		}

		_, body = b.get("/rx" + period)
		// The export links carry the filter, as a query and not as one escaped word.
		if !strings.Contains(body, `href="/rx/export/csv?from=2026-01-01&amp;light=&amp;to=2030-12-31"`) {
			t.Errorf("the export link lost the filter:\n%s", reExportLink.FindString(body))
		}
		links := reRxLink.FindAllStringSubmatch(body, -1)
		if len(links) != 2 {
			t.Fatalf("list shows %d prescriptions", len(links))
		}
		var nr33ID string
		for _, l := range links {
			_, detail := b.get("/rx/" + l[1])
			if strings.Contains(detail, "160.065.873.704.859.46") {
				nr33ID = l[1]
			}
		}
		_, detail := b.get("/rx/" + nr33ID)
		for _, want := range []string{"LANR-CHECKDIGIT", "Prüfziffer der LANR", "Grundlage:", "Retaxationsrisiko"} {
			if !strings.Contains(detail, want) {
				t.Errorf("detail lacks %q", want)
			}
		}
		// Accepting a risk needs a reason; then the decision shows and is audited.
		resp, detail = b.postCSRF("/rx/"+nr33ID+"/decide", url.Values{"code": {"LANR-CHECKDIGIT"}, "path": {"practitioner.lanr"}, "status": {"accepted"}})
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(detail, "begründen") {
			t.Errorf("accept without a note: %d %q", resp.StatusCode, errorOf(detail))
		}
		resp, detail = b.postCSRF("/rx/"+nr33ID+"/decide", url.Values{"code": {"LANR-CHECKDIGIT"}, "path": {"practitioner.lanr"}, "status": {"accepted"}, "note": {"Rücksprache mit der Praxis, LANR korrigiert nachgereicht"}})
		if resp.StatusCode != http.StatusOK || !strings.Contains(detail, "Risiko akzeptiert") || !strings.Contains(detail, "Entscheidung gespeichert") {
			t.Errorf("decide: %d %q", resp.StatusCode, errorOf(detail))
		}
		entries, _ := db.ListAudit(testCtx, f.b.ID, store.AuditFilter{Object: ptr("prescription_finding")})
		if len(entries) != 1 || entries[0].Detail != "code=LANR-CHECKDIGIT decision=accepted" || entries[0].Actor != f.bStaff.ID {
			t.Errorf("audit of the decision: %+v", entries)
		}

		resp, csv := b.get("/rx/export/csv" + period)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(csv, "\ufeffEingang;Rezept-ID") || !strings.Contains(csv, "160.065.873.704.859.46") || !strings.Contains(csv, "LANR-CHECKDIGIT: Risiko akzeptiert") {
			t.Errorf("CSV: %d\n%s", resp.StatusCode, csv)
		}
		resp, pdf := b.get("/rx/export/pdf" + period)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(pdf, "%PDF-") || resp.Header.Get("Content-Type") != "application/pdf" {
			t.Errorf("PDF: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		resp, file := b.get("/rx/" + nr33ID + "/files/PZN_Nr33_VerordnungArzt.xml")
		if resp.StatusCode != http.StatusOK || !strings.Contains(file, "160.065.873.704.859.46") {
			t.Errorf("file download: %d", resp.StatusCode)
		}

		// Read-only users see, but may not upload or decide.
		mustUser(t, db, f.b.ID, "b.lesen", "Rita Lesend", user.ReadOnly)
		reader := newLoggedIn(t, ts.URL, "b.lesen")
		if resp, _ := reader.get("/rx" + period); resp.StatusCode != http.StatusOK {
			t.Errorf("read-only list: %d", resp.StatusCode)
		}
		if resp, _ := reader.upload("/rx/upload", later); resp.StatusCode != http.StatusForbidden {
			t.Errorf("read-only upload: %d, want 403", resp.StatusCode)
		}
	})
}

// TestRxIsolation keeps two pharmacies' prescriptions apart.
func TestRxIsolation(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		_, ts := newTestServer(t, db)
		f := newFixture(t, db)
		other := mustTenant(t, db, tenant.Pharmacy, "309999994", "Linden-Apotheke")
		mustUser(t, db, other.ID, "c.inhaber", "Clara Test", user.Owner)
		b := newLoggedIn(t, ts.URL, "b.inhaber")
		b.get("/rx")
		b.upload("/rx/upload", fixtureFiles(t, "PZN_Nr33_VerordnungArzt.xml"))
		recs, err := db.ListRecords(testCtx, f.b.ID, store.RecordFilter{Kind: ptr(retention.Prescription)})
		if err != nil || len(recs) != 1 {
			t.Fatalf("%d records, %v", len(recs), err)
		}
		id := recs[0].ID
		c := newLoggedIn(t, ts.URL, "c.inhaber")
		_, body := c.get("/rx?from=2000-01-01&to=2100-01-01")
		if strings.Contains(body, id) || strings.Contains(body, "160.065.873.704.859.46") {
			t.Error("another pharmacy's list shows the prescription")
		}
		for _, p := range []string{"/rx/" + id, "/rx/" + id + "/files/PZN_Nr33_VerordnungArzt.xml"} {
			if resp, _ := c.get(p); resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s by another pharmacy: %d", p, resp.StatusCode)
			}
		}
		for _, p := range []string{"/rx/" + id + "/decide", "/rx/" + id + "/recheck"} {
			if resp, _ := c.postCSRF(p, url.Values{"code": {"LANR-CHECKDIGIT"}, "path": {"practitioner.lanr"}, "status": {"corrected"}}); resp.StatusCode != http.StatusNotFound {
				t.Errorf("POST %s by another pharmacy: %d", p, resp.StatusCode)
			}
		}
		// Uploading the same Rezept-ID elsewhere makes a record of that pharmacy's own.
		c.upload("/rx/upload", fixtureFiles(t, "PZN_Nr33_VerordnungArzt.xml"))
		if recs, _ := db.ListRecords(testCtx, f.b.ID, store.RecordFilter{Kind: ptr(retention.Prescription)}); len(recs) != 1 {
			t.Errorf("B has %d records after C's upload", len(recs))
		}
	})
}

func ptr[T any](v T) *T { return &v }
