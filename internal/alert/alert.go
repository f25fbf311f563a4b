// Package alert tells the practice team by e-mail when an urgent request arrives, so that
// nobody has to watch the inbox to catch one. The e-mail says only that there is
// something and links to it: no name, no complaint, nothing of health (e-mail passes
// through providers and lands in shared mailboxes).
package alert

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/tresen/tresen/internal/events"
	"github.com/tresen/tresen/internal/notify"
)

// Bus is an events.Bus that also alerts the team of each urgent request, once.
type Bus struct {
	events.Bus
	// Recipients returns a practice's alert addresses and name; none: no alert.
	Recipients func(ctx context.Context, tenantID string) (practice string, to []string, err error)
	// Send sends a message to one address through the practice's mail settings.
	Send func(ctx context.Context, tenantID, to string, msg notify.Message) error
	// BaseURL is where the team opens Tresen ("https://praxis.example.de").
	BaseURL string
	Log     *slog.Logger

	mu   sync.Mutex
	seen map[string]bool // record ids alerted of
	wg   sync.WaitGroup
}

// maxSeen bounds the memory of alerted requests; an old request that turns urgent again
// after that many others may alert twice.
const maxSeen = 10_000

// sendTimeout bounds one alert's delivery.
const sendTimeout = 30 * time.Second

// Publish passes e on and, for the first event of an urgent request, sends the alerts in
// the background: the conversation never waits for mail.
func (b *Bus) Publish(ctx context.Context, e events.Event) {
	b.Bus.Publish(ctx, e)
	if e.Kind != events.Request || !e.Urgent || !b.first(e.ID) {
		return
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sendTimeout)
		defer cancel()
		b.alert(ctx, e)
	}()
}

func (b *Bus) first(id string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.seen[id] {
		return false
	}
	if b.seen == nil || len(b.seen) >= maxSeen {
		b.seen = map[string]bool{}
	}
	b.seen[id] = true
	return true
}

func (b *Bus) alert(ctx context.Context, e events.Event) {
	practice, to, err := b.Recipients(ctx, e.TenantID)
	if err != nil {
		b.Log.Error("alert: recipients", "tenant", e.TenantID, "err", err)
		return
	}
	msg := Message(practice, b.BaseURL+"/inbox/"+e.ID)
	for _, addr := range to {
		if err := b.Send(ctx, e.TenantID, addr, msg); err != nil {
			// The address is the team's, not a patient's; the error names no patient.
			b.Log.Error("alert: send", "tenant", e.TenantID, "err", err)
		}
	}
}

// Wait waits for alerts in flight, as at shutdown.
func (b *Bus) Wait() { b.wg.Wait() }

// Message is the alert: the practice's name and the link, nothing else.
func Message(practice, link string) notify.Message {
	return notify.Message{
		Subject: "Dringendes Anliegen im Posteingang",
		Text: "Im Posteingang der " + practice + " ist ein dringendes Anliegen eingegangen.\n\n" +
			"Bitte sehen Sie es sich an:\n" + link + "\n\n" +
			"Diese Nachricht enthält absichtlich keine Angaben zur Patientin oder zum Patienten.\n",
	}
}
