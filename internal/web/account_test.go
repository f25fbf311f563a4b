package web

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
)

var secretRE = regexp.MustCompile(`<code id="totp-secret">([A-Z2-7]+)</code>`)

// TestTOTPSetupKeepsSecret: after a wrong code the setup page shows the secret the store
// holds, whatever the form posted.
func TestTOTPSetupKeepsSecret(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		_, ts := newTestServer(t, db)
		newFixture(t, db)
		b := newLoggedIn(t, ts.URL, "a.team")
		_, body := b.postCSRF("/account/totp", url.Values{})
		m := secretRE.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no secret on the setup page: %s", errorOf(body))
		}
		forged := "otpauth://totp/Tresen:a.team?secret=AAAAAAAAAAAAAAAA&issuer=Tresen"
		resp, body := b.postCSRF("/account/totp/enable", url.Values{"code": {"000000"}, "url": {forged}})
		if resp.StatusCode != 422 || !strings.Contains(errorOf(body), "der Code stimmt nicht") {
			t.Fatalf("wrong code: %d %q", resp.StatusCode, errorOf(body))
		}
		again := secretRE.FindStringSubmatch(body)
		if again == nil || again[1] != m[1] {
			t.Errorf("setup page after a wrong code shows %v, want the stored secret %s", again, m[1])
		}
	})
}
