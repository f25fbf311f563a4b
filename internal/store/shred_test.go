package store_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/person"
	"github.com/tresen/tresen/internal/retention"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
	"github.com/tresen/tresen/internal/user"
	"github.com/tresen/tresen/internal/vault"
)

// TestCryptoShredding deletes tenant A and proves that its key, rows and files are gone,
// that copies of its sealed data taken before (a backup, a stolen disk) can be opened by no
// key that is left, and that tenant B is untouched.
func TestCryptoShredding(t *testing.T) {
	storetestRunWithDir(t, func(t *testing.T, db *store.DB, dir string) {
		a, b := twoTenants(t, db)
		w := seedTenantWorld(t, db, a, b)
		bBefore := readTenant(t, db, b.ID, w.bPersonIDs())
		bRawBefore := rawTenant(t, db, dir, b.ID)
		aKey, err := db.Keys.GetKey(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}

		// Copies of A's sealed data as an attacker would take them: the raw columns and
		// the blob file.
		type sealed struct {
			aad  string
			data []byte
		}
		var copies []sealed
		for _, r := range rawRows(t, db, `SELECT id, data_enc FROM records WHERE tenant_id = $1`, a.ID) {
			copies = append(copies, sealed{"records.data|" + r[0].(string), r[1].([]byte)})
		}
		for _, r := range rawRows(t, db, `SELECT id, data_enc FROM persons WHERE tenant_id = $1`, a.ID) {
			copies = append(copies, sealed{"persons.data|" + r[0].(string), r[1].([]byte)})
		}
		for _, r := range rawRows(t, db, `SELECT id, name_enc FROM tenants WHERE id = $1`, a.ID) {
			copies = append(copies, sealed{"tenants.name|" + r[0].(string), r[1].([]byte)})
		}
		aFiles := blobFiles(t, dir, a.ID)
		if len(aFiles) != 1 || len(copies) != 4 { // two records, a person, the tenant name
			t.Fatalf("seed: %d files, %d sealed values of A", len(aFiles), len(copies))
		}
		for key, data := range aFiles {
			copies = append(copies, sealed{"blob|" + key, data})
		}
		// Positive control: with A's key the copies open.
		aCipher, err := db.Vault.Cipher(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range copies {
			if _, err := aCipher.Open(c.data, []byte(c.aad)); err != nil {
				t.Fatalf("copy %s does not open with A's key: %v", c.aad, err)
			}
		}

		if err := db.DeleteTenant(ctx, a.ID); err != nil {
			t.Fatal(err)
		}

		if _, err := db.Keys.GetKey(ctx, a.ID); !errs.Is(err, errs.NotFound) {
			t.Errorf("A's key after deletion: %v, want NotFound", err)
		}
		if _, err := db.Vault.Cipher(ctx, a.ID); !errs.Is(err, errs.NotFound) {
			t.Errorf("A's cipher after deletion: %v, want NotFound", err)
		}
		// On SQLite the keyring is a file of the data directory: the wrapped key must
		// be gone from its bytes too, WAL included, not only from its table.
		if db.Engine == store.SQLite {
			for name := range dataFiles(t, dir) {
				b, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				if bytes.Contains(b, aKey.Wrapped) {
					t.Errorf("A's wrapped key is still in the bytes of %s", name)
				}
			}
		}
		// No key left opens the copies: not the operator's, not B's.
		keys, err := db.Keys.ListKeys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) != 2 {
			t.Errorf("keys left: %d, want the operator's and B's", len(keys))
		}
		for _, k := range keys {
			if k.TenantID == a.ID || bytes.Equal(k.Wrapped, aKey.Wrapped) {
				t.Errorf("A's wrapped key is still in the keyring")
			}
			c, err := db.Vault.Cipher(ctx, k.TenantID)
			if err != nil {
				t.Fatal(err)
			}
			for _, cp := range copies {
				if _, err := c.Open(cp.data, []byte(cp.aad)); err == nil {
					t.Errorf("copy %s opens with the key of %s", cp.aad, k.TenantID)
				}
			}
		}
		// The store itself reads nothing of A any more.
		if _, err := db.FindTenantByID(ctx, a.ID); !errs.Is(err, errs.NotFound) {
			t.Errorf("FindTenantByID(A): %v", err)
		}
		if _, err := db.FindPersonByID(ctx, a.ID, w.aPerson.ID); !errs.Is(err, errs.NotFound) {
			t.Errorf("FindPersonByID(A's person): %v", err)
		}
		if _, err := db.Authenticate(ctx, w.aOwner.Username, goodPW); err != store.ErrBadLogin {
			t.Errorf("A's owner logs in after deletion: %v", err)
		}
		for _, q := range []string{
			`SELECT * FROM tenants WHERE id = $1`,
			`SELECT * FROM users WHERE tenant_id = $1`,
			`SELECT * FROM sessions WHERE tenant_id = $1`,
			`SELECT * FROM reset_tokens WHERE tenant_id = $1`,
			`SELECT * FROM support_grants WHERE tenant_id = $1`,
			`SELECT * FROM retention_policies WHERE tenant_id = $1`,
			`SELECT * FROM persons WHERE tenant_id = $1`,
			`SELECT * FROM records WHERE tenant_id = $1`,
			`SELECT * FROM blob_trash WHERE tenant_id = $1`,
		} {
			if rows := rawRows(t, db, q, a.ID); len(rows) != 0 {
				t.Errorf("%s: %d rows of A left", q, len(rows))
			}
		}
		if left := blobFiles(t, dir, a.ID); len(left) != 0 {
			t.Errorf("A's blob files left: %v", left)
		}
		// The audit log keeps A's chain, intact, ending with the deletion.
		v, err := db.VerifyAudit(ctx)
		if err != nil || !v.OK() {
			t.Errorf("VerifyAudit after deletion: %v, %v", v.Problems, err)
		}
		aChain := rawRows(t, db, `SELECT detail FROM audit_log WHERE chain = $1 ORDER BY seq DESC LIMIT 1`, a.ID)
		if len(aChain) != 1 || aChain[0][0] != "crypto-shredded" {
			t.Errorf("last entry of A's chain: %v", aChain)
		}

		// B is exactly as before.
		if diff := cmp.Diff(bRawBefore, rawTenant(t, db, dir, b.ID)); diff != "" {
			t.Errorf("B's stored data changed by A's deletion (-before +after):\n%s", diff)
		}
		if diff := cmp.Diff(bBefore, readTenant(t, db, b.ID, w.bPersonIDs())); diff != "" {
			t.Errorf("B as B after A's deletion (-before +after):\n%s", diff)
		}
	})
}

