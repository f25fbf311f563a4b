// Package callflow holds the assistant's conversation on a phone call: it speaks the
// engine's replies, listens for the caller's turns (voice activity, then speech to text),
// lets the caller interrupt (barge-in), answers silence, and without a recogniser serves
// the line by keypad. Every turn is stored through the reception service before the reply
// is spoken, so a call cut off half-way leaves its request with what was said.
package callflow

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/tresen/tresen/internal/audio"
	"github.com/tresen/tresen/internal/dialogue"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/phone"
	"github.com/tresen/tresen/internal/reception"
	"github.com/tresen/tresen/internal/request"
	"github.com/tresen/tresen/internal/speech"
)

// Detector finds the caller's turns in the audio (package audio implements it).
type Detector interface {
	// Feed takes the next frame and says what happened with it.
	Feed(frame []int16) Event
}

// Event is what a frame of audio meant for the turn.
type Event int

const (
	None        Event = iota
	SpeechStart       // the caller began to speak
	TurnEnd           // the caller finished a turn (silence after speech)
)

// Flow answers calls for the practices of a reception service.
type Flow struct {
	Reception *reception.Service
	// Practice returns the practice a called number belongs to.
	Practice func(ctx context.Context, called string) (tenantID string, err error)
	// Voice returns the practice's voice.
	Voice func(ctx context.Context, tenantID string) (speech.Voice, error)
	// Recognizer returns the practice's recogniser; nil, nil: the practice has none, and
	// the line is served by keypad.
	Recognizer func(ctx context.Context, tenantID string) (speech.Recognizer, error)
	// Detector returns a new turn detector for a call.
	Detector func() Detector
	// TransferTo returns where to hand a call to the team; "": nowhere (the request
	// says the caller wants a person).
	TransferTo func(ctx context.Context, tenantID string) (string, error)
	// RingFirstTo returns where a practice's calls ring before the assistant answers
	// and for how long (its own phone during opening hours); "": nowhere. nil: the
	// assistant answers every call.
	RingFirstTo func(ctx context.Context, tenantID string) (target string, wait time.Duration, err error)
	// Recording reports whether the practice records its calls (and keeps call audio);
	// nil: never.
	Recording func(ctx context.Context, tenantID string) (bool, error)
	Log       *slog.Logger

	// MaxCall ends a call after this long (default 15 minutes).
	MaxCall time.Duration
	// Silence is how long the flow waits for the caller after a prompt before it says it
	// heard nothing (default 7 s).
	Silence time.Duration
	// PreRoll is the audio before the detected start of speech that is handed to the
	// recogniser too, so that the first syllable is not cut (default 300 ms).
	PreRoll time.Duration
}

var _ phone.Router = (*Flow)(nil)

// RingFirst says where a call to the number called rings before the assistant answers
// (phone.Router).
func (f *Flow) RingFirst(ctx context.Context, called string) (string, time.Duration, error) {
	if f.RingFirstTo == nil {
		return "", 0, nil
	}
	tenantID, err := f.Practice(ctx, called)
	if errs.Is(err, errs.NotFound) {
		return "", 0, nil // HandleCall tells the caller
	}
	if err != nil {
		return "", 0, err
	}
	return f.RingFirstTo(ctx, tenantID)
}

func (f *Flow) defaults() {
	if f.MaxCall == 0 {
		f.MaxCall = 15 * time.Minute
	}
	if f.Silence == 0 {
		f.Silence = 7 * time.Second
	}
	if f.PreRoll == 0 {
		f.PreRoll = 300 * time.Millisecond
	}
	if f.Log == nil {
		f.Log = slog.Default()
	}
}

