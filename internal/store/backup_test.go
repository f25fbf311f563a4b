package store_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/person"
	"github.com/tresen/tresen/internal/retention"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
	"github.com/tresen/tresen/internal/tenant"
	"github.com/tresen/tresen/internal/user"
	"github.com/tresen/tresen/internal/vault"
)

// backupTables are the tables a backup holds, with their primary keys; TestBackupCoversSchema
// proves that they are all the data tables there are.
var backupTables = store.BackupTables()

type row = map[string]any

// dumpTables reads every row of every backed-up table, sorted by primary key, straight from
// the database behind cfg.
func dumpTables(tb testing.TB, cfg store.Config) map[string][]row {
	tb.Helper()
	var h *sql.DB
	var err error
	if cfg.PostgresURL != "" {
		h, err = sql.Open("pgx", cfg.PostgresURL)
	} else {
		h, err = sql.Open("sqlite", "file:"+filepath.Join(cfg.DataDir, "tresen.db")+"?_pragma=query_only(1)&_pragma=busy_timeout(10000)")
	}
	if err != nil {
		tb.Fatal(err)
	}
	defer h.Close()
	tx, err := h.BeginTx(ctx, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer tx.Rollback()
	if cfg.PostgresURL != "" {
		if _, err := tx.Exec(`SELECT set_config('tresen.tenant', '*', true)`); err != nil {
			tb.Fatal(err)
		}
	}
	out := map[string][]row{}
	for _, t := range backupTables {
		rows, err := tx.Query(`SELECT * FROM ` + t.Name + ` ORDER BY ` + t.PK)
		if err != nil {
			tb.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				tb.Fatal(err)
			}
			r := row{}
			for i, c := range cols {
				r[c] = vals[i]
			}
			out[t.Name] = append(out[t.Name], r)
		}
		if err := rows.Err(); err != nil {
			tb.Fatal(err)
		}
		rows.Close()
	}
	return out
}

// pk returns a row's primary key as text.
func pk(table string, r row) string {
	for _, t := range backupTables {
		if t.Name == table {
			var parts []string
			for _, c := range strings.Split(t.PK, ", ") {
				parts = append(parts, fmt.Sprint(r[c]))
			}
			return strings.Join(parts, "|")
		}
	}
	panic("unknown table " + table)
}

// withoutBackupAudit drops what a backup and a restore add after the snapshot: their audit
// entries and the system chain's head (which VerifyAudit checks instead).
func withoutBackupAudit(d map[string][]row) map[string][]row {
	out := map[string][]row{}
	for t, rows := range d {
		for _, r := range rows {
			if t == "audit_log" && (r["action"] == string(audit.Backup) || r["action"] == string(audit.Restore)) ||
				t == "audit_heads" && r["chain"] == audit.SystemChain {
				continue
			}
			out[t] = append(out[t], r)
		}
	}
	return out
}

func newMaster(tb testing.TB, id string) *vault.MasterKeys {
	tb.Helper()
	mk, err := vault.ParseMasterKeys(vault.NewMasterKeyText(id))
	if err != nil {
		tb.Fatal(err)
	}
	return mk
}

// openStore opens a fresh store on engine e; keyring, if set, is the SQLite keyring to use.
func openStore(tb testing.TB, e store.Engine, mk *vault.MasterKeys, keyring string) (*store.DB, store.Config) {
	tb.Helper()
	cfg := storetest.Config(tb, e, storetest.Options{Master: mk})
	if e == store.SQLite {
		cfg.KeyringPath = keyring
	}
	db, err := store.Open(ctx, cfg)
	if err != nil {
		tb.Fatalf("open %s store: %v", e, err)
	}
	tb.Cleanup(func() { db.Close() })
	return db, cfg
}

// openTarget opens a fresh store on engine e for restoring a backup of src: same master
// key, and src's keyring, shared in SQLite mode and copied otherwise.
func openTarget(tb testing.TB, e store.Engine, mk *vault.MasterKeys, src *store.DB, srcCfg store.Config) (*store.DB, store.Config) {
	tb.Helper()
	if e == store.SQLite && src.Engine == store.SQLite {
		return openStore(tb, e, mk, filepath.Join(srcCfg.DataDir, "keys.db"))
	}
	dst, cfg := openStore(tb, e, mk, "")
	copyKeys(tb, src, dst)
	return dst, cfg
}

