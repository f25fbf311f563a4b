package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/person"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
	"github.com/tresen/tresen/internal/vault"
)

// cli runs the tresen command line in-process and returns exit status, stdout and stderr.
func cli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func mustCLI(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := cli(t, args...)
	if code != 0 {
		t.Fatalf("tresen %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

func TestCLI(t *testing.T) {
	t.Setenv("TRESEN_MASTER_KEY", vault.NewMasterKeyText("k1"))
	t.Setenv("TRESEN_PEPPER", base64.StdEncoding.EncodeToString([]byte("cli-test-pepper-0123456789")))
	for _, e := range storetest.Engines {
		t.Run(string(e), func(t *testing.T) {
			dir := t.TempDir()
			where := []string{"--data", dir}
			if e == store.Postgres {
				where = append(where, "--postgres", storetest.NewPostgresDB(t))
			}
			with := func(args ...string) []string { return append(args, where...) }

			// Bad input: exit 2 and a one-line reason naming the field.
			code, _, errOut := cli(t, with("tenant", "add", "--kind", "pharmacy", "--code", "308412340", "--name", "Rosen-Apotheke")...)
			if code != 2 || !strings.Contains(errOut, "ik: die Prüfziffer des IK stimmt nicht") {
				t.Errorf("bad IK: exit %d, %q", code, errOut)
			}
			if code, _, _ := cli(t, "gibtsnicht"); code != 2 {
				t.Errorf("unknown command: exit %d", code)
			}
			if code, _, errOut := cli(t, "rx", "ocr"); code != 2 || !strings.Contains(errOut, "kein Bild angegeben") {
				t.Errorf("rx ocr: exit %d %q", code, errOut)
			}

			practice := strings.TrimSpace(mustCLI(t, with("tenant", "add", "--kind", "practice", "--code", "031234567", "--name", "Hausarztpraxis Dr. Erika Schneider")...))
			pharmacy := strings.TrimSpace(mustCLI(t, with("tenant", "add", "--kind", "pharmacy", "--code", "308412345", "--name", "Rosen-Apotheke")...))
			out := mustCLI(t, with("user", "add", "--tenant", practice, "--username", "praxis.inhaber", "--name", "Dr. Erika Schneider", "--role", "owner")...)
			if !strings.Contains(out, "Erstes Passwort: ") {
				t.Errorf("user add printed no first password: %q", out)
			}
			if out := mustCLI(t, with("tenant", "list")...); !strings.Contains(out, "Rosen-Apotheke") || !strings.Contains(out, practice) {
				t.Errorf("tenant list: %q", out)
			}
			out = mustCLI(t, with("user", "reset", "praxis.inhaber")...)
			if !strings.Contains(out, "/reset?token=") {
				t.Errorf("user reset: %q", out)
			}

			// A person with a record and a file, made through the store as later features will.
			personID := seedPerson(t, e, dir, where, practice)

			x := filepath.Join(dir, "auskunft.zip")
			mustCLI(t, with("person", "export", practice, personID, x)...)
			files := zipFiles(t, x)
			if !strings.Contains(files["Zusammenfassung.txt"], "Name: Erika Mustermann") || !strings.Contains(files["daten.json"], "K030182229") {
				t.Errorf("person export lacks the person: %v", files)
			}
			if len(files) != 3 {
				t.Errorf("person export has %d files, want daten.json, Zusammenfassung.txt and one file", len(files))
			}

			if out := mustCLI(t, with("purge")...); !strings.Contains(out, "fällig: 0 Datensätze") {
				t.Errorf("purge dry run: %q", out)
			}
			if out := mustCLI(t, with("purge", "--now")...); !strings.Contains(out, "gelöscht: 0 Datensätze") {
				t.Errorf("purge: %q", out)
			}
			if out := mustCLI(t, with("audit", "verify")...); !strings.Contains(out, "Protokoll unversehrt") {
				t.Errorf("audit verify: %q", out)
			}
			if out := mustCLI(t, with("keys", "rotate")...); !strings.Contains(out, "0 Schlüssel neu verpackt") {
				t.Errorf("keys rotate with one master key: %q", out)
			}

			// Backup; on SQLite also restore into a fresh directory that uses the source's
			// keyring. (PostgreSQL keeps its keyring in its database; the store tests restore
			// across engines with the keys copied.)
			bak := filepath.Join(dir, "tresen.bak")
			mustCLI(t, with("backup", bak)...)
			if e == store.SQLite {
				fresh, keys := t.TempDir(), filepath.Join(dir, "keys.db")
				mustCLI(t, "restore", bak, "--data", fresh, "--keys", keys)
				if out := mustCLI(t, "tenant", "list", "--data", fresh, "--keys", keys); !strings.Contains(out, "Rosen-Apotheke") {
					t.Errorf("restored tenant list: %q", out)
				}
				if code, _, errOut := cli(t, "restore", bak, "--data", fresh, "--keys", keys); code == 0 || !strings.Contains(errOut, "nicht leer") {
					t.Errorf("restore into a non-empty store: exit %d %q", code, errOut)
				}
			}

			arch := filepath.Join(dir, "apotheke.zip")
			mustCLI(t, with("tenant", "export", pharmacy, arch)...)
			if files := zipFiles(t, arch); !strings.Contains(files["Zusammenfassung.txt"], "Rosen-Apotheke") || files["protokoll.json"] == "" {
				t.Errorf("tenant export: %v", files)
			}

			mustCLI(t, with("person", "erase", practice, personID)...)
			if code, _, errOut := cli(t, with("person", "export", practice, personID, x)...); code != 2 || !strings.Contains(errOut, "Person nicht gefunden") {
				t.Errorf("export after erase: exit %d %q", code, errOut)
			}
			mustCLI(t, with("tenant", "delete", pharmacy)...)
			if out := mustCLI(t, with("tenant", "list")...); strings.Contains(out, "Rosen-Apotheke") {
				t.Errorf("deleted tenant still listed: %q", out)
			}
			if out := mustCLI(t, with("audit", "verify")...); !strings.Contains(out, "Protokoll unversehrt") {
				t.Errorf("audit verify at the end: %q", out)
			}
		})
	}
}

// seedPerson stores a person with a record and a file in the store the CLI uses.
func seedPerson(t *testing.T, e store.Engine, dir string, where []string, tenantID string) string {
	t.Helper()
	fs, cfg := storeFlags("seed")
	if _, err := parse(fs, where); err != nil {
		t.Fatal(err)
	}
	db, err := cfg.openStore(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := audit.WithActor(context.Background(), audit.Actor{UserID: "test", Source: "test"})
	p, err := db.CreatePerson(ctx, tenantID, person.Person{Name: "Erika Mustermann", BirthDate: "1964-08-12", KVNR: "K030182229"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddRecord(ctx, tenantID, store.Record{PersonID: p.ID, Kind: "request", Data: []byte(`{"anliegen":"Folgerezept"}`)}, []byte("Sprachnachricht")); err != nil {
		t.Fatal(err)
	}
	return p.ID
}

func zipFiles(t *testing.T, path string) map[string]string {
	t.Helper()
	z, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	out := map[string]string{}
	for _, f := range z.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		out[f.Name] = string(b)
	}
	return out
}

// TestTenantToken issues a FHIR API token on the command line and uses it against the
// running service.
func TestTenantToken(t *testing.T) {
	m, _ := MustRunMain(t, store.SQLite)
	dir := m.Config.DataDir
	var id string
	for line := range strings.Lines(mustCLI(t, "tenant", "list", "--data", dir)) {
		if strings.Contains(line, "Hausarztpraxis") {
			id, _, _ = strings.Cut(line, "\t")
		}
	}
	out := mustCLI(t, "tenant", "token", id, "--name", "PVS Test", "--scopes", "system/Slot.read system/Appointment.write", "--data", dir)
	token := regexp.MustCompile(`trs_\S+`).FindString(out)
	tokenID := regexp.MustCompile(`Zugriffsschlüssel (\S+) \(`).FindStringSubmatch(out)
	if token == "" || tokenID == nil {
		t.Fatalf("no token printed:\n%s", out)
	}
	get := func() int {
		req, _ := http.NewRequest("GET", m.URL()+"/fhir/Slot?service-type=sprechstunde&_count=1", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get(); code != http.StatusOK {
		t.Errorf("FHIR with the new token: %d", code)
	}
	mustCLI(t, "tenant", "token", id, "--revoke", tokenID[1], "--data", dir)
	if code := get(); code != http.StatusUnauthorized {
		t.Errorf("FHIR with the revoked token: %d", code)
	}
	if code, _, errOut := cli(t, "tenant", "token", id, "--name", "x", "--scopes", "alles", "--data", dir); code != 2 || !strings.Contains(errOut, "Berechtigung") {
		t.Errorf("bad scope: %d %q", code, errOut)
	}
}

func TestTenantNotify(t *testing.T) {
	t.Setenv("TRESEN_MASTER_KEY", vault.NewMasterKeyText("k1"))
	t.Setenv("TRESEN_PEPPER", base64.StdEncoding.EncodeToString([]byte("notify-test-pepper-0123456789")))
	dir := t.TempDir()
	id := strings.TrimSpace(mustCLI(t, "tenant", "add", "--kind", "practice", "--code", "031234567", "--name", "Praxis", "--data", dir))
	if code, _, errOut := cli(t, "tenant", "notify", id, "--practice-name", "Praxis", "--sms-url", "http://sms.example.de/send", "--data", dir); code != 2 || !strings.Contains(errOut, "https://") {
		t.Errorf("plain http gateway: %d %q", code, errOut)
	}
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"tenant", "notify", id, "--practice-name", "Praxis", "--smtp-addr", "mail.example.de:587",
		"--smtp-from", "praxis@example.de", "--smtp-starttls", "--secrets-stdin", "--data", dir}, strings.NewReader("smtp-password=geheim\n"), &out, &errOut)
	if code != 0 || !strings.Contains(out.String(), "gespeichert") {
		t.Errorf("notify: %d %q %q", code, out.String(), errOut.String())
	}
}

func TestTenantPVS(t *testing.T) {
	t.Setenv("TRESEN_MASTER_KEY", vault.NewMasterKeyText("k1"))
	t.Setenv("TRESEN_PEPPER", base64.StdEncoding.EncodeToString([]byte("pvs-test-pepper-0123456789")))
	dir := t.TempDir()
	id := strings.TrimSpace(mustCLI(t, "tenant", "add", "--kind", "practice", "--code", "031234567", "--name", "Praxis", "--data", dir))
	if code, _, errOut := cli(t, "tenant", "pvs", id, "--base", "http://pvs.example.de/fhir", "--data", dir); code != 2 || !strings.Contains(errOut, "https://") {
		t.Errorf("plain http PVS: %d %q", code, errOut)
	}
	if code, _, errOut := cli(t, "tenant", "pvs", id, "--base", "https://pvs.example.de/fhir", "--schedules", "Schneider", "--data", dir); code != 2 || !strings.Contains(errOut, "Name=ID") {
		t.Errorf("bad schedules: %d %q", code, errOut)
	}
	if out := mustCLI(t, "tenant", "pvs", id, "--base", "https://pvs.example.de/fhir", "--schedules", "Schneider=s1,Weber=s2", "--data", dir); !strings.Contains(out, "verbunden") {
		t.Errorf("connect: %q", out)
	}
	if out := mustCLI(t, "tenant", "pvs", id, "--off", "--data", dir); !strings.Contains(out, "getrennt") {
		t.Errorf("disconnect: %q", out)
	}
}
