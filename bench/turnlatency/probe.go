package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/tresen/tresen/bench/internal/loadstat"
	"github.com/tresen/tresen/bench/internal/loadstore"
	"github.com/tresen/tresen/internal/assistant"
	"github.com/tresen/tresen/internal/demo"
	"github.com/tresen/tresen/internal/espeak"
	"github.com/tresen/tresen/internal/reception"
	"github.com/tresen/tresen/internal/request"
	"github.com/tresen/tresen/internal/store"
)

// probe times, while the calls run, the two steps of a reply the caller cannot see apart:
// the turn through the reception service (dialogue engine and store: what the call flow's
// reply does before it speaks) and espeak-ng's time to the first audio of the reply. It
// holds the script's conversation with the demo practice through the same code the server
// runs (assistant.Reception on the server's own store, so its writes queue with the
// server's), and synthesises each reply it gets with the server's voice (espeak.New with
// the server's options), stopping at the first audio. It runs in this process, beside
// the server: its numbers are those of the same machine under the same load, not the
// server's own.
type probe struct {
	svc    *reception.Service
	tenant string
	voice  *espeak.Voice
	number string

	mu    sync.Mutex
	say   [][]time.Duration // by turn
	speak [][]time.Duration
	errs  loadstat.Errors
}

func newProbe(ctx context.Context, db *store.DB, number string) (*probe, error) {
	pr, err := db.FindTenantByCode(ctx, demo.PracticeTenant.Kind, demo.PracticeTenant.Code)
	if err != nil {
		return nil, err
	}
	// The server's voice: cmd/tresen/phone.go takes espeak's defaults.
	v, err := espeak.New(espeak.Options{})
	if err != nil {
		return nil, err
	}
	return &probe{svc: assistant.Reception(db), tenant: pr.ID, voice: v, number: number,
		say: make([][]time.Duration, len(script)), speak: make([][]time.Duration, len(script))}, nil
}

var errFirstAudio = errors.New("first audio")

// run holds one conversation after another, a turn every pause, until ctx ends.
func (p *probe) run(ctx context.Context, pause time.Duration) {
	for ctx.Err() == nil {
		p.conversation(ctx, pause)
	}
}

func (p *probe) conversation(ctx context.Context, pause time.Duration) {
	sctx := loadstore.Context()
	id, _, err := p.svc.StartKnown(sctx, p.tenant, request.Phone, request.Patient{Phone: p.number})
	if err != nil {
		p.errs.Add("start: " + err.Error())
		sleep(ctx, pause)
		return
	}
	defer func() {
		if _, err := p.svc.End(sctx, p.tenant, id); err != nil {
			p.errs.Add("end: " + err.Error())
		}
	}()
	for k, s := range script {
		if !sleep(ctx, pause) {
			return
		}
		t0 := time.Now()
		reply, err := p.svc.Say(sctx, p.tenant, id, transcript(s))
		said := time.Since(t0)
		if err != nil {
			p.errs.Add("say: " + err.Error())
			return
		}
		t1 := time.Now()
		var first time.Duration
		err = p.voice.Speak(ctx, reply.Text, func([]int16) error {
			first = time.Since(t1)
			return errFirstAudio
		})
		if !errors.Is(err, errFirstAudio) {
			p.errs.Add(fmt.Sprintf("speak: %v", err))
			return
		}
		p.mu.Lock()
		p.say[k] = append(p.say[k], said)
		p.speak[k] = append(p.speak[k], first)
		p.mu.Unlock()
		if reply.Done {
			return
		}
	}
}

// sleep waits d or until ctx ends; false when it ended.
func sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

// results returns the times of turn k (all turns when k < 0), sorted.
func (p *probe) results(k int) (say, speak []time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range p.say {
		if k < 0 || i == k {
			say = append(say, p.say[i]...)
			speak = append(speak, p.speak[i]...)
		}
	}
	slices.Sort(say)
	slices.Sort(speak)
	return say, speak
}
