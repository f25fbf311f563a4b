package sip

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/diago/audio"
	"github.com/emiago/diago/media"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/tresen/tresen/internal/phone"
	"github.com/tresen/tresen/internal/speech"
)

// ringRouter is a test Router: the practice's phone (target) rings first for wait.
type ringRouter struct {
	*recorder
	target string
	wait   time.Duration
}

func (r *ringRouter) RingFirst(context.Context, string) (string, time.Duration, error) {
	return r.target, r.wait, nil
}

// desk is the practice's phone in tests: a diago user agent that answers, rings without
// answering, or is busy.
type desk struct {
	uri  string
	mode string // "answer", "ring", "busy"

	mu        sync.Mutex
	from      string // caller id it was shown
	heard     int    // loud frames heard from the caller
	cancelled bool   // it rang and the call went away before it answered
	invites   int
	ended     chan struct{}
}

func startDesk(t *testing.T, mode string) *desk {
	t.Helper()
	k := &desk{mode: mode, ended: make(chan struct{}, 4)}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("testdesk"))
	if err != nil {
		t.Fatal(err)
	}
	port := freeUDPPort(t)
	dg := diago.NewDiago(ua,
		diago.WithLogger(testLogger(t)),
		diago.WithMediaConfig(diago.MediaConfig{Codecs: []media.Codec{media.CodecAudioAlaw, media.CodecTelephoneEvent8000}}),
		diago.WithTransport(diago.Transport{Transport: "udp", BindHost: "127.0.0.1", BindPort: atoi(t, port)}),
	)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); ua.Close() })
	if err := dg.ServeBackground(ctx, k.serve); err != nil {
		t.Fatal(err)
	}
	waitListener(t, ua, "udp", "127.0.0.1", atoi(t, port))
	k.uri = fmt.Sprintf("sip:anmeldung@127.0.0.1:%s", port)
	return k
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (k *desk) serve(d *diago.DialogServerSession) {
	defer func() { k.ended <- struct{}{} }()
	k.mu.Lock()
	k.invites++
	k.from = d.FromUser()
	k.mu.Unlock()
	switch k.mode {
	case "busy":
		_ = d.Respond(sip.StatusBusyHere, "Busy Here", nil)
		return
	case "ring":
		_ = d.Ringing()
		<-d.Context().Done()
		k.mu.Lock()
		k.cancelled = true
		k.mu.Unlock()
		return
	}
	_ = d.Ringing()
	time.Sleep(200 * time.Millisecond) // a person picks up
	if err := d.Answer(); err != nil {
		return
	}
	// Speak a tone to the caller and listen to them until either side hangs up.
	go func() {
		var props diago.MediaProps
		w, err := d.AudioWriter(diago.WithAudioWriterMediaProps(&props))
		if err != nil {
			return
		}
		writeTone(w, props.Codec, sine(2*time.Second, 300))
	}()
	var props diago.MediaProps
	r, err := d.AudioReader(diago.WithAudioReaderMediaProps(&props))
	if err != nil {
		return
	}
	dec := audio.PCMDecoderReader{}
	if err := dec.Init(props.Codec, r); err != nil {
		return
	}
	buf := make([]byte, media.RTPBufSize)
	for {
		n, err := dec.Read(buf)
		if err != nil {
			return
		}
		f := make([]int16, n/2)
		for i := range f {
			f[i] = int16(uint16(buf[2*i]) | uint16(buf[2*i+1])<<8)
		}
		if rms(f) > 300 {
			k.mu.Lock()
			k.heard++
			k.mu.Unlock()
		}
	}
}

// writeTone sends PCM as RTP, paced by the writer (diago's RTP writer paces at 20 ms).
func writeTone(w interface{ Write([]byte) (int, error) }, codec media.Codec, pcm []int16) {
	enc := audio.PCMEncoderWriter{}
	if err := enc.Init(codec, w); err != nil {
		return
	}
	for i := 0; i+speech.FrameSize <= len(pcm); i += speech.FrameSize {
		b := make([]byte, 2*speech.FrameSize)
		for j, v := range pcm[i : i+speech.FrameSize] {
			b[2*j], b[2*j+1] = byte(v), byte(uint16(v)>>8)
		}
		if _, err := enc.Write(b); err != nil {
			return
		}
		time.Sleep(speech.FrameLength)
	}
}

func loudFrames(frames [][]int16) int {
	n := 0
	for _, f := range frames {
		if rms(f) > 300 {
			n++
		}
	}
	return n
}

// The practice's phone answers: the caller talks with it, the assistant never answers
// (with the caller hearing ringing by 180 or by early media meanwhile).
func TestRingFirstPracticeAnswers(t *testing.T) {
	for _, early := range []bool{false, true} {
		t.Run(map[bool]string{false: "ringing", true: "early media"}[early], func(t *testing.T) {
			ringFirstAnswered(t, early)
		})
	}
}

