// Package storetest opens real stores for tests: SQLite in a temporary directory and
// PostgreSQL in a fresh database on the server named by TRESEN_TEST_POSTGRES (make test
// starts one on loopback).
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tresen/tresen/internal/password"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/vault"
)

// Engines are the engines every store test runs on.
var Engines = []store.Engine{store.SQLite, store.Postgres}

// Options tune a test store.
type Options struct {
	DataDir string            // default: a new temporary directory
	Master  *vault.MasterKeys // default: a new master key
	Pepper  []byte
	Now     func() time.Time
}

// Run calls fn once per engine, each in a subtest with a fresh store.
func Run(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, e := range Engines {
		t.Run(string(e), func(t *testing.T) {
			fn(t, Open(t, e, Options{}))
		})
	}
}

// PostgresURL returns the URL of the test server, failing the test when none is configured:
// store tests must run on both engines. TRESEN_TEST_POSTGRES=skip runs SQLite only, for quick
// local iterations.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv("TRESEN_TEST_POSTGRES")
	switch u {
	case "":
		tb.Fatal("TRESEN_TEST_POSTGRES is not set: run `make test`, which starts PostgreSQL on loopback, or set it to a server URL (or to 'skip')")
	case "skip":
		tb.Skip("PostgreSQL disabled by TRESEN_TEST_POSTGRES=skip")
	}
	return u
}

// NewPostgresDB creates a fresh database on the test server and returns its URL; the
// database is dropped when the test ends.
func NewPostgresDB(tb testing.TB) string {
	tb.Helper()
	base := PostgresURL(tb)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatal(err)
	}
	defer admin.Close()
	b := make([]byte, 6)
	rand.Read(b)
	name := fmt.Sprintf("tresen_test_%x", b)
	if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
		tb.Fatalf("create test database: %v", err)
	}
	tb.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer admin.Close()
		admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// Config returns a store configuration for engine e with test defaults: cheap password
// hashing, a fresh master key and pepper.
func Config(tb testing.TB, e store.Engine, o Options) store.Config {
	tb.Helper()
	if o.DataDir == "" {
		o.DataDir = tb.TempDir()
	}
	if o.Master == nil {
		var err error
		if o.Master, err = vault.ParseMasterKeys(vault.NewMasterKeyText("test")); err != nil {
			tb.Fatal(err)
		}
	}
	if o.Pepper == nil {
		o.Pepper = []byte("test-pepper-0123456789")
	}
	cfg := store.Config{DataDir: o.DataDir, Master: o.Master, Pepper: o.Pepper,
		Argon: password.Params{Memory: 1024, Time: 1, Threads: 1}}
	if e == store.Postgres {
		cfg.PostgresURL = NewPostgresDB(tb)
		cfg.BlobDir = filepath.Join(o.DataDir, "blobs")
	}
	return cfg
}

// Open opens a fresh store on engine e, closed when the test ends.
func Open(tb testing.TB, e store.Engine, o Options) *store.DB {
	tb.Helper()
	db, err := store.Open(context.Background(), Config(tb, e, o))
	if err != nil {
		tb.Fatalf("open %s store: %v", e, err)
	}
	if o.Now != nil {
		db.Now = o.Now
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// Clock is a settable clock for tests.
type Clock struct{ T time.Time }

func (c *Clock) Now() time.Time          { return c.T }
func (c *Clock) Advance(d time.Duration) { c.T = c.T.Add(d) }
func NewClock(t time.Time) *Clock        { return &Clock{T: t} }
