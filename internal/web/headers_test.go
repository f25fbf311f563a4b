package web

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
)

// lockedBuffer collects log output written from handler goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// checkSecurityHeaders fails the test unless resp carries the headers of every browser
// response; pages (not assets) must not be cached.
func checkSecurityHeaders(t *testing.T, what string, resp *http.Response, page bool) {
	t.Helper()
	h := resp.Header
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("%s: Content-Security-Policy %q", what, csp)
	}
	for name, want := range map[string]string{"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"} {
		if got := h.Get(name); got != want {
			t.Errorf("%s: %s = %q, want %q", what, name, got, want)
		}
	}
	if cc := h.Get("Cache-Control"); page && cc != "no-store" {
		t.Errorf("%s: Cache-Control = %q, want no-store", what, cc)
	}
}

// TestSecurityHeadersAndLimits checks the headers of every page, the session cookie's
// attributes, the body limit, and that health and metrics endpoints work without leaking
// URLs.
func TestSecurityHeadersAndLimits(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		var logs lockedBuffer
		s, err := New(db, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(s)
		defer ts.Close()
		newFixture(t, db)

		// The session cookie.
		b := newBrowser(t, ts.URL)
		resp, _ := b.post("/login", url.Values{"username": {"a.inhaber"}, "password": {testPW}})
		checkSecurityHeaders(t, "POST /login", resp, true)
		var cookie *http.Cookie
		for _, c := range resp.Cookies() {
			if c.Name == "tresen_session" {
				cookie = c
			}
		}
		if cookie == nil {
			t.Fatalf("login set no tresen_session cookie: %v", resp.Header["Set-Cookie"])
		}
		if !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != "/" || cookie.Domain != "" {
			t.Errorf("session cookie %+v: want HttpOnly, SameSite=Strict, Path=/, no Domain", cookie)
		}
		if len(cookie.Value) < 32 {
			t.Errorf("session token %d characters, too short", len(cookie.Value))
		}
		resp, body := b.get(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("landing page: status %d", resp.StatusCode)
		}
		b.csrf = csrfOf(body)

		// Every page, as the user who may see it, and error pages.
		support := newLoggedIn(t, ts.URL, "support.anna")
		anon := newBrowser(t, ts.URL)
		for _, rt := range s.browserRoutes() {
			method, path := pathOf(rt.pattern, "x")
			if method != http.MethodGet {
				continue
			}
			c := b
			if rt.access == supportOnly {
				c = support
			}
			resp, _ := c.get(path)
			checkSecurityHeaders(t, rt.pattern, resp, true)
			resp, _ = anon.get(path)
			checkSecurityHeaders(t, rt.pattern+" (not logged in)", resp, true)
		}
		for _, path := range []string{"/gibt-es-nicht", "/admin/users/x/role"} {
			resp, _ := b.get(path)
			checkSecurityHeaders(t, "GET "+path, resp, true)
		}
		resp, _ = support.get("/admin/users")
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("support GET /admin/users: status %d, want 403", resp.StatusCode)
		}
		checkSecurityHeaders(t, "403 page", resp, true)
		resp, _ = b.postCSRF("/admin/users", url.Values{"username": {"?"}})
		checkSecurityHeaders(t, "422 page", resp, true)
		for name, u := range s.assets {
			resp, _ := anon.get(u)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("asset %s: status %d", name, resp.StatusCode)
			}
			checkSecurityHeaders(t, "asset "+name, resp, false)
		}

		// Over TLS the cookie is Secure and host-only by its __Host- prefix, and HSTS is on.
		tls, err := New(db, Options{TLS: true, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(url.Values{"username": {"a.inhaber"}, "password": {testPW}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		tls.ServeHTTP(rec, req)
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("TLS login: status %d", rec.Code)
		}
		cookies := rec.Result().Cookies()
		if len(cookies) != 1 || cookies[0].Name != "__Host-tresen_session" || !cookies[0].Secure || !cookies[0].HttpOnly ||
			cookies[0].SameSite != http.SameSiteStrictMode || cookies[0].Path != "/" || cookies[0].Domain != "" {
			t.Errorf("TLS session cookie: %v", rec.Header()["Set-Cookie"])
		}
		if hsts := rec.Header().Get("Strict-Transport-Security"); !strings.Contains(hsts, "max-age=") {
			t.Errorf("TLS: Strict-Transport-Security %q", hsts)
		}
		if resp.Header.Get("Strict-Transport-Security") != "" {
			t.Errorf("plain HTTP sends HSTS")
		}

		// Oversized bodies are refused with a client error, logged-in or not, and the
		// server goes on.
		big := strings.Repeat("x", 2<<20)
		for _, tc := range []struct {
			c    *browser
			path string
		}{{anon, "/login"}, {anon, "/reset"}, {b, "/admin/users"}, {b, "/account/password"}} {
			form := "csrf=" + url.QueryEscape(tc.c.csrf) + "&username=a.inhaber&password=" + url.QueryEscape(testPW) + "&pad=" + big
			req, _ := http.NewRequest(http.MethodPost, ts.URL+tc.path, strings.NewReader(form))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, body := tc.c.do(req)
			if resp.StatusCode != http.StatusRequestEntityTooLarge && resp.StatusCode != http.StatusUnprocessableEntity {
				t.Errorf("POST %s with 2 MiB: status %d, error %q; want 413 or 422", tc.path, resp.StatusCode, errorOf(body))
			}
			if errorOf(body) == "" && resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Errorf("POST %s with 2 MiB: no error message", tc.path)
			}
			if len(resp.Cookies()) > 0 && tc.path == "/login" {
				t.Errorf("POST /login with 2 MiB logged in")
			}
		}

		// Password guessing from one address hits the attempt limit.
		var limited *http.Response
		for range loginBurst + 1 {
			limited, body = anon.post("/login", url.Values{"username": {"niemand"}, "password": {"geraten-geraten"}})
			if limited.StatusCode == http.StatusTooManyRequests {
				break
			}
		}
		if limited.StatusCode != http.StatusTooManyRequests || limited.Header.Get("Retry-After") == "" || errorOf(body) == "" {
			t.Errorf("login attempt %d from one address: status %d, Retry-After %q; want 429", loginBurst+1, limited.StatusCode, limited.Header.Get("Retry-After"))
		}
		checkSecurityHeaders(t, "429 page", limited, true)

		// Operations endpoints.
		for path, want := range map[string]string{"/healthz": "ok\n", "/readyz": "ready\n"} {
			resp, body := anon.get(path)
			if resp.StatusCode != http.StatusOK || body != want {
				t.Errorf("GET %s: %d %q, want 200 %q", path, resp.StatusCode, body, want)
			}
		}
		const secret = "GEHEIM0123456789abcdef"
		anon.get("/reset?token=" + secret)
		anon.get("/admin/users/" + secret + "/role")
		anon.get("/" + secret)
		resp, err = http.Get(ts.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		mb, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		metrics := string(mb)
		for _, want := range []string{
			`tresen_http_requests_total{code="200",route="GET /login"}`,
			`tresen_http_requests_total{code="200",route="GET /reset"}`,
			`tresen_http_requests_total{code="404",route="unmatched"}`,
			`tresen_http_request_duration_seconds_bucket{route="GET /start"`,
		} {
			if !strings.Contains(metrics, want) {
				t.Errorf("metrics lack %s", want)
			}
		}
		if strings.Contains(metrics, secret) {
			t.Errorf("metrics contain a URL's secret")
		}
		if m := regexp.MustCompile(`route="[^"]*[?][^"]*"`).FindString(metrics); m != "" {
			t.Errorf("metrics label with a query: %s", m)
		}
		if strings.Contains(logs.String(), secret) {
			t.Errorf("logs contain a URL's secret")
		}
		if !strings.Contains(logs.String(), `route="GET /reset"`) {
			t.Errorf("requests are not logged by route:\n%s", logs.String())
		}
	})
}