func ringFirstAnswered(t *testing.T, earlyMedia bool) {
	k := startDesk(t, "answer")
	h := &ringRouter{recorder: newRecorder(sine(time.Second, 440)), target: k.uri, wait: 10 * time.Second}
	s := startServer(t, Options{Handler: h, EarlyMedia: earlyMedia})
	dg := caller(t, "udp")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	d, err := dg.Invite(ctx, target(t, s, "0421123456", ""), diago.InviteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := media.CodecAudioFromSession(d.MediaSession()); got.Name != "PCMA" {
		t.Errorf("codec = %s, want the practice phone's PCMA passed through", got.Name)
	}
	go func() {
		var props diago.MediaProps
		w, err := d.AudioWriter(diago.WithAudioWriterMediaProps(&props))
		if err == nil {
			writeTone(w, props.Codec, sine(1500*time.Millisecond, 440))
		}
	}()
	if n := hearLoud(t, d, 25, 10*time.Second); n < 25 {
		t.Errorf("caller heard %d loud frames of the practice's phone, want ≥ 25", n)
	}
	eventually(10*time.Second, func() bool { k.mu.Lock(); defer k.mu.Unlock(); return k.heard >= 25 })
	if err := d.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-k.ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the practice's leg did not end after the caller hung up")
	}
	select {
	case <-h.answered:
		t.Fatal("the assistant answered a call the practice took")
	default:
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.heard < 25 {
		t.Errorf("practice heard %d loud frames of the caller, want ≥ 25", k.heard)
	}
	if want := d.InviteRequest.From().Address.User; k.from != want {
		t.Errorf("practice was shown caller %q, want the caller's %q", k.from, want)
	}
	waitNoCalls(t, s)
}

// Nobody answers in time, or the line is busy: the assistant answers, and the practice's
// phone stops ringing.
func TestRingFirstOverflowToAssistant(t *testing.T) {
	for _, tc := range []struct {
		mode string
		wait time.Duration
	}{
		{"ring", 1500 * time.Millisecond},
		{"busy", 30 * time.Second}, // busy: the assistant answers at once, not after the wait
	} {
		t.Run(tc.mode, func(t *testing.T) {
			k := startDesk(t, tc.mode)
			h := &ringRouter{recorder: newRecorder(sine(600*time.Millisecond, 440)), target: k.uri, wait: tc.wait}
			s := startServer(t, Options{Handler: h})
			dg := caller(t, "udp")
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			start := time.Now()
			d, err := dg.Invite(ctx, target(t, s, "0421123456", ""), diago.InviteOptions{})
			if err != nil {
				t.Fatal(err)
			}
			took := time.Since(start)
			select {
			case <-h.answered:
			case <-time.After(5 * time.Second):
				t.Fatal("the assistant did not answer")
			}
			if tc.mode == "ring" && took < tc.wait {
				t.Errorf("answered after %v, before the practice rang %v", took, tc.wait)
			}
			if tc.mode == "busy" && took > 10*time.Second {
				t.Errorf("answered after %v although the practice was busy", took)
			}
			if n := hearLoud(t, d, 20, 10*time.Second); n < 20 {
				t.Errorf("caller heard %d loud frames of the assistant's prompt, want ~30", n)
			}
			select {
			case <-k.ended:
			case <-time.After(5 * time.Second):
				t.Fatal("the practice's phone kept ringing")
			}
			k.mu.Lock()
			if tc.mode == "ring" && !k.cancelled {
				t.Error("the practice's phone was not cancelled")
			}
			if k.invites != 1 {
				t.Errorf("practice got %d INVITEs, want 1", k.invites)
			}
			k.mu.Unlock()
			_ = d.Hangup(ctx)
			<-h.ended
			waitNoCalls(t, s)
		})
	}
}

// The caller gives up while the practice's phone rings: both legs end, nobody answers.
func TestRingFirstCallerCancels(t *testing.T) {
	k := startDesk(t, "ring")
	h := &ringRouter{recorder: newRecorder(nil), target: k.uri, wait: 30 * time.Second}
	s := startServer(t, Options{Handler: h})
	dg := caller(t, "udp")
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := dg.Invite(ctx, target(t, s, "0421123456", ""), diago.InviteOptions{}); err == nil {
		t.Fatal("call answered; want it cancelled while ringing")
	}
	select {
	case <-k.ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the practice's phone kept ringing after the caller gave up")
	}
	select {
	case <-h.answered:
		t.Fatal("the assistant answered a cancelled call")
	case <-time.After(500 * time.Millisecond):
	}
	waitNoCalls(t, s)
}

// A peer that takes no REFER (diago's caller answers it 406): Tresen calls the team
// itself and joins the caller to it; the two talk, and the caller's hang-up ends both.
func TestTransferJoinsWhenReferRefused(t *testing.T) {
	k := startDesk(t, "answer")
	h := &transferer{target: k.uri, result: make(chan error, 1)}
	s := startServer(t, Options{Handler: joinHandler{h}})
	dg := caller(t, "udp", media.CodecAudioAlaw, media.CodecTelephoneEvent8000)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	d, err := dg.Invite(ctx, target(t, s, "0421123456", ""), diago.InviteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-h.result:
		if err != nil {
			t.Fatalf("Transfer = %v, want the calls joined", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Transfer did not return")
	}
	go func() {
		var props diago.MediaProps
		if w, err := d.AudioWriter(diago.WithAudioWriterMediaProps(&props)); err == nil {
			writeTone(w, props.Codec, sine(1500*time.Millisecond, 440))
		}
	}()
	if n := hearLoud(t, d, 25, 10*time.Second); n < 25 {
		t.Errorf("caller heard %d loud frames of the team's phone, want ≥ 25", n)
	}
	eventually(10*time.Second, func() bool { k.mu.Lock(); defer k.mu.Unlock(); return k.heard >= 25 })
	if err := d.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-k.ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the team's leg did not end after the caller hung up")
	}
	k.mu.Lock()
	if k.heard < 25 {
		t.Errorf("the team heard %d loud frames of the caller, want ≥ 25", k.heard)
	}
	k.mu.Unlock()
	waitNoCalls(t, s)
}

// joinHandler transfers and, unlike transferer, leaves the call to the server after.
type joinHandler struct{ h *transferer }

func (j joinHandler) HandleCall(ctx context.Context, c phone.Call) {
	j.h.result <- c.Transfer(ctx, j.h.target)
}
