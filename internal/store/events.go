package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/tresen/tresen/internal/events"
)

// eventChannel is the PostgreSQL notification channel of the events.
const eventChannel = "tresen_events"

// EventBus returns the bus that carries events to the watchers of every node: on
// PostgreSQL through LISTEN/NOTIFY, so that a team's inbox hears of a request that another
// node took; on SQLite (one node) in memory. Close stops it.
func (db *DB) EventBus(log *slog.Logger) *EventBus {
	b := &EventBus{local: &events.Memory{}}
	if db.Engine != Postgres {
		return b
	}
	ctx, cancel := context.WithCancel(context.Background())
	b.db, b.log, b.cancel, b.done = db.write, log, cancel, make(chan struct{})
	b.ready = make(chan struct{})
	go b.listen(ctx)
	return b
}

// EventBus is an events.Bus over PostgreSQL notifications, or in memory.
type EventBus struct {
	local  *events.Memory // the watchers on this node
	db     *sql.DB        // nil: in memory only
	log    *slog.Logger
	cancel context.CancelFunc
	done   chan struct{}
	ready  chan struct{} // closed once the first LISTEN is in place
	once   sync.Once
}

var _ events.Bus = (*EventBus)(nil)

// notification is an event on the wire. Events carry ids only, never personal data.
type notification struct {
	Tenant string `json:"t"`
	Kind   string `json:"k"`
	ID     string `json:"i"`
	Urgent bool   `json:"u,omitempty"`
}

// Publish sends e to the watchers of every node; on PostgreSQL it returns after the
// notification is queued, and this node's watchers hear it back like every other's.
func (b *EventBus) Publish(ctx context.Context, e events.Event) {
	if b.db == nil {
		b.local.Publish(ctx, e)
		return
	}
	payload, _ := json.Marshal(notification{e.TenantID, e.Kind, e.ID, e.Urgent})
	if _, err := b.db.ExecContext(context.WithoutCancel(ctx), `SELECT pg_notify($1, $2)`, eventChannel, string(payload)); err != nil {
		// A missed event costs a live update, not data: the inbox shows it on reload.
		b.log.Warn("events: notify", "err", err)
	}
}

// Subscribe returns the tenant's events on this node.
func (b *EventBus) Subscribe(tenantID string) (<-chan events.Event, func()) {
	return b.local.Subscribe(tenantID)
}

// Ready waits until the bus hears notifications (at once in memory).
func (b *EventBus) Ready(ctx context.Context) error {
	if b.ready == nil {
		return nil
	}
	select {
	case <-b.ready:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops listening.
func (b *EventBus) Close() {
	if b.cancel != nil {
		b.cancel()
		<-b.done
	}
}

// listen holds a connection of its own that LISTENs, and hands what arrives to this
// node's watchers; after a lost connection it listens again.
func (b *EventBus) listen(ctx context.Context) {
	defer close(b.done)
	wait := time.Second
	for ctx.Err() == nil {
		err := b.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		b.log.Warn("events: listening stopped; retrying", "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 30*time.Second)
	}
}

func (b *EventBus) listenOnce(ctx context.Context) error {
	conn, err := b.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var stopped error
	conn.Raw(func(driverConn any) error {
		pc := driverConn.(*stdlib.Conn).Conn()
		if _, stopped = pc.Exec(ctx, "LISTEN "+eventChannel); stopped != nil {
			return driver.ErrBadConn
		}
		b.once.Do(func() { close(b.ready) })
		for {
			n, err := pc.WaitForNotification(ctx)
			if err != nil {
				stopped = err
				// The connection still LISTENs (or is broken): it must not go back to
				// the pool.
				return driver.ErrBadConn
			}
			var msg notification
			if err := json.Unmarshal([]byte(n.Payload), &msg); err != nil {
				continue
			}
			b.local.Publish(ctx, events.Event{TenantID: msg.Tenant, Kind: msg.Kind, ID: msg.ID, Urgent: msg.Urgent})
		}
	})
	return stopped
}
