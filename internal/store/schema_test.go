package store_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
)

var update = flag.Bool("update", false, "rewrite the golden schema dumps in testdata")

// TestSchemaDump keeps a readable dump of the migrated schema of each engine in testdata,
// so that a migration's effect is reviewed in the diff. Run with -update after changing one.
func TestSchemaDump(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		var queries []string
		if db.Engine == store.SQLite {
			queries = []string{`SELECT type || ' ' || name || ': ' || COALESCE(sql, '') FROM sqlite_master
				WHERE name NOT LIKE 'sqlite_%' AND name <> 'goose_db_version' ORDER BY type, name`}
		} else {
			queries = []string{
				`SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || CASE WHEN is_nullable = 'NO' THEN ' NOT NULL' ELSE '' END ||
					COALESCE(' DEFAULT ' || column_default, '') FROM information_schema.columns
					WHERE table_schema = 'public' AND table_name <> 'goose_db_version' ORDER BY table_name, ordinal_position`,
				`SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename <> 'goose_db_version' ORDER BY indexname`,
				`SELECT 'policy ' || tablename || '.' || policyname || ' ' || COALESCE(qual, '') FROM pg_policies ORDER BY tablename, policyname`,
				`SELECT 'rls ' || relname || CASE WHEN relforcerowsecurity THEN ' forced' ELSE '' END FROM pg_class
					WHERE relrowsecurity ORDER BY relname`,
				`SELECT 'trigger ' || event_object_table || '.' || trigger_name || ' ' || action_timing || ' ' || event_manipulation
					FROM information_schema.triggers ORDER BY event_object_table, trigger_name, event_manipulation`,
			}
		}
		var lines []string
		err := db.View(ctx, store.System, func(tx *store.Tx) error {
			for _, q := range queries {
				rows, err := tx.QueryContext(ctx, q)
				if err != nil {
					return fmt.Errorf("%s: %w", q, err)
				}
				for rows.Next() {
					var s string
					if err := rows.Scan(&s); err != nil {
						rows.Close()
						return err
					}
					lines = append(lines, strings.Join(strings.Fields(s), " "))
				}
				rows.Close()
				if err := rows.Err(); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		got := strings.Join(lines, "\n") + "\n"
		golden := filepath.Join("testdata", "schema."+string(db.Engine)+".txt")
		if *update {
			os.MkdirAll("testdata", 0o755)
			if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run with -update to create it)", err)
		}
		if diff := cmp.Diff(string(want), got); diff != "" {
			t.Errorf("schema differs from %s (-want +got); if intended, run go test ./internal/store -run TestSchemaDump -update:\n%s", golden, diff)
		}
	})
}

// TestPostgresRoleBoundByRLS: the tests connect as the service should, with a role that
// row-level security binds; otherwise the RLS tests would prove nothing.
func TestPostgresRoleBoundByRLS(t *testing.T) {
	db := storetest.Open(t, store.Postgres, storetest.Options{})
	if db.BypassesRLS {
		t.Fatal("the test role bypasses row-level security; make test creates one without SUPERUSER and BYPASSRLS")
	}
}