func copyKeys(tb testing.TB, src, dst *store.DB) {
	tb.Helper()
	keys, err := src.Keys.ListKeys(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	for _, k := range keys {
		if err := dst.Keys.PutKey(ctx, k); err != nil {
			tb.Fatal(err)
		}
	}
}

// recordKind is the kind of record a tenant of kind k keeps.
func recordKind(k tenant.Kind) retention.Kind {
	if k == tenant.Practice {
		return retention.Request
	}
	return retention.PrescriptionImage
}

func mustRecord(tb testing.TB, db *store.DB, t tenant.Tenant, personID string, file []byte) store.Record {
	tb.Helper()
	r, err := db.AddRecord(ctx, t.ID, store.Record{PersonID: personID, Kind: recordKind(t.Kind), Data: []byte(`{"text":"Rezept bitte"}`)}, file)
	if err != nil {
		tb.Fatalf("AddRecord: %v", err)
	}
	return r
}

func file(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i*7)
	}
	return b
}

// seed fills every table a tenant has: users, a session, a reset token, a support grant, a
// retention policy, persons and records with and without files; plus a support user.
func seed(tb testing.TB, db *store.DB, tenants ...tenant.Tenant) (persons, records int) {
	tb.Helper()
	mustUser(tb, db, "", "support.anna", user.Support)
	for i, t := range tenants {
		mustUser(tb, db, t.ID, fmt.Sprintf("inhaber.%d", i), user.Owner)
		staff := mustUser(tb, db, t.ID, fmt.Sprintf("team.%d", i), user.Staff)
		if _, err := db.CreateSession(ctx, staff, false); err != nil {
			tb.Fatal(err)
		}
		if _, err := db.CreateResetToken(ctx, t.ID, staff.ID); err != nil {
			tb.Fatal(err)
		}
		if _, err := db.CreateGrant(ctx, t.ID, 24*time.Hour); err != nil {
			tb.Fatal(err)
		}
		if t.Kind == tenant.Practice {
			if err := db.SetRetention(ctx, t.ID, retention.Request, 14); err != nil {
				tb.Fatal(err)
			}
		}
		for j := range 2 {
			p := mustPerson(tb, db, t.ID, fmt.Sprintf("Erika Mustermann %d", j))
			mustRecord(tb, db, t, p.ID, file(3000+j, byte(i*10+j)))
			mustRecord(tb, db, t, p.ID, nil)
			persons, records = persons+1, records+2
		}
		mustRecord(tb, db, t, "", file(10, byte(i)))
		records++
	}
	return persons, records
}

