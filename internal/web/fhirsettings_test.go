package web

import (
	"encoding/json"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/assistant"
	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/events"
	"github.com/tresen/tresen/internal/fhirapi"
	"github.com/tresen/tresen/internal/fhirclient"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
)

const testPVSToken = "pvs-Token-geheim"

// newFHIRTestServer is newTestServer with the FHIR API mounted, as main mounts it.
func newFHIRTestServer(tb testing.TB, db *store.DB) *httptest.Server {
	tb.Helper()
	s, err := New(db, Options{Logger: slog.New(slog.NewTextHandler(tbWriter{tb}, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Events: &events.Memory{}, FHIR: fhirapi.New(db, db.Now)})
	if err != nil {
		tb.Fatalf("web.New: %v", err)
	}
	s.logins = newLimiter(100_000, time.Millisecond)
	ts := httptest.NewServer(s)
	tb.Cleanup(ts.Close)
	return ts
}

// fhirGet calls the FHIR API as a practice's system does and returns the status.
func fhirGet(t *testing.T, base, path, token string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/fhir+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

var apiSecretRE = regexp.MustCompile(`<code id="api-token-secret">([^<]*)</code>`)

// textareaInvalid matches the textarea named name marked invalid.
func textareaInvalid(name string) *regexp.Regexp {
	return regexp.MustCompile(`<textarea[^>]*name="` + regexp.QuoteMeta(name) + `"[^>]*aria-invalid="true"`)
}

// TestFHIRSettings: the practice's owner issues a token for the FHIR API in the browser,
// sees its secret once, and revokes it; and connects the assistant to the practice's PVS,
// whose token is write-only. Only the owner of a practice has the page.
func TestFHIRSettings(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ts := newFHIRTestServer(t, db)
		f := newFixture(t, db)
		if err := db.SetSchedule(testCtx, f.a.ID, testSchedule()); err != nil {
			t.Fatal(err)
		}
		owner := newLoggedIn(t, ts.URL, "a.inhaber")
		tokens := func() []store.APIToken {
			t.Helper()
			list, err := db.ListAPITokens(testCtx, f.a.ID)
			if err != nil {
				t.Fatal(err)
			}
			return list
		}

		// The owner's navigation links the page; the staff's does not.
		if _, body := owner.get("/start"); !strings.Contains(body, `href="/admin/fhir"`) {
			t.Error("the owner's navigation does not link /admin/fhir")
		}
		if _, body := newLoggedIn(t, ts.URL, "a.team").get("/start"); strings.Contains(body, `href="/admin/fhir"`) {
			t.Error("the staff's navigation links /admin/fhir")
		}
		resp, body := owner.get("/admin/fhir")
		checkPage(t, "empty page", resp, body, http.StatusOK)
		for _, s := range []string{"Noch keine Zugriffsschlüssel", `id="pvs-status">Nicht verbunden`, `value="system/Appointment.write"`, ts.URL + "/fhir/"} {
			if !strings.Contains(body, s) {
				t.Errorf("empty page lacks %q", s)
			}
		}
		if strings.Contains(body, `id="pvs-off"`) || strings.Contains(body, `id="pvs-check"`) || strings.Contains(body, "(gespeichert") {
			t.Error("the empty page offers to disconnect or to test, or claims a stored token")
		}

		// A token: its secret on this response only, never cached.
		form := url.Values{"name": {"PVS Praxis am Markt"}, "scopes": {"system/Schedule.read", "system/Slot.read"}}
		resp, body = owner.postCSRF("/admin/fhir/tokens", form)
		checkPage(t, "create token", resp, body, http.StatusOK)
		if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("create token: Cache-Control %q, want no-store", cc)
		}
		m := apiSecretRE.FindStringSubmatch(body)
		if m == nil || !strings.HasPrefix(m[1], "trs_") {
			t.Fatalf("create token: no secret shown; error %q", errorOf(body))
		}
		secret := html.UnescapeString(m[1])
		if !strings.Contains(body, "Bitte jetzt kopieren") || resp.Header.Get("Location") != "" {
			t.Error("create token: no hint to copy the secret now, or a redirect")
		}
		list := tokens()
		if len(list) != 1 || list[0].Name != "PVS Praxis am Markt" || list[0].Revoked ||
			!slices.Equal(list[0].Scopes, []string{"system/Slot.read", "system/Schedule.read"}) {
			t.Fatalf("stored tokens %+v, want the one with Slot.read and Schedule.read", list)
		}
		id := list[0].ID
		resp, body = owner.get("/admin/fhir")
		checkPage(t, "page after creating", resp, body, http.StatusOK)
		if strings.Contains(body, secret) || strings.Contains(body, `id="api-token-secret"`) {
			t.Error("the page shows the secret again")
		}
		for _, s := range []string{"PVS Praxis am Markt", "<code>system/Slot.read</code>", `id="token-` + id + `"`, "aktiv", `action="/admin/fhir/tokens/` + id + `/revoke"`} {
			if !strings.Contains(body, s) {
				t.Errorf("page lacks %q", s)
			}
		}

		// The token works at /fhir/ for what its scopes allow.
		if st := fhirGet(t, ts.URL, "/fhir/Schedule", secret); st != http.StatusOK {
			t.Errorf("GET /fhir/Schedule with the new token: status %d, want 200", st)
		}
		if st := fhirGet(t, ts.URL, "/fhir/Patient?birthdate=1970-01-01", secret); st != http.StatusForbidden {
			t.Errorf("GET /fhir/Patient without its scope: status %d, want 403", st)
		}

		// Mistakes show at their field; nothing is issued.
		for _, c := range []struct {
			what  string
			form  url.Values
			field string
		}{
			{"no scope", url.Values{"name": {"Kalender"}}, "scopes"},
			{"unknown scope", url.Values{"name": {"Kalender"}, "scopes": {"system/Slot.read", "system/Account.write"}}, "scopes"},
			{"no name", url.Values{"name": {" "}, "scopes": {"system/Slot.read"}}, "name"},
		} {
			resp, body := owner.postCSRF("/admin/fhir/tokens", c.form)
			checkPage(t, c.what, resp, body, http.StatusUnprocessableEntity)
			marked := `aria-describedby="` + map[string]string{"scopes": "scopes-error", "name": "token-name-error"}[c.field] + `"`
			if !strings.Contains(body, `aria-invalid="true" `+marked) || errorOf(body) == "" || strings.Contains(body, `id="api-token-secret"`) {
				t.Errorf("%s: error %q, want it at %s", c.what, errorOf(body), c.field)
			}
		}
		if n := len(tokens()); n != 1 {
			t.Errorf("%d tokens after refused forms, want 1", n)
		}
		_, body = owner.postCSRF("/admin/fhir/tokens", url.Values{"name": {"Kalender"}})
		if !strings.Contains(body, `value="Kalender"`) {
			t.Error("a refused form lost the name")
		}

		// Revoking needs the confirmation; then the token no longer opens the API.
		resp, body = owner.postCSRF("/admin/fhir/tokens/"+id+"/revoke", nil)
		checkPage(t, "revoke unconfirmed", resp, body, http.StatusUnprocessableEntity)
		if !strings.Contains(body, `id="revoke-error"`) || tokens()[0].Revoked {
			t.Errorf("revoke unconfirmed: error %q; the token must stay", errorOf(body))
		}
		resp, body = owner.postCSRF("/admin/fhir/tokens/"+id+"/revoke", url.Values{"confirm": {"yes"}})
		checkPage(t, "revoke", resp, body, http.StatusOK)
		if !strings.Contains(body, "widerrufen") || strings.Contains(body, `action="/admin/fhir/tokens/`+id+`/revoke"`) {
			t.Error("revoke: the page does not show the token revoked")
		}
		if list := tokens(); len(list) != 1 || !list[0].Revoked {
			t.Errorf("after revoking: %+v", list)
		}
		if st := fhirGet(t, ts.URL, "/fhir/Schedule", secret); st != http.StatusUnauthorized {
			t.Errorf("GET /fhir/Schedule with the revoked token: status %d, want 401", st)
		}
		resp, _ = owner.postCSRF("/admin/fhir/tokens/"+id+"/revoke", url.Values{"confirm": {"yes"}})
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("second revoke: status %d, want 404", resp.StatusCode)
		}

		// The store audited both, without the secret.
		entries, err := db.ListAudit(testCtx, f.a.ID, store.AuditFilter{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var created, revoked bool
		for _, e := range entries {
			created = created || e.Action == audit.Create && e.ObjectType == "api_token" && e.ObjectID == id
			revoked = revoked || e.Action == audit.Delete && e.ObjectType == "api_token" && e.ObjectID == id
			if strings.Contains(e.Detail, secret) {
				t.Errorf("audit entry %s shows the secret", e.Action)
			}
		}
		if !created || !revoked {
			t.Errorf("audit: created %t, revoked %t; want both", created, revoked)
		}

		// The PVS connection: saved, and shown again without the token.
		stored := func() fhirclient.Settings {
			t.Helper()
			var set fhirclient.Settings
			if err := db.Setting(testCtx, f.a.ID, store.SettingPVS, &set); err != nil {
				t.Fatalf("stored PVS settings: %v", err)
			}
			return set
		}
		pvs := url.Values{"base": {"https://pvs.example.de/fhir/"}, "pvs_token": {testPVSToken}, "service_type": {"sprechstunde"},
			"schedules": {"Schneider = sched-1\r\n\r\n Weber=Schedule/sched-2 \r\n"}}
		resp, body = owner.postCSRF("/admin/fhir/pvs", pvs)
		checkPage(t, "save PVS", resp, body, http.StatusOK)
		want := fhirclient.Settings{Base: "https://pvs.example.de/fhir/", Token: testPVSToken, ServiceType: "sprechstunde",
			Schedules: map[string]string{"Schneider": "sched-1", "Weber": "sched-2"}}
		if diff := cmp.Diff(want, stored()); diff != "" {
			t.Errorf("stored PVS settings (-want +got):\n%s", diff)
		}
		if c, err := assistant.PracticeSystem(testCtx, db, f.a.ID); err != nil || c == nil || c.Base != want.Base {
			t.Errorf("the assistant's PVS after saving: %+v, %v", c, err)
		}
		if strings.Contains(body, testPVSToken) {
			t.Error("the page after saving shows the PVS token")
		}
		_, body = owner.get("/admin/fhir")
		if strings.Contains(body, testPVSToken) {
			t.Error("the page shows the PVS token")
		}
		for _, s := range []string{`value="https://pvs.example.de/fhir/"`, `value="sprechstunde"`, "Schneider = sched-1\nWeber = sched-2\n</textarea>",
			"Token für das PVS (gespeichert; leer lassen", `name="forget_token"`, `id="pvs-status">Verbunden`, `id="pvs-off"`,
			`action="/admin/fhir/check"`, "Verbindung testen"} {
			if !strings.Contains(body, s) {
				t.Errorf("page lacks %q", s)
			}
		}

		// An empty token field keeps the stored token; the rest changes.
		pvs.Set("pvs_token", "")
		pvs.Set("service_type", "akut")
		pvs.Set("base", "https://pvs.example.de/r4/")
		resp, body = owner.postCSRF("/admin/fhir/pvs", pvs)
		checkPage(t, "save PVS without token", resp, body, http.StatusOK)
		want.ServiceType, want.Base = "akut", "https://pvs.example.de/r4/"
		if diff := cmp.Diff(want, stored()); diff != "" {
			t.Errorf("stored PVS settings after saving without token (-want +got):\n%s", diff)
		}

		// Refused forms change nothing and show the mistake at its field.
		for _, c := range []struct {
			what, field, value, at string
			textarea               bool
		}{
			{"plain http", "base", "http://pvs.example.de", "base", false},
			{"another server", "base", "https://pvs.example.org/fhir/", "pvs_token", false},
			{"a line without id", "schedules", "Schneider = sched-1\nWeber", "schedules", true},
			{"an id with a space", "schedules", "Schneider = sched 1", "schedules", true},
			{"a doctor twice", "schedules", "Schneider = sched-1\nschneider = sched-3", "schedules", true},
		} {
			bad := url.Values{}
			for k, v := range pvs {
				bad[k] = v
			}
			bad.Set(c.field, c.value)
			resp, body := owner.postCSRF("/admin/fhir/pvs", bad)
			checkPage(t, c.what, resp, body, http.StatusUnprocessableEntity)
			marked := invalidAt(c.at).MatchString(body)
			if c.textarea {
				marked = textareaInvalid(c.at).MatchString(body)
			}
			if !marked || errorOf(body) == "" {
				t.Errorf("%s: error %q, want it at %s", c.what, errorOf(body), c.at)
			}
			if !strings.Contains(body, html.EscapeString(c.value)) {
				t.Errorf("%s: the form lost what was typed", c.what)
			}
			if strings.Contains(body, testPVSToken) {
				t.Errorf("%s: the page shows the PVS token", c.what)
			}
			if diff := cmp.Diff(want, stored()); diff != "" {
				t.Errorf("%s changed the stored settings (-want +got):\n%s", c.what, diff)
			}
		}
		_, body = owner.postCSRF("/admin/fhir/pvs", url.Values{"base": {"http://pvs.example.de"}})
		if !strings.Contains(errorOf(body), "https://") || !strings.Contains(body, `id="pvs-base-error"`) {
			t.Errorf("plain http: error %q, want the German message at base", errorOf(body))
		}

		// The token can be removed, and the connection switched off.
		pvs.Set("forget_token", "on")
		resp, body = owner.postCSRF("/admin/fhir/pvs", pvs)
		checkPage(t, "forget token", resp, body, http.StatusOK)
		if got := stored(); got.Token != "" || got.Base != want.Base {
			t.Errorf("after forgetting: token %t, base %q; want the token gone, the rest kept", got.Token != "", got.Base)
		}
		resp, body = owner.postCSRF("/admin/fhir/pvs/off", nil)
		checkPage(t, "disconnect unconfirmed", resp, body, http.StatusUnprocessableEntity)
		if stored().Base == "" {
			t.Error("disconnected without the confirmation")
		}
		resp, body = owner.postCSRF("/admin/fhir/pvs/off", url.Values{"confirm": {"yes"}})
		checkPage(t, "disconnect", resp, body, http.StatusOK)
		if got := stored(); got.Base != "" || got.Token != "" {
			t.Errorf("after disconnecting: %+v", got)
		}
		if c, err := assistant.PracticeSystem(testCtx, db, f.a.ID); err != nil || c != nil {
			t.Errorf("the assistant's PVS after disconnecting: %+v, %v; want none", c, err)
		}
		if !strings.Contains(body, `id="pvs-status">Nicht verbunden`) {
			t.Error("the page after disconnecting does not say so")
		}

		// Without a CSRF token nothing changes.
		if resp, _ := owner.post("/admin/fhir/tokens", form); resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST /admin/fhir/tokens without CSRF token: status %d, want 403", resp.StatusCode)
		}
		if resp, _ := owner.post("/admin/fhir/pvs", pvs); resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST /admin/fhir/pvs without CSRF token: status %d, want 403", resp.StatusCode)
		}
		if n := len(tokens()); n != 1 || stored().Base != "" {
			t.Errorf("forms without CSRF token changed something: %d tokens, base %q", n, stored().Base)
		}

		// Staff and read-only users may not; a pharmacy has no such page.
		refusedToOthers(t, ts.URL, "/admin/fhir", []pageRequest{{"/admin/fhir", nil}, {"/admin/fhir/tokens", form},
			{"/admin/fhir/tokens/" + id + "/revoke", url.Values{"confirm": {"yes"}}},
			{"/admin/fhir/pvs", pvs}, {"/admin/fhir/pvs/off", url.Values{"confirm": {"yes"}}}, {"/admin/fhir/check", url.Values{}}})
		if list, err := db.ListAPITokens(testCtx, f.b.ID); err != nil || len(list) != 0 {
			t.Errorf("the pharmacy has tokens: %+v, %v", list, err)
		}
		if n := len(tokens()); n != 1 || stored().Base != "" {
			t.Errorf("others changed the practice's settings: %d tokens, base %q", n, stored().Base)
		}
	})
}

