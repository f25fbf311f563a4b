package web

import (
	"github.com/tresen/tresen/internal/berlin"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
)

// checkPage fails the test unless a page rendered completely: the status wanted, a
// non-empty <h1>, the closing tag, and no internal error.
func checkPage(t *testing.T, what string, resp *http.Response, body string, status int) {
	t.Helper()
	if resp.StatusCode != status {
		t.Errorf("%s: status %d, want %d; error %q", what, resp.StatusCode, status, errorOf(body))
		return
	}
	if m := h1RE.FindStringSubmatch(body); m == nil || strings.TrimSpace(m[1]) == "" {
		t.Errorf("%s: no <h1>", what)
	}
	if !strings.Contains(body, "</html>") || strings.Contains(body, "Interner Fehler") {
		t.Errorf("%s: page incomplete or internal error", what)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("%s: Content-Type %q", what, ct)
	}
}

// follow gets path and the pages it redirects to, as a browser would.
func (b *browser) follow(path string) (*http.Response, string) {
	b.tb.Helper()
	resp, body := b.get(path)
	for i := 0; i < 5 && resp.StatusCode == http.StatusSeeOther; i++ {
		resp, body = b.get(resp.Header.Get("Location"))
	}
	return resp, body
}

// TestTemplatesRender renders every page of the staff UI, for both kinds of tenant and in
// the states the templates branch on, and checks that none fails.
func TestTemplatesRender(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		s, ts := newTestServer(t, db)
		f := newFixture(t, db)
		// B's owner has a second factor, so /login/totp has a pending session to render for.
		u, err := db.BeginTOTP(testCtx, f.b.ID, f.bOwner.ID, "Tresen")
		if err != nil {
			t.Fatal(err)
		}
		key, err := otp.NewKeyFromURL(u)
		if err != nil {
			t.Fatal(err)
		}
		code, _ := totp.GenerateCode(key.Secret(), time.Now())
		if err := db.EnableTOTP(testCtx, f.b.ID, f.bOwner.ID, code); err != nil {
			t.Fatal(err)
		}
		// Enough audit entries for a second page.
		for range auditPageSize + 5 {
			if err := db.Audit(testCtx, f.a.ID, audit.Read, "person", "p1", ""); err != nil {
				t.Fatal(err)
			}
		}

		bOwner := newBrowser(t, ts.URL)
		resp, _ := bOwner.post("/login", url.Values{"username": {"b.inhaber"}, "password": {testPW}})
		if resp.Header.Get("Location") != "/login/totp" {
			t.Fatalf("B's owner login: status %d to %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		resp, body := bOwner.get("/login/totp")
		checkPage(t, "GET /login/totp", resp, body, http.StatusOK)
		code, _ = totp.GenerateCode(key.Secret(), time.Now())
		if resp, _ := bOwner.post("/login/totp", url.Values{"code": {code}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("B's owner second factor: status %d", resp.StatusCode)
		}

		aOwner := newLoggedIn(t, ts.URL, "a.inhaber")
		support := newLoggedIn(t, ts.URL, "support.anna")
		anon := newBrowser(t, ts.URL)
		for _, rt := range s.browserRoutes() {
			method, path := pathOf(rt.pattern, "gibt-es-nicht")
			if method != http.MethodGet {
				continue
			}
			want := http.StatusOK
			if takesID(rt.pattern) {
				want = http.StatusNotFound // an unknown object; the error page must render
			}
			switch {
			case rt.pattern == "GET /login/totp":
				continue // rendered above
			case rt.access == supportOnly:
				resp, body := support.get(path)
				checkPage(t, rt.pattern+" (support)", resp, body, want)
				continue
			case rt.access == public:
				resp, body := anon.follow(path)
				checkPage(t, rt.pattern+" (not logged in)", resp, body, want)
			}
			for name, c := range map[string]*browser{"practice owner": aOwner, "pharmacy owner": bOwner} {
				want := want
				if name == "practice owner" && strings.HasPrefix(path, "/rx") {
					want = http.StatusNotFound // the prescription pages are a pharmacy's
				}
				if name == "pharmacy owner" && practiceOnly(rt.pattern) {
					want = http.StatusNotFound // the calendar and the inbox are a practice's
				}
				resp, body := c.follow(path)
				if ct := resp.Header.Get("Content-Type"); want == http.StatusOK && (ct == "text/event-stream" || strings.HasPrefix(ct, "text/csv")) {
					continue // a stream or a download, not a page: TestInboxLive, TestStats
				}
				checkPage(t, rt.pattern+" ("+name+")", resp, body, want)
			}
		}

		// The calendar, once set up, branches on its views.
		if err := db.SetSchedule(testCtx, f.a.ID, testSchedule()); err != nil {
			t.Fatal(err)
		}

		// The states that pages branch on.
		for _, tc := range []struct {
			what   string
			c      *browser
			path   string
			form   url.Values // POST if set
			status int
			want   string
		}{
			{"audit page 2", aOwner, "/admin/audit?page=1", nil, http.StatusOK, "Neuere"},
			{"audit page 1", aOwner, "/admin/audit", nil, http.StatusOK, "Ältere"},
			{"audit today", aOwner, "/admin/audit?from=" + time.Now().In(berlin.Location).Format(time.DateOnly) + "&to=" + time.Now().In(berlin.Location).Format(time.DateOnly), nil, http.StatusOK, "Anmeldung"},
			{"audit long ago", aOwner, "/admin/audit?from=2001-01-01&to=2001-12-31", nil, http.StatusOK, "Keine Einträge"},
			{"audit bad date", aOwner, "/admin/audit?from=31.12.2001", nil, http.StatusUnprocessableEntity, "from: kein gültiges Datum"},
			{"audit filtered", aOwner, "/admin/audit?action=login&actor=" + f.aOwner.ID + "&object=user", nil, http.StatusOK, `selected`},
			{"audit bad page", aOwner, "/admin/audit?page=-3&action=%3Cscript%3E", nil, http.StatusOK, "Keine Einträge"},
			{"start as support in grant", support, "/support/enter", url.Values{"grant": {f.bGrant.ID}}, http.StatusSeeOther, ""},
			{"start as support in grant", support, "/start", nil, http.StatusOK, "nur lesen"},
			{"TOTP setup", aOwner, "/account/totp", url.Values{}, http.StatusOK, `id="totp-secret"`},
			{"TOTP wrong code", aOwner, "/account/totp/enable", url.Values{"code": {"000000"}}, http.StatusUnprocessableEntity, `id="totp-secret"`},
			{"TOTP on", bOwner, "/account", nil, http.StatusOK, `Eingerichtet`},
			{"reset link", aOwner, "/admin/users/" + f.aStaff.ID + "/reset", url.Values{}, http.StatusOK, `id="reset-link"`},
			{"user form error", aOwner, "/admin/users", url.Values{"username": {"a.zweit"}, "name": {"Zora Zweit"}, "role": {"staff"}, "password": {"kurz"}}, http.StatusUnprocessableEntity, `value="Zora Zweit"`},
			{"retention error", aOwner, "/admin/retention", url.Values{"kind": {"request"}, "days": {"viele"}}, http.StatusUnprocessableEntity, "ganze Zahl"},
			{"retention fixed", bOwner, "/admin/retention", nil, http.StatusOK, "(fest)"},
			{"grant created", aOwner, "/admin/support", url.Values{"hours": {"4"}, "confirm": {"yes"}}, http.StatusOK, "Widerrufen"},
			{"grant unconfirmed", aOwner, "/admin/support", url.Values{"hours": {"4"}}, http.StatusUnprocessableEntity, "bestätigen"},
			{"last owner", aOwner, "/admin/users/" + f.aOwner.ID + "/role", url.Values{"role": {"staff"}}, http.StatusConflict, "letzte"},
			{"self delete", aOwner, "/admin/users/" + f.aOwner.ID + "/delete", url.Values{}, http.StatusConflict, "eigenen Zugang"},
			{"not found", aOwner, "/admin/users/gibt-es-nicht/reset", url.Values{}, http.StatusNotFound, "nicht gefunden"},
			{"no route", aOwner, "/gibt-es-nicht", nil, http.StatusNotFound, ""},
			{"forbidden", support, "/admin/users", nil, http.StatusForbidden, forbiddenMsg},
			{"assistant", aOwner, "/admin/assistant", url.Values{"hours.1": {"08:00-12:00, 15:00-18:00"}, "hours.2": {"8-12"}, "type.appointment_book": {"on"}},
				http.StatusOK, "Montag von 8 bis 12 Uhr und von 15 bis 18 Uhr, Dienstag von 8 bis 12 Uhr."},
			{"assistant alerts", aOwner, "/admin/assistant", url.Values{"alerts": {"team@praxis-sonnenhof.example\r\nchefin@praxis-sonnenhof.example"}}, http.StatusOK,
				">team@praxis-sonnenhof.example\nchefin@praxis-sonnenhof.example</textarea>"},
			{"assistant phone", aOwner, "/admin/assistant", url.Values{"numbers": {"0421 1234567\n+49 30 9876543"}, "transfer_to": {"sip:anmeldung@praxis-sonnenhof.example"}}, http.StatusOK,
				">&#43;494211234567\n&#43;49309876543</textarea>"},
			{"assistant phone error", aOwner, "/admin/assistant", url.Values{"transfer_to": {"die Anmeldung"}}, http.StatusUnprocessableEntity, "keine Telefonnummer und keine SIP-Adresse"},
			{"assistant ring first", aOwner, "/admin/assistant", url.Values{"ring_first": {"0421 1234500"}, "ring_seconds": {"15"}}, http.StatusOK,
				`id="ring-seconds" name="ring_seconds" type="number" min="5" max="60" value="15"`},
			{"assistant ring seconds error", aOwner, "/admin/assistant", url.Values{"ring_first": {"0421 1234500"}, "ring_seconds": {"zwanzig"}}, http.StatusUnprocessableEntity,
				"zwischen 5 und 60 Sekunden"},
			{"assistant alerts error", aOwner, "/admin/assistant", url.Values{"alerts": {"team at praxis"}}, http.StatusUnprocessableEntity, "keine E-Mail-Adresse"},
			{"voice settings", aOwner, "/admin/assistant/voice", url.Values{"recognizer": {"vosk"}, "stt_url": {"ws://localhost:2700"}}, http.StatusOK,
				`<option value="vosk" selected>`},
			{"voice settings kept", aOwner, "/admin/assistant", nil, http.StatusOK, `value="ws://localhost:2700"`},
			{"voice unconfirmed", aOwner, "/admin/assistant/voice", url.Values{"recognizer": {"deepgram"}, "stt_key": {"dg-geheim"}}, http.StatusUnprocessableEntity,
				"bestätigen"},
			{"widget settings", aOwner, "/admin/assistant/widget", url.Values{"allowed_origins": {"https://www.Praxis-Sonnenhof.example/\nhttp://localhost:3000"},
				"privacy_url": {"https://www.praxis-sonnenhof.example/datenschutz"}, "color": {"#0B5563"}}, http.StatusOK,
				">https://www.praxis-sonnenhof.example\nhttp://localhost:3000</textarea>"},
			{"widget settings error", aOwner, "/admin/assistant/widget", url.Values{"allowed_origins": {"www.praxis.example/kontakt"}}, http.StatusUnprocessableEntity,
				`aria-invalid="true">www.praxis.example/kontakt</textarea>`},
			{"widget preview", aOwner, "/admin/assistant/preview", nil, http.StatusOK, `<script src="/widget.js" data-practice="` + f.a.ID + `" defer>`},
			{"assistant error", aOwner, "/admin/assistant", url.Values{"hours.3": {"morgens"}}, http.StatusUnprocessableEntity, `value="morgens" placeholder="geschlossen" aria-invalid="true"`},
			{"LLM unconfirmed", aOwner, "/admin/assistant/llm", url.Values{"enabled": {"on"}, "base_url": {"https://llm.example.eu/v1"}, "model": {"mistral-small"}}, http.StatusUnprocessableEntity, "EU-Hosting"},
			{"LLM on", aOwner, "/admin/assistant/llm", url.Values{"enabled": {"on"}, "base_url": {"https://llm.example.eu/v1"}, "model": {"mistral-small"}, "api_key": {"sk-geheim"},
				"eu_hosted": {"on"}, "zero_retention": {"on"}}, http.StatusOK, "Sprachmodell eingeschaltet"},
			{"LLM key kept", aOwner, "/admin/assistant", nil, http.StatusOK, "gespeichert; leer lassen"},
			{"calendar day", aOwner, "/calendar?day=2026-11-24", nil, http.StatusOK, "Termin eintragen"},
			{"calendar week", aOwner, "/calendar?day=2026-11-24&view=week&doctor=weber", nil, http.StatusOK, "Woche vom 23.11. bis 28.11.2026"},
			{"calendar holiday", aOwner, "/calendar?day=2026-12-25", nil, http.StatusOK, "Feiertag"},
			{"calendar free slots", aOwner, "/calendar?find_type=sprechstunde", nil, http.StatusOK, `id="found"`},
			{"calendar booked", aOwner, "/calendar/appointments", url.Values{"type": {"sprechstunde"}, "doctor": {"weber"}, "date": {"2026-11-24"}, "time": {"10:00"}, "name": {"Erika Mustermann"}}, http.StatusOK, "ist eingetragen"},
			{"calendar conflict", aOwner, "/calendar/appointments", url.Values{"type": {"sprechstunde"}, "doctor": {"weber"}, "date": {"2026-11-24"}, "time": {"10:00"}, "name": {"Max Mustermann"}}, http.StatusConflict, `value="Max Mustermann"`},
			{"calendar bad day", aOwner, "/calendar?day=morgen", nil, http.StatusUnprocessableEntity, "JJJJ-MM-TT"},
			{"calendar setup", aOwner, "/calendar/setup", nil, http.StatusOK, `value="08:00-12:00, 15:00-18:00"`},
			{"calendar setup error", aOwner, "/calendar/setup", url.Values{"state": {"XX"}}, http.StatusUnprocessableEntity, "Bundesland"},
			{"reset mismatch", anon, "/reset", url.Values{"token": {"x"}, "password": {"Eins-Zwei-Drei-4"}, "password2": {"Eins-Zwei-Drei-5"}}, http.StatusUnprocessableEntity, "stimmen nicht"},
		} {
			var resp *http.Response
			var body string
			if tc.form != nil {
				resp, body = tc.c.postCSRF(tc.path, tc.form)
			} else {
				resp, body = tc.c.get(tc.path)
			}
			if tc.status == http.StatusSeeOther || tc.path == "/gibt-es-nicht" {
				if resp.StatusCode != tc.status {
					t.Errorf("%s: status %d, want %d", tc.what, resp.StatusCode, tc.status)
				}
				continue
			}
			checkPage(t, tc.what, resp, body, tc.status)
			if !strings.Contains(body, tc.want) {
				t.Errorf("%s: page lacks %q", tc.what, tc.want)
			}
		}
	})
}
