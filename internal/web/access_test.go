package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
	"github.com/tresen/tresen/internal/user"
)

// formFor returns a form that the route's handler would accept, so that a refusal is the
// access check's doing and not the form's.
func formFor(pattern string) url.Values {
	switch pattern {
	case "POST /account/password":
		return url.Values{"current": {testPW}, "new": {"Neues-Passwort-Drei"}, "new2": {"Neues-Passwort-Drei"}}
	case "POST /account/totp/enable":
		return url.Values{"code": {"000000"}}
	case "POST /admin/users":
		return url.Values{"username": {"eingeschleust"}, "name": {"Eva Eingeschleust"}, "role": {"owner"}, "password": {testPW}}
	case "POST /admin/users/{id}/role":
		return url.Values{"role": {"owner"}}
	case "POST /admin/retention":
		return url.Values{"kind": {"request"}, "days": {"1"}}
	case "POST /admin/support":
		return url.Values{"hours": {"168"}, "confirm": {"yes"}}
	}
	return url.Values{}
}

// request sends the route's request with a valid form and the browser's CSRF token.
func (b *browser) request(pattern, id string) (*http.Response, string) {
	b.tb.Helper()
	method, path := pathOf(pattern, id)
	if method == http.MethodGet {
		return b.get(path)
	}
	return b.postCSRF(path, formFor(pattern))
}

const forbiddenMsg = "dafür fehlt die Berechtigung"

// practiceOnly reports whether a route belongs to the practice calendar, inbox, assistant,
// patient messages, PVS connection or statistics, which a pharmacy does not have: it answers 404 there.
func practiceOnly(pattern string) bool {
	_, path := pathOf(pattern, "")
	return strings.HasPrefix(path, "/calendar") || strings.HasPrefix(path, "/inbox") || strings.HasPrefix(path, "/admin/assistant") ||
		strings.HasPrefix(path, "/admin/notify") || strings.HasPrefix(path, "/admin/fhir") || strings.HasPrefix(path, "/stats")
}

// withoutSupportAccess drops what a support session writes to the audit log by reading
// (support.access and read entries): everything else must stay as it was.
func withoutSupportAccess(st tenantState) tenantState {
	var kept []audit.Entry
	for _, e := range st.Audit {
		// Support's use of a grant and what it read are logged; neither changes data.
		if e.Action != audit.SupportAccess && e.Action != audit.Read {
			kept = append(kept, e)
		}
	}
	st.Audit = kept
	return st
}

