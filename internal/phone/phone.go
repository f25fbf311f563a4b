// Package phone defines a phone call as the assistant handles it, whichever carrier
// brought it (SIP trunk or PBX, Twilio Media Streams): the caller's audio and keypad
// presses in, the assistant's audio out, and call control.
package phone

import (
	"context"
	"time"
)

// Call is one answered call. The carrier adapters (packages sip, twilio) implement it;
// package callflow holds the conversation on it.
type Call interface {
	// ID is the carrier's id of the call (SIP Call-ID, Twilio CallSid).
	ID() string
	// From is the caller's number in E.164 ("+494211234567"), "" when withheld.
	From() string
	// To is the number called, in E.164 where known: it selects the practice.
	To() string
	// Audio delivers the caller's audio, decoded to 8 kHz 16-bit PCM in frames of
	// speech.FrameSize samples, in order, with gaps filled; closed when the call ends.
	// The channel is buffered (about a second); frames the handler does not take in time
	// are dropped, so that a handler busy speaking never stalls the carrier.
	Audio() <-chan []int16
	// DTMF delivers the keys the caller presses ('0'–'9', '*', '#'); closed when the call
	// ends. Buffered; keys are not dropped unless the buffer (32) is full.
	DTMF() <-chan rune
	// Play queues audio (8 kHz PCM) to the caller, paced in real time by the adapter; it
	// returns once the audio is queued, not played.
	Play(pcm []int16) error
	// Flush drops all audio queued and not yet sent (barge-in): the caller hears silence
	// at once.
	Flush()
	// Played returns how much of the queued audio has gone out, so that the flow knows
	// when a prompt has been heard to the end.
	Played() time.Duration
	// Transfer hands the call to another number or SIP URI (blind transfer) and ends the
	// assistant's part.
	Transfer(ctx context.Context, target string) error
	// Hangup ends the call.
	Hangup(ctx context.Context) error
	// Done is closed when the call has ended, by either side.
	Done() <-chan struct{}
}

// Handler takes answered calls. It returns when it is done with the call (the adapter
// hangs up then if the caller has not).
type Handler interface {
	HandleCall(ctx context.Context, c Call)
}

// A Router is a Handler that may let a call ring elsewhere before it takes it: during
// opening hours the practice's own phones ring first, and the assistant answers only
// when nobody there does. Carriers that can place a second call leg ask it before they
// answer.
type Router interface {
	Handler
	// RingFirst says where a call to the number called should ring first (a number or
	// SIP URI) and for how long; "" means nowhere: the handler answers at once.
	RingFirst(ctx context.Context, called string) (target string, wait time.Duration, err error)
}
