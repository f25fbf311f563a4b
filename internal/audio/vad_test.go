package audio

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os/exec"
	"testing"
	"time"

	"github.com/tresen/tresen/internal/speech"
)

const ms = time.Millisecond

// signal builds test audio at 8 kHz.
type signal struct {
	pcm []float64
	rng *rand.Rand
}

func newSignal(d time.Duration) *signal {
	return &signal{pcm: make([]float64, samples(d)), rng: rand.New(rand.NewPCG(7, 11))}
}

func samples(d time.Duration) int { return int(d * speech.SampleRate / time.Second) }

func amplitude(dBFS float64) float64 { return 32768 * math.Pow(10, dBFS/20) }

// noise adds white noise at an RMS level over the whole signal or a span of it.
func (s *signal) noise(dBFS float64, from, to time.Duration) *signal {
	a := amplitude(dBFS)
	for i := samples(from); i < min(samples(to), len(s.pcm)); i++ {
		s.pcm[i] += a * s.rng.NormFloat64()
	}
	return s
}

// tone adds a sine at an RMS level.
func (s *signal) tone(hz, dBFS float64, from, to time.Duration) *signal {
	a := amplitude(dBFS) * math.Sqrt2
	for i := samples(from); i < min(samples(to), len(s.pcm)); i++ {
		s.pcm[i] += a * math.Sin(2*math.Pi*hz*float64(i)/speech.SampleRate)
	}
	return s
}

func (s *signal) add(pcm []int16, at time.Duration) *signal {
	for i, v := range pcm {
		if j := samples(at) + i; j < len(s.pcm) {
			s.pcm[j] += float64(v)
		}
	}
	return s
}

func (s *signal) int16s() []int16 {
	out := make([]int16, len(s.pcm))
	for i, v := range s.pcm {
		out[i] = int16(math.Max(-32768, math.Min(32767, math.Round(v))))
	}
	return out
}

// timedEvent is an event with the stream position at which the Detector reported it.
type timedEvent struct {
	Event
	ReportedAt time.Duration
}

func detect(cfg VADConfig, pcm []int16) []timedEvent {
	d := NewDetector(cfg)
	var evs []timedEvent
	for i := 0; i+speech.FrameSize <= len(pcm); i += speech.FrameSize {
		if e := d.Feed(pcm[i : i+speech.FrameSize]); e.Kind != NoEvent {
			evs = append(evs, timedEvent{e, d.Position()})
		}
	}
	return evs
}

func near(got, want, tol time.Duration) bool { return got >= want-tol && got <= want+tol }

// checkTurns asserts one start and one end per expected turn [start, end], with At
// within tol and the events reported after StartAfter (at most 2 frames more) and
// EndAfter (one frame more).
func checkTurns(t *testing.T, evs []timedEvent, tol time.Duration, turns ...[2]time.Duration) {
	t.Helper()
	if len(evs) != 2*len(turns) {
		t.Fatalf("events %v, want %d turns %v", evs, len(turns), turns)
	}
	for i, turn := range turns {
		s, e := evs[2*i], evs[2*i+1]
		if s.Kind != SpeechStart || e.Kind != SpeechEnd {
			t.Fatalf("turn %d: events %v, %v", i, s, e)
		}
		if !near(s.At, turn[0], tol) || !near(e.At, turn[1], tol) {
			t.Errorf("turn %d: speech %v–%v, want %v–%v (±%v)", i, s.At, e.At, turn[0], turn[1], tol)
		}
		if d := s.ReportedAt - s.At; d < 80*ms || d > 120*ms {
			t.Errorf("turn %d: start reported %v after it began", i, d)
		}
		if d := e.ReportedAt - e.At; d < 700*ms || d > 720*ms {
			t.Errorf("turn %d: end reported %v after it ended", i, d)
		}
	}
}

func TestDetectorNoSpeech(t *testing.T) {
	for name, pcm := range map[string][]int16{
		"digital silence":     make([]int16, samples(5*time.Second)),
		"line noise -60 dBFS": newSignal(10*time.Second).noise(-60, 0, time.Hour).int16s(),
		"line noise -45 dBFS": newSignal(10*time.Second).noise(-45, 0, time.Hour).int16s(),
		"loud noise -30 dBFS": newSignal(10*time.Second).noise(-30, 0, time.Hour).int16s(),
		"hum 50 Hz -30 dBFS":  newSignal(5*time.Second).tone(50, -30, 0, time.Hour).noise(-60, 0, time.Hour).int16s(),
		// A click on the line, shorter than StartAfter.
		"click 40 ms": newSignal(3*time.Second).noise(-55, 0, time.Hour).tone(800, -15, time.Second, time.Second+40*ms).int16s(),
		// Below MinLevel even though far above the (digital) floor.
		"whisper -55 dBFS": newSignal(3*time.Second).tone(500, -55, time.Second, 2*time.Second).int16s(),
	} {
		if evs := detect(VADConfig{}, pcm); len(evs) != 0 {
			t.Errorf("%s: events %v", name, evs)
		}
	}
}

