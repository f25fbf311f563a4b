package store_test

import (
	"bytes"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tresen/tresen/internal/llm"
	"github.com/tresen/tresen/internal/person"
	"github.com/tresen/tresen/internal/retention"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/tenant"
	"github.com/tresen/tresen/internal/user"
)

// Distinctive synthetic personal data, each string found nowhere else in a store.
var seededPlaintext = []string{
	"Erika Mustermannfrau",                   // person name
	"1957-03-14",                             // birth date
	"K030182229",                             // KVNR
	"+49 30 98765432",                        // phone
	"Musterweg 17, 12345 Berlin",             // address
	"erika.mustermannfrau@example.org",       // e-mail
	"Hausarztpraxis Dr. Erika Schneiderlein", // tenant name
	"Max Mustermannsohn",                     // user display name
	"Verdacht auf Mustertitis chronica",      // diagnosis-like text in a record
	"Rezeptbild der Erika Mustermannfrau",    // text inside a record file
	"sk-tresen-test-geheimschluessel",        // a language model's API key
}

// Stored in plain on purpose: institution numbers and login names are no personal data of
// patients. The scans must find them, or they would find nothing at all.
const (
	plainBSNR     = "031234567"
	plainUsername = "praxis.mustermannsohn"
)

// seedPlaintext stores every seeded string through the store's API.
func seedPlaintext(t *testing.T, db *store.DB) {
	t.Helper()
	a := mustTenant(t, db, tenant.Practice, plainBSNR, "Hausarztpraxis Dr. Erika Schneiderlein")
	if _, err := db.CreateUser(ctx, user.User{TenantID: a.ID, Username: plainUsername, Name: "Max Mustermannsohn", Role: user.Owner}, goodPW); err != nil {
		t.Fatal(err)
	}
	p, err := db.CreatePerson(ctx, a.ID, person.Person{Name: "Erika Mustermannfrau", BirthDate: "1957-03-14", KVNR: "K030182229",
		Phone: "+49 30 98765432", Email: "erika.mustermannfrau@example.org", Address: "Musterweg 17, 12345 Berlin"})
	if err != nil {
		t.Fatal(err)
	}
	data := []byte(`{"patient":"Erika Mustermannfrau","geburtsdatum":"1957-03-14","befund":"Verdacht auf Mustertitis chronica"}`)
	if _, err := db.AddRecord(ctx, a.ID, store.Record{PersonID: p.ID, Kind: retention.Request, Data: data}, []byte("Rezeptbild der Erika Mustermannfrau, KVNR K030182229")); err != nil {
		t.Fatal(err)
	}
	if err := db.SetLLMSettings(ctx, a.ID, llm.Settings{Enabled: true, BaseURL: "https://llm.example.eu/v1", Model: "m",
		APIKey: "sk-tresen-test-geheimschluessel", EUHosted: true, ZeroRetention: true}); err != nil {
		t.Fatal(err)
	}
	// Reads, a search and an export write nothing personal either.
	if _, err := db.FindPersons(ctx, a.ID, "Erika Mustermannfrau", "1957-03-14"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExportPerson(ctx, a.ID, p.ID); err != nil {
		t.Fatal(err)
	}
}

// needles returns the byte patterns a scan looks for: the text and its lower case, and,
// for scans of PostgreSQL's text form of rows, where bytea shows as hex, their hex too.
func needles(s string, withHex bool) [][]byte {
	out := [][]byte{[]byte(s), []byte(strings.ToLower(s))}
	if withHex {
		out = append(out, []byte(hex.EncodeToString([]byte(s))), []byte(hex.EncodeToString([]byte(strings.ToLower(s)))))
	}
	return out
}

// TestNoPlaintextAtRest seeds personal data through the API and proves that none of it
// reaches storage readable: on SQLite no file in the data directory (database, WAL, shared
// memory, keyring, blobs) contains it; on PostgreSQL no row of any table does, nor any file
// in the blob directory.
func TestNoPlaintextAtRest(t *testing.T) {
	storetestRunWithDir(t, func(t *testing.T, db *store.DB, dir string) {
		seedPlaintext(t, db)

		if db.Engine == store.SQLite {
			files := grepFiles(t, dir, append(seededPlaintext, plainBSNR, plainUsername))
			if len(files[plainBSNR]) == 0 || len(files[plainUsername]) == 0 {
				t.Fatalf("positive control: plain BSNR found in %v, user name in %v; the scan finds nothing", files[plainBSNR], files[plainUsername])
			}
			for _, s := range seededPlaintext {
				if len(files[s]) > 0 {
					t.Errorf("%q readable in %v", s, files[s])
				}
			}
			// The WAL holds the latest pages while the store runs; closing checkpoints
			// it into the database file. Neither state may show anything.
			names := dataFiles(t, dir)
			for _, want := range []string{"tresen.db", "tresen.db-wal", "keys.db"} {
				if !names[want] {
					t.Errorf("scan did not see %s: %v", want, names)
				}
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			files = grepFiles(t, dir, append(seededPlaintext, plainBSNR))
			if len(files[plainBSNR]) == 0 {
				t.Fatal("positive control after close: plain BSNR not found")
			}
			for _, s := range seededPlaintext {
				if len(files[s]) > 0 {
					t.Errorf("after close: %q readable in %v", s, files[s])
				}
			}
			return
		}

		// PostgreSQL: CHECKPOINT needs a superuser, so read every row of every table in
		// its text form, as the operator, past row-level security.
		var tables []string
		for _, r := range rawRows(t, db, `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename`) {
			tables = append(tables, r[0].(string))
		}
		if len(tables) < 12 {
			t.Fatalf("only %d tables: %v", len(tables), tables)
		}
		found := map[string][]string{}
		for _, table := range tables {
			for _, r := range rawRows(t, db, `SELECT t::text FROM "`+table+`" t`) {
				row := []byte(r[0].(string))
				for _, s := range append(seededPlaintext, plainBSNR, plainUsername) {
					for _, n := range needles(s, true) {
						if bytes.Contains(row, n) {
							found[s] = append(found[s], table)
							break
						}
					}
				}
			}
		}
		if !slices.Contains(found[plainBSNR], "tenants") || !slices.Contains(found[plainUsername], "users") {
			t.Fatalf("positive control: plain BSNR found in %v, user name in %v", found[plainBSNR], found[plainUsername])
		}
		// Positive control for bytea: plaintext stored as bytes shows as hex, which the
		// scan recognises.
		probe := rawRows(t, db, `SELECT convert_to($1, 'UTF8')::text`, seededPlaintext[0])[0][0].(string)
		if !bytes.Contains([]byte(probe), needles(seededPlaintext[0], true)[2]) {
			t.Fatalf("positive control: bytea text form %q not recognised", probe)
		}
		for _, s := range seededPlaintext {
			if len(found[s]) > 0 {
				t.Errorf("%q readable in table %v", s, found[s])
			}
		}
		files := grepFiles(t, filepath.Join(dir, "blobs"), seededPlaintext)
		if len(dataFiles(t, filepath.Join(dir, "blobs"))) == 0 {
			t.Fatal("no blob file to scan")
		}
		for _, s := range seededPlaintext {
			if len(files[s]) > 0 {
				t.Errorf("%q readable in blob files %v", s, files[s])
			}
		}
	})
}

// grepFiles reads every file under dir and returns, for each string, the files whose bytes
// contain it or its lower case.
func grepFiles(t *testing.T, dir string, strs []string) map[string][]string {
	t.Helper()
	found := map[string][]string{}
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		for _, s := range strs {
			for _, n := range needles(s, false) {
				if bytes.Contains(b, n) {
					found[s] = append(found[s], rel)
					break
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// dataFiles returns the names of the files under dir, relative to it.
func dataFiles(t *testing.T, dir string) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		names[filepath.ToSlash(rel)] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}