func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestBackupRestoreUnderLoad(t *testing.T) {
	for _, e := range storetest.Engines {
		t.Run(string(e), func(t *testing.T) {
			mk := newMaster(t, "test")
			src, srcCfg := openStore(t, e, mk, "")
			a, b := twoTenants(t, src)
			seededPersons, seededRecords := seed(t, src, a, b)

			// Writers keep adding persons and records, with files, while the backup runs.
			var wrote atomic.Int64
			stop := make(chan struct{})
			var wg sync.WaitGroup
			errc := make(chan error, 3)
			for i := range 3 {
				wg.Go(func() {
					tn := []tenant.Tenant{a, b}[i%2]
					for n := 0; ; n++ {
						select {
						case <-stop:
							return
						default:
						}
						p, err := src.CreatePerson(ctx, tn.ID, person.Person{Name: fmt.Sprintf("Max Muster %d-%d", i, n)})
						if err == nil {
							_, err = src.AddRecord(ctx, tn.ID, store.Record{PersonID: p.ID, Kind: recordKind(tn.Kind), Data: []byte(`{}`)}, file(500+n, byte(n)))
						}
						if err != nil {
							errc <- err
							return
						}
						wrote.Add(1)
					}
				})
			}
			waitFor(t, "writers to start", func() bool { return wrote.Load() >= 3 })
			var backup bytes.Buffer
			stats, err := src.Backup(ctx, &backup)
			if err != nil {
				t.Fatalf("Backup: %v", err)
			}
			// Each writer may have one write in flight that committed before the snapshot;
			// beyond those, at least one write is surely left out of the backup.
			after := wrote.Load()
			waitFor(t, "writes after the backup", func() bool { return wrote.Load() >= after+4 })
			close(stop)
			wg.Wait()
			close(errc)
			for err := range errc {
				t.Fatalf("writer: %v", err)
			}
			if stats.Blobs == 0 || stats.BlobsMissing != 0 || stats.Rows["records"] < seededRecords {
				t.Errorf("Backup stats = %+v", stats)
			}
			for _, plain := range []string{"Erika Mustermann", "Rosen-Apotheke", "Rezept bitte"} {
				if bytes.Contains(backup.Bytes(), []byte(plain)) {
					t.Errorf("backup contains %q in plaintext", plain)
				}
			}

			dst, dstCfg := openTarget(t, e, mk, src, srcCfg)
			rstats, err := dst.Restore(ctx, bytes.NewReader(backup.Bytes()))
			if err != nil {
				t.Fatalf("Restore: %v", err)
			}
			if diff := cmp.Diff(stats, rstats); diff != "" {
				t.Errorf("Restore stats differ from Backup stats (-backup +restore):\n%s", diff)
			}

			got, want := dumpTables(t, dstCfg), dumpTables(t, srcCfg)
			for _, tb := range backupTables {
				if n := len(withoutBackupAudit(got)[tb.Name]); n != stats.Rows[tb.Name] && tb.Name != "audit_heads" {
					t.Errorf("%s: %d rows restored, backup said %d", tb.Name, n, stats.Rows[tb.Name])
				}
			}
			got, want = withoutBackupAudit(got), withoutBackupAudit(want)
			// Tables the writers do not touch come back whole; the others as a prefix: each
			// restored row exists unchanged in the source.
			for _, tb := range backupTables {
				switch tb.Name {
				case "persons", "records", "audit_log", "audit_heads":
					byKey := map[string]row{}
					for _, r := range want[tb.Name] {
						byKey[pk(tb.Name, r)] = r
					}
					for _, r := range got[tb.Name] {
						if tb.Name == "audit_heads" {
							continue // heads move on; VerifyAudit checks them below
						}
						if diff := cmp.Diff(byKey[pk(tb.Name, r)], r); diff != "" {
							t.Errorf("%s %s differs from the source (-source +restored):\n%s", tb.Name, pk(tb.Name, r), diff)
						}
					}
				default:
					if diff := cmp.Diff(want[tb.Name], got[tb.Name]); diff != "" {
						t.Errorf("%s (-source +restored):\n%s", tb.Name, diff)
					}
				}
			}
			if len(got["persons"]) < seededPersons || len(got["records"]) < seededRecords {
				t.Errorf("restored %d persons, %d records; seeded %d, %d", len(got["persons"]), len(got["records"]), seededPersons, seededRecords)
			}
			if len(got["records"]) >= len(want["records"]) {
				t.Errorf("restored %d of %d records: writes after the snapshot got in", len(got["records"]), len(want["records"]))
			}

			// One snapshot: every restored person and record has its audit entry and every
			// audit entry of a creation its row, and every chain ends at its head.
			created := map[string]bool{}
			for _, r := range got["audit_log"] {
				_, isRecord := retention.Lookup(retention.Kind(r["object_type"].(string)))
				if r["action"] == string(audit.Create) && (r["object_type"] == "person" || isRecord == nil) {
					created[r["object_id"].(string)] = true
				}
			}
			rowIDs := map[string]bool{}
			for _, tb := range []string{"persons", "records"} {
				for _, r := range got[tb] {
					rowIDs[r["id"].(string)] = true
				}
			}
			if diff := cmp.Diff(created, rowIDs); diff != "" {
				t.Errorf("audited creations and restored rows differ (-audit +rows):\n%s", diff)
			}
			v, err := dst.VerifyAudit(ctx)
			if err != nil || !v.OK() {
				t.Errorf("VerifyAudit on the restore = %v, %v", v.Problems, err)
			}

			files := 0
			for _, r := range got["records"] {
				if r["blob_key"] == "" {
					continue
				}
				tid, id := r["tenant_id"].(string), r["id"].(string)
				gotFile, err := dst.RecordFile(ctx, tid, id)
				if err != nil {
					t.Fatalf("restored RecordFile: %v", err)
				}
				wantFile, err := src.RecordFile(ctx, tid, id)
				if err != nil || !bytes.Equal(gotFile, wantFile) {
					t.Fatalf("restored file of %s differs (source err %v)", id, err)
				}
				files++
			}
			if files != stats.Blobs {
				t.Errorf("%d files readable, backup holds %d", files, stats.Blobs)
			}
			if p, err := dst.FindTenantByID(ctx, b.ID); err != nil || p.Name != "Rosen-Apotheke" {
				t.Errorf("restored tenant = %+v, %v", p, err)
			}
			backups, err := src.ListAudit(ctx, audit.SystemChain, store.AuditFilter{Action: ptr(audit.Backup)})
			if err != nil || len(backups) != 1 || !strings.Contains(backups[0].Detail, "records=") {
				t.Errorf("backup audit entries = %+v, %v", backups, err)
			}
			restores, err := dst.ListAudit(ctx, audit.SystemChain, store.AuditFilter{Action: ptr(audit.Restore)})
			if err != nil || len(restores) != 1 {
				t.Errorf("restore audit entries = %+v, %v", restores, err)
			}
			t.Logf("%s: backup of %d bytes holds %d of %d records, %d files", e, backup.Len(), len(got["records"]), len(want["records"]), stats.Blobs)
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestBackupCrossEngine(t *testing.T) {
	for _, c := range []struct{ from, to store.Engine }{{store.SQLite, store.Postgres}, {store.Postgres, store.SQLite}} {
		t.Run(string(c.from)+"-"+string(c.to), func(t *testing.T) {
			mk := newMaster(t, "test")
			src, srcCfg := openStore(t, c.from, mk, "")
			a, b := twoTenants(t, src)
			seed(t, src, a, b)
			p := mustPerson(t, src, a.ID, "Erika Mustermann")
			r := mustRecord(t, src, a, p.ID, file(70_000, 3)) // spans two chunks
			var backup bytes.Buffer
			if _, err := src.Backup(ctx, &backup); err != nil {
				t.Fatal(err)
			}
			dst, dstCfg := openTarget(t, c.to, mk, src, srcCfg)
			if _, err := dst.Restore(ctx, &backup); err != nil {
				t.Fatalf("Restore: %v", err)
			}
			want, got := withoutBackupAudit(dumpTables(t, srcCfg)), withoutBackupAudit(dumpTables(t, dstCfg))
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("tables (-%s +%s):\n%s", c.from, c.to, diff)
			}
			if v, err := dst.VerifyAudit(ctx); err != nil || !v.OK() {
				t.Errorf("VerifyAudit = %v, %v", v.Problems, err)
			}
			if gp, err := dst.FindPersonByID(ctx, a.ID, p.ID); err != nil || gp.Name != "Erika Mustermann" || gp.KVNR != "K030182229" {
				t.Errorf("FindPersonByID = %+v, %v", gp, err)
			}
			if f, err := dst.RecordFile(ctx, a.ID, r.ID); err != nil || !bytes.Equal(f, file(70_000, 3)) {
				t.Errorf("RecordFile: %v", err)
			}
		})
	}
}

func TestBackupCryptoShredding(t *testing.T) {
	for _, e := range storetest.Engines {
		t.Run(string(e), func(t *testing.T) {
			mk := newMaster(t, "test")
			src, srcCfg := openStore(t, e, mk, "")
			a, b := twoTenants(t, src)
			pa, pb := mustPerson(t, src, a.ID, "Erika Mustermann"), mustPerson(t, src, b.ID, "Max Mustermann")
			ra, rb := mustRecord(t, src, a, pa.ID, file(100, 1)), mustRecord(t, src, b, pb.ID, file(100, 2))
			var backup bytes.Buffer
			if _, err := src.Backup(ctx, &backup); err != nil {
				t.Fatal(err)
			}
			if err := src.DeleteTenant(ctx, a.ID); err != nil {
				t.Fatal(err)
			}

			// The backup is restored with the keyring as it is now, without A's key.
			dst, dstCfg := openTarget(t, e, mk, src, srcCfg)
			stats, err := dst.Restore(ctx, &backup)
			if err != nil {
				t.Fatalf("Restore: %v", err)
			}
			if stats.MissingKeys != 1 {
				t.Errorf("MissingKeys = %d, want 1 (tenant A)", stats.MissingKeys)
			}
			if got, err := dst.FindTenantByID(ctx, b.ID); err != nil || got.Name != "Rosen-Apotheke" {
				t.Errorf("tenant B = %+v, %v", got, err)
			}
			if got, err := dst.FindPersonByID(ctx, b.ID, pb.ID); err != nil || got.Name != "Max Mustermann" {
				t.Errorf("person of B = %+v, %v", got, err)
			}
			if f, err := dst.RecordFile(ctx, b.ID, rb.ID); err != nil || !bytes.Equal(f, file(100, 2)) {
				t.Errorf("file of B: %v", err)
			}

			// A's rows are back, but nothing of them can be read.
			n := 0
			for _, r := range dumpTables(t, dstCfg)["persons"] {
				if r["tenant_id"] == a.ID {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%d persons of A restored, want 1", n)
			}
			if _, err := dst.FindTenantByID(ctx, a.ID); !errs.Is(err, errs.NotFound) {
				t.Errorf("tenant A readable after shredding: %v", err)
			}
			if _, err := dst.FindPersonByID(ctx, a.ID, pa.ID); !errs.Is(err, errs.NotFound) {
				t.Errorf("person of A readable after shredding: %v", err)
			}
			if _, err := dst.RecordFile(ctx, a.ID, ra.ID); !errs.Is(err, errs.NotFound) {
				t.Errorf("file of A readable after shredding: %v", err)
			}
		})
	}
}

// chunkEnds returns the offsets at which the header and each chunk of a backup end.
func chunkEnds(b []byte) []int {
	idLen := int(b[len("TRESEN-BACKUP")+1])
	off := len("TRESEN-BACKUP") + 2 + idLen
	off += 2 + int(binary.BigEndian.Uint16(b[off:]))
	ends := []int{off}
	for off < len(b) {
		off += 5 + int(binary.BigEndian.Uint32(b[off+1:]))
		ends = append(ends, off)
	}
	return ends
}

func TestRestoreRejects(t *testing.T) {
	for _, e := range storetest.Engines {
		t.Run(string(e), func(t *testing.T) {
			mk := newMaster(t, "test")
			src, srcCfg := openStore(t, e, mk, "")
			a, _ := twoTenants(t, src)
			p := mustPerson(t, src, a.ID, "Erika Mustermann")
			mustRecord(t, src, a, p.ID, file(10, 1))
			mustRecord(t, src, a, p.ID, file(150_000, 2)) // the last file reaches into the final chunk
			var buf bytes.Buffer
			if _, err := src.Backup(ctx, &buf); err != nil {
				t.Fatal(err)
			}
			good := buf.Bytes()
			ends := chunkEnds(good)
			if len(ends) < 4 {
				t.Fatalf("backup has %d chunks, want at least 3", len(ends)-1)
			}
			flip := func(i int) []byte {
				b := bytes.Clone(good)
				b[i] ^= 0x01
				return b
			}
			last := len(ends) - 1
			tests := []struct {
				name   string
				data   []byte
				master *vault.MasterKeys
				want   string
			}{
				{"empty", nil, mk, "keine Tresen-Sicherung"},
				{"not a backup", []byte("PK\x03\x04 a zip file"), mk, "keine Tresen-Sicherung"},
				{"header cut", good[:20], mk, "Kopf abgeschnitten"},
				{"other version", flip(len("TRESEN-BACKUP")), mk, "Sicherungsformat 0 wird nicht unterstützt"},
				{"other master key", good, newMaster(t, "test"), "Hauptschlüssel"},
				{"unknown master key id", good, newMaster(t, "neu"), `Hauptschlüssel "test"`},
				{"header flipped", flip(ends[0] - 1), mk, "Hauptschlüssel"},
				{"no chunk", good[:ends[0]], mk, "nach Block 0 abgeschnitten"},
				{"cut after chunk", good[:ends[1]], mk, "nach Block 1 abgeschnitten"},
				{"cut in chunk", good[:ends[1]+100], mk, "Block 2 abgeschnitten"},
				{"cut in last chunk", good[:len(good)-1], mk, fmt.Sprintf("Block %d abgeschnitten", last)},
				{"chunk flipped", flip(ends[1] + 50), mk, "Block 2 verändert"},
				{"last chunk flipped", flip(len(good) - 1), mk, fmt.Sprintf("Block %d verändert", last)},
				{"final flag set early", func() []byte { b := bytes.Clone(good[:ends[1]]); b[ends[0]] = 1; return b }(), mk, "Block 1 verändert"},
				{"chunk dropped", cat(good[:ends[0]], good[ends[1]:]), mk, "Block 1 verändert"},
				{"chunks swapped", cat(good[:ends[0]], good[ends[1]:ends[2]], good[ends[0]:ends[1]], good[ends[2]:]), mk, "Block 1 verändert"},
				{"trailing data", cat(good, []byte{0}), mk, "Daten nach dem letzten Block"},
			}
			// One target takes every bad file: each failed restore must leave it empty.
			dst, dstCfg := openStore(t, e, mk, "")
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					dst, dstCfg := dst, dstCfg
					if tc.master != mk {
						dst, dstCfg = openStore(t, e, tc.master, "")
					}
					_, err := dst.Restore(ctx, bytes.NewReader(tc.data))
					if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), tc.want) {
						t.Fatalf("Restore = %v, want an Invalid error with %q", err, tc.want)
					}
					assertEmpty(t, dst, dstCfg)
				})
			}

			t.Run("target not empty", func(t *testing.T) {
				dst, _ := openTarget(t, e, mk, src, srcCfg)
				if _, err := dst.Restore(ctx, bytes.NewReader(good)); err != nil {
					t.Fatal(err)
				}
				_, err := dst.Restore(ctx, bytes.NewReader(good))
				if !errs.Is(err, errs.Conflict) || !strings.Contains(err.Error(), "Ziel ist nicht leer") {
					t.Fatalf("second Restore = %v", err)
				}
			})
		})
	}
}

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// assertEmpty fails unless a store holds no rows and no files.
func assertEmpty(tb testing.TB, db *store.DB, cfg store.Config) {
	tb.Helper()
	for table, rows := range dumpTables(tb, cfg) {
		if len(rows) > 0 {
			tb.Errorf("%s holds %d rows after a failed restore", table, len(rows))
		}
	}
	n := 0
	db.Blobs.Walk(context.Background(), func(string) error { n++; return nil })
	if n > 0 {
		tb.Errorf("%d files left after a failed restore", n)
	}
}

