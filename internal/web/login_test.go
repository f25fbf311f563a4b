package web

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
	"github.com/tresen/tresen/internal/user"
)

var resetLinkRE = regexp.MustCompile(`<code id="reset-link">([^<]*)</code>`)

// TestLoginFlowHTTP drives login, lockout, the idle timeout, the second factor and the
// password reset through the pages, on a clock the test sets.
func TestLoginFlowHTTP(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		clock := newSyncClock(time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC))
		db.Now = clock.Now
		_, ts := newTestServer(t, db)
		f := newFixture(t, db)

		// A wrong password, and an unknown name, get the same answer.
		b := newBrowser(t, ts.URL)
		for _, username := range []string{"a.team", "niemand"} {
			resp, body := b.post("/login", url.Values{"username": {username}, "password": {"falsch-falsch-falsch"}})
			if resp.StatusCode != http.StatusUnauthorized || errorOf(body) != "Benutzername oder Passwort ist falsch" {
				t.Errorf("wrong login %s: status %d, error %q", username, resp.StatusCode, errorOf(body))
			}
			if len(resp.Cookies()) > 0 {
				t.Errorf("wrong login %s set a cookie", username)
			}
			if !strings.Contains(body, `value="`+username+`"`) {
				t.Errorf("wrong login %s: the form forgot the user name", username)
			}
			if strings.Contains(body, "falsch-falsch-falsch") {
				t.Errorf("wrong login %s: the page echoes the password", username)
			}
		}

		// Five failures in a row lock the account; the right password does not help then.
		for i := 2; i <= user.MaxFailedLogins; i++ {
			b.post("/login", url.Values{"username": {"a.team"}, "password": {"falsch-falsch-falsch"}})
		}
		resp, body := b.post("/login", url.Values{"username": {"a.team"}, "password": {testPW}})
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(errorOf(body), "gesperrt") {
			t.Errorf("login after %d failures: status %d, error %q; want 401 saying the account is locked", user.MaxFailedLogins, resp.StatusCode, errorOf(body))
		}
		if len(resp.Cookies()) > 0 {
			t.Errorf("locked login set a cookie")
		}
		// The form keeps working for everyone else, and for the user once the lock ends.
		if resp, body := b.get("/login"); resp.StatusCode != http.StatusOK || !strings.Contains(body, `action="/login"`) {
			t.Errorf("GET /login after a lockout: status %d", resp.StatusCode)
		}
		login(t, newBrowser(t, ts.URL), "a.lesen", testPW)
		clock.Advance(user.FirstLockout + time.Second)
		login(t, newBrowser(t, ts.URL), "a.team", testPW)

		// Idle timeout: a session unused for longer than user.IdleTimeout is gone.
		b = newLoggedIn(t, ts.URL, "a.inhaber")
		clock.Advance(user.IdleTimeout - time.Minute)
		if resp, _ := b.get("/start"); resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /start after 14 minutes: status %d, want 200", resp.StatusCode)
		}
		clock.Advance(user.IdleTimeout + time.Minute)
		resp, _ = b.get("/start")
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
			t.Errorf("GET /start after 16 idle minutes: status %d to %q, want 303 to /login", resp.StatusCode, resp.Header.Get("Location"))
		}
		if resp, _ := b.get("/start"); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("expired session came back: status %d", resp.StatusCode)
		}
		// htmx requests get told to go to the login page instead of a redirect they would swap in.
		req, _ := http.NewRequest(http.MethodGet, ts.URL+"/admin/audit", nil)
		req.Header.Set("HX-Request", "true")
		if resp, _ := b.do(req); resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("HX-Redirect") != "/login" {
			t.Errorf("htmx request without session: status %d, HX-Redirect %q", resp.StatusCode, resp.Header.Get("HX-Redirect"))
		}

		// Password reset: the owner makes a link, the user sets a new password with it once.
		owner := newLoggedIn(t, ts.URL, "a.inhaber")
		resp, body = owner.postCSRF("/admin/users/"+f.aStaff.ID+"/reset", nil)
		m := resetLinkRE.FindStringSubmatch(body)
		if resp.StatusCode != http.StatusOK || m == nil {
			t.Fatalf("POST reset: status %d, error %q, no link", resp.StatusCode, errorOf(body))
		}
		link, err := url.Parse(html.UnescapeString(m[1]))
		if err != nil {
			t.Fatal(err)
		}
		token := link.Query().Get("token")
		if link.Path != "/reset" || len(token) < 32 {
			t.Fatalf("reset link %q", link)
		}
		staff := newBrowser(t, ts.URL)
		resp, body = staff.get(link.RequestURI())
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `name="token" value="`+token+`"`) {
			t.Fatalf("GET %s: status %d, the form lacks the token", link.Path, resp.StatusCode)
		}
		const newPW = "Neues-Passwort-Fruehling"
		if resp, body := staff.post("/reset", url.Values{"token": {token}, "password": {newPW}, "password2": {newPW + "x"}}); resp.StatusCode != http.StatusUnprocessableEntity || errorOf(body) == "" {
			t.Errorf("POST /reset with mismatched passwords: status %d, error %q", resp.StatusCode, errorOf(body))
		}
		resp, body = staff.post("/reset", url.Values{"token": {token}, "password": {newPW}, "password2": {newPW}})
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Das Passwort wurde geändert") {
			t.Fatalf("POST /reset: status %d, error %q", resp.StatusCode, errorOf(body))
		}
		if resp, _ := newBrowser(t, ts.URL).post("/login", url.Values{"username": {"a.team"}, "password": {testPW}}); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("old password after reset: status %d, want 401", resp.StatusCode)
		}
		login(t, newBrowser(t, ts.URL), "a.team", newPW)
		resp, body = staff.post("/reset", url.Values{"token": {token}, "password": {"Noch-ein-Passwort-9"}, "password2": {"Noch-ein-Passwort-9"}})
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(errorOf(body), "ungültig") {
			t.Errorf("reusing the reset token: status %d, error %q; want 422 ungültig", resp.StatusCode, errorOf(body))
		}
		login(t, newBrowser(t, ts.URL), "a.team", newPW)

		// A reset link expires after user.ResetTokenTTL.
		resp, body = owner.postCSRF("/admin/users/"+f.aReadOnly.ID+"/reset", nil)
		if m = resetLinkRE.FindStringSubmatch(body); m == nil {
			t.Fatalf("second reset link: status %d", resp.StatusCode)
		}
		link, _ = url.Parse(html.UnescapeString(m[1]))
		clock.Advance(user.ResetTokenTTL + time.Minute)
		resp, body = newBrowser(t, ts.URL).post("/reset", url.Values{"token": {link.Query().Get("token")}, "password": {newPW}, "password2": {newPW}})
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(errorOf(body), "ungültig") {
			t.Errorf("expired reset token: status %d, error %q", resp.StatusCode, errorOf(body))
		}

		// Second factor: set up through the account page, then asked for at login.
		b = newLoggedIn(t, ts.URL, "a.lesen")
		resp, body = b.postCSRF("/account/totp", nil)
		secret := regexp.MustCompile(`<code id="totp-secret">([A-Z2-7]+)</code>`).FindStringSubmatch(body)
		if resp.StatusCode != http.StatusOK || secret == nil {
			t.Fatalf("POST /account/totp: status %d, no secret shown", resp.StatusCode)
		}
		code, err := totp.GenerateCode(secret[1], time.Now())
		if err != nil {
			t.Fatal(err)
		}
		resp, body = b.postCSRF("/account/totp/enable", url.Values{"code": {code}})
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "eingerichtet") {
			t.Fatalf("enable TOTP: status %d, error %q", resp.StatusCode, errorOf(body))
		}
		c := newBrowser(t, ts.URL)
		resp, _ = c.post("/login", url.Values{"username": {"a.lesen"}, "password": {testPW}})
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login/totp" {
			t.Fatalf("login with TOTP: status %d to %q, want 303 to /login/totp", resp.StatusCode, resp.Header.Get("Location"))
		}
		if resp, _ := c.get("/start"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login/totp" {
			t.Errorf("GET /start with the second factor pending: status %d to %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		if resp, body := c.get("/login/totp"); resp.StatusCode != http.StatusOK || !strings.Contains(body, `action="/login/totp"`) {
			t.Errorf("GET /login/totp: status %d", resp.StatusCode)
		}
		if resp, body := c.post("/login/totp", url.Values{"code": {"000000"}}); resp.StatusCode != http.StatusUnauthorized || errorOf(body) == "" {
			t.Errorf("wrong TOTP code: status %d, error %q", resp.StatusCode, errorOf(body))
		}
		code, _ = totp.GenerateCode(secret[1], time.Now())
		resp, _ = c.post("/login/totp", url.Values{"code": {code}})
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/start" {
			t.Fatalf("right TOTP code: status %d to %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		if resp, _ := c.get("/start"); resp.StatusCode != http.StatusOK {
			t.Errorf("GET /start after the second factor: status %d", resp.StatusCode)
		}
	})
}
