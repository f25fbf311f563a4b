package main

import (
	"context"
	"math"
	"math/rand/v2"
	"os/exec"
	"testing"
	"time"

	"github.com/tresen/tresen/internal/audio"
	"github.com/tresen/tresen/internal/vosk"
)

// alaw is pcm after a trip through G.711 A-law, as the server hears it.
func alaw(pcm []int16) []int16 {
	return audio.DecodeALaw(nil, audio.EncodeALaw(nil, pcm))
}

// voiceLike is a stand-in for speech: a buzz at a low pitch with harmonics, louder and
// softer, as a vowel sequence is.
func voiceLike(rng *rand.Rand, n int) []int16 {
	out := make([]int16, n)
	f0 := 110 + 40*rng.Float64()
	for i := range out {
		t := float64(i) / markerRate
		env := 0.5 + 0.5*math.Sin(2*math.Pi*3*t)
		var v float64
		for h := 1; h <= 12; h++ {
			v += math.Sin(2*math.Pi*f0*float64(h)*t) / float64(h)
		}
		out[i] = int16(4000*env*v + 300*rng.NormFloat64())
	}
	return out
}

func TestMarkerRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct{ turn, tag int }{{0, 0}, {5, 511}, {7, 73}, {3, 0o444}, {1, 0o707}, {2, 0o070}} {
		for _, lead := range []int{0, 1, 77, 159, 160, 2401} {
			// Line noise before (the recogniser gets up to 300 ms of it), words after.
			pcm := make([]int16, lead)
			for i := range pcm {
				pcm[i] = int16(30 * rng.NormFloat64())
			}
			pcm = append(pcm, markerSamples(c.turn, c.tag)...)
			pcm = append(pcm, voiceLike(rng, 16000)...)
			turn, tag, ok := decodeMarker(alaw(pcm))
			if !ok || turn != c.turn || tag != c.tag {
				t.Errorf("marker of turn %d, tag %d after %d samples: decoded %d, %d, %v", c.turn, c.tag, lead, turn, tag, ok)
			}
		}
	}
}

func TestMarkerAbsent(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 20 {
		if turn, tag, ok := decodeMarker(alaw(voiceLike(rng, 24000))); ok {
			t.Errorf("speech without a marker (%d): decoded turn %d, tag %d", i, turn, tag)
		}
	}
	if _, _, ok := decodeMarker(nil); ok {
		t.Error("decoded a marker in nothing")
	}
	// A marker cut short (the start of the turn lost) is no marker.
	if _, _, ok := decodeMarker(markerSamples(1, 2)[:2*markerTone]); ok {
		t.Error("decoded half a marker")
	}
}

// TestMarkerSpeech checks the marker in front of real words: espeak-ng's, as the callers
// send them.
func TestMarkerSpeech(t *testing.T) {
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		t.Skip("espeak-ng not installed")
	}
	for i, s := range script {
		words, err := synthesize("de", s)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, ok := decodeMarker(alaw(words)); ok {
			t.Errorf("%q alone decoded as a marker", s)
		}
		pcm := append(markerSamples(i, 300+i), words...)
		if turn, tag, ok := decodeMarker(alaw(pcm)); !ok || turn != i || tag != 300+i {
			t.Errorf("%q: decoded %d, %d, %v", s, turn, tag, ok)
		}
	}
}

func TestEndOfTurnSilence(t *testing.T) {
	if got := endOfTurnSilence(audio.VADConfig{}); got != 700*time.Millisecond {
		t.Errorf("server's detector: %v, want the default 700ms", got)
	}
	if got := endOfTurnSilence(audio.VADConfig{EndAfter: 500 * time.Millisecond}); got != 500*time.Millisecond {
		t.Errorf("EndAfter 500ms: %v", got)
	}
}

