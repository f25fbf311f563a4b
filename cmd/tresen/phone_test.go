package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"net"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/diago/audio"
	"github.com/emiago/diago/media"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/tresen/tresen/internal/assistant"
	taudio "github.com/tresen/tresen/internal/audio"
	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/demo"
	"github.com/tresen/tresen/internal/request"
	"github.com/tresen/tresen/internal/retention"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/tenant"
	"github.com/tresen/tresen/internal/vosk"
	"github.com/tresen/tresen/internal/vosk/vosktest"
)

// TestPhoneKeypad is a call to the demo practice over SIP without speech recognition: the
// caller hears the greeting and the menu (espeak-ng's voice in A-law RTP), presses 2 for a
// prescription and gives her birth date by keypad; the practice's inbox gets the request
// with her number.
func TestPhoneKeypad(t *testing.T) {
	m, _ := MustRunMain(t, store.SQLite, func(m *Main) { m.SIPAddr = "127.0.0.1:0" })
	if m.sip == nil {
		t.Fatal("no SIP server")
	}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("Erika Mustermann's phone"))
	if err != nil {
		t.Fatal(err)
	}
	dg := diago.NewDiago(ua,
		diago.WithMediaConfig(diago.MediaConfig{Codecs: []media.Codec{media.CodecAudioAlaw, media.CodecTelephoneEvent8000}}),
		diago.WithTransport(diago.Transport{Transport: "udp", BindHost: "127.0.0.1", BindPort: 0}))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := dg.ServeBackground(ctx, func(*diago.DialogServerSession) {}); err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	host, port, _ := net.SplitHostPort(m.sip.Addr())
	p, _ := strconv.Atoi(port)
	// The caller's number as a carrier asserts it.
	d, err := dg.Invite(ctx, sip.Uri{Scheme: "sip", User: "04211234567", Host: host, Port: p},
		diago.InviteOptions{Headers: []sip.Header{sip.NewHeader("P-Asserted-Identity", "<sip:+491701234567@127.0.0.1>")}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Hangup(context.Background())

	// Listen until the menu has been heard: speech, not silence.
	if loud := loudFramesFor(t, d, 4*time.Second); loud < 50 {
		t.Fatalf("the caller heard %d frames of speech in 4 s, want the greeting (≥ 1 s)", loud)
	}
	dw, err := d.AudioWriterDTMF()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range "2" + "12031984#" {
		if err := dw.WriteDTMF(k); err != nil {
			t.Fatal(err)
		}
		time.Sleep(150 * time.Millisecond)
	}

	// The practice's inbox has the request once the call is over.
	pr, err := m.DB.FindTenantByCode(ctx, demo.PracticeTenant.Kind, demo.PracticeTenant.Code)
	if err != nil {
		t.Fatal(err)
	}
	kind := retention.Request
	for {
		recs, err := m.DB.ListRecords(ctx, pr.ID, store.RecordFilter{Kind: &kind})
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 1 {
			var rq request.Request
			if err := json.Unmarshal(recs[0].Data, &rq); err != nil {
				t.Fatal(err)
			}
			if rq.Type == request.PrescriptionRefill && rq.Patient.BirthDate == "1984-03-12" && rq.Channel == request.Phone {
				if rq.Patient.Phone != "+491701234567" {
					t.Errorf("caller's number %q", rq.Patient.Phone)
				}
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no prescription request with the birth date: %d requests", len(recs))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// loudFramesFor listens to what the server sends on d for dur and counts the frames of
// speech (not silence).
func loudFramesFor(t *testing.T, d *diago.DialogClientSession, dur time.Duration) int {
	t.Helper()
	var props diago.MediaProps
	r, err := d.AudioReader(diago.WithAudioReaderMediaProps(&props))
	if err != nil {
		t.Fatal(err)
	}
	dec := audio.PCMDecoderReader{}
	if err := dec.Init(props.Codec, r); err != nil {
		t.Fatal(err)
	}
	loud, buf := 0, make([]byte, media.RTPBufSize)
	deadline := time.Now().Add(dur)
	for time.Now().Before(deadline) {
		n, err := dec.Read(buf)
		if err != nil {
			break
		}
		var sum float64
		for i := 0; i+1 < n; i += 2 {
			v := float64(int16(uint16(buf[i]) | uint16(buf[i+1])<<8))
			sum += v * v
		}
		if n > 0 && math.Sqrt(sum/float64(n/2)) > 300 {
			loud++
		}
	}
	return loud
}

// spokenCall is a call to the demo practice whose line has a speech recogniser (a local
// server that speaks Vosk's protocol): the caller sends audio in real time and notes when
// she hears the assistant (the arrival of each frame of speech).
type spokenCall struct {
	t    *testing.T
	ctx  context.Context
	m    *Main
	pr   tenant.Tenant
	fake *vosktest.Server
	d    *diago.DialogClientSession
	enc  audio.PCMEncoderWriter

	mu     sync.Mutex
	loudAt []time.Time
}

// startSpokenCall calls the demo practice, whose recogniser hears final in each turn.
func startSpokenCall(t *testing.T, ctx context.Context, final string) *spokenCall {
	t.Helper()
	c := &spokenCall{t: t, ctx: ctx, fake: vosktest.NewServer(t, vosktest.Script{Final: final})}
	c.m, _ = MustRunMain(t, store.SQLite, func(m *Main) { m.SIPAddr = "127.0.0.1:0" })
	var err error
	if c.pr, err = c.m.DB.FindTenantByCode(ctx, demo.PracticeTenant.Kind, demo.PracticeTenant.Code); err != nil {
		t.Fatal(err)
	}
	actx := audit.WithActor(ctx, audit.Actor{UserID: "test", Source: "test"})
	if err := c.m.DB.SetSetting(actx, c.pr.ID, store.SettingVoice, assistant.VoiceSettings{Recognizer: "vosk", Vosk: &vosk.Settings{URL: c.fake.WSURL()}}); err != nil {
		t.Fatal(err)
	}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("Erika Mustermann's phone"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ua.Close() })
	dg := diago.NewDiago(ua,
		diago.WithMediaConfig(diago.MediaConfig{Codecs: []media.Codec{media.CodecAudioAlaw, media.CodecTelephoneEvent8000}}),
		diago.WithTransport(diago.Transport{Transport: "udp", BindHost: "127.0.0.1", BindPort: 0}))
	if err := dg.ServeBackground(ctx, func(*diago.DialogServerSession) {}); err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(c.m.sip.Addr())
	p, _ := strconv.Atoi(port)
	c.d, err = dg.Invite(ctx, sip.Uri{Scheme: "sip", User: "04211234567", Host: host, Port: p},
		diago.InviteOptions{Headers: []sip.Header{sip.NewHeader("P-Asserted-Identity", "<sip:+491701234567@127.0.0.1>")}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.d.Hangup(context.Background()) })

	var props diago.MediaProps
	r, err := c.d.AudioReader(diago.WithAudioReaderMediaProps(&props))
	if err != nil {
		t.Fatal(err)
	}
	dec := audio.PCMDecoderReader{}
	if err := dec.Init(props.Codec, r); err != nil {
		t.Fatal(err)
	}
	go func() {
		buf := make([]byte, media.RTPBufSize)
		for {
			n, err := dec.Read(buf)
			if err != nil {
				return
			}
			var sum float64
			for i := 0; i+1 < n; i += 2 {
				v := float64(int16(uint16(buf[i]) | uint16(buf[i+1])<<8))
				sum += v * v
			}
			if n > 0 && math.Sqrt(sum/float64(n/2)) > 300 {
				c.mu.Lock()
				c.loudAt = append(c.loudAt, time.Now())
				c.mu.Unlock()
			}
		}
	}()
	var wprops diago.MediaProps
	w, err := c.d.AudioWriter(diago.WithAudioWriterMediaProps(&wprops))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.enc.Init(wprops.Codec, w); err != nil {
		t.Fatal(err)
	}
	return c
}

// send sends pcm in real time, a frame every 20 ms.
func (c *spokenCall) send(pcm []int16) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i := 0; i+160 <= len(pcm); i += 160 {
		b := make([]byte, 320)
		for j, v := range pcm[i : i+160] {
			b[2*j], b[2*j+1] = byte(v), byte(uint16(v)>>8)
		}
		if _, err := c.enc.Write(b); err != nil {
			c.t.Error(err)
			return
		}
		<-tick.C
	}
}

// heard returns the arrival times of the frames of speech heard in [from, to).
func (c *spokenCall) heard(from, to time.Time) []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []time.Time
	for _, at := range c.loudAt {
		if !at.Before(from) && at.Before(to) {
			out = append(out, at)
		}
	}
	return out
}

// germanSpeech is text as espeak-ng says it, at 8 kHz.
func germanSpeech(t *testing.T, ctx context.Context, text string) []int16 {
	t.Helper()
	wav, err := exec.CommandContext(ctx, "espeak-ng", "-v", "de", "--stdout", text).Output()
	if err != nil {
		t.Fatalf("espeak-ng (Debian package espeak-ng): %v", err)
	}
	pcm, rate, err := taudio.ReadWAV(bytes.NewReader(wav))
	if err != nil {
		t.Fatal(err)
	}
	if pcm, err = taudio.Resample(pcm, rate, 8000); err != nil {
		t.Fatal(err)
	}
	return pcm
}

// lineNoise is a quiet telephone line for d.
func lineNoise(d time.Duration) []int16 {
	out := make([]int16, int(d/time.Millisecond)*8)
	for i := range out {
		out[i] = int16((i*7919)%61 - 30)
	}
	return out
}

// TestPhoneSpoken is a spoken call: the caller's German speech (espeak-ng) goes over RTP,
// the server finds her turn by voice activity, a speech recogniser (a local server that
// speaks Vosk's protocol) hears her wish, and the assistant answers aloud; when she hangs
// up, the inbox has her request with what she said and her number.
func TestPhoneSpoken(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := startSpokenCall(t, ctx, `{"text" : "ich brauche ein folgerezept für ramipril fünf milligramm"}`)
	m, pr, d := c.m, c.pr, c.d
	words := germanSpeech(t, ctx, "Ich brauche ein Folgerezept für Ramipril fünf Milligramm.")

	// She speaks, in real time: a moment of line noise, her words, then silence.
	c.send(lineNoise(2 * time.Second))
	c.send(words)
	spokeUntil := time.Now()
	c.send(lineNoise(3 * time.Second))

	// The assistant answered aloud after she finished.
	answer := c.heard(spokeUntil, time.Now().Add(time.Hour))
	if len(answer) == 0 {
		t.Fatal("no answer after the caller's turn")
	}
	t.Logf("first answer audio %s after the end of her speech (turn end detection 700 ms included)", answer[0].Sub(spokeUntil).Round(time.Millisecond))
	if conns := c.fake.Conns(); len(conns) == 0 || len(conns[0].Audio) == 0 || !conns[0].EOF {
		t.Fatalf("the recogniser got no turn: %+v", conns)
	}
	d.Hangup(ctx)

	kind := retention.Request
	for {
		recs, err := m.DB.ListRecords(ctx, pr.ID, store.RecordFilter{Kind: &kind})
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 1 {
			var rq request.Request
			if err := json.Unmarshal(recs[0].Data, &rq); err != nil {
				t.Fatal(err)
			}
			if rq.Type != request.PrescriptionRefill || rq.Details.Medication != "Ramipril 5 mg" || rq.Patient.Phone != "+491701234567" {
				t.Fatalf("request %+v", rq)
			}
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%d requests after the call", len(recs))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// TestPhoneBargeIn: the caller starts speaking while the greeting plays; the greeting
// stops (barge-in) and stays silent while she speaks, and the assistant answers what she
// said once she is done. How fast it stops is logged; docs/benchmarks.md has the
// measurement under load.
func TestPhoneBargeIn(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := startSpokenCall(t, ctx, `{"text" : "ich brauche ein folgerezept für ramipril fünf milligramm"}`)
	words := germanSpeech(t, ctx, "Ich brauche ein Folgerezept für Ramipril fünf Milligramm.")
	callStart := time.Now()
	for len(c.heard(callStart, time.Now())) == 0 {
		if time.Since(callStart) > 10*time.Second {
			t.Fatal("no greeting")
		}
		c.send(lineNoise(100 * time.Millisecond))
	}
	c.send(lineNoise(time.Second))
	speechStart := time.Now()
	if len(c.heard(speechStart.Add(-time.Second), speechStart)) == 0 {
		t.Fatal("the greeting was over before the caller spoke; the test needs a longer greeting")
	}
	c.send(words)
	spokeUntil := time.Now()
	c.send(lineNoise(3 * time.Second))

	during := c.heard(speechStart, spokeUntil)
	if late := c.heard(speechStart.Add(time.Second), spokeUntil); len(late) > 0 {
		t.Fatalf("the greeting went on while the caller spoke: %d frames later than 1 s after she began (%d in all)", len(late), len(during))
	}
	stopped := time.Duration(0)
	if len(during) > 0 {
		stopped = during[len(during)-1].Sub(speechStart)
	}
	t.Logf("greeting stopped %s after the caller began to speak (speech onset detection included)", stopped.Round(time.Millisecond))
	if answer := c.heard(spokeUntil, time.Now().Add(time.Hour)); len(answer) == 0 {
		t.Fatal("no answer after the caller's turn")
	}
	if conns := c.fake.Conns(); len(conns) == 0 || len(conns[0].Audio) == 0 {
		t.Fatalf("the recogniser heard nothing: %+v", conns)
	}
}
