package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"regexp"
	"testing"

	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
)

// MustRunMain starts the real service with the demo on a free port, on engine e, and
// returns it with the demo logins it printed (user name → password); opts adjust Main
// before it runs.
func MustRunMain(tb testing.TB, e store.Engine, opts ...func(*Main)) (*Main, map[string]string) {
	tb.Helper()
	m := NewMain()
	var out bytes.Buffer
	m.Addr, m.Demo, m.Out = "127.0.0.1:0", true, &out
	for _, o := range opts {
		o(m)
	}
	m.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	m.Config.DataDir = tb.TempDir()
	if e == store.Postgres {
		m.Config.PostgresURL = storetest.NewPostgresDB(tb)
	}
	if err := m.Run(context.Background()); err != nil {
		tb.Fatalf("Run: %v", err)
	}
	tb.Cleanup(func() { m.Close() })
	logins := map[string]string{}
	for _, sm := range regexp.MustCompile(`Demo-Zugang (\S+)\s+Passwort (\S+)`).FindAllStringSubmatch(out.String(), -1) {
		logins[sm[1]] = sm[2]
	}
	if len(logins) != 4 {
		tb.Fatalf("demo printed %d logins, want 4:\n%s", len(logins), out.String())
	}
	return m, logins
}
