package events_test

import (
	"context"
	"testing"

	"github.com/tresen/tresen/internal/events"
)

func TestMemory(t *testing.T) {
	var bus events.Memory
	a, cancelA := bus.Subscribe("a")
	b, cancelB := bus.Subscribe("b")
	defer cancelB()
	bus.Publish(context.Background(), events.Event{TenantID: "a", Kind: events.Request, ID: "r1"})
	if e := <-a; e.ID != "r1" {
		t.Errorf("a got %+v", e)
	}
	select {
	case e := <-b:
		t.Errorf("b got a's event %+v", e)
	default:
	}
	cancelA()
	cancelA() // idempotent
	bus.Publish(context.Background(), events.Event{TenantID: "a", ID: "r2"})
	select {
	case e := <-a:
		t.Errorf("a cancelled, still got %+v", e)
	default:
	}
	// A watcher that does not read does not block the publisher.
	slow, cancel := bus.Subscribe("c")
	defer cancel()
	for range 1000 {
		bus.Publish(context.Background(), events.Event{TenantID: "c"})
	}
	if len(slow) == 0 {
		t.Error("the slow watcher got nothing")
	}
}
