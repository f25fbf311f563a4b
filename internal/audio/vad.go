package audio

import (
	"math"
	"time"

	"github.com/tresen/tresen/internal/speech"
)

// VADConfig tunes a Detector. The zero value of a field takes its default.
type VADConfig struct {
	// StartAfter is how much speech reports SpeechStart (default 80 ms): long enough that
	// a click or a cough on the line does not interrupt a prompt, short enough for
	// barge-in well within 200 ms.
	StartAfter time.Duration
	// EndAfter is the silence after speech that ends the caller's turn (default 700 ms).
	// Pauses inside a sentence, and between sentences spoken in one breath, are shorter.
	EndAfter time.Duration
	// Margin is how far above the noise floor a frame must be to count as speech (dB,
	// default 10). Once speech has started, frames 3 dB less loud still count.
	Margin float64
	// MinLevel is the level below which nothing is speech (dBFS, default -50): a quiet
	// line's floor is far lower, and speech on the phone is around -30 to -15 dBFS.
	MinLevel float64
	// NoiseWindow is how far back the noise floor looks for its minimum (default 1.5 s).
	// The floor follows rising noise after this long; speech always has quieter moments
	// (pauses, stop consonants) within it.
	NoiseWindow time.Duration
}

func (c VADConfig) withDefaults() VADConfig {
	if c.StartAfter <= 0 {
		c.StartAfter = 80 * time.Millisecond
	}
	if c.EndAfter <= 0 {
		c.EndAfter = 700 * time.Millisecond
	}
	if c.Margin <= 0 {
		c.Margin = 10
	}
	if c.MinLevel == 0 {
		c.MinLevel = -50
	}
	if c.NoiseWindow <= 0 {
		c.NoiseWindow = 1500 * time.Millisecond
	}
	return c
}

// EventKind is what a Detector noticed.
type EventKind int

const (
	NoEvent     EventKind = iota
	SpeechStart           // the caller started speaking (barge-in, or the start of a turn)
	SpeechEnd             // the caller's turn ended: speech followed by EndAfter of silence
)

func (k EventKind) String() string {
	switch k {
	case SpeechStart:
		return "speech start"
	case SpeechEnd:
		return "speech end"
	}
	return "none"
}

// Event is a change of a Detector's state. At is where in the stream it happened: for
// SpeechStart the beginning of the first speech frame, for SpeechEnd the end of the last
// one. The event itself is reported StartAfter resp. EndAfter later.
type Event struct {
	Kind EventKind
	At   time.Duration
}

// Detector finds speech and the end of a caller's turn in telephone audio fed in frames
// (speech.FrameSize samples, 20 ms; other sizes work too). It decides on the level of each
// frame against a noise floor that it learns from the audio itself (the minimum level
// over the last NoiseWindow), so steady line noise and comfort noise do not count as
// speech, whatever their level. It is not safe for concurrent use.
type Detector struct {
	cfg VADConfig

	pos    time.Duration // stream position at the end of the last frame
	hpX    float64       // DC blocker state
	hpY    float64
	levels []float64 // ring of recent frame levels (dBFS) for the noise floor
	next   int       // next slot in levels
	filled int       // slots of levels in use

	startFrames int             // StartAfter in frames
	recent      []bool          // the last startFrames+1 speech decisions
	recentAt    []time.Duration // where each of those frames began
	speaking    bool            // a turn is in progress
	lastSpeech  time.Duration   // end of the last speech frame of the turn
	frameDur    time.Duration   // duration of the last frame
}

// NewDetector returns a Detector for a fresh stream.
func NewDetector(cfg VADConfig) *Detector {
	cfg = cfg.withDefaults()
	n := int(cfg.NoiseWindow / speech.FrameLength)
	sf := max(1, int((cfg.StartAfter+speech.FrameLength-1)/speech.FrameLength))
	return &Detector{
		cfg:         cfg,
		levels:      make([]float64, max(n, 1)),
		startFrames: sf,
	}
}

// Speaking says whether the caller is in a turn: after SpeechStart, before SpeechEnd.
func (d *Detector) Speaking() bool { return d.speaking }

// Position is how much audio the Detector has been fed.
func (d *Detector) Position() time.Duration { return d.pos }

// NoiseFloor is the current noise floor in dBFS.
func (d *Detector) NoiseFloor() float64 {
	if d.filled == 0 {
		return math.Inf(-1)
	}
	m := math.Inf(1)
	for _, l := range d.levels[:d.filled] {
		m = math.Min(m, l)
	}
	return m
}

// EndTurn ends a turn in progress without an event, e.g. when the flow stops listening.
// The noise floor is kept.
func (d *Detector) EndTurn() {
	d.speaking = false
	d.recent, d.recentAt = d.recent[:0], d.recentAt[:0]
}

// Feed takes the next frame and reports whether speech started or a turn ended with it.
func (d *Detector) Feed(frame []int16) Event {
	if len(frame) == 0 {
		return Event{}
	}
	begin := d.pos
	d.frameDur = time.Duration(len(frame)) * time.Second / speech.SampleRate
	d.pos += d.frameDur
	lvl := d.level(frame)
	floor := d.NoiseFloor()
	if d.filled == 0 {
		floor = lvl
	}
	d.levels[d.next] = lvl
	d.next = (d.next + 1) % len(d.levels)
	d.filled = min(d.filled+1, len(d.levels))

	threshold := floor + d.cfg.Margin
	if d.speaking {
		threshold -= 3
	}
	isSpeech := lvl > math.Max(threshold, d.cfg.MinLevel)

	if !d.speaking {
		d.recent = append(d.recent, isSpeech)
		d.recentAt = append(d.recentAt, begin)
		if len(d.recent) > d.startFrames+1 {
			copy(d.recent, d.recent[1:])
			copy(d.recentAt, d.recentAt[1:])
			d.recent, d.recentAt = d.recent[:d.startFrames+1], d.recentAt[:d.startFrames+1]
		}
		if !isSpeech {
			return Event{}
		}
		// Start once StartAfter's worth of the last frames is speech: one quiet frame in
		// between (a stop consonant) does not reset the count.
		n, first := 0, -1
		for i, s := range d.recent {
			if s {
				n++
				if first < 0 {
					first = i
				}
			}
		}
		if n < d.startFrames {
			return Event{}
		}
		d.speaking = true
		d.lastSpeech = d.pos
		at := d.recentAt[first]
		d.recent, d.recentAt = d.recent[:0], d.recentAt[:0]
		return Event{Kind: SpeechStart, At: at}
	}
	if isSpeech {
		d.lastSpeech = d.pos
		return Event{}
	}
	if d.pos-d.lastSpeech >= d.cfg.EndAfter {
		d.speaking = false
		return Event{Kind: SpeechEnd, At: d.lastSpeech}
	}
	return Event{}
}

// level is the RMS level of a frame in dBFS after removing DC and hum below ~40 Hz,
// which telephone lines carry and speech on them does not.
func (d *Detector) level(frame []int16) float64 {
	const r = 0.97
	var sum float64
	x1, y1 := d.hpX, d.hpY
	for _, s := range frame {
		x := float64(s)
		y := x - x1 + r*y1
		x1, y1 = x, y
		sum += y * y
	}
	d.hpX, d.hpY = x1, y1
	ms := sum / float64(len(frame)) / (32768 * 32768)
	return math.Max(10*math.Log10(ms+1e-12), -120)
}
