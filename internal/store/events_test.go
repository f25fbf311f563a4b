package store_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/tresen/tresen/internal/events"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
)

// TestEventBus: an event published on one node reaches the watchers of the tenant on
// every node (two buses stand for two nodes: on PostgreSQL each listens on a connection
// of its own), and no other tenant's.
func TestEventBus(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		nodes := []*store.EventBus{db.EventBus(log)}
		if db.Engine == store.Postgres {
			nodes = append(nodes, db.EventBus(log))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, n := range nodes {
			defer n.Close()
			if err := n.Ready(ctx); err != nil {
				t.Fatal(err)
			}
		}
		watcher := nodes[len(nodes)-1]
		mine, stop := watcher.Subscribe("tenant-a")
		defer stop()
		theirs, stopTheirs := watcher.Subscribe("tenant-b")
		defer stopTheirs()

		want := events.Event{TenantID: "tenant-a", Kind: events.Request, ID: "r1", Urgent: true}
		nodes[0].Publish(ctx, want)
		select {
		case got := <-mine:
			if got != want {
				t.Errorf("got %+v, want %+v", got, want)
			}
		case <-ctx.Done():
			t.Fatal("the event did not arrive")
		}
		select {
		case got := <-theirs:
			t.Errorf("another tenant heard %+v", got)
		case <-time.After(100 * time.Millisecond):
		}
	})
}
