package web

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/request"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
)

var hashRE = regexp.MustCompile(`name="hash" value="([0-9a-f]{64})"`)

// TestReports: a team member reports a problem with a request; they see exactly what goes
// to support and must confirm; support reads it (audited) until the practice closes it.
func TestReports(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		s, ts := newTestServer(t, db)
		f := newFixture(t, db)
		rec := newReception(s, db)
		conv := say(t, rec, f.a.ID, request.Chat, "Ich brauche ein Folgerezept für Ramipril 5 mg", "Lisa Musterfrau, geboren am 12.03.1984")
		id := recordOf(t, s, f.a.ID, conv)

		staff := newLoggedIn(t, ts.URL, "a.team")
		_, body := staff.get("/inbox/" + id)
		if !strings.Contains(body, `href="/inbox/`+id+`/report"`) {
			t.Fatal("the request offers no problem report")
		}
		resp, body := staff.get("/inbox/" + id + "/report")
		checkPage(t, "report form", resp, body, http.StatusOK)
		preview := html.UnescapeString(body)
		for _, want := range []string{"Ich brauche ein Folgerezept für Ramipril 5 mg", `"medication": "Ramipril 5 mg"`, `"action": "create"`} {
			if !strings.Contains(preview, want) {
				t.Errorf("the preview lacks %q", want)
			}
		}
		if strings.Contains(preview, "127.0.0.1") {
			t.Error("the preview shows client addresses")
		}
		m := hashRE.FindStringSubmatch(body)
		if m == nil {
			t.Fatal("no hash of what was shown")
		}
		post := func(form url.Values, status int, want string) string {
			t.Helper()
			resp, body := staff.postCSRF("/inbox/"+id+"/report", form)
			if resp.StatusCode != status || !strings.Contains(body, want) {
				t.Fatalf("report: status %d (want %d), error %q; want %q", resp.StatusCode, status, errorOf(body), want)
			}
			return body
		}
		post(url.Values{"description": {"Der Assistent hat nach der Versicherung nicht gefragt."}, "hash": {m[1]}}, http.StatusUnprocessableEntity, "bestätigen")
		post(url.Values{"confirm": {"on"}, "hash": {m[1]}}, http.StatusUnprocessableEntity, "beschreiben")
		// The conversation goes on after the preview: what was confirmed is no longer
		// what would be sent.
		if _, err := rec.Say(testCtx, f.a.ID, conv, "gesetzlich"); err != nil {
			t.Fatal(err)
		}
		body = post(url.Values{"description": {"Der Assistent hat nach der Versicherung nicht gefragt."}, "confirm": {"on"}, "hash": {m[1]}}, http.StatusConflict, "geändert")
		m = hashRE.FindStringSubmatch(body)
		post(url.Values{"description": {"Der Assistent hat nach der Versicherung nicht gefragt."}, "confirm": {"on"}, "hash": {m[1]}}, http.StatusOK, "an den Support gemeldet")

		reports, err := db.ListReports(testCtx, f.a.ID)
		if err != nil || len(reports) != 1 {
			t.Fatalf("reports %+v, %v", reports, err)
		}
		rid := reports[0].ID

		// Support sees it without any grant, reads it, and that is in the practice's log.
		support := newLoggedIn(t, ts.URL, "support.anna")
		if _, body := support.get("/support"); !strings.Contains(body, `href="/support/reports/`+rid+`"`) || !strings.Contains(body, f.a.Name) {
			t.Error("support's desk does not list the report")
		}
		resp, body = support.get("/support/reports/" + rid)
		checkPage(t, "support report", resp, body, http.StatusOK)
		if b := html.UnescapeString(body); !strings.Contains(b, "nicht gefragt") || !strings.Contains(b, "Ich brauche ein Folgerezept") {
			t.Error("support does not see the description and the conversation")
		}
		access := audit.SupportAccess
		if entries, err := db.ListAudit(testCtx, f.a.ID, store.AuditFilter{Action: &access, Actor: &f.support.ID}); err != nil || len(entries) != 1 || entries[0].ObjectID != rid {
			t.Errorf("support's reading in the practice's log: %+v, %v", entries, err)
		}
		// Support can change nothing: no grant opens the practice to it.
		if resp, _ := support.postCSRF("/inbox/"+id+"/report/"+rid+"/close", nil); resp.StatusCode != http.StatusForbidden {
			t.Errorf("support closes: %d", resp.StatusCode)
		}

		// The practice closes it: the copy is gone.
		resp, body = staff.postCSRF("/inbox/"+id+"/report/"+rid+"/close", nil)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "geteilten Daten sind gelöscht") {
			t.Fatalf("close: %d %q", resp.StatusCode, errorOf(body))
		}
		if resp, _ := support.get("/support/reports/" + rid); resp.StatusCode != http.StatusNotFound {
			t.Errorf("support reads a closed report: %d", resp.StatusCode)
		}
	})
}
