package store_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/llm"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
	"github.com/tresen/tresen/internal/tenant"
)

func TestLLMSettings(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a := mustTenant(t, db, tenant.Practice, "031234567", "Hausarztpraxis Dr. Erika Schneider")
		if got, err := db.LLMSettings(ctx, a.ID); err != nil || got != (llm.Settings{}) {
			t.Fatalf("before any setting: %v, %v; want LLM mode off", got, err)
		}
		unconfirmed := llm.Settings{Enabled: true, BaseURL: "https://api.mistral.ai/v1", Model: "mistral-small-latest", APIKey: "sk-test", EUHosted: true}
		if err := db.SetLLMSettings(ctx, a.ID, unconfirmed); errs.KindOf(err) != errs.Invalid || !strings.Contains(err.Error(), "Zero Retention") {
			t.Fatalf("without zero-retention confirmation: %v", err)
		}
		want := unconfirmed
		want.ZeroRetention, want.Timeout = true, 8*time.Second
		if err := db.SetLLMSettings(ctx, a.ID, want); err != nil {
			t.Fatal(err)
		}
		got, err := db.LLMSettings(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("settings (-want +got):\n%s", diff)
		}
		entries, err := db.ListAudit(ctx, a.ID, store.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range entries {
			if e.ObjectType == "setting" && e.ObjectID == "llm" {
				found = true
				if strings.Contains(e.Detail, "sk-test") || !strings.Contains(e.Detail, "model=mistral-small-latest") {
					t.Errorf("audit detail %q", e.Detail)
				}
			}
		}
		if !found {
			t.Error("the change is not audited")
		}
		// Switching off keeps nothing of the old settings.
		if err := db.SetLLMSettings(ctx, a.ID, llm.Settings{}); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.LLMSettings(ctx, a.ID); got != (llm.Settings{}) {
			t.Errorf("after switching off: %v", got)
		}
		if err := db.SetLLMSettings(ctx, "no-such-tenant", llm.Settings{}); !errs.Is(err, errs.NotFound) {
			t.Errorf("unknown tenant: %v", err)
		}
	})
}
