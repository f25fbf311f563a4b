package main

import (
	"math"
	"slices"
	"time"

	"github.com/tresen/tresen/internal/audio"
	"github.com/tresen/tresen/internal/speech"
)

// turnResult is one caller turn and the reply to it, as the caller (and the fake
// recogniser, in the same process and on the same clock) saw it.
type turnResult struct {
	turn int // index in the script

	end     time.Time // the last voiced packet of the utterance was sent (RMS threshold)
	vadEnd  time.Time // the last packet the server's detector counts as speech was sent (mirror)
	detect  time.Time // the packet on which the server's detector ends the turn was sent (mirror)
	audible time.Time // the first packet of the reply that is not silence arrived
	speech  time.Time // the first packet of the reply carrying speech arrived
	eof     time.Time // the recogniser got the end of the turn ({"eof" : 1}); zero if unknown
	final   time.Time // the recogniser had sent its final result
}

// Measures of a turn: what is reported, and how it is computed from the times.
type measure struct {
	name string
	of   func(t turnResult, endAfter time.Duration) (time.Duration, bool)
}

var measures = []measure{
	{"end of speech → first reply packet with speech (raw)", func(t turnResult, _ time.Duration) (time.Duration, bool) {
		return t.speech.Sub(t.end), true
	}},
	{"after detection, nominal: raw − end-of-turn silence", func(t turnResult, ea time.Duration) (time.Duration, bool) {
		return t.speech.Sub(t.end) - ea, true
	}},
	{"after detection, exact: detecting packet sent → reply", func(t turnResult, _ time.Duration) (time.Duration, bool) {
		return t.speech.Sub(t.detect), !t.detect.IsZero()
	}},
	{"  the same to the first audible packet of the reply", func(t turnResult, _ time.Duration) (time.Duration, bool) {
		return t.audible.Sub(t.detect), !t.detect.IsZero() && !t.audible.IsZero()
	}},
	{"  detecting packet sent → recogniser got EOF", func(t turnResult, _ time.Duration) (time.Duration, bool) {
		return t.eof.Sub(t.detect), !t.detect.IsZero() && !t.eof.IsZero()
	}},
	{"  recogniser got EOF → its final sent (this tool's own time)", func(t turnResult, _ time.Duration) (time.Duration, bool) {
		return t.final.Sub(t.eof), !t.eof.IsZero()
	}},
	{"  recogniser's final sent → first reply packet with speech", func(t turnResult, _ time.Duration) (time.Duration, bool) {
		return t.speech.Sub(t.final), !t.final.IsZero()
	}},
	{"  first audible packet → first packet with speech", func(t turnResult, _ time.Duration) (time.Duration, bool) {
		return t.speech.Sub(t.audible), !t.audible.IsZero()
	}},
	{"last voiced packet → detector's last speech packet", func(t turnResult, _ time.Duration) (time.Duration, bool) {
		return t.vadEnd.Sub(t.end), !t.vadEnd.IsZero()
	}},
	{"detector's last speech packet → detecting packet", func(t turnResult, _ time.Duration) (time.Duration, bool) {
		return t.detect.Sub(t.vadEnd), !t.vadEnd.IsZero() && !t.detect.IsZero()
	}},
}

// Indexes of measures the verdict may use.
const (
	measureNominal = 1
	measureExact   = 2
)

// values is a measure over turns (of one turn of the script when turn ≥ 0), sorted.
func values(ts []turnResult, m measure, endAfter time.Duration, turn int) []time.Duration {
	var out []time.Duration
	for _, t := range ts {
		if turn >= 0 && t.turn != turn {
			continue
		}
		if d, ok := m.of(t, endAfter); ok {
			out = append(out, d)
		}
	}
	slices.Sort(out)
	return out
}

// endOfTurnSilence is the silence after speech on which a detector configured with cfg
// ends the turn, as the detector applies it: it is fed line noise, a second of a loud tone
// and line noise again, frame by frame, and the time from the end of its last speech frame
// (the event's At; the detector's filter rings into the first quiet frame, so that is not
// the end of the tone) to the end of the frame on which it ends the turn is returned. The
// default configuration (audio.VADConfig{}) is the server's (cmd/tresen/phone.go).
func endOfTurnSilence(cfg audio.VADConfig) time.Duration {
	d := audio.NewDetector(cfg)
	quiet := make([]int16, speech.FrameSize)
	for i := range quiet {
		quiet[i] = int16(i%3 - 1)
	}
	tone := make([]int16, speech.FrameSize)
	for i := range tone { // 400 Hz: a whole number of periods in a frame
		tone[i] = int16(8000 * math.Sin(2*math.Pi*400*float64(i)/speech.SampleRate))
	}
	const second = speech.SampleRate / speech.FrameSize // frames
	for range second {
		d.Feed(quiet)
	}
	for range second {
		d.Feed(tone)
	}
	for range 10 * second {
		if ev := d.Feed(quiet); ev.Kind == audio.SpeechEnd {
			return d.Position() - ev.At
		}
	}
	return 0
}
