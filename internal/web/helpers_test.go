package web

import (
	"bufio"
	"context"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/events"
	"github.com/tresen/tresen/internal/person"
	"github.com/tresen/tresen/internal/retention"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
	"github.com/tresen/tresen/internal/tenant"
	"github.com/tresen/tresen/internal/user"
)

// testCtx is the audit actor for fixtures created through the store API.
var testCtx = audit.WithActor(context.Background(), audit.Actor{UserID: "test", Source: "127.0.0.1"})

// testPW passes the password policy; the test store hashes it cheaply.
const testPW = "Kaffeetasse-Mittwoch"

// newTestServer serves a web.Server on db over a real loopback listener.
func newTestServer(tb testing.TB, db *store.DB) (*Server, *httptest.Server) {
	tb.Helper()
	s, err := New(db, Options{Logger: slog.New(slog.NewTextHandler(tbWriter{tb}, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Events: &events.Memory{}})
	if err != nil {
		tb.Fatalf("web.New: %v", err)
	}
	// Every test client comes from 127.0.0.1 and logs in far more often than a person
	// would; the attempt limit per address is tested on its own.
	s.logins = newLimiter(100_000, time.Millisecond)
	ts := httptest.NewServer(s)
	tb.Cleanup(ts.Close)
	return s, ts
}

// tbWriter sends the server's warnings and errors to the test log.
type tbWriter struct{ tb testing.TB }

func (w tbWriter) Write(p []byte) (int, error) {
	w.tb.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// browser is a client with its own cookie jar that does not follow redirects, so tests see
// each 303 and where it points.
type browser struct {
	tb   testing.TB
	base string
	c    *http.Client
	csrf string // the CSRF token of the last page that had one
}

func newBrowser(tb testing.TB, base string) *browser {
	tb.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return &browser{tb: tb, base: base, c: &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// do sends a request and returns the response with its body read; it remembers the page's
// CSRF token.
func (b *browser) do(req *http.Request) (*http.Response, string) {
	b.tb.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.tb.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		// A stream does not end: read its opening and hang up, as a closed tab does.
		return resp, eventStreamOpening(b.tb, resp.Body)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.tb.Fatalf("%s %s: read body: %v", req.Method, req.URL.Path, err)
	}
	if tok := csrfOf(string(body)); tok != "" {
		b.csrf = tok
	}
	return resp, string(body)
}

// eventStreamOpening reads a server-sent event stream up to its first blank line.
func eventStreamOpening(tb testing.TB, r io.Reader) string {
	tb.Helper()
	var b strings.Builder
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if sc.Text() == "" {
			return b.String()
		}
		b.WriteString(sc.Text() + "\n")
	}
	tb.Fatalf("event stream ended before its first event: %v", sc.Err())
	return ""
}

func (b *browser) get(path string) (*http.Response, string) {
	b.tb.Helper()
	req, err := http.NewRequest(http.MethodGet, b.base+path, nil)
	if err != nil {
		b.tb.Fatal(err)
	}
	return b.do(req)
}

// post sends form as application/x-www-form-urlencoded, as a browser form does.
func (b *browser) post(path string, form url.Values) (*http.Response, string) {
	b.tb.Helper()
	req, err := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// postCSRF posts form with the browser's current CSRF token added.
func (b *browser) postCSRF(path string, form url.Values) (*http.Response, string) {
	b.tb.Helper()
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	f.Set("csrf", b.csrf)
	return b.post(path, f)
}

// login logs in through the form, follows the redirect to the landing page (which holds
// the CSRF token) and fails the test unless both worked.
func login(tb testing.TB, b *browser, username, password string) {
	tb.Helper()
	resp, body := b.post("/login", url.Values{"username": {username}, "password": {password}})
	if resp.StatusCode != http.StatusSeeOther {
		tb.Fatalf("login %s: status %d, want 303; page: %s", username, resp.StatusCode, errorOf(body))
	}
	loc := resp.Header.Get("Location")
	resp, body = b.get(loc)
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("login %s: landing page %s: status %d; page: %s", username, loc, resp.StatusCode, errorOf(body))
	}
	if b.csrf == "" {
		tb.Fatalf("login %s: landing page %s has no CSRF token", username, loc)
	}
}

// newLoggedIn returns a browser logged in as username with testPW.
func newLoggedIn(tb testing.TB, base, username string) *browser {
	tb.Helper()
	b := newBrowser(tb, base)
	login(tb, b, username, testPW)
	return b
}

var (
	csrfRE  = regexp.MustCompile(`name="csrf" value="([^"]*)"`)
	errorRE = regexp.MustCompile(`(?s)<p class="error" role="alert">(.*?)</p>`)
	h1RE    = regexp.MustCompile(`(?s)<h1>(.*?)</h1>`)
)

// csrfOf returns the first CSRF token in a page's forms, or "".
func csrfOf(body string) string {
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// errorOf returns the error message a page shows, or "".
func errorOf(body string) string {
	m := errorRE.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(strings.TrimSpace(m[1]))
}

// fixture is two tenants of different kinds with their users, and an operator support user.
// Tenant B has granted support access.
type fixture struct {
	a, b                      tenant.Tenant
	aOwner, aStaff, aReadOnly user.User
	bOwner, bStaff            user.User
	support                   user.User
	bGrant                    store.Grant
	bPerson                   person.Person
}

func mustTenant(tb testing.TB, db *store.DB, kind tenant.Kind, code, name string) tenant.Tenant {
	tb.Helper()
	t, err := db.CreateTenant(testCtx, tenant.Tenant{Kind: kind, Code: code, Name: name})
	if err != nil {
		tb.Fatalf("CreateTenant: %v", err)
	}
	return t
}

func mustUser(tb testing.TB, db *store.DB, tenantID, username, name string, role user.Role) user.User {
	tb.Helper()
	u, err := db.CreateUser(testCtx, user.User{TenantID: tenantID, Username: username, Name: name, Role: role}, testPW)
	if err != nil {
		tb.Fatalf("CreateUser %s: %v", username, err)
	}
	return u
}

func newFixture(tb testing.TB, db *store.DB) fixture {
	tb.Helper()
	var f fixture
	f.a = mustTenant(tb, db, tenant.Practice, "031234567", "Hausarztpraxis Sonnenhof")
	f.b = mustTenant(tb, db, tenant.Pharmacy, "308412345", "Rosen-Apotheke")
	f.aOwner = mustUser(tb, db, f.a.ID, "a.inhaber", "Erika Mustermann", user.Owner)
	f.aStaff = mustUser(tb, db, f.a.ID, "a.team", "Max Mustermann", user.Staff)
	f.aReadOnly = mustUser(tb, db, f.a.ID, "a.lesen", "Paula Probe", user.ReadOnly)
	f.bOwner = mustUser(tb, db, f.b.ID, "b.inhaber", "Jonas Beispiel", user.Owner)
	f.bStaff = mustUser(tb, db, f.b.ID, "b.team", "Lena Testfrau", user.Staff)
	f.support = mustUser(tb, db, "", "support.anna", "Anna Betrieb", user.Support)
	var err error
	if f.bGrant, err = db.CreateGrant(testCtx, f.b.ID, 24*time.Hour); err != nil {
		tb.Fatalf("CreateGrant: %v", err)
	}
	if f.bPerson, err = db.CreatePerson(testCtx, f.b.ID, person.Person{Name: bPersonName, BirthDate: bPersonBirth}); err != nil {
		tb.Fatalf("CreatePerson: %v", err)
	}
	return f
}

// B's patient, whom A's routes must neither find, export nor erase.
const (
	bPersonName  = "Bernd Beispielmann"
	bPersonBirth = "1970-01-01"
)

// tenantState is what a tenant's owner could see of it through the store.
type tenantState struct {
	Tenant tenant.Tenant
	Users  []user.User
	Grants []store.Grant
	Policy retention.Policy
	Audit  []audit.Entry
	// Persons are the ids found for B's patient: an erasure would empty it.
	Persons []string
}

func stateOf(tb testing.TB, db *store.DB, tenantID string) tenantState {
	tb.Helper()
	var st tenantState
	var err error
	if st.Tenant, err = db.FindTenantByID(testCtx, tenantID); err != nil {
		tb.Fatalf("FindTenantByID: %v", err)
	}
	if st.Users, err = db.ListUsers(testCtx, tenantID); err != nil {
		tb.Fatalf("ListUsers: %v", err)
	}
	if st.Grants, err = db.ListGrants(testCtx, tenantID); err != nil {
		tb.Fatalf("ListGrants: %v", err)
	}
	if st.Policy, err = db.RetentionPolicy(testCtx, tenantID); err != nil {
		tb.Fatalf("RetentionPolicy: %v", err)
	}
	if st.Audit, err = db.ListAudit(testCtx, tenantID, store.AuditFilter{Limit: 500}); err != nil {
		tb.Fatalf("ListAudit: %v", err)
	}
	if st.Persons, err = db.FindPersons(testCtx, tenantID, bPersonName, bPersonBirth); err != nil {
		tb.Fatalf("FindPersons: %v", err)
	}
	return st
}

// sameState fails the test if a tenant's state differs from before.
func sameState(tb testing.TB, db *store.DB, tenantID string, before tenantState) {
	tb.Helper()
	if diff := cmp.Diff(before, stateOf(tb, db, tenantID)); diff != "" {
		tb.Errorf("tenant %s changed (-before +after):\n%s", tenantID, diff)
	}
}

// syncClock is a storetest clock safe to read from handler goroutines while the test
// advances it.
type syncClock struct {
	mu sync.Mutex
	c  *storetest.Clock
}

func newSyncClock(t time.Time) *syncClock { return &syncClock{c: storetest.NewClock(t)} }

func (c *syncClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.c.Now()
}

func (c *syncClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.c.Advance(d)
}

// pathOf turns a route pattern into a request path, with {id} replaced by id.
func pathOf(pattern, id string) (method, path string) {
	method, path, _ = strings.Cut(pattern, " ")
	path = strings.ReplaceAll(path, "{$}", "")
	path = strings.ReplaceAll(path, "{id}", url.PathEscape(id))
	return method, path
}

// takesID reports whether a route pattern has a path wildcard.
func takesID(pattern string) bool {
	return strings.Contains(strings.ReplaceAll(pattern, "{$}", ""), "{")
}

// pageRequest is a GET of path (form nil) or a POST of form to it.
type pageRequest struct {
	path string
	form url.Values
}

// refusedToOthers holds a practice owner's settings pages to their access: the practice's
// staff and read-only users get 403 for each request, the pharmacy's owner 404 (it has
// no such page) and no link to nav in its navigation.
func refusedToOthers(t *testing.T, base, nav string, reqs []pageRequest) {
	t.Helper()
	send := func(b *browser, req pageRequest) (*http.Response, string) {
		if req.form == nil {
			return b.get(req.path)
		}
		return b.postCSRF(req.path, req.form)
	}
	for _, username := range []string{"a.team", "a.lesen"} {
		b := newLoggedIn(t, base, username)
		for _, req := range reqs {
			if resp, body := send(b, req); resp.StatusCode != http.StatusForbidden || errorOf(body) != forbiddenMsg {
				t.Errorf("%s %s: status %d, error %q; want 403", username, req.path, resp.StatusCode, errorOf(body))
			}
		}
	}
	pharmacy := newLoggedIn(t, base, "b.inhaber")
	if _, body := pharmacy.get("/start"); strings.Contains(body, `href="`+nav+`"`) {
		t.Errorf("the pharmacy's navigation links %s", nav)
	}
	for _, req := range reqs {
		if resp, _ := send(pharmacy, req); resp.StatusCode != http.StatusNotFound {
			t.Errorf("pharmacy %s: status %d, want 404", req.path, resp.StatusCode)
		}
	}
}