// TestAccessByRole checks the role checks of every route: staff and read-only users get
// no owner route, the operator's support sees nothing of a tenant without its grant and
// only reads, audited, with it, until the owner revokes it.
func TestAccessByRole(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		s, ts := newTestServer(t, db)
		f := newFixture(t, db)
		aGrant, err := db.CreateGrant(testCtx, f.a.ID, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		// idOf picks an object of the tenant for a route's {id}.
		idOf := func(pattern string, tenantUser, grant string) string {
			if strings.Contains(pattern, "/support/") {
				return grant
			}
			return tenantUser
		}

		for _, username := range []string{"a.team", "a.lesen"} {
			t.Run(username, func(t *testing.T) {
				b := newLoggedIn(t, ts.URL, username)
				before := stateOf(t, db, f.a.ID)
				for _, rt := range s.browserRoutes() {
					if rt.access != owner && rt.access != supportOnly {
						continue
					}
					resp, body := b.request(rt.pattern, idOf(rt.pattern, f.aOwner.ID, aGrant.ID))
					if resp.StatusCode != http.StatusForbidden || errorOf(body) != forbiddenMsg {
						t.Errorf("%s: status %d, error %q; want 403 %q", rt.pattern, resp.StatusCode, errorOf(body), forbiddenMsg)
					}
				}
				sameState(t, db, f.a.ID, before)
				for _, path := range []string{"/start", "/account"} {
					if resp, _ := b.get(path); resp.StatusCode != http.StatusOK {
						t.Errorf("GET %s: status %d, want 200", path, resp.StatusCode)
					}
				}
			})
		}

		t.Run("support", func(t *testing.T) {
			b := newBrowser(t, ts.URL)
			resp, _ := b.post("/login", url.Values{"username": {"support.anna"}, "password": {testPW}})
			if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/support" {
				t.Fatalf("support login: status %d to %q, want 303 to /support", resp.StatusCode, loc)
			}
			resp, body := b.get("/support")
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, f.b.Name) || !strings.Contains(body, f.a.Name) {
				t.Fatalf("GET /support: status %d; want 200 listing both granting tenants", resp.StatusCode)
			}
			bBefore := stateOf(t, db, f.b.ID)

			// Without a grant entered: nothing but the support page and logout.
			for _, rt := range s.browserRoutes() {
				if rt.access == public || rt.access == supportOnly || rt.access == ownAccount {
					continue
				}
				resp, body := b.request(rt.pattern, idOf(rt.pattern, f.bOwner.ID, f.bGrant.ID))
				if resp.StatusCode != http.StatusForbidden {
					t.Errorf("support without grant, %s: status %d, error %q; want 403", rt.pattern, resp.StatusCode, errorOf(body))
				}
			}
			for _, grant := range []string{"", "keine-freigabe", f.bOwner.ID} {
				if resp, _ := b.postCSRF("/support/enter", url.Values{"grant": {grant}}); resp.StatusCode != http.StatusForbidden {
					t.Errorf("POST /support/enter grant=%q: status %d, want 403", grant, resp.StatusCode)
				}
			}
			sameState(t, db, f.b.ID, bBefore)

			// With B's grant: B's start page, read-only, every request audited in B's chain.
			resp, body = b.postCSRF("/support/enter", url.Values{"grant": {f.bGrant.ID}})
			if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/start" {
				t.Fatalf("POST /support/enter: status %d to %q, error %q; want 303 to /start", resp.StatusCode, loc, errorOf(body))
			}
			resp, body = b.get("/start")
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, f.b.Name) || !strings.Contains(body, "nur lesen") {
				t.Fatalf("GET /start in grant: status %d, error %q; want B's start page with the read-only banner", resp.StatusCode, errorOf(body))
			}
			if strings.Contains(body, f.a.Name) {
				t.Errorf("GET /start in B's grant shows tenant A")
			}
			access := audit.SupportAccess
			entries, err := db.ListAudit(testCtx, f.b.ID, store.AuditFilter{Action: &access, Actor: &f.support.ID})
			if err != nil {
				t.Fatal(err)
			}
			var sawStart bool
			for _, e := range entries {
				sawStart = sawStart || (e.ObjectID == "GET /start")
			}
			if len(entries) < 2 || !sawStart {
				t.Errorf("B's audit has %d support.access entries of the support user (GET /start: %v); want the enter and the page", len(entries), sawStart)
			}
			if a, err := db.ListAudit(testCtx, f.a.ID, store.AuditFilter{Action: &access}); err != nil || len(a) != 0 {
				t.Errorf("A's audit has %d support.access entries (%v), want none", len(a), err)
			}

			for _, rt := range s.browserRoutes() {
				if rt.access == public || rt.pattern == "POST /logout" || rt.pattern == "POST /support/enter" {
					continue
				}
				resp, body := b.request(rt.pattern, idOf(rt.pattern, f.bStaff.ID, f.bGrant.ID))
				method, _ := pathOf(rt.pattern, "")
				switch {
				case method == http.MethodPost && resp.StatusCode != http.StatusForbidden:
					t.Errorf("support in grant, %s: status %d, error %q; want 403 (read-only)", rt.pattern, resp.StatusCode, errorOf(body))
				case method == http.MethodGet && (rt.access == owner || rt.access == writer) && resp.StatusCode != http.StatusForbidden:
					t.Errorf("support in grant, %s: status %d; want 403 (a page to change something)", rt.pattern, resp.StatusCode)
				case method == http.MethodGet && rt.access != owner && rt.access != writer && resp.StatusCode != http.StatusOK &&
					!(takesID(rt.pattern) && resp.StatusCode == http.StatusNotFound) &&
					!(rt.pattern == "GET /rx/next" && resp.StatusCode == http.StatusSeeOther) && // on to what needs review
					!(practiceOnly(rt.pattern) && resp.StatusCode == http.StatusNotFound): // B is a pharmacy
					t.Errorf("support in grant, %s: status %d, error %q; want 200", rt.pattern, resp.StatusCode, errorOf(body))
				}
			}
			if diff := cmp.Diff(withoutSupportAccess(bBefore), withoutSupportAccess(stateOf(t, db, f.b.ID))); diff != "" {
				t.Errorf("support in grant changed B (-before +after):\n%s", diff)
			}
			if u, err := db.FindUserByUsername(testCtx, "support.anna"); err != nil || u.TOTPEnabled || u.Role != user.Support {
				t.Errorf("support user changed: %+v, %v", u, err)
			}

			// The owner revokes the grant: the support session ends at once.
			owner := newLoggedIn(t, ts.URL, "b.inhaber")
			resp, body = owner.postCSRF("/admin/support/"+f.bGrant.ID+"/revoke", nil)
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, "widerrufen") {
				t.Fatalf("revoke: status %d, error %q", resp.StatusCode, errorOf(body))
			}
			for _, path := range []string{"/start", "/support", "/account"} {
				resp, _ := b.get(path)
				if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
					t.Errorf("GET %s after revoke: status %d to %q, want 303 to /login", path, resp.StatusCode, resp.Header.Get("Location"))
				}
			}
			// A new support session cannot use the revoked grant either.
			b = newLoggedIn(t, ts.URL, "support.anna")
			if resp, _ := b.postCSRF("/support/enter", url.Values{"grant": {f.bGrant.ID}}); resp.StatusCode != http.StatusForbidden {
				t.Errorf("POST /support/enter with revoked grant: status %d, want 403", resp.StatusCode)
			}
			if resp, _ := b.get("/start"); resp.StatusCode != http.StatusForbidden {
				t.Errorf("GET /start after revoke: status %d, want 403", resp.StatusCode)
			}
		})

		// Support users manage their own account outside any grant: an operator-issued first
		// password must be replaced, a second factor set up, and logout must work.
		t.Run("support account", func(t *testing.T) {
			if _, err := db.CreateUser(testCtx, user.User{Username: "support.ben", Name: "Ben Betrieb", Role: user.Support, MustChangePassword: true}, testPW); err != nil {
				t.Fatal(err)
			}
			b := newBrowser(t, ts.URL)
			resp, _ := b.post("/login", url.Values{"username": {"support.ben"}, "password": {testPW}})
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("login: status %d", resp.StatusCode)
			}
			if resp, _ := b.get("/support"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account" {
				t.Errorf("GET /support before the password change: status %d to %q, want 303 to /account", resp.StatusCode, resp.Header.Get("Location"))
			}
			resp, body := b.get("/account")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET /account: status %d, error %q; a support user who must change the password is stuck", resp.StatusCode, errorOf(body))
			}
			resp, body = b.postCSRF("/account/password", url.Values{"current": {testPW}, "new": {"Betrieb-Passwort-4"}, "new2": {"Betrieb-Passwort-4"}})
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("POST /account/password: status %d, error %q", resp.StatusCode, errorOf(body))
			}
			b = newBrowser(t, ts.URL)
			login(t, b, "support.ben", "Betrieb-Passwort-4")
			if resp, body := b.postCSRF("/account/totp", nil); resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="totp-secret"`) {
				t.Errorf("POST /account/totp outside a grant: status %d, error %q; want the setup page", resp.StatusCode, errorOf(body))
			}
			if resp, _ := b.postCSRF("/logout", nil); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
				t.Errorf("POST /logout outside a grant: status %d to %q, want 303 to /login", resp.StatusCode, resp.Header.Get("Location"))
			}
			if resp, _ := b.get("/support"); resp.StatusCode != http.StatusSeeOther {
				t.Errorf("GET /support after logout: status %d, want 303", resp.StatusCode)
			}
		})
	})
}
