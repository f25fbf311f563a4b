package web

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/intake"
	"github.com/tresen/tresen/internal/rxcheck"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
	"github.com/tresen/tresen/internal/tenant"
	"github.com/tresen/tresen/internal/user"
)

// TestRxScanStops: a scan that stops early (a jam) keeps what came before it, and the
// batch page says why it stopped; the page is the pharmacy's alone.
func TestRxScanStops(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		s, ts := newTestServer(t, db)
		newFixture(t, db)
		s.intake = &intake.Service{Store: db, Checks: &rxcheck.Service{Store: db, Now: db.Now}} // no workers: pages stay queued
		release := make(chan struct{})
		s.scan = func(ctx context.Context, _ string, page func(intake.File) error) error {
			if err := page(intake.File{Name: "page-0001.png", Data: []byte("\x89PNG kaputt")}); err != nil {
				return err
			}
			<-release
			return errs.E(errs.Invalid, "Papierstau im Einzug")
		}
		b := newLoggedIn(t, ts.URL, "b.team")
		resp, _ := b.postCSRF("/scans", nil)
		batch := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(batch, "/scans/") {
			close(release)
			t.Fatalf("scan: status %d to %q", resp.StatusCode, batch)
		}
		resp, body := b.get(batch)
		close(release)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Der Scanner liest den Stapel ein") {
			t.Fatalf("while scanning: status %d, %s", resp.StatusCode, errorOf(body))
		}
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			_, body = b.get(batch)
			if strings.Contains(body, "Scannen abgebrochen: Papierstau im Einzug") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the batch page does not tell the jam:\n%s", body)
			}
		}
		if !strings.Contains(body, "page-0001.png") || !strings.Contains(body, "nicht lesbar") {
			t.Errorf("the page scanned before the jam is missing:\n%s", body)
		}
		// The server stops while a scan runs: the scan ends, its page so far is kept.
		s.scan = func(ctx context.Context, _ string, page func(intake.File) error) error {
			if err := page(intake.File{Name: "page-0001.png", Data: []byte("\x89PNG kaputt")}); err != nil {
				return err
			}
			<-ctx.Done()
			return ctx.Err()
		}
		resp, _ = b.postCSRF("/scans", nil)
		stopped := resp.Header.Get("Location")
		s.Close()
		if _, body := b.get(stopped); !strings.Contains(body, "page-0001.png") || !strings.Contains(body, "Scannen abgebrochen") {
			t.Errorf("after the server stopped the scan:\n%s", body)
		}

		// Another pharmacy's staff does not see it.
		c := mustTenant(t, db, tenant.Pharmacy, "309999994", "Linden-Apotheke")
		mustUser(t, db, c.ID, "c.team", "Lars Linde", user.Staff)
		other := newLoggedIn(t, ts.URL, "c.team")
		if resp, _ := other.get(batch); resp.StatusCode != http.StatusNotFound {
			t.Errorf("other pharmacy: status %d", resp.StatusCode)
		}
	})
}
