package sip

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/diago/audio"
	"github.com/emiago/diago/media"
	"github.com/emiago/sipgo"
)

// writeToneFile writes d of a 300 Hz tone as raw A-law for sipp's rtp_stream.
func writeToneFile(t *testing.T, dir string, d time.Duration) {
	t.Helper()
	tone := sine(d, 300)
	lpcm := make([]byte, 2*len(tone))
	for i, v := range tone {
		lpcm[2*i], lpcm[2*i+1] = byte(v), byte(uint16(v)>>8)
	}
	alaw := make([]byte, len(tone))
	if _, err := audio.EncodeAlawTo(alaw, lpcm); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tone.alaw"), alaw, 0o600); err != nil {
		t.Fatal(err)
	}
}

// An INVITE without SDP: Tresen offers in its 200 OK (A-law first, sipp checks), the
// caller answers in the ACK, and the call carries audio.
func TestSippLateOffer(t *testing.T) {
	dir := t.TempDir()
	writeToneFile(t, dir, 1500*time.Millisecond)
	h := newRecorder(sine(time.Second, 440))
	s := startServer(t, Options{Handler: h})
	runSipp(t, s, "sipp_late_offer.xml", dir)
	select {
	case <-h.ended:
	case <-time.After(5 * time.Second):
		t.Fatal("handler did not end after sipp's BYE")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.loud < 60 {
		t.Errorf("heard %d loud frames of %d from sipp, want ≥ 60 (1.5 s tone)", h.loud, h.frames)
	}
	if got := h.calls[0].(*call).codecName(); got != "PCMA" {
		t.Errorf("codec %s, want PCMA from the ACK", got)
	}
}

// toneLevel is the energy of pcm at hz relative to its total energy (Goertzel): near 1
// for a pure tone at hz.
func toneLevel(pcm []int16, hz float64) float64 {
	k := 2 * math.Cos(2*math.Pi*hz/8000)
	var s1, s2, total float64
	for _, v := range pcm {
		x := float64(v)
		s1, s2 = x+k*s1-s2, s1
		total += x * x
	}
	power := s1*s1 + s2*s2 - k*s1*s2
	if total == 0 {
		return 0
	}
	return 2 * power / (float64(len(pcm)) * total)
}

// With early media, a call that rings answers 183 Session Progress with SDP and the
// caller hears the German ringing tone (425 Hz) before the answer, then the prompt.
func TestEarlyMediaRingingTone(t *testing.T) {
	h := newRecorder(sine(time.Second, 440))
	s := startServer(t, Options{Handler: h, RingFor: 2 * time.Second, EarlyMedia: true})
	dg := caller(t, "udp")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	d, err := dg.NewDialog(target(t, s, "0421123456", ""), diago.NewDialogOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	err = d.Invite(ctx, diago.InviteClientOptions{EarlyMediaDetect: true})
	if !errors.Is(err, diago.ErrClientEarlyMedia) {
		t.Fatalf("Invite: %v, want early media (183 with SDP)", err)
	}
	if got := media.CodecAudioFromSession(d.MediaSession()); got.Name != "PCMA" {
		t.Errorf("early media codec %s, want PCMA", got.Name)
	}
	early := listenPCM(t, d, 1200*time.Millisecond)
	var ring []int16
	for _, f := range early {
		if rms(f) > 300 {
			ring = append(ring, f...)
		}
	}
	if len(ring) < 30*160 {
		t.Fatalf("heard %d samples of tone in the early media, want the ringing tone's first second", len(ring))
	}
	if lvl := toneLevel(ring, 425); lvl < 0.8 {
		t.Errorf("early media at 425 Hz: %.2f of its energy, want the ringing tone (> 0.8)", lvl)
	}
	select {
	case <-h.answered:
		t.Fatal("answered before RingFor")
	default:
	}
	if err := d.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := d.Ack(ctx); err != nil {
		t.Fatal(err)
	}
	<-h.answered
	var prompt []int16
	for _, f := range listenPCM(t, d, 1200*time.Millisecond) {
		if rms(f) > 300 {
			prompt = append(prompt, f...)
		}
	}
	if lvl := toneLevel(prompt, 440); len(prompt) < 20*160 || lvl < 0.8 {
		t.Errorf("after the answer: %d samples, %.2f at 440 Hz; want the prompt", len(prompt), lvl)
	}
	_ = d.Hangup(ctx)
	<-h.ended
	waitNoCalls(t, s)
}
