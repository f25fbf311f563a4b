// Package events carries what happened in a tenant (a request came in or changed) to
// whoever watches it live, such as the practice team's open inbox. Publishers do not wait
// for watchers; a watcher that falls behind misses events and reloads.
package events

import (
	"context"
	"sync"
)

// Event is one thing that happened: its kind and the id of what it concerns. It carries
// no personal data; watchers read what they may see from the store.
type Event struct {
	TenantID string
	Kind     string // Request or Reply
	ID       string
	Urgent   bool
}

// Kinds of events.
const (
	// Request: a request (its record id) came in or changed.
	Request = "request"
	// Reply: the team replied to a chat (its conversation id) that is still open.
	Reply = "reply"
)

// Bus publishes events and lets watchers subscribe per tenant.
type Bus interface {
	Publish(ctx context.Context, e Event)
	// Subscribe returns the tenant's events until cancel is called.
	Subscribe(tenantID string) (events <-chan Event, cancel func())
}

// Memory is a Bus within one process. It is safe for concurrent use.
type Memory struct {
	mu   sync.Mutex
	subs map[string]map[chan Event]bool
}

var _ Bus = (*Memory)(nil)

// buffer is how many events a watcher may fall behind before it misses some.
const buffer = 64

// Publish hands e to the tenant's watchers without waiting for them.
func (m *Memory) Publish(_ context.Context, e Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for ch := range m.subs[e.TenantID] {
		select {
		case ch <- e:
		default: // the watcher is behind; it will reload
		}
	}
}

// Subscribe registers a watcher of one tenant.
func (m *Memory) Subscribe(tenantID string) (<-chan Event, func()) {
	ch := make(chan Event, buffer)
	m.mu.Lock()
	if m.subs == nil {
		m.subs = map[string]map[chan Event]bool{}
	}
	if m.subs[tenantID] == nil {
		m.subs[tenantID] = map[chan Event]bool{}
	}
	m.subs[tenantID][ch] = true
	m.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			m.mu.Lock()
			delete(m.subs[tenantID], ch)
			m.mu.Unlock()
		})
	}
}
