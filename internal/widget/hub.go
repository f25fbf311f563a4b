package widget

import (
	"sync"

	"github.com/tresen/tresen/internal/events"
)

// replyHub tells the open chats of a node that the team replied to their conversation.
// It holds one subscription per practice, however many chats are open: the practice's
// events (a request stored with every turn) are looked at once, not once per chat.
type replyHub struct {
	bus events.Bus
	mu  sync.Mutex
	// practices maps a practice to its subscription and its chats' signals.
	practices map[string]*practiceWatch
}

type practiceWatch struct {
	cancel func()
	done   chan struct{}                     // closed when the last chat of the practice stops watching
	convs  map[string]map[chan struct{}]bool // conversation → signals
	n      int                               // signals in all conversations
}

// watch returns a signal that fires (coalesced) when the team replied to the
// conversation, and its stop function.
func (h *replyHub) watch(tenantID, conversation string) (<-chan struct{}, func()) {
	sig := make(chan struct{}, 1)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.practices == nil {
		h.practices = map[string]*practiceWatch{}
	}
	p := h.practices[tenantID]
	if p == nil {
		evs, cancel := h.bus.Subscribe(tenantID)
		p = &practiceWatch{cancel: cancel, done: make(chan struct{}), convs: map[string]map[chan struct{}]bool{}}
		h.practices[tenantID] = p
		go h.pump(p, evs)
	}
	if p.convs[conversation] == nil {
		p.convs[conversation] = map[chan struct{}]bool{}
	}
	p.convs[conversation][sig] = true
	p.n++
	var once sync.Once
	return sig, func() {
		once.Do(func() {
			h.mu.Lock()
			defer h.mu.Unlock()
			delete(p.convs[conversation], sig)
			if len(p.convs[conversation]) == 0 {
				delete(p.convs, conversation)
			}
			if p.n--; p.n == 0 {
				p.cancel()
				close(p.done)
				delete(h.practices, tenantID)
			}
		})
	}
}

// pump hands a practice's reply events to the signals of their conversation until the
// subscription ends.
func (h *replyHub) pump(p *practiceWatch, evs <-chan events.Event) {
	for {
		var e events.Event
		select {
		case <-p.done:
			return
		case e = <-evs:
		}
		if e.Kind != events.Reply {
			continue
		}
		h.mu.Lock()
		for sig := range p.convs[e.ID] {
			select {
			case sig <- struct{}{}:
			default: // a signal is pending already
			}
		}
		h.mu.Unlock()
	}
}
