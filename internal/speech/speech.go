// Package speech defines how Tresen hears and speaks on the phone: the audio it works in,
// the recognisers (speech to text) and voices (text to speech) it can use, and what each
// provider declares about where the audio goes. Adapters are named for their technology
// (espeak, vosk, deepgram, whisper, elevenlabs, azurespeech).
package speech

import (
	"context"
	"time"
)

// Audio inside Tresen is telephone audio: 16-bit linear PCM, mono, 8 kHz, in frames of
// 20 ms. Codecs (G.711) and other rates are converted at the edges (package audio).
const (
	SampleRate  = 8000
	FrameLength = 20 * time.Millisecond
	FrameSize   = SampleRate * int(FrameLength/time.Millisecond) / 1000 // 160 samples
)

// Provider says who processes the audio and what they promise. A practice must confirm
// both promises before audio is sent to a provider that is not on its own server.
type Provider struct {
	Name string // "espeak-ng", "vosk", "deepgram", …
	// Local: the provider runs on the practice's or Tresen's own server; audio does not
	// leave it.
	Local         bool
	EUResidency   bool // processes in the EU only
	ZeroRetention bool // keeps neither audio nor text
}

// Recognizer turns a caller's speech into text.
type Recognizer interface {
	Provider() Provider
	// Stream opens a recognition of one caller turn (or a whole call): audio is written
	// as it arrives, results come as they are recognised.
	Stream(ctx context.Context) (Stream, error)
}

// Stream is one running recognition.
type Stream interface {
	// Write hands the next audio (8 kHz PCM) to the recogniser.
	Write(pcm []int16) error
	// Results delivers partial and final results; it is closed after the last final
	// result that follows Close, or when the stream fails (Err says why).
	Results() <-chan Result
	// Close ends the audio: the recogniser finishes what it heard.
	Close() error
	// Err is why Results closed early; nil after a normal end.
	Err() error
}

// Result is recognised text.
type Result struct {
	Text  string
	Final bool // false: a partial hypothesis that may still change
	// Confidence is between 0 and 1; 0 when the provider gives none.
	Confidence float64
}

// Voice speaks text.
type Voice interface {
	Provider() Provider
	// Speak synthesises text and hands the audio (8 kHz PCM) to out as it is ready, so
	// that the first audio goes out before the whole text is synthesised. It returns when
	// all audio was handed over, out failed, or ctx ended (barge-in: the caller speaks).
	Speak(ctx context.Context, text string, out func(pcm []int16) error) error
}