var noticeRE = regexp.MustCompile(`<p class="notice" role="status">([^<]*)</p>`)

// noticeOf returns the notice a page shows, or "".
func noticeOf(body string) string {
	m := noticeRE.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(strings.TrimSpace(m[1]))
}

// TestPVSCheck: the owner tests the stored connection to the PVS and reads what is wrong
// with it, in German, without its token. Tresen's own FHIR API plays the PVS.
func TestPVSCheck(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ts := newFHIRTestServer(t, db)
		f := newFixture(t, db)
		if err := db.SetSchedule(testCtx, f.a.ID, testSchedule()); err != nil {
			t.Fatal(err)
		}
		token, _, err := db.CreateAPIToken(testCtx, f.a.ID, "Tresen-Assistent", []string{"system/Slot.read", "system/Schedule.read", "system/Appointment.write"})
		if err != nil {
			t.Fatal(err)
		}
		owner := newLoggedIn(t, ts.URL, "a.inhaber")
		stored := func() fhirclient.Settings {
			t.Helper()
			var set fhirclient.Settings
			if err := db.Setting(testCtx, f.a.ID, store.SettingPVS, &set); err != nil && !errs.Is(err, errs.NotFound) {
				t.Fatal(err)
			}
			return set
		}
		save := func(base, token, schedules string) {
			t.Helper()
			resp, body := owner.postCSRF("/admin/fhir/pvs", url.Values{"base": {base}, "pvs_token": {token}, "schedules": {schedules}})
			checkPage(t, "save PVS", resp, body, http.StatusOK)
		}

		// Nothing stored: nothing to test.
		resp, body := owner.postCSRF("/admin/fhir/check", nil)
		checkPage(t, "test without connection", resp, body, http.StatusUnprocessableEntity)
		if !strings.Contains(errorOf(body), "keine Verbindung zum PVS gespeichert") {
			t.Errorf("test without connection: error %q", errorOf(body))
		}

		base := ts.URL + "/fhir/"
		for _, c := range []struct {
			what, base, token, schedules string
			status                       int
			says                         string
		}{
			{"working", base, token, "Schneider = schneider\nWeber = weber", http.StatusOK,
				"Verbindung in Ordnung: FHIR 4.0.1, 2 von 2 Kalendern gefunden."},
			{"working, one doctor", base, token, "Weber = weber", http.StatusOK,
				"Verbindung in Ordnung: FHIR 4.0.1, der Kalender wurde gefunden."},
			{"working, no doctors", base, token, "", http.StatusOK,
				"Verbindung in Ordnung: FHIR 4.0.1, die Suche nach freien Terminen ist erlaubt."},
			{"a wrong Schedule id", base, token, "Schneider = schneider\nMüller = sched-9", http.StatusUnprocessableEntity,
				"Der Verbindungstest ist fehlgeschlagen: Den Kalender (Schedule) „sched-9“ gibt es im PVS nicht. Bitte die Schedule-ID prüfen."},
			{"a wrong token", base, "trs_falsch", "Schneider = schneider", http.StatusUnprocessableEntity,
				"Der Verbindungstest ist fehlgeschlagen: Der FHIR-Server hat den Zugriffsschlüssel abgelehnt."},
			{"no FHIR server", ts.URL + "/", token, "", http.StatusUnprocessableEntity,
				"Der Verbindungstest ist fehlgeschlagen: Unter dieser Adresse antwortet kein FHIR-Server"},
			{"unreachable", "http://127.0.0.1:1/fhir/", token, "", http.StatusUnprocessableEntity,
				"Der Verbindungstest ist fehlgeschlagen: Der FHIR-Server ist nicht erreichbar"},
		} {
			save(c.base, c.token, c.schedules)
			before := stored()
			resp, body := owner.postCSRF("/admin/fhir/check", nil)
			checkPage(t, c.what, resp, body, c.status)
			got := noticeOf(body)
			if c.status != http.StatusOK {
				got = errorOf(body)
			}
			if !strings.HasPrefix(got, c.says) {
				t.Errorf("%s: the page says %q, want %q", c.what, got, c.says)
			}
			if strings.Contains(body, token) || strings.Contains(body, "trs_falsch") {
				t.Errorf("%s: the page shows the PVS token", c.what)
			}
			if !strings.Contains(body, `id="pvs-check"`) || !strings.Contains(body, `id="pvs-status">Verbunden`) {
				t.Errorf("%s: the page after the test lacks the connection", c.what)
			}
			if diff := cmp.Diff(before, stored()); diff != "" {
				t.Errorf("%s: the test changed the settings (-before +after):\n%s", c.what, diff)
			}
		}

		// Five tests of one address at once, then one a minute: the page is no way to
		// send a server many requests.
		for i := 1; i < ownerTestBurst; i++ {
			resp, body := owner.postCSRF("/admin/fhir/check", nil)
			checkPage(t, "test again", resp, body, http.StatusUnprocessableEntity)
		}
		resp, body = owner.postCSRF("/admin/fhir/check", nil)
		checkPage(t, "one test too many", resp, body, http.StatusTooManyRequests)
		if !strings.Contains(errorOf(body), "Zu viele Verbindungstests") || resp.Header.Get("Retry-After") == "" {
			t.Errorf("one test too many: error %q, Retry-After %q", errorOf(body), resp.Header.Get("Retry-After"))
		}

		// Without a CSRF token nothing is tested.
		if resp, _ := owner.post("/admin/fhir/check", nil); resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST /admin/fhir/check without CSRF token: status %d, want 403", resp.StatusCode)
		}
	})
}

