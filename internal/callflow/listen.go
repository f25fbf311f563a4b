package callflow

import (
	"context"
	"strings"
	"time"

	"github.com/tresen/tresen/internal/dialogue"
	"github.com/tresen/tresen/internal/speech"
)

// listen holds a spoken conversation: the caller's turns go to the recogniser, the text
// to the engine, its replies to the voice.
func (s *session) listen(ctx context.Context, rec speech.Recognizer, greeting dialogue.Reply) error {
	f := s.f
	det := f.Detector()
	spoken := s.speak(ctx, greeting.Text)
	preFrames := int(f.PreRoll / speech.FrameLength)
	var pre [][]int16 // the last frames before speech began
	var turn *recognition
	// waitSince is when the caller's silence began to count: the end of the last prompt.
	var spokenDone <-chan struct{} = spoken
	var waitSince time.Time
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			if turn != nil {
				turn.abort()
			}
			s.sayAndHangup(context.WithoutCancel(ctx), sayMaxCall)
			return nil
		case <-s.c.Done():
			if turn != nil {
				turn.abort()
			}
			return errCallEnded
		case <-spokenDone:
			spokenDone, waitSince = nil, time.Now().Add(s.remaining())
		case key, ok := <-s.c.DTMF():
			if !ok {
				return errCallEnded
			}
			// The keypad works in a spoken call too: 0 for the team, the menu's keys
			// for their wishes.
			if wish, ok := keypadWishes[key]; ok && turn == nil {
				r, more := s.reply(ctx, wish)
				if !more {
					return nil
				}
				spokenDone, waitSince = r, time.Time{}
			}
		case frame, ok := <-s.c.Audio():
			if !ok {
				return errCallEnded
			}
			s.hear(frame)
			ev := det.Feed(frame)
			switch {
			case turn == nil && ev == SpeechStart:
				// Barge-in: the caller speaks, the assistant stops at once and listens.
				s.stopSpeaking()
				spokenDone, waitSince = nil, time.Time{}
				var err error
				if turn, err = startRecognition(ctx, rec); err != nil {
					s.sayAndHangup(ctx, sayTrouble)
					return err
				}
				for _, p := range pre {
					turn.write(p)
				}
				pre = pre[:0]
				turn.write(frame)
			case turn != nil && ev == TurnEnd:
				turn.write(frame)
				text, err := turn.finish(ctx)
				turn = nil
				if err != nil {
					f.Log.Error("call: recognition failed", "call", s.c.ID(), "err", err)
				}
				r, more := s.reply(ctx, text)
				if !more {
					return nil
				}
				spokenDone = r
			case turn != nil:
				turn.write(frame)
			default:
				if preFrames > 0 {
					if len(pre) == preFrames {
						pre = append(pre[:0], pre[1:]...)
					}
					pre = append(pre, frame)
				}
			}
		case <-tick.C:
			if turn == nil && spokenDone == nil && !waitSince.IsZero() && time.Since(waitSince) > f.Silence {
				// Nothing heard: the engine asks again, and ends after long silence.
				r, more := s.reply(ctx, "")
				if !more {
					return nil
				}
				spokenDone, waitSince = r, time.Time{}
			}
		}
	}
}

// reply hands a turn to the engine (stored before the answer) and speaks the answer; it
// returns when the answer is queued and whether the call goes on.
func (s *session) reply(ctx context.Context, text string) (<-chan struct{}, bool) {
	r, err := s.f.Reception.Say(ctx, s.tenantID, s.conv, text)
	if err != nil {
		s.f.Log.Error("call: storing the turn", "call", s.c.ID(), "err", err)
		s.sayAndHangup(ctx, sayTrouble)
		return nil, false
	}
	spoken := s.speak(ctx, r.Text)
	if !s.act(ctx, r, spoken) {
		return nil, false
	}
	return spoken, true
}

// recognition is one caller turn on its way through the recogniser.
type recognition struct {
	stream speech.Stream
	final  chan string // the turn's final text, once Results closed
	failed bool
}

func startRecognition(ctx context.Context, rec speech.Recognizer) (*recognition, error) {
	st, err := rec.Stream(ctx)
	if err != nil {
		return nil, err
	}
	r := &recognition{stream: st, final: make(chan string, 1)}
	go func() {
		var parts []string
		for res := range st.Results() {
			if res.Final && strings.TrimSpace(res.Text) != "" {
				parts = append(parts, strings.TrimSpace(res.Text))
			}
		}
		r.final <- strings.Join(parts, " ")
	}()
	return r, nil
}

func (r *recognition) write(frame []int16) {
	if r.failed {
		return
	}
	if err := r.stream.Write(frame); err != nil {
		r.failed = true
	}
}

// finish ends the turn's audio and returns what was recognised.
func (r *recognition) finish(ctx context.Context) (string, error) {
	r.stream.Close()
	select {
	case text := <-r.final:
		return text, r.stream.Err()
	case <-ctx.Done():
		return "", ctx.Err()
	case <-time.After(10 * time.Second):
		return "", errRecognitionTimeout
	}
}

func (r *recognition) abort() { r.stream.Close() }
