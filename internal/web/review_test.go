package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/request"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
)

// TestQualityReview: only a practice that opted in shares its conversations, only
// anonymised, and each time support takes them the practice's log says so.
func TestQualityReview(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		s, ts := newTestServer(t, db)
		f := newFixture(t, db)
		rec := newReception(s, db)
		for _, turns := range [][]string{
			{"Ich brauche ein Folgerezept für Ramipril 5 mg", "Lisa Musterfrau, geboren am 12.03.1984", "gesetzlich", "ja", "nein danke"},
			{"Bitte um Rückruf, hier ist Bodo Beispielmann, meine Nummer ist 0170 9876543, E-Mail bodo@beispielmann.example"},
		} {
			id := say(t, rec, f.a.ID, request.Chat, turns...)
			if _, err := rec.End(testCtx, f.a.ID, id); err != nil {
				t.Fatal(err)
			}
		}
		support := newLoggedIn(t, ts.URL, "support.anna")
		if resp, _ := support.get("/support/review/" + f.a.ID + "/export.jsonl"); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("export without consent: %d", resp.StatusCode)
		}

		owner := newLoggedIn(t, ts.URL, "a.inhaber")
		optIn := func(on bool) {
			t.Helper()
			form := url.Values{}
			if on {
				form.Set("quality_review", "on")
			}
			if resp, body := owner.postCSRF("/admin/assistant", form); resp.StatusCode != http.StatusOK {
				t.Fatalf("settings: %d %q", resp.StatusCode, errorOf(body))
			}
		}
		optIn(true)
		if _, body := support.get("/support/review"); !strings.Contains(body, `href="/support/review/`+f.a.ID+`"`) {
			t.Error("the practice that agreed is not listed")
		}
		resp, body := support.get("/support/review/" + f.a.ID)
		checkPage(t, "review", resp, body, http.StatusOK)
		resp, body = support.get("/support/review/" + f.a.ID + "/export.jsonl")
		if resp.StatusCode != http.StatusOK || strings.Count(body, "\n") != 2 {
			t.Fatalf("export: %d, %d lines", resp.StatusCode, strings.Count(body, "\n"))
		}
		for _, id := range []string{"Lisa", "Musterfrau", "1984", "Bodo", "Beispielmann", "0170", "9876543", "beispielmann.example"} {
			if strings.Contains(body, id) {
				t.Errorf("the export shows %q", id)
			}
		}
		if !strings.Contains(body, "Ramipril 5 mg") || !strings.Contains(body, f.a.Name) {
			t.Errorf("the export lost what it is for:\n%s", body)
		}
		access := audit.SupportAccess
		entries, err := db.ListAudit(testCtx, f.a.ID, store.AuditFilter{Action: &access, Actor: &f.support.ID})
		if err != nil || len(entries) != 2 || entries[0].ObjectType != "quality_review" {
			t.Errorf("the practice's log of the review: %+v, %v", entries, err)
		}

		optIn(false)
		if resp, _ := support.get("/support/review/" + f.a.ID); resp.StatusCode != http.StatusNotFound {
			t.Errorf("review after the consent was withdrawn: %d", resp.StatusCode)
		}
	})
}
