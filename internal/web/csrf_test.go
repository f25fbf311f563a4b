package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
)

// TestCSRF checks that every state-changing form of a session needs the session's CSRF
// token, and that cross-site form posts are refused before any handler runs.
func TestCSRF(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		_, ts := newTestServer(t, db)
		f := newFixture(t, db)
		b := newLoggedIn(t, ts.URL, "a.inhaber")
		good := b.csrf

		// A token of another session is as wrong as a made-up one.
		other := newLoggedIn(t, ts.URL, "a.team").csrf
		if other == good {
			t.Fatal("two sessions share a CSRF token")
		}

		newUser := url.Values{"username": {"a.neu"}, "name": {"Nina Neu"}, "role": {"staff"}, "password": {testPW}}
		pwChange := url.Values{"current": {testPW}, "new": {"Sonnenhof-Passwort-2"}, "new2": {"Sonnenhof-Passwort-2"}}
		for _, path := range []string{"/admin/users", "/account/password", "/logout"} {
			form := newUser
			if path == "/account/password" {
				form = pwChange
			}
			for name, token := range map[string][]string{"missing": nil, "empty": {""}, "wrong": {"0123456789abcdef"}, "other session's": {other}, "URL query's": nil} {
				before := stateOf(t, db, f.a.ID)
				fm := url.Values{}
				for k, v := range form {
					fm[k] = v
				}
				if token != nil {
					fm["csrf"] = token
				}
				p := path
				if name == "URL query's" {
					// Only the form body counts: a token in the URL would leak into logs.
					p += "?csrf=" + url.QueryEscape(good)
				}
				resp, body := b.post(p, fm)
				if resp.StatusCode != http.StatusForbidden || !strings.Contains(errorOf(body), "CSRF") {
					t.Errorf("POST %s with %s token: status %d, error %q; want 403 with the CSRF message", path, name, resp.StatusCode, errorOf(body))
				}
				sameState(t, db, f.a.ID, before)
			}
			// The session survived every refused post.
			if resp, _ := b.get("/account"); resp.StatusCode != http.StatusOK {
				t.Fatalf("after refused POST %s: GET /account status %d, session lost", path, resp.StatusCode)
			}
		}

		// With the right token each works.
		b.csrf = good
		resp, body := b.postCSRF("/admin/users", newUser)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Nina Neu") {
			t.Errorf("POST /admin/users with token: status %d, error %q", resp.StatusCode, errorOf(body))
		}
		if _, err := db.FindUserByUsername(testCtx, "a.neu"); err != nil {
			t.Errorf("user not created: %v", err)
		}
		resp, body = b.postCSRF("/account/password", pwChange)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Das Passwort wurde geändert") {
			t.Errorf("POST /account/password with token: status %d, error %q", resp.StatusCode, errorOf(body))
		}
		b = newBrowser(t, ts.URL)
		login(t, b, "a.inhaber", "Sonnenhof-Passwort-2")
		resp, _ = b.postCSRF("/logout", nil)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
			t.Errorf("POST /logout with token: status %d to %q, want 303 to /login", resp.StatusCode, resp.Header.Get("Location"))
		}
		if resp, _ := b.get("/start"); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("GET /start after logout: status %d, want 303 to /login", resp.StatusCode)
		}

		// Cross-site form posts (a browser says so in Sec-Fetch-Site) are refused, login
		// included: no login CSRF.
		for _, path := range []string{"/login", "/reset", "/logout", "/admin/users"} {
			c := newBrowser(t, ts.URL)
			if path != "/login" && path != "/reset" {
				login(t, c, "a.team", testPW)
			}
			form := url.Values{"username": {"a.team"}, "password": {testPW}, "csrf": {c.csrf}}
			req, err := http.NewRequest(http.MethodPost, ts.URL+path, strings.NewReader(form.Encode()))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Sec-Fetch-Site", "cross-site")
			resp, _ := c.do(req)
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("cross-site POST %s: status %d, want 403", path, resp.StatusCode)
			}
			if path == "/login" && len(resp.Cookies()) > 0 {
				t.Errorf("cross-site POST /login set a cookie")
			}
			// An Origin of another site without Sec-Fetch-Site (older browsers) as well.
			req, _ = http.NewRequest(http.MethodPost, ts.URL+path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", "https://angreifer.example")
			if resp, _ := c.do(req); resp.StatusCode != http.StatusForbidden {
				t.Errorf("POST %s with foreign Origin: status %d, want 403", path, resp.StatusCode)
			}
		}
	})
}
