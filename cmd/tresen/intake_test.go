package main

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/intake"
	"github.com/tresen/tresen/internal/muster16/synth"
	"github.com/tresen/tresen/internal/retention"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/tenant"
)

// synthJPEG is a synthetic Muster 16 as a scanner writes it (300 dpi JPEG), and its truth.
func synthJPEG(t *testing.T, seed uint64) ([]byte, map[string]string) {
	t.Helper()
	truth := synth.Record(seed)
	page, err := synth.Scan(truth, synth.Options{Seed: seed}, 90)
	if err != nil {
		t.Fatal(err)
	}
	return page, truth
}

// pharmacyPages waits until the demo pharmacy holds n scanned pages none of which waits
// to be read, and returns them oldest first.
func pharmacyPages(t *testing.T, m *Main, n int) []intake.Page {
	t.Helper()
	ctx := audit.WithActor(context.Background(), audit.Actor{UserID: "test", Source: "test"})
	ph := pharmacyID(t, m)
	kind := retention.PrescriptionImage
	deadline := time.Now().Add(2 * time.Minute)
	for {
		recs, err := m.DB.ListRecords(ctx, ph, store.RecordFilter{Kind: &kind})
		if err != nil {
			t.Fatal(err)
		}
		var ps []intake.Page
		for i := len(recs) - 1; i >= 0; i-- {
			p, err := m.intake.Get(ctx, ph, recs[i].ID)
			if err != nil {
				t.Fatal(err)
			}
			if p.Status != intake.Queued {
				ps = append(ps, p)
			}
		}
		if len(ps) >= n && len(ps) == len(recs) {
			return ps
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d pages read, want %d", len(ps), len(recs), n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func pharmacyID(t *testing.T, m *Main) string {
	t.Helper()
	ts, err := m.DB.ListTenants(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, tn := range ts {
		if tn.Kind == tenant.Pharmacy {
			return tn.ID
		}
	}
	t.Fatal("no demo pharmacy")
	return ""
}

// TestIntakeHotFolderAndSANE: the scanner software drops files into the pharmacy's hot
// folder, and a batch is scanned through SANE (its test backend) from the Rezeptprüfung
// page; every page is kept, read or failed with its reason, and leaves no plaintext copy.
func TestIntakeHotFolderAndSANE(t *testing.T) {
	hot := t.TempDir()
	saneDir := t.TempDir()
	// SANE's test device, 10 small colour pages per batch (Debian ships it switched off).
	for name, content := range map[string]string{
		"dll.conf":  "test\n",
		"test.conf": "number_of_devices 1\ntest-picture \"Color pattern\"\nbr_x 30.0\nbr_y 20.0\n",
	} {
		if err := os.WriteFile(filepath.Join(saneDir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("SANE_CONFIG_DIR", saneDir)
	m, logins := MustRunMain(t, store.SQLite, func(m *Main) {
		m.Intake.HotFolder, m.Intake.pollEvery = hot, 20*time.Millisecond
		m.Intake.Scanner, m.Intake.Simplex = "sane:test:0", true
	})
	page, truth := synthJPEG(t, 11)
	dir := filepath.Join(hot, "308412345")
	for name, data := range map[string][]byte{"scan-0001.jpg": page, "scan-0002.pdf": []byte("%PDF-1.4 kaputt")} {
		if err := os.WriteFile(filepath.Join(dir, name+".part"), data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(filepath.Join(dir, name+".part"), filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	ps := pharmacyPages(t, m, 2)
	byFile := map[string]intake.Page{}
	for _, p := range ps {
		byFile[p.File] = p
		if p.Source != intake.HotFolder {
			t.Errorf("%s: source %q", p.File, p.Source)
		}
	}
	if p := byFile["scan-0001.jpg"]; p.Status != intake.Read || len(p.Checks) != 1 {
		t.Errorf("hot folder page: %+v", p)
	} else {
		c, err := m.intake.Checks.Get(context.Background(), pharmacyID(t, m), p.Checks[0])
		if err != nil || c.Paper.Fields["kvnr"].Value != truth["kvnr"] {
			t.Errorf("hot folder check: %+v %v", c.Paper, err)
		}
	}
	if p := byFile["scan-0002.pdf"]; p.Status != intake.Failed || p.Reason == "" {
		t.Errorf("broken PDF: %+v", p)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		left, _ := filepath.Glob(filepath.Join(dir, "*"))
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("files left in the hot folder: %v", left)
		}
	}

	// Scanning from the page: the batch's ten pages are kept and each has its status.
	c := pharmacyClient(t, m, logins)
	resp, err := c.PostForm(m.URL()+"/scans", url.Values{"csrf": {csrfToken(t, m, c)}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Request.URL.Path, "/scans/") {
		t.Fatalf("scan: %s at %s", resp.Status, resp.Request.URL)
	}
	ps = pharmacyPages(t, m, 12)
	scanned := 0
	for _, p := range ps {
		if p.Source != intake.Scanner {
			continue
		}
		scanned++
		if p.Status != intake.Read && (p.Status != intake.Failed || p.Reason == "") {
			t.Errorf("scanned page %d: %+v", p.Seq, p)
		}
	}
	if scanned != 10 {
		t.Errorf("%d scanned pages kept, want 10", scanned)
	}
}

// pharmacyClient is a browser of the demo pharmacy's owner, logged in.
func pharmacyClient(t *testing.T, m *Main, logins map[string]string) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Jar: jar, Timeout: 2 * time.Minute}
	resp, err := c.PostForm(m.URL()+"/login", url.Values{"username": {"apotheke.inhaber"}, "password": {logins["apotheke.inhaber"]}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login: %s", resp.Status)
	}
	return c
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrfToken reads the session's form token from the Rezeptprüfung page.
func csrfToken(t *testing.T, m *Main, c *http.Client) string {
	t.Helper()
	body := teamGet(t, m, c, "/rx", "text/html")
	sm := csrfField.FindSubmatch(body)
	if sm == nil {
		t.Fatal("no form token on /rx")
	}
	return string(sm[1])
}
