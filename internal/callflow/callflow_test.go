package callflow_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/callflow"
	"github.com/tresen/tresen/internal/dialogue"
	"github.com/tresen/tresen/internal/nlu"
	"github.com/tresen/tresen/internal/reception"
	"github.com/tresen/tresen/internal/request"
	"github.com/tresen/tresen/internal/retention"
	"github.com/tresen/tresen/internal/speech"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
	"github.com/tresen/tresen/internal/tenant"
)

var ctx = audit.WithActor(context.Background(), audit.Actor{UserID: "phone", Source: "test"})

// testCall is a phone call driven by the test: it feeds the caller's audio and keys and
// sees what the assistant plays. Playback is instant unless paced.
type testCall struct {
	from      string
	audio     chan []int16
	dtmf      chan rune
	done      chan struct{}
	paced     bool
	mu        sync.Mutex
	queued    time.Duration
	played    time.Duration
	dropped   time.Duration // audio queued and not played, dropped by Flush
	transfer  string
	hungUp    bool
	closeOnce sync.Once
}

func newCall(from string) *testCall {
	return &testCall{from: from, audio: make(chan []int16, 64), dtmf: make(chan rune, 32), done: make(chan struct{})}
}

func (c *testCall) ID() string            { return "test-call" }
func (c *testCall) From() string          { return c.from }
func (c *testCall) To() string            { return "+494211234567" }
func (c *testCall) Audio() <-chan []int16 { return c.audio }
func (c *testCall) DTMF() <-chan rune     { return c.dtmf }
func (c *testCall) Done() <-chan struct{} { return c.done }
func (c *testCall) Play(pcm []int16) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.queued += time.Duration(len(pcm)) * time.Second / speech.SampleRate
	if !c.paced {
		c.played = c.queued
	}
	return nil
}
func (c *testCall) Flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dropped += c.queued - c.played
	c.queued = c.played
}
func (c *testCall) Played() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.played
}
func (c *testCall) Transfer(_ context.Context, target string) error {
	c.mu.Lock()
	c.transfer = target
	c.mu.Unlock()
	c.end()
	return nil
}
func (c *testCall) Hangup(context.Context) error {
	c.mu.Lock()
	c.hungUp = true
	c.mu.Unlock()
	c.end()
	return nil
}
func (c *testCall) end() { c.closeOnce.Do(func() { close(c.done) }) }

// caller hangs up.
func (c *testCall) callerHangsUp() { c.end() }

// speakFrames sends n frames of "speech" (loud) or silence.
func (c *testCall) frames(loud bool, n int) {
	for range n {
		f := make([]int16, speech.FrameSize)
		if loud {
			for i := range f {
				f[i] = 3000
			}
		}
		select {
		case c.audio <- f:
		case <-c.done:
			return
		}
	}
}

// detector: loud frames are speech; 3 in a row start a turn, 10 quiet ones end it.
type detector struct {
	loud, quiet int
	inTurn      bool
}

func (d *detector) Feed(f []int16) callflow.Event {
	if f[0] != 0 {
		d.loud, d.quiet = d.loud+1, 0
		if !d.inTurn && d.loud >= 3 {
			d.inTurn = true
			return callflow.SpeechStart
		}
		return callflow.None
	}
	d.quiet, d.loud = d.quiet+1, 0
	if d.inTurn && d.quiet >= 10 {
		d.inTurn = false
		return callflow.TurnEnd
	}
	return callflow.None
}

// voice says each text as one frame per word and tells the test what it said.
type voice struct {
	said     chan string
	speaking atomic.Int32 // texts told to the test and not yet fully queued
}

func (v *voice) Provider() speech.Provider { return speech.Provider{Name: "test", Local: true} }
func (v *voice) Speak(ctx context.Context, text string, out func([]int16) error) error {
	v.speaking.Add(1)
	defer v.speaking.Add(-1)
	v.said <- text
	for range strings.Fields(text) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := out(make([]int16, speech.FrameSize)); err != nil {
			return err
		}
	}
	return nil
}

// recognizer hears, turn by turn, the next of its texts.
type recognizer struct {
	mu    sync.Mutex
	texts []string
	heard []int // frames written per turn
}

