package web

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/retention"
	"github.com/tresen/tresen/internal/rxcheck"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
)

// noctuOnFronleichnam is the Noctu example moved to Fronleichnam 2027 (Thursday, 27 May),
// a public holiday in Bayern but not nationwide, with the Notdienstgebühr billed for a
// dispense at 12:00.
func noctuOnFronleichnam(tb testing.TB) map[string][]byte {
	tb.Helper()
	files := fixtureFiles(tb, "PZN_Noctu_VerordnungArzt.xml", "PZN_Noctu_eAbgabedaten.xml")
	for name, data := range files {
		data = bytes.ReplaceAll(data, []byte("2026-07-27"), []byte("2027-05-27"))
		files[name] = bytes.ReplaceAll(data, []byte("T22:10:00.0Z"), []byte("T10:00:00.0Z")) // 12:00 in Berlin
	}
	return files
}

// TestRxSettings: the pharmacy's owner sets its Bundesland; from then on the checks of
// the pharmacy count its public holidays. Only the owner may change it.
func TestRxSettings(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		_, ts := newTestServer(t, db)
		f := newFixture(t, db)
		owner := newLoggedIn(t, ts.URL, "b.inhaber")
		staff := newLoggedIn(t, ts.URL, "b.team")
		stored := func() rxcheck.Settings {
			t.Helper()
			var set rxcheck.Settings
			if err := db.Setting(testCtx, f.b.ID, store.SettingRx, &set); err != nil {
				t.Fatalf("stored settings: %v", err)
			}
			return set
		}

		// The list links the settings for the owner only.
		if _, body := owner.get("/rx"); !strings.Contains(body, `href="/rx/settings"`) {
			t.Error("the owner's list does not link the settings")
		}
		if _, body := staff.get("/rx"); strings.Contains(body, `href="/rx/settings"`) {
			t.Error("the staff's list links the settings")
		}

		// A Notdienstgebühr at noon on Fronleichnam, checked before the Bundesland is set.
		period := "?from=2000-01-01&to=2100-01-01"
		resp, body := staff.upload("/rx/upload"+period, noctuOnFronleichnam(t))
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "<code>NOCTU-INVALID</code>") {
			t.Fatalf("upload: status %d, error %q; want NOCTU-INVALID in the list", resp.StatusCode, errorOf(body))
		}

		resp, body = owner.get("/rx/settings")
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `<option value="" selected>nur bundesweite Feiertage</option>`) {
			t.Fatalf("GET /rx/settings: status %d, error %q; want the nationwide holidays selected", resp.StatusCode, errorOf(body))
		}
		for _, want := range []string{"Notdienstgebühr", "Entlassrezept", `name="csrf"`} {
			if !strings.Contains(body, want) {
				t.Errorf("the settings page lacks %q", want)
			}
		}

		resp, body = owner.postCSRF("/rx/settings", url.Values{"state": {"BY"}})
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Einstellungen gespeichert.") || !strings.Contains(body, `<option value="BY" selected>Bayern</option>`) {
			t.Fatalf("save: status %d, error %q; want the notice and Bayern selected", resp.StatusCode, errorOf(body))
		}
		if _, body = owner.get("/rx/settings"); !strings.Contains(body, `<option value="BY" selected>Bayern</option>`) || strings.Count(body, " selected>") != 1 {
			t.Error("Bayern is not selected when the page is opened again")
		}
		if got := stored(); got.State != "BY" {
			t.Errorf("stored %+v, want BY", got)
		}
		entries, err := db.ListAudit(testCtx, f.b.ID, store.AuditFilter{Object: ptr("setting")})
		if err != nil || len(entries) != 1 || entries[0].ObjectID != store.SettingRx || entries[0].Action != audit.Update || entries[0].Actor != f.bOwner.ID {
			t.Errorf("audit of the change: %+v %v", entries, err)
		}

		// An unknown Bundesland is refused, in German, and changes nothing.
		resp, body = owner.postCSRF("/rx/settings", url.Values{"state": {"XX"}})
		if msg := errorOf(body); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(msg, "Bitte ein Bundesland aus der Liste wählen") {
			t.Errorf("unknown state: status %d, error %q; want 422 with the German message", resp.StatusCode, msg)
		}
		if !strings.Contains(body, `aria-invalid="true"`) {
			t.Error("the refused select is not marked invalid")
		}
		// Staff may check prescriptions but not change the pharmacy's settings.
		for _, req := range []func() (*http.Response, string){
			func() (*http.Response, string) { return staff.get("/rx/settings") },
			func() (*http.Response, string) { return staff.postCSRF("/rx/settings", url.Values{"state": {"NW"}}) },
		} {
			if resp, body := req(); resp.StatusCode != http.StatusForbidden || errorOf(body) != forbiddenMsg {
				t.Errorf("staff: status %d, error %q; want 403", resp.StatusCode, errorOf(body))
			}
		}
		if got := stored(); got.State != "BY" {
			t.Errorf("stored %+v after the refused changes, want BY", got)
		}

		// Checked again, the prescription counts Fronleichnam as a holiday in Bayern.
		recs, err := db.ListRecords(testCtx, f.b.ID, store.RecordFilter{Kind: ptr(retention.Prescription)})
		if err != nil || len(recs) != 1 {
			t.Fatalf("%d records, %v", len(recs), err)
		}
		resp, body = staff.postCSRF("/rx/"+recs[0].ID+"/recheck", nil)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Erneut geprüft.") || strings.Contains(body, "NOCTU-INVALID") {
			t.Errorf("recheck in Bayern: status %d, error %q, NOCTU-INVALID shown: %t", resp.StatusCode, errorOf(body), strings.Contains(body, "NOCTU-INVALID"))
		}

		// Back to the nationwide holidays: the empty choice is a valid one.
		resp, body = owner.postCSRF("/rx/settings", url.Values{"state": {""}})
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `<option value="" selected>nur bundesweite Feiertage</option>`) {
			t.Errorf("nationwide: status %d, error %q", resp.StatusCode, errorOf(body))
		}
		if got := stored(); got.State != "" {
			t.Errorf("stored %+v, want no state", got)
		}
	})
}
