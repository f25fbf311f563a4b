package archtest

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// adapters are imports that domain packages must not reach, directly or indirectly, and why.
var adapters = map[string]string{
	"database/sql":                            "storage belongs in package store",
	"net/http":                                "HTTP belongs in package web",
	"github.com/jackc/pgx/v5":                 "PostgreSQL belongs in package store",
	"modernc.org/sqlite":                      "SQLite belongs in package store",
	"github.com/pressly/goose/v3":             "migrations belong in package store",
	"github.com/emiago/sipgo":                 "SIP belongs in its adapter",
	"github.com/emiago/diago":                 "SIP belongs in its adapter",
	"github.com/coder/websocket":              "WebSockets belong in package web",
	"github.com/chromedp/chromedp":            "browsers belong in tests",
	"github.com/openai/openai-go/v3":          "the language model's SDK belongs in package openai",
	"github.com/tresen/tresen/internal/store": "the domain must not depend on its storage adapter",
	"github.com/tresen/tresen/internal/web":   "the domain must not depend on its HTTP adapter",
}

// domain lists the packages that hold domain types and rules.
var domain = []string{"errs", "tenant", "user", "person", "audit", "retention", "password", "vault", "blob", "nlu", "request", "dialogue", "llm",
	"fhir", "prescription", "erezept", "retax", "articles", "holiday", "appointment", "calendar", "matching", "events",
	"muster16", "etoken", "imaging"}

func TestDomainImportsNoAdapters(t *testing.T) {
	args := []string{"list", "-json=ImportPath,Deps"}
	for _, pkg := range domain {
		args = append(args, "github.com/tresen/tresen/internal/"+pkg)
	}
	out, err := exec.Command("go", args...).Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p struct {
			ImportPath string
			Deps       []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		for _, dep := range p.Deps {
			for bad, why := range adapters {
				if dep == bad || strings.HasPrefix(dep, bad+"/") {
					t.Errorf("%s depends on %s: %s", p.ImportPath, dep, why)
				}
			}
		}
	}
}