func (r *recognizer) Provider() speech.Provider { return speech.Provider{Name: "test", Local: true} }
func (r *recognizer) Stream(context.Context) (speech.Stream, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	text := ""
	if len(r.texts) > 0 {
		text, r.texts = r.texts[0], r.texts[1:]
	}
	r.heard = append(r.heard, 0)
	return &stream{r: r, turn: len(r.heard) - 1, text: text, results: make(chan speech.Result, 2)}, nil
}

type stream struct {
	r       *recognizer
	turn    int
	text    string
	results chan speech.Result
	once    sync.Once
}

func (s *stream) Write([]int16) error {
	s.r.mu.Lock()
	s.r.heard[s.turn]++
	s.r.mu.Unlock()
	return nil
}
func (s *stream) Results() <-chan speech.Result { return s.results }
func (s *stream) Err() error                    { return nil }
func (s *stream) Close() error {
	s.once.Do(func() {
		s.results <- speech.Result{Text: s.text, Final: true}
		close(s.results)
	})
	return nil
}

type harness struct {
	t     *testing.T
	db    *store.DB
	p     tenant.Tenant
	flow  *callflow.Flow
	voice *voice
	rec   *recognizer
	call  *testCall
	ended chan struct{}
}

func newHarness(t *testing.T, db *store.DB, from string, texts []string, paced bool) *harness {
	t.Helper()
	return newHarnessWith(t, db, from, texts, paced, nil)
}

// conversation returns the id of the call's conversation.
func (h *harness) conversation() string {
	h.t.Helper()
	kind := retention.Transcript
	recs, err := h.db.ListRecords(ctx, h.p.ID, store.RecordFilter{Kind: &kind})
	if err != nil || len(recs) != 1 {
		h.t.Fatalf("conversations: %d, %v", len(recs), err)
	}
	return recs[0].ID
}

func newHarnessWith(t *testing.T, db *store.DB, from string, texts []string, paced bool, adjust func(*callflow.Flow)) *harness {
	t.Helper()
	p, err := db.CreateTenant(ctx, tenant.Tenant{Kind: tenant.Practice, Code: "031234567", Name: "Hausarztpraxis Dr. Erika Schneider"})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, db: db, p: p, voice: &voice{said: make(chan string, 16)}, call: newCall(from), ended: make(chan struct{})}
	h.call.paced = paced
	always := func(time.Time) bool { return true }
	svc := &reception.Service{Store: db, Engine: func(context.Context, string) (*dialogue.Engine, error) {
		return &dialogue.Engine{NLU: &nlu.Understander{Doctors: []string{"Weber"}},
			Practice: dialogue.Practice{Name: p.Name, Doctors: []string{"Weber"}, StaffReachable: always, Open: always}}, nil
	}}
	h.flow = &callflow.Flow{Reception: svc,
		Practice:   func(context.Context, string) (string, error) { return p.ID, nil },
		Voice:      func(context.Context, string) (speech.Voice, error) { return h.voice, nil },
		Detector:   func() callflow.Detector { return &detector{} },
		TransferTo: func(context.Context, string) (string, error) { return "sip:anmeldung@praxis-schneider.example", nil },
		Log:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		Silence:    300 * time.Millisecond,
	}
	if texts != nil {
		h.rec = &recognizer{texts: texts}
		h.flow.Recognizer = func(context.Context, string) (speech.Recognizer, error) { return h.rec, nil }
	}
	if adjust != nil {
		adjust(h.flow)
	}
	go func() {
		defer close(h.ended)
		h.flow.HandleCall(ctx, h.call)
	}()
	return h
}

// hears waits for the assistant to say something containing want.
func (h *harness) hears(want string) string {
	h.t.Helper()
	for {
		select {
		case said := <-h.voice.said:
			if strings.Contains(said, want) {
				return said
			}
		case <-time.After(10 * time.Second):
			h.t.Fatalf("the assistant never said %q", want)
		}
	}
}

// says plays one caller turn: speech, then the silence that ends it.
func (h *harness) says() {
	h.call.frames(true, 8)
	h.call.frames(false, 12)
}

func (h *harness) wait() {
	h.t.Helper()
	select {
	case <-h.ended:
	case <-time.After(10 * time.Second):
		h.t.Fatal("the call flow did not end")
	}
}

