package widget

import (
	"context"
	"testing"
	"time"

	"github.com/tresen/tresen/internal/events"
)

// TestReplyHub: a reply reaches the chats of its conversation only; the practice's other
// events reach none; the subscription ends with the last chat.
func TestReplyHub(t *testing.T) {
	bus := &events.Memory{}
	h := &replyHub{bus: bus}
	a1, stopA1 := h.watch("p1", "conv-a")
	a2, stopA2 := h.watch("p1", "conv-a")
	b, stopB := h.watch("p1", "conv-b")
	ctx := context.Background()
	bus.Publish(ctx, events.Event{TenantID: "p1", Kind: events.Request, ID: "conv-a-1"})
	bus.Publish(ctx, events.Event{TenantID: "p1", Kind: events.Reply, ID: "conv-a"})
	bus.Publish(ctx, events.Event{TenantID: "p2", Kind: events.Reply, ID: "conv-b"})
	for i, sig := range []<-chan struct{}{a1, a2} {
		select {
		case <-sig:
		case <-time.After(5 * time.Second):
			t.Fatalf("chat %d of conv-a heard nothing", i)
		}
	}
	select {
	case <-b:
		t.Error("conv-b heard conv-a's reply or another practice's")
	case <-time.After(50 * time.Millisecond):
	}
	if len(h.practices) != 1 || len(h.practices["p1"].convs) != 2 {
		t.Errorf("watches: %+v", h.practices)
	}
	stopA1()
	stopA1() // twice is harmless
	stopA2()
	stopB()
	if len(h.practices) != 0 {
		t.Errorf("a practice without chats is still watched: %+v", h.practices)
	}
}