// TestAPIScopes: the page offers a scope for each resource type the FHIR API serves, and
// only scopes the store accepts.
func TestAPIScopes(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ts := newFHIRTestServer(t, db)
		f := newFixture(t, db)
		resp, err := http.Get(ts.URL + "/fhir/metadata")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var cs struct {
			Rest []struct {
				Resource []struct {
					Type        string `json:"type"`
					Interaction []struct {
						Code string `json:"code"`
					} `json:"interaction"`
				} `json:"resource"`
			} `json:"rest"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&cs); err != nil || len(cs.Rest) != 1 {
			t.Fatalf("metadata: %v", err)
		}
		var offered []string
		for _, sc := range apiScopes() {
			offered = append(offered, sc.Value)
		}
		served := map[string]bool{"*": true}
		for _, res := range cs.Rest[0].Resource {
			served[res.Type] = true
			if !slices.Contains(offered, "system/"+res.Type+".read") {
				t.Errorf("no scope to read %s", res.Type)
			}
			for _, ia := range res.Interaction {
				if (ia.Code == "create" || ia.Code == "update") && !slices.Contains(offered, "system/"+res.Type+".write") {
					t.Errorf("no scope to write %s", res.Type)
				}
			}
		}
		for _, sc := range offered {
			typ, _, _ := strings.Cut(strings.TrimPrefix(sc, "system/"), ".")
			if !served[typ] {
				t.Errorf("scope %s names a type the API does not serve", sc)
			}
		}
		if _, _, err := db.CreateAPIToken(testCtx, f.a.ID, "Alle", offered); err != nil {
			t.Errorf("the store refuses the offered scopes: %v", err)
		}
	})
}