func (h *harness) requests() []request.Request {
	h.t.Helper()
	kind := retention.Request
	recs, err := h.db.ListRecords(ctx, h.p.ID, store.RecordFilter{Kind: &kind})
	if err != nil {
		h.t.Fatal(err)
	}
	var out []request.Request
	for _, rec := range recs {
		var r request.Request
		if err := json.Unmarshal(rec.Data, &r); err != nil {
			h.t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// TestSpokenCall: a caller asks for a prescription refill in her own words; the
// assistant hears each turn, answers, and hangs up at the end; the request carries her
// number from the call.
func TestSpokenCall(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, "+491701234567", []string{
			"Ich brauche ein Folgerezept für Ramipril 5 mg",
			"Erika Mustermann, geboren am 12.03.1984",
			"gesetzlich",
			"ja",
			"nein danke, tschüss",
		}, false)
		h.hears("Hausarztpraxis Dr. Erika Schneider")
		h.says()
		h.hears("Namen")
		h.says()
		h.hears("gesetzlich oder privat")
		h.says()
		h.hears("Stimmt das?")
		h.says()
		h.hears("sonst noch")
		h.says()
		h.hears("Auf Wiederhören")
		h.wait()
		if !h.call.hungUp {
			t.Error("the assistant did not hang up")
		}
		reqs := h.requests()
		if len(reqs) != 1 || reqs[0].Type != request.PrescriptionRefill || reqs[0].Status != request.Complete ||
			reqs[0].Patient.Phone != "+491701234567" || reqs[0].Details.Medication != "Ramipril 5 mg" {
			t.Fatalf("requests %+v", reqs)
		}
		// The recogniser heard the pre-roll and the turn, not the silence before it.
		for i, n := range h.rec.heard {
			if n < 8 || n > 8+15+1 {
				t.Errorf("turn %d: %d frames to the recogniser", i, n)
			}
		}
	})
}

// TestBargeIn: the caller speaks while the assistant talks: what is still queued of the
// greeting is dropped as soon as the speech begins, before the turn ends, and the caller
// is heard.
func TestBargeIn(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		// Paced: nothing of the greeting goes out, it is still playing.
		h := newHarness(t, db, "+491701234567", []string{"Bitte rufen Sie mich zurück"}, true)
		h.hears("Hausarztpraxis")
		h.call.frames(true, 8) // speech, no end of turn yet
		deadline := time.Now().Add(5 * time.Second)
		for {
			h.call.mu.Lock()
			dropped := h.call.dropped
			h.call.mu.Unlock()
			if dropped > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the greeting was not dropped when the caller began to speak")
			}
			time.Sleep(10 * time.Millisecond)
		}
		h.call.frames(false, 12) // the end of the turn
		h.hears("Rückruf")       // the engine's answer to the callback wish
		h.call.callerHangsUp()
		h.wait()
	})
}

// TestHangUpHalfWay: the caller hangs up after the first sentence: the request stays,
// incomplete, with what was said and the caller's number.
func TestHangUpHalfWay(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, "+491701234567", []string{"Ich brauche eine Überweisung zum Orthopäden"}, false)
		h.hears("Hausarztpraxis")
		h.says()
		h.hears("Überweisung")
		h.call.callerHangsUp()
		h.wait()
		reqs := h.requests()
		if len(reqs) != 1 || reqs[0].Type != request.Referral || reqs[0].Status != request.Incomplete || reqs[0].Patient.Phone != "+491701234567" {
			t.Fatalf("requests %+v", reqs)
		}
	})
}

// TestSilence: nobody speaks: the assistant says it heard nothing and, after long silence,
// ends the call; the caller's number becomes a callback request.
func TestSilence(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, "+491701234567", []string{}, false)
		h.hears("Hausarztpraxis")
		h.hears("nicht gehört")
		h.call.callerHangsUp()
		h.wait()
		reqs := h.requests()
		if len(reqs) != 1 || reqs[0].Type != request.Callback || reqs[0].Patient.Phone != "+491701234567" {
			t.Fatalf("requests %+v", reqs)
		}
	})
}

// TestTransfer: the caller wants a person: the call goes to the team.
func TestTransfer(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, "+491701234567", []string{"Ich möchte bitte mit jemandem aus dem Praxisteam sprechen"}, false)
		h.hears("Hausarztpraxis")
		h.says()
		h.wait()
		if h.call.transfer != "sip:anmeldung@praxis-schneider.example" {
			t.Errorf("transferred to %q", h.call.transfer)
		}
	})
}

