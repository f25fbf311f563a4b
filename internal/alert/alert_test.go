package alert_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/tresen/tresen/internal/alert"
	"github.com/tresen/tresen/internal/events"
	"github.com/tresen/tresen/internal/notify"
)

type sent struct {
	tenant, to string
	msg        notify.Message
}

func TestAlertOncePerUrgentRequest(t *testing.T) {
	var mu sync.Mutex
	var out []sent
	b := &alert.Bus{
		Bus: &events.Memory{},
		Recipients: func(_ context.Context, tenantID string) (string, []string, error) {
			if tenantID == "quiet" {
				return "Praxis Still", nil, nil
			}
			return "Hausarztpraxis Dr. Erika Schneider", []string{"team@praxis-schneider.example", "chefin@praxis-schneider.example"}, nil
		},
		Send: func(_ context.Context, tenantID, to string, msg notify.Message) error {
			mu.Lock()
			defer mu.Unlock()
			out = append(out, sent{tenantID, to, msg})
			return nil
		},
		BaseURL: "https://tresen.praxis-schneider.example",
		Log:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	watch, cancel := b.Subscribe("p1")
	defer cancel()
	ctx := context.Background()
	b.Publish(ctx, events.Event{TenantID: "p1", Kind: events.Request, ID: "r1"})               // routine
	b.Publish(ctx, events.Event{TenantID: "p1", Kind: events.Request, ID: "r2", Urgent: true}) // urgent
	b.Publish(ctx, events.Event{TenantID: "p1", Kind: events.Request, ID: "r2", Urgent: true}) // the same, next turn
	b.Publish(ctx, events.Event{TenantID: "p1", Kind: events.Reply, ID: "c1", Urgent: true})   // no request
	b.Publish(ctx, events.Event{TenantID: "quiet", Kind: events.Request, ID: "r3", Urgent: true})
	b.Wait()

	if len(watch) != 4 {
		t.Errorf("the inbox heard %d events, want all 4 of p1", len(watch))
	}
	if len(out) != 2 {
		t.Fatalf("sent %d alerts, want one per address of p1: %+v", len(out), out)
	}
	for _, s := range out {
		if s.tenant != "p1" || !strings.Contains(s.msg.Text, "https://tresen.praxis-schneider.example/inbox/r2") ||
			!strings.Contains(s.msg.Text, "Hausarztpraxis Dr. Erika Schneider") || s.msg.ICS != nil {
			t.Errorf("alert %+v", s)
		}
	}
}
