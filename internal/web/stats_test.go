package web

import (
	"net/http"
	"strings"
	"testing"

	"github.com/tresen/tresen/internal/request"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
)

// TestStats: the counts of today show on the page, in its chart and in the CSV.
func TestStats(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		s, ts := newTestServer(t, db)
		f := newFixture(t, db)
		rec := newReception(s, db)
		say(t, rec, f.a.ID, request.Chat, "Ich brauche ein Folgerezept für Ramipril 5 mg", "Lisa Musterfrau, geboren am 12.03.1984")
		say(t, rec, f.a.ID, request.Phone, "Bitte rufen Sie mich zurück, Lisa Musterfrau, 0170 1234567")
		faq := say(t, rec, f.a.ID, request.Chat, "Wo kann man bei Ihnen parken?")
		if _, err := rec.End(testCtx, f.a.ID, faq); err != nil {
			t.Fatal(err)
		}

		staff := newLoggedIn(t, ts.URL, "a.team")
		resp, body := staff.get("/stats")
		checkPage(t, "stats", resp, body, http.StatusOK)
		for _, want := range []string{`<dd id="stat-requests">2</dd>`, `<dd id="stat-channels">50 % / 50 %</dd>`, `<dd id="stat-conversations">3</dd>`,
			`<dd id="stat-without-staff">33 %</dd>`, `<rect class="phone"`, `<rect class="chat"`, "2 Anliegen (1 Telefon, 1 Online-Rezeption)"} {
			if !strings.Contains(body, want) {
				t.Errorf("stats page lacks %q", want)
			}
		}
		if strings.Contains(body, "Lisa Musterfrau") || strings.Contains(body, "Ramipril") {
			t.Error("the statistics show personal data")
		}
		resp, body = staff.get("/stats/export.csv")
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
			t.Fatalf("CSV: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		lines := strings.Split(strings.TrimSpace(body), "\n")
		if len(lines) != 32 || !strings.HasPrefix(lines[31], "Summe;2;1;1;") {
			t.Errorf("CSV: %d lines, last %q", len(lines), lines[len(lines)-1])
		}
		if resp, body := staff.get("/stats?from=2026-12-01&to=2026-11-01"); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "vor dem Anfang") {
			t.Errorf("reversed period: %d", resp.StatusCode)
		}
	})
}
