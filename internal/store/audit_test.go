package store_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
	"github.com/tresen/tresen/internal/user"
)

// TestAuditTamperDetection proves both walls of the audit log: the engine refuses to change
// or delete entries, and once an attacker with direct access has removed that guard, the
// hash chain shows exactly which entry of which chain they changed, removed, reordered or
// re-hashed.
func TestAuditTamperDetection(t *testing.T) {
	const (
		changed = "Inhalt verändert (Hash stimmt nicht)"
		broken  = "Verkettung unterbrochen (Vorgänger-Hash stimmt nicht)"
	)
	cases := []struct {
		name   string
		tamper func(t *testing.T, db *store.DB, chain []audit.Entry)
		want   func(c string, last int64) []audit.Problem
	}{{
		name: "object id changed",
		tamper: func(t *testing.T, db *store.DB, chain []audit.Entry) {
			mustTamper(t, db, `UPDATE audit_log SET object_id = 'manipuliert' WHERE chain = $1 AND seq = 3`, chain[0].Chain)
		},
		want: func(c string, _ int64) []audit.Problem { return []audit.Problem{{Chain: c, Seq: 3, What: changed}} },
	}, {
		name: "entry in the middle deleted",
		tamper: func(t *testing.T, db *store.DB, chain []audit.Entry) {
			mustTamper(t, db, `DELETE FROM audit_log WHERE chain = $1 AND seq = 3`, chain[0].Chain)
		},
		want: func(c string, _ int64) []audit.Problem {
			return []audit.Problem{{Chain: c, Seq: 3, What: "Eintrag fehlt (auf 2 folgt 4)"}}
		},
	}, {
		name: "two entries swapped",
		tamper: func(t *testing.T, db *store.DB, chain []audit.Entry) {
			mustTamper(t, db, `UPDATE audit_log SET seq = -3 WHERE chain = $1 AND seq = 3`, chain[0].Chain)
			mustTamper(t, db, `UPDATE audit_log SET seq = 3 WHERE chain = $1 AND seq = 4`, chain[0].Chain)
			mustTamper(t, db, `UPDATE audit_log SET seq = 4 WHERE chain = $1 AND seq = -3`, chain[0].Chain)
		},
		// Each moved entry's hash covers its old position and predecessor; the entry after
		// them names the predecessor it had.
		want: func(c string, _ int64) []audit.Problem {
			return []audit.Problem{
				{Chain: c, Seq: 3, What: changed}, {Chain: c, Seq: 3, What: broken},
				{Chain: c, Seq: 4, What: changed}, {Chain: c, Seq: 4, What: broken},
				{Chain: c, Seq: 5, What: broken},
			}
		},
	}, {
		name: "last entry deleted",
		tamper: func(t *testing.T, db *store.DB, chain []audit.Entry) {
			last := chain[len(chain)-1]
			mustTamper(t, db, `DELETE FROM audit_log WHERE chain = $1 AND seq = $2`, last.Chain, last.Seq)
		},
		want: func(c string, last int64) []audit.Problem {
			return []audit.Problem{{Chain: c, Seq: last, What: fmt.Sprintf("Einträge %d bis %d fehlen am Ende der Kette", last, last)}}
		},
	}, {
		name: "entry changed and re-hashed",
		tamper: func(t *testing.T, db *store.DB, chain []audit.Entry) {
			rehash(t, db, chain[2])
		},
		want: func(c string, _ int64) []audit.Problem { return []audit.Problem{{Chain: c, Seq: 4, What: broken}} },
	}, {
		name: "last entry changed and re-hashed",
		tamper: func(t *testing.T, db *store.DB, chain []audit.Entry) {
			rehash(t, db, chain[len(chain)-1])
		},
		want: func(c string, last int64) []audit.Problem {
			return []audit.Problem{{Chain: c, Seq: last, What: "letzter Eintrag passt nicht zum verbuchten Kettenende"}}
		},
	}}

	for _, e := range storetest.Engines {
		for _, c := range cases {
			t.Run(string(e)+"/"+strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
				db := storetest.Open(t, e, storetest.Options{})
				chain := seedAuditActivity(t, db)
				if v, err := db.VerifyAudit(ctx); err != nil || !v.OK() {
					t.Fatalf("untouched log: %v, %v", v.Problems, err)
				}
				removeAuditGuard(t, db, chain[0].Chain)
				c.tamper(t, db, chain)
				v, err := db.VerifyAudit(ctx)
				if err != nil {
					t.Fatal(err)
				}
				last := chain[len(chain)-1].Seq
				if diff := cmp.Diff(c.want(chain[0].Chain, last), v.Problems); diff != "" {
					t.Errorf("problems found (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// seedAuditActivity creates two tenants with users, logins and persons, and returns tenant
// A's chain, oldest first: 1 tenant created, 2 user created, 3 login, 4 failed login,
// 5 and 6 persons created.
func seedAuditActivity(t *testing.T, db *store.DB) []audit.Entry {
	t.Helper()
	a, b := twoTenants(t, db)
	mustUser(t, db, a.ID, "praxis.team", user.Staff)
	mustUser(t, db, b.ID, "apotheke.team", user.Staff)
	if _, err := db.Authenticate(ctx, "praxis.team", goodPW); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Authenticate(ctx, "praxis.team", "falsch-falsch"); err != store.ErrBadLogin {
		t.Fatal(err)
	}
	mustPerson(t, db, a.ID, "Erika Mustermann")
	mustPerson(t, db, a.ID, "Max Mustermann")
	mustPerson(t, db, b.ID, "Erika Mustermann")
	chain, err := db.ListAudit(ctx, a.ID, store.AuditFilter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(chain)
	var got []audit.Action
	for _, e := range chain {
		got = append(got, e.Action)
	}
	want := []audit.Action{audit.Create, audit.Create, audit.Login, audit.LoginFailed, audit.Create, audit.Create}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("A's chain (-want +got):\n%s", diff)
	}
	return chain
}

// removeAuditGuard first proves that the engine refuses changes and deletions in the audit
// log, then removes that guard as an attacker with direct database or file access could.
func removeAuditGuard(t *testing.T, db *store.DB, chain string) {
	t.Helper()
	for _, q := range []string{
		`UPDATE audit_log SET detail = 'manipuliert' WHERE chain = $1 AND seq = 1`,
		`DELETE FROM audit_log WHERE chain = $1 AND seq = 1`,
	} {
		err := db.Update(ctx, store.System, func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, q, chain)
			return err
		})
		if err == nil || !strings.Contains(err.Error(), "audit log is append-only") {
			t.Fatalf("%s: %v, want the engine to refuse", q, err)
		}
	}
	if v, err := db.VerifyAudit(ctx); err != nil || !v.OK() {
		t.Fatalf("after refused changes: %v, %v", v.Problems, err)
	}
	if db.Engine == store.SQLite {
		mustTamper(t, db, `DROP TRIGGER audit_log_no_update`)
		mustTamper(t, db, `DROP TRIGGER audit_log_no_delete`)
	} else {
		// The service's role owns the table; the trigger binds it until it is disabled.
		mustTamper(t, db, `ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only`)
	}
}

// rehash changes an entry's object id and gives it a matching hash, as an attacker who knows
// the hash function would.
func rehash(t *testing.T, db *store.DB, e audit.Entry) {
	t.Helper()
	if e.ComputeHash() != e.Hash {
		t.Fatalf("entry %d: recomputed hash differs from the stored one; the test hashes unlike the store", e.Seq)
	}
	e.ObjectID = "manipuliert"
	e.Hash = e.ComputeHash()
	mustTamper(t, db, `UPDATE audit_log SET object_id = $1, hash = $2 WHERE chain = $3 AND seq = $4`, e.ObjectID, e.Hash, e.Chain, e.Seq)
}

// mustTamper runs a statement as the operator, past the store's API.
func mustTamper(t *testing.T, db *store.DB, q string, args ...any) {
	t.Helper()
	err := db.Update(ctx, store.System, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); strings.HasPrefix(q, "UPDATE") || strings.HasPrefix(q, "DELETE") {
			if n != 1 {
				return fmt.Errorf("changed %d rows, want 1", n)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// TestAuditConcurrentAppends appends to one tenant's chain from 50 goroutines at once: the
// lock on the chain's head row queues them, so the chain neither forks nor loses an entry.
func TestAuditConcurrentAppends(t *testing.T) {
	const n = 50
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a, _ := twoTenants(t, db)
		start := make(chan struct{})
		errc := make(chan error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errc <- db.Audit(ctx, a.ID, audit.Read, "nebenlaeufig", fmt.Sprint(i), "")
			}()
		}
		close(start)
		wg.Wait()
		close(errc)
		for err := range errc {
			if err != nil {
				t.Errorf("Audit: %v", err)
			}
		}
		v, err := db.VerifyAudit(ctx)
		if err != nil || !v.OK() {
			t.Fatalf("VerifyAudit: %v, %v", v.Problems, err)
		}
		obj := "nebenlaeufig"
		entries, err := db.ListAudit(ctx, a.ID, store.AuditFilter{Object: &obj, Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		var ids, want []string
		for _, e := range entries {
			ids = append(ids, e.ObjectID)
		}
		for i := range n {
			want = append(want, fmt.Sprint(i))
		}
		slices.Sort(ids)
		slices.Sort(want)
		if diff := cmp.Diff(want, ids); diff != "" {
			t.Errorf("entries appended (-want +got):\n%s", diff)
		}
		// After the tenant's creation entry: seq 2 … 51, the head at 51.
		head := rawRows(t, db, `SELECT seq FROM audit_heads WHERE chain = $1`, a.ID)
		if len(head) != 1 || fmt.Sprint(head[0][0]) != fmt.Sprint(n+1) {
			t.Errorf("head of A's chain: %v, want seq %d", head, n+1)
		}
	})
}
