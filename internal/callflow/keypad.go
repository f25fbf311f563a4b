package callflow

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tresen/tresen/internal/dialogue"
	"github.com/tresen/tresen/internal/speech"
)

var errRecognitionTimeout = errors.New("the recogniser gave no result in time")

// Waits of the keypad line.
const (
	keyWait   = 10 * time.Second // for a choice in the menu
	digitWait = 8 * time.Second  // between the digits of a birth date
)

// keypad serves a line without speech recognition: the menu by keys, the birth date by
// keys, the caller's number from the call; every call becomes a request for the team.
func (s *session) keypad(ctx context.Context, greeting dialogue.Reply) error {
	intro := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(greeting.Text), "Was kann ich für Sie tun?"))
	var key rune
	for attempt := range 2 {
		text := sayMenu
		if attempt == 0 {
			text = intro + " " + sayMenu
		}
		k, err := s.readKey(ctx, s.speak(ctx, text), keyWait, false)
		if err != nil {
			return err
		}
		if _, ok := keypadWishes[k]; ok {
			key = k
			break
		}
	}
	if key == 0 {
		// No choice: the caller's number still reaches the team (a callback request).
		return s.goodbye(ctx)
	}
	r, err := s.f.Reception.Say(ctx, s.tenantID, s.conv, keypadWishes[key])
	if err != nil {
		s.sayAndHangup(ctx, sayTrouble)
		return err
	}
	if key == '0' || r.Action == dialogue.ActionTransfer || r.Action == dialogue.ActionEmergency {
		if !s.act(ctx, r, s.speak(ctx, r.Text)) {
			return nil
		}
	}
	prompt := s.speak(ctx, sayBirth)
	digits := ""
	for len(digits) < 8 {
		k, err := s.readKey(ctx, prompt, digitWait, true)
		if err != nil {
			return err
		}
		if k == 0 || k == '#' {
			break
		}
		if k >= '0' && k <= '9' {
			digits += string(k)
		}
	}
	if len(digits) == 8 {
		said := fmt.Sprintf("geboren am %s.%s.%s", digits[:2], digits[2:4], digits[4:])
		if _, err := s.f.Reception.Say(ctx, s.tenantID, s.conv, said); err != nil {
			s.sayAndHangup(ctx, sayTrouble)
			return err
		}
	}
	if s.record {
		if err := s.voicemail(ctx); err != nil {
			return err
		}
		s.record = false // the recording ends with the message, not with the goodbye
	}
	return s.goodbye(ctx)
}

// voicemail records the caller's message until '#', the end of their turn, or the
// longest message; the recording is kept with the call.
func (s *session) voicemail(ctx context.Context) error {
	s.waitPlayed(ctx, s.speak(ctx, sayVoicemail))
	// Keys pressed before the end of the invitation (the '#' after the birth date, which
	// comes after the eighth digit has ended the date) do not end it.
	for drained := false; !drained; {
		select {
		case _, ok := <-s.c.DTMF():
			if !ok {
				return errCallEnded
			}
		default:
			drained = true
		}
	}
	det := s.f.Detector()
	limit := time.NewTimer(maxVoicemail)
	defer limit.Stop()
	// A message has pauses longer than a turn's: it ends after two more seconds of
	// silence after the end of speech.
	const pause = 2 * time.Second / speech.FrameLength
	spoke, quiet := false, -1
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.c.Done():
			return errCallEnded
		case <-limit.C:
			return nil
		case k, ok := <-s.c.DTMF():
			if !ok {
				return errCallEnded
			}
			if k == '#' {
				return nil
			}
		case frame, ok := <-s.c.Audio():
			if !ok {
				return errCallEnded
			}
			s.hear(frame)
			switch det.Feed(frame) {
			case SpeechStart:
				spoke, quiet = true, -1
			case TurnEnd:
				quiet = 0
			default:
				if spoke && quiet >= 0 {
					if quiet++; quiet >= int(pause) {
						return nil
					}
				}
			}
		}
	}
}

// goodbye tells the caller how it goes on and hangs up.
func (s *session) goodbye(ctx context.Context) error {
	text := sayKeypadOK
	if normalizeNumber(s.c.From()) == "" {
		text = sayNoNumber
	}
	s.sayAndHangup(ctx, text)
	return nil
}

// readKey waits for the next key, counting wait from the end of the prompt; 0 when none
// came. A key pressed while the prompt plays stops it (barge-in by keypad) unless quiet.
func (s *session) readKey(ctx context.Context, prompt <-chan struct{}, wait time.Duration, quiet bool) (rune, error) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var deadline time.Time
	for {
		select {
		case <-ctx.Done():
			s.sayAndHangup(context.WithoutCancel(ctx), sayMaxCall)
			return 0, errCallEnded
		case <-s.c.Done():
			return 0, errCallEnded
		case <-prompt:
			prompt = nil
		case <-tick.C:
			switch {
			case prompt != nil:
			case deadline.IsZero() && s.remaining() == 0:
				deadline = time.Now().Add(wait)
			case !deadline.IsZero() && time.Now().After(deadline):
				return 0, nil
			}
		case k, ok := <-s.c.DTMF():
			if !ok {
				return 0, errCallEnded
			}
			if !quiet {
				s.stopSpeaking()
			}
			return k, nil
		case frame, ok := <-s.c.Audio():
			if !ok {
				return 0, errCallEnded
			}
			// Without a recogniser audio is only kept, when the call is recorded.
			s.hear(frame)
		}
	}
}