// TestKeypad: without speech recognition the caller chooses by key and gives her birth
// date by key; the team gets the request with her number.
func TestKeypad(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, "+491701234567", nil, false)
		h.hears("die 2 für Rezepte")
		h.call.dtmf <- '2'
		h.hears("Geburtsdatum mit acht Ziffern")
		for _, k := range "12031984#" {
			h.call.dtmf <- k
		}
		h.hears("meldet sich bei Ihnen")
		h.wait()
		reqs := h.requests()
		if len(reqs) != 1 || reqs[0].Type != request.PrescriptionRefill || reqs[0].Patient.BirthDate != "1984-03-12" ||
			reqs[0].Patient.Phone != "+491701234567" {
			t.Fatalf("requests %+v", reqs)
		}
	})
}

// TestKeypadWithheldNumber: no choice and no number: the caller is asked to call again,
// and nothing is stored that the team could not act on.
func TestKeypadWithheldNumber(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, "anonymous", nil, false)
		h.hears("die 1 für Termine")
		h.call.dtmf <- '9' // no such choice: the menu again
		h.hears("die 1 für Termine")
		h.call.dtmf <- '4'
		h.hears("Geburtsdatum")
		h.call.dtmf <- '#'
		h.hears("Ihre Nummer ist leider unterdrückt")
		h.wait()
	})
}

// TestKeypadVoicemail: a practice that records calls announces it, takes a spoken message
// after the birth date on the keypad line, and keeps the recording with the call.
func TestKeypadVoicemail(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		h := newHarnessWith(t, db, "+491701234567", nil, false, func(f *callflow.Flow) {
			f.Recording = func(context.Context, string) (bool, error) { return true, nil }
		})
		h.hears("wird aufgezeichnet")
		h.call.dtmf <- '4'
		h.hears("Geburtsdatum")
		for _, k := range "12031984#" {
			h.call.dtmf <- k
		}
		h.hears("Ihre Nachricht")
		h.says()
		h.call.frames(false, 110) // the pause that ends the message
		h.hears("meldet sich bei Ihnen")
		h.wait()
		audio, err := h.flow.Reception.Audio(ctx, h.p.ID, h.conversation())
		if err != nil {
			t.Fatal(err)
		}
		if len(audio) < 44+2*160*8 || string(audio[:4]) != "RIFF" {
			t.Errorf("recording of %d bytes", len(audio))
		}
	})
}

// TestKeypadVoicemailKeepsAudioDuringPrompt: the caller's audio while the invitation to
// speak plays is taken and kept (a recording has no gap, nothing is shifted), not left to
// overflow the call's buffer.
func TestKeypadVoicemailKeepsAudioDuringPrompt(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		h := newHarnessWith(t, db, "+491701234567", nil, true, func(f *callflow.Flow) {
			f.Recording = func(context.Context, string) (bool, error) { return true, nil }
		})
		playedOut := func() {
			// What was heard is queued in full only once the voice is done with it.
			for h.voice.speaking.Load() > 0 {
				time.Sleep(time.Millisecond)
			}
			h.call.mu.Lock()
			h.call.played = h.call.queued
			h.call.mu.Unlock()
		}
		h.hears("wird aufgezeichnet")
		h.call.dtmf <- '4'
		h.hears("Geburtsdatum")
		for _, k := range "12031984#" {
			h.call.dtmf <- k
		}
		h.hears("Ihre Nachricht")
		// The invitation is still playing: 3 s of line noise, more than the call buffers.
		sent := make(chan struct{})
		go func() {
			h.call.frames(false, 150)
			close(sent)
		}()
		select {
		case <-sent:
		case <-time.After(5 * time.Second):
			t.Fatal("the caller's audio is not taken while the invitation plays")
		}
		playedOut()
		h.says()
		h.call.frames(false, 110) // the pause that ends the message
		h.hears("meldet sich bei Ihnen")
		playedOut()
		h.wait()
		audio, err := h.flow.Reception.Audio(ctx, h.p.ID, h.conversation())
		if err != nil {
			t.Fatal(err)
		}
		// Every frame up to the message's end: the 150 during the invitation, the
		// message, and the pause that ended it (the recording stops there).
		if want := 44 + 2*160*(150+8+12+90); len(audio) < want {
			t.Errorf("recording of %d bytes, want ≥ %d (every frame sent)", len(audio), want)
		}
	})
}
