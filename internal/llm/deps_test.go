package llm_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoAdapters keeps package llm plain Go: the dialogue engine may import it without
// pulling in HTTP, storage or an SDK. Adapters such as package openai implement it.
func TestNoAdapters(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/tresen/tresen/internal/llm").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	bad := map[string]string{
		"net/http":                     "HTTP belongs in the adapters",
		"database/sql":                 "storage belongs in package store",
		"github.com/openai/openai-go/": "the SDK belongs in package openai",
		"github.com/tresen/tresen/internal/store": "the domain must not depend on storage",
		"github.com/tresen/tresen/internal/web":   "the domain must not depend on HTTP",
	}
	for dep := range strings.FieldsSeq(string(out)) {
		for prefix, why := range bad {
			if dep == strings.TrimSuffix(prefix, "/") || strings.HasPrefix(dep, prefix) {
				t.Errorf("llm depends on %s: %s", dep, why)
			}
		}
	}
}