func FuzzRestore(f *testing.F) {
	mk := newMaster(f, "test")
	src, _ := openStore(f, store.SQLite, mk, "")
	a := mustTenant(f, src, tenant.Practice, "031234567", "Hausarztpraxis")
	p := mustPerson(f, src, a.ID, "Erika Mustermann")
	mustRecord(f, src, a, p.ID, file(100, 1))
	var buf bytes.Buffer
	if _, err := src.Backup(ctx, &buf); err != nil {
		f.Fatal(err)
	}
	good := buf.Bytes()
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add(good[:chunkEnds(good)[0]])
	f.Add([]byte("TRESEN-BACKUP\x01\x04test\x00\x05hello"))
	f.Add([]byte{})

	// Only an unchanged backup restores; each success needs a fresh, empty target.
	var mu sync.Mutex
	var dst *store.DB
	var closers []*store.DB
	f.Cleanup(func() {
		for _, db := range closers {
			db.Close()
		}
	})
	base := f.TempDir()
	fresh := func(t *testing.T) {
		cfg := storetest.Config(t, store.SQLite, storetest.Options{DataDir: filepath.Join(base, fmt.Sprint(len(closers))), Master: mk})
		db, err := store.Open(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		dst, closers = db, append(closers, db)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		mu.Lock()
		defer mu.Unlock()
		if dst == nil {
			fresh(t)
		}
		_, err := dst.Restore(ctx, bytes.NewReader(data))
		if err == nil {
			fresh(t)
			return
		}
		if !errs.Is(err, errs.Invalid) {
			t.Fatalf("Restore of damaged input: %v (kind %v), want an Invalid error", err, errs.KindOf(err))
		}
	})
}

// TestBackupCoversSchema fails when a migration adds a table that backups leave out: every
// table but the keyring (kept apart on purpose) and goose's bookkeeping must be backed up.
func TestBackupCoversSchema(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		q := `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`
		if db.Engine == store.SQLite {
			q = `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`
		}
		var got []string
		err := db.View(ctx, store.System, func(tx *store.Tx) error {
			rows, err := tx.QueryContext(ctx, q)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var name string
				if err := rows.Scan(&name); err != nil {
					return err
				}
				if name != "goose_db_version" && name != "tenant_keys" {
					got = append(got, name)
				}
			}
			return rows.Err()
		})
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, tb := range backupTables {
			want = append(want, tb.Name)
		}
		slices.Sort(want)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("tables in the schema but not in backups (+) or the other way round (-):\n%s", diff)
		}
	})
}