// Texts the flow itself says (the engine says the rest).
const (
	sayTrouble  = "Entschuldigung, es gibt gerade eine technische Störung. Bitte rufen Sie später noch einmal an. Auf Wiederhören."
	sayMaxCall  = "Ich muss das Gespräch jetzt leider beenden. Ihr Anliegen ist mit den bisherigen Angaben notiert. Auf Wiederhören."
	sayMenu     = "Bitte wählen Sie auf Ihrer Telefontastatur: die 1 für Termine, die 2 für Rezepte, die 3 für Überweisungen und Krankschreibungen, die 4 für einen Rückruf, die 0 für das Praxisteam."
	sayBirth    = "Bitte geben Sie Ihr Geburtsdatum mit acht Ziffern ein, zum Beispiel 1 2 0 3 1 9 8 4, und drücken Sie dann die Raute-Taste."
	sayKeypadOK = "Vielen Dank. Das Praxisteam meldet sich bei Ihnen unter der Nummer, von der Sie anrufen. Auf Wiederhören."
	sayNoNumber = "Vielen Dank. Ihre Nummer ist leider unterdrückt; bitte rufen Sie uns während der Sprechzeiten noch einmal an. Auf Wiederhören."
	// sayNoTransfer: nobody to hand over to; the request says the caller wants a person.
	sayNoTransfer = "Ich kann Sie gerade leider nicht verbinden. Das Praxisteam ruft Sie zurück. Auf Wiederhören."
	// sayRecorded is said first when the practice records its calls.
	sayRecorded = "Dieses Gespräch wird aufgezeichnet, damit das Praxisteam Ihr Anliegen bearbeiten kann."
	// sayVoicemail invites a message on the keypad line of a practice that keeps audio.
	sayVoicemail = "Wenn Sie möchten, sprechen Sie jetzt Ihre Nachricht für das Praxisteam. Drücken Sie die Raute-Taste, wenn Sie fertig sind."
)

// maxVoicemail bounds a message on the keypad line.
const maxVoicemail = 2 * time.Minute

// keypadWishes are what a key in the menu asks for, in the words the engine knows.
var keypadWishes = map[rune]string{
	'1': "Ich möchte einen Termin vereinbaren.",
	'2': "Ich brauche ein Folgerezept.",
	'3': "Ich brauche eine Überweisung.",
	'4': "Bitte rufen Sie mich zurück.",
	'0': "Ich möchte mit jemandem aus dem Praxisteam sprechen.",
}

// HandleCall holds the conversation on one call until it ends.
func (f *Flow) HandleCall(ctx context.Context, c phone.Call) {
	f.defaults()
	ctx, cancel := context.WithTimeout(ctx, f.MaxCall)
	defer cancel()
	call := &session{f: f, c: c}
	if err := call.run(ctx); err != nil && !errors.Is(err, errCallEnded) {
		// Never the caller's number or words: only what failed.
		f.Log.Error("call failed", "call", c.ID(), "err", err)
	}
}

var errCallEnded = errors.New("call ended")

// session is one call.
type session struct {
	f        *Flow
	c        phone.Call
	tenantID string
	conv     string // the conversation's id, once started
	voice    speech.Voice
	mu       sync.Mutex
	speaking context.CancelFunc // stops the reply being spoken
	// playBase is what the call had played when the reply began, queued how much of the
	// reply is queued: the reply is heard to its end when Played reaches their sum.
	playBase time.Duration
	queued   time.Duration
	// record keeps the caller's audio when the practice records calls.
	record   bool
	recorded []int16
}

// hear takes a frame of the caller's audio: kept when the call is recorded, up to the
// longest call.
func (s *session) hear(frame []int16) {
	if s.record && time.Duration(len(s.recorded))*time.Second/speech.SampleRate < s.f.MaxCall {
		s.recorded = append(s.recorded, frame...)
	}
}

func (s *session) run(ctx context.Context) error {
	f, c := s.f, s.c
	var err error
	if s.tenantID, err = f.Practice(ctx, c.To()); err != nil {
		return err
	}
	if s.voice, err = f.Voice(ctx, s.tenantID); err != nil {
		return err
	}
	var rec speech.Recognizer
	if f.Recognizer != nil {
		if rec, err = f.Recognizer(ctx, s.tenantID); err != nil {
			return err
		}
	}
	if f.Recording != nil {
		if s.record, err = f.Recording(ctx, s.tenantID); err != nil {
			return err
		}
	}
	// The caller's number goes with every request of the call.
	conv, greeting, err := f.Reception.StartKnown(ctx, s.tenantID, request.Phone, request.Patient{Phone: normalizeNumber(c.From())})
	if err != nil {
		s.sayAndHangup(ctx, sayTrouble)
		return err
	}
	s.conv = conv
	// Whatever way the call ends, the conversation is closed: requests still being
	// collected stay with what was said.
	defer func() {
		endCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, err := f.Reception.End(endCtx, s.tenantID, s.conv); err != nil {
			f.Log.Error("call: closing the conversation", "call", c.ID(), "err", err)
		}
		if len(s.recorded) > 0 {
			var wav bytes.Buffer
			err := audio.WriteWAV(&wav, s.recorded, speech.SampleRate)
			if err == nil {
				err = f.Reception.SaveAudio(endCtx, s.tenantID, s.conv, wav.Bytes())
			}
			if err != nil {
				f.Log.Error("call: keeping the recording", "call", c.ID(), "err", err)
			}
		}
	}()
	if s.record {
		greeting.Text = sayRecorded + " " + greeting.Text
	}
	if rec == nil {
		return s.keypad(ctx, greeting)
	}
	return s.listen(ctx, rec, greeting)
}