func TestTranscript(t *testing.T) {
	for in, want := range map[string]string{
		"Ich brauche ein Folgerezept für Ramipril fünf Milligramm.": "ich brauche ein folgerezept für ramipril fünf milligramm",
		"Ja, das stimmt.": "ja das stimmt",
	} {
		if got := transcript(in); got != want {
			t.Errorf("transcript(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMeasures(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	turns := []turnResult{
		{turn: 0, end: at(0), vadEnd: at(40), detect: at(740), eof: at(745), final: at(746), audible: at(800), speech: at(820)},
		{turn: 1, end: at(0), vadEnd: at(0), detect: at(700), audible: at(900), speech: at(900)}, // no recogniser times
	}
	ea := 700 * time.Millisecond
	got := map[string][]time.Duration{}
	for _, m := range measures {
		got[m.name] = values(turns, m, ea, -1)
	}
	ms := func(v ...int) []time.Duration {
		var out []time.Duration
		for _, x := range v {
			out = append(out, time.Duration(x)*time.Millisecond)
		}
		return out
	}
	for i, want := range [][]time.Duration{
		ms(820, 900), // raw
		ms(120, 200), // nominal
		ms(80, 200),  // exact
		ms(60, 200),  // exact, to the first audible packet
		ms(5),        // detect → EOF
		ms(1),        // EOF → final
		ms(74),       // final → reply
		ms(0, 20),    // audible → speech
		ms(0, 40),    // last voiced → detector's last speech
		ms(700, 700), // detector's last speech → detecting packet
	} {
		if g := got[measures[i].name]; !equal(g, want) {
			t.Errorf("%s: %v, want %v", measures[i].name, g, want)
		}
	}
	if g := values(turns, measures[measureExact], ea, 1); !equal(g, ms(200)) {
		t.Errorf("exact, turn 2 only: %v", g)
	}
}

func equal(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestRecognizer talks to the fake recogniser with the server's own Vosk client: the
// turn's marker picks the transcript, and the times of the turn are kept for its call.
func TestRecognizer(t *testing.T) {
	rec, err := newRecognizer("127.0.0.1:0", []string{"erste", "zweite"})
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	client, err := vosk.New(vosk.Settings{URL: rec.URL()})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, c := range []struct {
		turn, tag int
		marker    bool
		want      string
	}{{1, 42, true, "zweite"}, {0, 7, true, "erste"}, {0, 9, false, ""}} {
		ctx := context.Background()
		st, err := client.Stream(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var pcm []int16
		if c.marker {
			pcm = markerSamples(c.turn, c.tag)
		}
		pcm = append(pcm, voiceLike(rng, 8000)...)
		for i := 0; i < len(pcm); i += 160 {
			if err := st.Write(pcm[i:min(i+160, len(pcm))]); err != nil {
				t.Fatal(err)
			}
		}
		before := time.Now()
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		var got string
		for res := range st.Results() {
			if res.Final {
				got += res.Text
			}
		}
		if err := st.Err(); err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("turn %d, tag %d, marker %v: recognised %q, want %q", c.turn, c.tag, c.marker, got, c.want)
		}
		r, ok := rec.take(c.tag, c.turn)
		if ok != c.marker {
			t.Errorf("turn %d, tag %d: times kept %v, want %v", c.turn, c.tag, ok, c.marker)
		}
		if ok && (r.eof.Before(before) || r.final.Before(r.eof) || r.audio != time.Duration(len(pcm))*time.Second/8000) {
			t.Errorf("turn %d, tag %d: %+v (EOF sent at %v, %d samples)", c.turn, c.tag, r, before, len(pcm))
		}
		if _, again := rec.take(c.tag, c.turn); again {
			t.Errorf("turn %d, tag %d: taken twice", c.turn, c.tag)
		}
	}
	if conns, unknown := rec.stats(); conns != 3 || unknown != 1 {
		t.Errorf("stats: %d connections, %d without a marker; want 3, 1", conns, unknown)
	}
}
