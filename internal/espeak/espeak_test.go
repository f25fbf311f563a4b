package espeak

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tresen/tresen/internal/audio"
	"github.com/tresen/tresen/internal/speech"
)

const greeting = "Guten Tag, Sie sind verbunden mit der Hausarztpraxis Dr. Erika Schneider."

// mustVoice returns the real espeak-ng voice (make test installs Debian's espeak-ng).
func mustVoice(tb testing.TB) *Voice {
	tb.Helper()
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		tb.Fatal("no espeak-ng on PATH: make test installs Debian's espeak-ng")
	}
	v, err := New(Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

func speakAll(t *testing.T, v speech.Voice, text string) ([]int16, [][]int16) {
	t.Helper()
	var all []int16
	var chunks [][]int16
	if err := v.Speak(context.Background(), text, func(p []int16) error {
		chunks = append(chunks, p)
		all = append(all, p...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return all, chunks
}

func rmsDBFS(pcm []int16) float64 {
	var sum float64
	for _, s := range pcm {
		sum += float64(s) * float64(s)
	}
	return 10 * math.Log10(sum/float64(len(pcm))/(32768*32768)+1e-20)
}

func TestSpeak(t *testing.T) {
	v := mustVoice(t)
	if got := v.Provider(); got != (speech.Provider{Name: "espeak-ng", Local: true, EUResidency: true, ZeroRetention: true}) {
		t.Errorf("Provider() = %+v", got)
	}
	for _, text := range []string{greeting, "Bitte nennen Sie Ihr Geburtsdatum. Zum Beispiel: 12. März 1980.", "Ja."} {
		pcm, chunks := speakAll(t, v, text)
		words := len(strings.Fields(text))
		d := time.Duration(len(pcm)) * time.Second / speech.SampleRate
		if d < time.Duration(words)*300*time.Millisecond || d > time.Duration(words)*900*time.Millisecond+300*time.Millisecond {
			t.Errorf("%q: %v of audio for %d words", text, d, words)
		}
		if l := rmsDBFS(pcm); l < -35 {
			t.Errorf("%q: level %.1f dBFS: silence?", text, l)
		}
		// Only the last piece of each sentence may be shorter than a frame.
		short := 0
		for _, c := range chunks {
			if len(c) < speech.FrameSize {
				short++
			}
		}
		if short > len(Sentences(text)) {
			t.Errorf("%q: %d pieces shorter than a frame", text, short)
		}
	}
	if pcm, _ := speakAll(t, v, "  "); len(pcm) != 0 {
		t.Errorf("blank text: %d samples", len(pcm))
	}
}

// The first sentence's audio is handed out before the second sentence is synthesised.
func TestSpeakStreamsBySentence(t *testing.T) {
	v := mustVoice(t)
	var mu sync.Mutex
	var events []string
	log := func(e string) { mu.Lock(); events = append(events, e); mu.Unlock() }
	v.trace = func(ev string, i int) { log(ev + " " + string(rune('0'+i))) }
	text := "Guten Tag. Sie sind verbunden mit der Hausarztpraxis Dr. Erika Schneider. Wie kann ich Ihnen helfen?"
	if err := v.Speak(context.Background(), text, func([]int16) error { log("out"); return nil }); err != nil {
		t.Fatal(err)
	}
	firstOut := slices.Index(events, "out")
	if firstOut < 0 || firstOut > slices.Index(events, "start 1") || slices.Index(events, "start 2") < 0 {
		t.Errorf("events %v: want audio out before the second sentence starts", events)
	}
	if slices.Index(events, "end 0") > slices.Index(events, "start 1") {
		t.Errorf("events %v: sentences overlap", events)
	}
}

// A barge-in ends the speech at once: nothing more is handed out, no further sentence
// is synthesised.
func TestSpeakCancel(t *testing.T) {
	v := mustVoice(t)
	var starts int
	v.trace = func(ev string, i int) {
		if ev == "start" {
			starts++
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	err := v.Speak(ctx, "Erster Satz. Zweiter Satz. Dritter Satz.", func([]int16) error {
		calls++
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) || calls != 1 || starts != 1 {
		t.Errorf("Speak: %v after %d chunks and %d sentences", err, calls, starts)
	}
	// An error of out ends it too, and is passed on.
	errFull := errors.New("queue full")
	if err := v.Speak(context.Background(), greeting, func([]int16) error { return errFull }); err != errFull {
		t.Errorf("out failing: %v", err)
	}
}

// A slow synthesis streams while it runs and is killed when ctx ends: a stand-in for
// espeak-ng that writes half a second of audio and then hangs.
func TestSpeakKillsProcess(t *testing.T) {
	dir := t.TempDir()
	var wav bytes.Buffer
	tone := make([]int16, 11025)
	for i := range tone {
		tone[i] = int16(8000 * math.Sin(float64(i)/5))
	}
	_ = audio.WriteWAV(&wav, tone, 22050)
	hdr := wav.Bytes()
	hdr[40], hdr[41], hdr[42], hdr[43] = 0, 0xf0, 0xff, 0x7f // streaming: size unknown
	if err := os.WriteFile(filepath.Join(dir, "audio.wav"), hdr, 0o644); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "espeak-ng")
	if err := os.WriteFile(script, []byte("#!/bin/sh\ncat "+filepath.Join(dir, "audio.wav")+"\nexec sleep 30\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	v, err := New(Options{Path: script})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	var got int
	start := time.Now()
	err = v.Speak(ctx, "Hallo.", func(p []int16) error { got += len(p); return nil })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Speak: %v", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Speak returned after %v", took)
	}
	if got < 3000 { // most of the 4000 samples at 8 kHz; the filter's tail waits for more
		t.Errorf("%d samples handed out while the process ran", got)
	}
}

func TestErrors(t *testing.T) {
	_, err := New(Options{Path: "espeak-ng-not-installed"})
	if err == nil || !strings.Contains(err.Error(), "Debian package espeak-ng") {
		t.Errorf("missing binary: %v", err)
	}
	mustVoice(t)
	v, err := New(Options{Voice: "xx-nonexistent"})
	if err != nil {
		t.Fatal(err)
	}
	err = v.Speak(context.Background(), "Hallo.", func([]int16) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "voice does not exist") {
		t.Errorf("unknown voice: %v", err)
	}
	if _, err := New(Options{Speed: 20}); err == nil {
		t.Error("speed 20 accepted")
	}
}

// countingVoice counts the syntheses of the voice it wraps.
type countingVoice struct {
	speech.Voice
	n int
}

func (c *countingVoice) Speak(ctx context.Context, text string, out func([]int16) error) error {
	c.n++
	return c.Voice.Speak(ctx, text, out)
}

func TestCache(t *testing.T) {
	v := mustVoice(t)
	cv := &countingVoice{Voice: v}
	c := NewCache(cv)
	prompts := []string{greeting, "Für einen Termin drücken Sie die 1.", "Einen Moment bitte."}
	if err := c.Prewarm(context.Background(), append(prompts, greeting, "")); err != nil {
		t.Fatal(err)
	}
	if c.Len() != 3 || cv.n != 3 {
		t.Fatalf("%d prompts cached with %d syntheses", c.Len(), cv.n)
	}
	direct, _ := speakAll(t, v, greeting)
	cached, chunks := speakAll(t, c, "  Guten Tag, Sie sind verbunden mit der Hausarztpraxis Dr. Erika   Schneider.")
	if cv.n != 3 || len(chunks) != 1 {
		t.Errorf("cached prompt: %d syntheses, %d chunks", cv.n, len(chunks))
	}
	if !slices.Equal(direct, cached) {
		t.Errorf("cached audio (%d samples) differs from synthesised (%d)", len(cached), len(direct))
	}
	chunks[0][0]++ // the receiver owns its copy
	again, _ := speakAll(t, c, greeting)
	if !slices.Equal(again, direct) {
		t.Error("the cache was changed through a copy handed out")
	}
	if _, _ = speakAll(t, c, "Das ist neu."); cv.n != 4 {
		t.Errorf("uncached text: %d syntheses", cv.n)
	}
	if c.Provider() != v.Provider() {
		t.Error("provider differs")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Speak(ctx, greeting, func([]int16) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cached speak after cancel: %v", err)
	}
	if err := c.Prewarm(ctx, []string{"Noch nicht da."}); !errors.Is(err, context.Canceled) {
		t.Errorf("prewarm after cancel: %v", err)
	}
}

// BenchmarkTimeToFirstAudio measures from Speak to the first audio handed out for the
// greeting, and reports the 50th and 95th percentile.
func BenchmarkTimeToFirstAudio(b *testing.B) {
	v := mustVoice(b)
	var ds []time.Duration
	for b.Loop() {
		start := time.Now()
		first := true
		err := v.Speak(context.Background(), greeting, func([]int16) error {
			if first {
				ds = append(ds, time.Since(start))
				first = false
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	pct := func(p float64) float64 {
		return float64(ds[min(len(ds)-1, int(p*float64(len(ds))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.95), "p95-ms")
}