// normalizeNumber keeps a caller id that looks like a phone number ("+49…" or digits).
func normalizeNumber(n string) string {
	n = strings.TrimSpace(n)
	if n == "" || strings.Trim(n, "+0123456789") != "" {
		return ""
	}
	return n
}

// speak says text in the background; a new reply or barge-in stops it. done is closed
// when all of it is queued for the caller.
func (s *session) speak(ctx context.Context, text string) (done <-chan struct{}) {
	s.stopSpeaking()
	sctx, cancel := context.WithCancel(ctx)
	s.mu.Lock()
	s.speaking = cancel
	s.playBase, s.queued = s.c.Played(), 0
	s.mu.Unlock()
	ch := make(chan struct{})
	play := func(pcm []int16) error {
		s.mu.Lock()
		s.queued += time.Duration(len(pcm)) * time.Second / speech.SampleRate
		s.mu.Unlock()
		return s.c.Play(pcm)
	}
	go func() {
		defer close(ch)
		err := s.voice.Speak(sctx, text, play)
		if err != nil && sctx.Err() == nil {
			s.f.Log.Error("call: speaking", "call", s.c.ID(), "err", err)
		}
	}()
	return ch
}

// stopSpeaking stops the reply being synthesised and drops what is queued: the caller
// hears silence at once.
func (s *session) stopSpeaking() {
	s.mu.Lock()
	if s.speaking != nil {
		s.speaking()
		s.speaking = nil
	}
	s.mu.Unlock()
	s.c.Flush()
}

// remaining is how much of the reply the caller has yet to hear.
func (s *session) remaining() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return max(0, s.playBase+s.queued-s.c.Played())
}

// waitPlayed waits until the reply is synthesised and has gone out (or the call ends).
// The caller's audio meanwhile is taken as always (kept when the call is recorded), so
// that nothing of it is lost or shifted.
func (s *session) waitPlayed(ctx context.Context, queued <-chan struct{}) {
	audio := s.c.Audio()
	for {
		var poll <-chan time.Time
		if queued == nil {
			r := s.remaining()
			if r == 0 {
				return
			}
			poll = time.After(min(r, 100*time.Millisecond))
		}
		select {
		case <-queued:
			queued = nil
		case <-ctx.Done():
			return
		case <-s.c.Done():
			return
		case frame, ok := <-audio:
			if !ok {
				audio = nil
				continue
			}
			s.hear(frame)
		case <-poll:
		}
	}
}

func (s *session) sayAndHangup(ctx context.Context, text string) {
	if s.voice != nil {
		s.waitPlayed(ctx, s.speak(ctx, text))
	}
	s.c.Hangup(context.WithoutCancel(ctx))
}

// act carries out what a reply asks of the call after it was spoken; it reports whether
// the call goes on with the assistant.
func (s *session) act(ctx context.Context, r dialogue.Reply, spoken <-chan struct{}) bool {
	switch r.Action {
	case dialogue.ActionTransfer:
		s.waitPlayed(ctx, spoken)
		target := ""
		if s.f.TransferTo != nil {
			var err error
			if target, err = s.f.TransferTo(ctx, s.tenantID); err != nil {
				s.f.Log.Error("call: transfer target", "call", s.c.ID(), "err", err)
			}
		}
		if target != "" {
			if err := s.c.Transfer(ctx, target); err == nil {
				return false
			}
			s.f.Log.Error("call: transfer failed", "call", s.c.ID())
		}
		s.waitPlayed(ctx, s.speak(ctx, sayNoTransfer))
		s.c.Hangup(ctx)
		return false
	}
	if r.Done || r.Action == dialogue.ActionEnd {
		s.waitPlayed(ctx, spoken)
		s.c.Hangup(ctx)
		return false
	}
	return true
}