func TestDetectorTones(t *testing.T) {
	sec := time.Second
	// A tone burst in line noise: one turn.
	pcm := newSignal(5*sec).noise(-55, 0, time.Hour).tone(440, -25, sec, 2500*ms).int16s()
	checkTurns(t, detect(VADConfig{}, pcm), 20*ms, [2]time.Duration{sec, 2500 * ms})

	// A pause shorter than EndAfter inside the turn does not end it.
	pcm = newSignal(5*sec).noise(-50, 0, time.Hour).
		tone(440, -25, sec, 2*sec).tone(660, -28, 2400*ms, 3*sec).int16s()
	checkTurns(t, detect(VADConfig{}, pcm), 20*ms, [2]time.Duration{sec, 3 * sec})

	// A longer pause ends it: two turns.
	pcm = newSignal(6*sec).noise(-50, 0, time.Hour).
		tone(440, -25, sec, 2*sec).tone(660, -28, 3*sec, 4*sec).int16s()
	checkTurns(t, detect(VADConfig{}, pcm), 20*ms, [2]time.Duration{sec, 2 * sec}, [2]time.Duration{3 * sec, 4 * sec})

	// EndAfter is configurable.
	evs := detect(VADConfig{EndAfter: 300 * ms}, newSignal(4*sec).tone(440, -25, sec, 2*sec).int16s())
	if len(evs) != 2 || evs[1].ReportedAt != 2300*ms {
		t.Errorf("EndAfter 300 ms: %v", evs)
	}
}

// When the noise on the line gets suddenly louder, the floor follows within NoiseWindow:
// at most one short false turn, and speech above the new noise is found again.
func TestDetectorAdaptsToNoise(t *testing.T) {
	sec := time.Second
	pcm := newSignal(12*sec).noise(-65, 0, time.Hour).noise(-35, 2*sec, time.Hour).
		tone(440, -18, 8*sec, 9*sec).int16s()
	d := NewDetector(VADConfig{})
	var evs []timedEvent
	for i := 0; i+speech.FrameSize <= len(pcm); i += speech.FrameSize {
		if e := d.Feed(pcm[i : i+speech.FrameSize]); e.Kind != NoEvent {
			evs = append(evs, timedEvent{e, d.Position()})
		}
	}
	if fl := d.NoiseFloor(); fl < -38 || fl > -33 {
		t.Errorf("noise floor %.1f dBFS, want about -35", fl)
	}
	var turns [][2]time.Duration
	for i := 0; i+1 < len(evs); i += 2 {
		turns = append(turns, [2]time.Duration{evs[i].At, evs[i+1].At})
	}
	if len(evs)%2 != 0 || len(turns) < 1 || len(turns) > 2 {
		t.Fatalf("events %v", evs)
	}
	last := turns[len(turns)-1]
	if !near(last[0], 8*sec, 40*ms) || !near(last[1], 9*sec, 40*ms) {
		t.Errorf("tone at 8–9 s found at %v", last)
	}
	if len(turns) == 2 && turns[0][1] > 4*sec {
		t.Errorf("the noise step counted as speech until %v", turns[0][1])
	}
}

// espeak renders German text as 8 kHz audio (make test installs espeak-ng).
func espeak(t testing.TB, text string) []int16 {
	t.Helper()
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		t.Fatal("no espeak-ng on PATH: make test installs Debian's espeak-ng")
	}
	out, err := exec.Command("espeak-ng", "-v", "de", "-s", "155", "--stdout", text).Output()
	if err != nil {
		t.Fatalf("espeak-ng: %v", err)
	}
	pcm, rate, err := ReadWAV(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	pcm, err = Resample(pcm, rate, speech.SampleRate)
	if err != nil {
		t.Fatal(err)
	}
	return pcm
}

// speechSpan is where a clean recording is louder than -45 dBFS, by frames.
func speechSpan(pcm []int16) (from, to time.Duration) {
	first, last := -1, -1
	for i := 0; i+speech.FrameSize <= len(pcm); i += speech.FrameSize {
		if level(pcm[i:i+speech.FrameSize]) > -45 {
			if first < 0 {
				first = i
			}
			last = i + speech.FrameSize
		}
	}
	return time.Duration(first) * time.Second / speech.SampleRate, time.Duration(last) * time.Second / speech.SampleRate
}

func scaleTo(pcm []int16, dBFS float64) []int16 {
	var sum float64
	n := 0
	for i := 0; i+speech.FrameSize <= len(pcm); i += speech.FrameSize {
		if l := level(pcm[i : i+speech.FrameSize]); l > -45 { // active speech only
			for _, s := range pcm[i : i+speech.FrameSize] {
				sum += float64(s) * float64(s)
			}
			n += speech.FrameSize
		}
	}
	g := amplitude(dBFS) / math.Sqrt(sum/float64(n))
	out := make([]int16, len(pcm))
	for i, s := range pcm {
		out[i] = int16(math.Max(-32768, math.Min(32767, float64(s)*g)))
	}
	return out
}

// Real German speech (two sentences with the pause espeak-ng puts between them) in line
// noise: one turn, from the first to the last sound.
func TestDetectorGermanSpeech(t *testing.T) {
	clean := espeak(t, "Guten Tag, ich hätte gern einen Termin bei Frau Doktor Schneider. Am liebsten morgen Vormittag, wenn das geht.")
	from, to := speechSpan(clean)
	if to-from < 3*time.Second {
		t.Fatalf("espeak-ng gave %v of speech", to-from)
	}
	lead := 1500 * ms
	for _, tc := range []struct {
		name          string
		speech, noise float64 // dBFS
		tol           time.Duration
	}{
		{"normal caller, quiet line", -22, -60, 60 * ms},
		// The last sound fades into the noise: the end is found up to 120 ms early.
		{"quiet caller, noisy line (SNR 20 dB)", -30, -50, 120 * ms},
		{"loud caller, loud noise (SNR 15 dB)", -18, -33, 120 * ms},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pcm := newSignal(lead+to+2500*ms).noise(tc.noise, 0, time.Hour).add(scaleTo(clean, tc.speech), lead).int16s()
			checkTurns(t, detect(VADConfig{}, pcm), tc.tol, [2]time.Duration{lead + from, lead + to})
		})
	}
}