// TestKeyRotation re-wraps every data key under a new master key and proves that the data
// then needs the new key alone, and that the old key alone no longer opens it.
func TestKeyRotation(t *testing.T) {
	for _, e := range storetest.Engines {
		t.Run(string(e), func(t *testing.T) {
			oldText, newText := vault.NewMasterKeyText("old"), vault.NewMasterKeyText("new")
			cfg := storetest.Config(t, e, storetest.Options{Master: mustMasterKeys(t, oldText)})
			open := func(master string) *store.DB {
				t.Helper()
				c := cfg
				c.Master = mustMasterKeys(t, master)
				db, err := store.Open(context.Background(), c)
				if err != nil {
					t.Fatalf("open with %s: %v", master[:3], err)
				}
				t.Cleanup(func() { db.Close() })
				return db
			}

			db := open(oldText)
			a, _ := twoTenants(t, db)
			u := mustUser(t, db, a.ID, "praxis.team", user.Staff)
			p := mustPerson(t, db, a.ID, "Erika Mustermann")
			r, err := db.AddRecord(ctx, a.ID, store.Record{PersonID: p.ID, Kind: retention.Request, Data: []byte(`{"anliegen":"Folgerezept"}`)}, []byte("Aufnahme"))
			if err != nil {
				t.Fatal(err)
			}
			want := readRotated(t, db, a.ID, u.ID, p.ID, r.ID)
			db.Close()

			db = open(newText + "," + oldText)
			n, err := db.Vault.Rotate(ctx)
			if err != nil || n != 3 {
				t.Fatalf("Rotate = %d, %v; want 3 keys (operator, two tenants)", n, err)
			}
			if n, err := db.Vault.Rotate(ctx); n != 0 || err != nil {
				t.Errorf("second Rotate = %d, %v; want nothing left to do", n, err)
			}
			keys, err := db.Keys.ListKeys(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range keys {
				if k.MasterKeyID != "new" {
					t.Errorf("key of %s still wrapped by %q", k.TenantID, k.MasterKeyID)
				}
			}
			db.Close()

			db = open(newText)
			if diff := cmp.Diff(want, readRotated(t, db, a.ID, u.ID, p.ID, r.ID)); diff != "" {
				t.Errorf("with the new key alone (-before rotation +after):\n%s", diff)
			}
			if _, err := db.Authenticate(ctx, "praxis.team", goodPW); err != nil {
				t.Errorf("login with the new key alone: %v", err)
			}
			db.Close()

			db = open(oldText)
			if _, err := db.FindPersonByID(ctx, a.ID, p.ID); err == nil || !strings.Contains(err.Error(), `unknown master key "new"`) {
				t.Errorf("person with the old key alone: %v, want unknown master key", err)
			}
			if _, err := db.RecordFile(ctx, a.ID, r.ID); err == nil {
				t.Error("file readable with the old key alone")
			}
			if _, err := db.FindTenantByID(ctx, a.ID); err == nil {
				t.Error("tenant readable with the old key alone")
			}
		})
	}
}

type rotated struct {
	Tenant string
	User   user.User
	Person person.Person
	Record store.Record
	File   []byte
}

func readRotated(t *testing.T, db *store.DB, tenantID, userID, personID, recordID string) rotated {
	t.Helper()
	var x rotated
	tn, err := db.FindTenantByID(ctx, tenantID)
	if err != nil {
		t.Fatal(err)
	}
	x.Tenant = tn.Name
	if x.User, err = db.FindUserByID(ctx, tenantID, userID); err != nil {
		t.Fatal(err)
	}
	if x.Person, err = db.FindPersonByID(ctx, tenantID, personID); err != nil {
		t.Fatal(err)
	}
	if x.Record, err = db.FindRecordByID(ctx, tenantID, recordID); err != nil {
		t.Fatal(err)
	}
	if x.File, err = db.RecordFile(ctx, tenantID, recordID); err != nil {
		t.Fatal(err)
	}
	return x
}

func mustMasterKeys(t *testing.T, text string) *vault.MasterKeys {
	t.Helper()
	mk, err := vault.ParseMasterKeys(text)
	if err != nil {
		t.Fatal(err)
	}
	return mk
}
