package sip

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/diago/audio"
	"github.com/emiago/diago/media"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/phone"
	"github.com/tresen/tresen/internal/speech"
)

func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("TRESEN_SIP_DEBUG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// recorder is a test Handler: it plays a prompt, records what the caller sends and
// holds the call until the caller hangs up (or hangup is set).
type recorder struct {
	prompt []int16
	hangup time.Duration // hang up this long after answering; 0 waits for the caller

	mu       sync.Mutex
	calls    []phone.Call
	frames   int
	loud     int // frames that are not silence
	badSize  int
	digits   []rune
	ended    chan struct{}
	answered chan phone.Call
	played   time.Duration
}

func newRecorder(prompt []int16) *recorder {
	return &recorder{prompt: prompt, ended: make(chan struct{}, 8), answered: make(chan phone.Call, 8)}
}

func (h *recorder) HandleCall(ctx context.Context, c phone.Call) {
	h.mu.Lock()
	h.calls = append(h.calls, c)
	h.mu.Unlock()
	h.answered <- c
	defer func() { h.ended <- struct{}{} }()
	if h.prompt != nil {
		if err := c.Play(h.prompt); err != nil {
			panic(err)
		}
	}
	var stop <-chan time.Time
	if h.hangup > 0 {
		stop = time.After(h.hangup)
	}
	audioCh, dtmfCh := c.Audio(), c.DTMF()
	for audioCh != nil || dtmfCh != nil {
		select {
		case f, ok := <-audioCh:
			if !ok {
				audioCh = nil
				continue
			}
			h.mu.Lock()
			h.frames++
			if len(f) != speech.FrameSize {
				h.badSize++
			}
			if rms(f) > 300 {
				h.loud++
			}
			h.mu.Unlock()
		case d, ok := <-dtmfCh:
			if !ok {
				dtmfCh = nil
				continue
			}
			h.mu.Lock()
			h.digits = append(h.digits, d)
			h.mu.Unlock()
		case <-stop:
			h.mu.Lock()
			h.played = c.Played()
			h.mu.Unlock()
			_ = c.Hangup(ctx)
			stop = nil
		case <-ctx.Done():
			// keep draining until the channels close
		}
	}
	h.mu.Lock()
	if h.played == 0 {
		h.played = c.Played()
	}
	h.mu.Unlock()
	<-c.Done()
}

func rms(f []int16) float64 {
	var sum float64
	for _, s := range f {
		sum += float64(s) * float64(s)
	}
	return math.Sqrt(sum / float64(max(len(f), 1)))
}

func sine(d time.Duration, hz float64) []int16 {
	n := int(d.Seconds() * speech.SampleRate)
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(8000 * math.Sin(2*math.Pi*hz*float64(i)/speech.SampleRate))
	}
	return out
}

func startServer(t *testing.T, o Options) *Server {
	t.Helper()
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	o.Logger = testLogger(t)
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = s.Close()
	})
	return s
}

// caller is a diago user agent that places calls in tests.
func caller(t *testing.T, transport string, codecs ...media.Codec) *diago.Diago {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("testcaller"))
	if err != nil {
		t.Fatal(err)
	}
	if len(codecs) == 0 {
		codecs = []media.Codec{media.CodecAudioUlaw, media.CodecAudioAlaw, media.CodecTelephoneEvent8000}
	}
	port := callerPort(t, transport, "127.0.0.1")
	dg := diago.NewDiago(ua,
		diago.WithLogger(testLogger(t)),
		diago.WithMediaConfig(diago.MediaConfig{Codecs: codecs}),
		diago.WithTransport(diago.Transport{Transport: transport, BindHost: "127.0.0.1", BindPort: port}),
	)
	ctx, cancel := context.WithCancel(context.Background())
	if err := dg.ServeBackground(ctx, func(d *diago.DialogServerSession) {}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); ua.Close() })
	waitListener(t, ua, transport, "127.0.0.1", port)
	return dg
}

// callerPort is the port a test caller binds: over UDP a fixed free one, so that
// waitListener can wait for it, over TCP an ephemeral one.
func callerPort(t *testing.T, transport, host string) int {
	t.Helper()
	if transport != "udp" {
		return 0
	}
	c, err := net.ListenPacket("udp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// waitListener waits until sipgo has a UDP caller's listening socket in its connection
// pool. diago's ServeBackground returns a moment before, and a request sent in that
// moment makes sipgo bind the same port again ("address already in use").
func waitListener(t *testing.T, ua *sipgo.UserAgent, transport, host string, port int) {
	t.Helper()
	if transport != "udp" {
		return
	}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	for range 1000 {
		if _, err := ua.TransportLayer().GetConnection("udp", addr); err == nil {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("caller not listening on %s after 5 s", addr)
}

func target(t *testing.T, s *Server, user, transport string) sip.Uri {
	t.Helper()
	host, port, _ := net.SplitHostPort(s.Addr())
	p, _ := strconv.Atoi(port)
	u := sip.Uri{Scheme: "sip", User: user, Host: host, Port: p}
	if transport != "" {
		u.UriParams = sip.NewParams()
		u.UriParams.Add("transport", transport)
	}
	return u
}

// listenPCM decodes what the far end sends for d and returns the frames (160 samples).
func listenPCM(t *testing.T, d *diago.DialogClientSession, dur time.Duration) [][]int16 {
	t.Helper()
	return listenUntil(t, d, dur, nil)
}

// hearLoud listens on the caller's side until it has heard want loud frames, or limit has
// passed, and returns how many it heard. On a loaded machine the other side's sender
// starts late; what it sends still comes.
func hearLoud(t *testing.T, d *diago.DialogClientSession, want int, limit time.Duration) int {
	t.Helper()
	return loudFrames(listenUntil(t, d, limit, func(frames [][]int16) bool { return loudFrames(frames) >= want }))
}

// eventually waits until cond holds, or limit has passed, and reports whether it held.
func eventually(limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// listenUntil reads the caller's audio for dur, or until enough (when not nil) says the
// frames heard so far are enough.
func listenUntil(t *testing.T, d *diago.DialogClientSession, dur time.Duration, enough func([][]int16) bool) [][]int16 {
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
	var frames [][]int16
	buf := make([]byte, media.RTPBufSize)
	deadline := time.Now().Add(dur)
	for time.Now().Before(deadline) {
		_ = d.MediaSession().StopRTP(1, time.Until(deadline))
		n, err := dec.Read(buf)
		if err != nil {
			break
		}
		f := make([]int16, n/2)
		for i := range f {
			f[i] = int16(uint16(buf[2*i]) | uint16(buf[2*i+1])<<8)
		}
		frames = append(frames, f)
		if enough != nil && enough(frames) {
			break
		}
	}
	_ = d.MediaSession().StartRTP(1)
	return frames
}

func TestCallALawAudioBothWaysAndDTMF(t *testing.T) {
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			h := newRecorder(sine(600*time.Millisecond, 440))
			var routed []string
			var mu sync.Mutex
			s := startServer(t, Options{Route: func(ctx context.Context, called string) (phone.Handler, error) {
				mu.Lock()
				routed = append(routed, called)
				mu.Unlock()
				return h, nil
			}})
			dg := caller(t, transport)
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			d, err := dg.Invite(ctx, target(t, s, "030123456", transport), diago.InviteOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := media.CodecAudioFromSession(d.MediaSession()); got.Name != "PCMA" {
				t.Errorf("codec = %s, want PCMA (A-law preferred although offered second)", got.Name)
			}
			c := <-h.answered
			if c.To() != "+4930123456" {
				t.Errorf("To() = %q, want +4930123456", c.To())
			}
			// The caller speaks for a second while the prompt plays.
			var props diago.MediaProps
			w, err := d.AudioWriter(diago.WithAudioWriterMediaProps(&props))
			if err != nil {
				t.Fatal(err)
			}
			enc := audio.PCMEncoderWriter{}
			if err := enc.Init(props.Codec, w); err != nil {
				t.Fatal(err)
			}
			var heard [][]int16
			done := make(chan struct{})
			go func() {
				defer close(done)
				heard = listenPCM(t, d, 1500*time.Millisecond)
			}()
			tone := sine(time.Second, 300)
			for i := 0; i+speech.FrameSize <= len(tone); i += speech.FrameSize {
				b := make([]byte, 2*speech.FrameSize)
				for j, v := range tone[i : i+speech.FrameSize] {
					b[2*j], b[2*j+1] = byte(v), byte(uint16(v)>>8)
				}
				if _, err := enc.Write(b); err != nil {
					t.Fatal(err)
				}
			}
			<-done
			dw, err := d.AudioWriterDTMF()
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range "12#" {
				if err := dw.WriteDTMF(k); err != nil {
					t.Fatal(err)
				}
			}
			// And one key as SIP INFO.
			info := sip.NewRequest(sip.INFO, d.InviteResponse.Contact().Address)
			info.AppendHeader(sip.NewHeader("Content-Type", "application/dtmf-relay"))
			info.SetBody([]byte("Signal=7\r\nDuration=160\r\n"))
			res, err := d.Do(ctx, info)
			if err != nil || res.StatusCode != 200 {
				t.Fatalf("INFO: %v %v", res, err)
			}
			time.Sleep(200 * time.Millisecond)
			if err := d.Hangup(ctx); err != nil {
				t.Fatal(err)
			}
			select {
			case <-h.ended:
			case <-time.After(5 * time.Second):
				t.Fatal("handler did not end after BYE")
			}
			select {
			case <-c.Done():
			default:
				t.Error("Done not closed after BYE")
			}

			h.mu.Lock()
			defer h.mu.Unlock()
			if string(h.digits) != "12#7" {
				t.Errorf("digits = %q, want \"12#7\"", string(h.digits))
			}
			if h.badSize > 0 {
				t.Errorf("%d frames not %d samples", h.badSize, speech.FrameSize)
			}
			if h.loud < 40 {
				t.Errorf("server heard %d loud frames of %d, want ≥ 40 (1 s of tone)", h.loud, h.frames)
			}
			loud := 0
			for _, f := range heard {
				if rms(f) > 300 {
					loud++
				}
			}
			// 600 ms of prompt = 30 frames; allow for the first frames lost to setup.
			if loud < 25 || loud > 31 {
				t.Errorf("caller heard %d loud frames, want ~30 (600 ms prompt)", loud)
			}
			if h.played != 600*time.Millisecond {
				t.Errorf("Played() = %v, want 600ms", h.played)
			}
			mu.Lock()
			if len(routed) != 1 || routed[0] != "+4930123456" {
				t.Errorf("routed %q", routed)
			}
			mu.Unlock()
		})
	}
}

func TestUnknownNumberIs404(t *testing.T) {
	s := startServer(t, Options{Route: func(ctx context.Context, called string) (phone.Handler, error) {
		return nil, errs.E(errs.NotFound, "keine Praxis unter dieser Nummer")
	}})
	dg := caller(t, "udp")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := dg.Invite(ctx, target(t, s, "+49301111", ""), diago.InviteOptions{})
	var re *sipgo.ErrDialogResponse
	if !errors.As(err, &re) || re.Res.StatusCode != 404 {
		t.Fatalf("err = %v, want 404", err)
	}
}

func TestULawAcceptedWhenNoALaw(t *testing.T) {
	h := newRecorder(nil)
	h.hangup = 300 * time.Millisecond
	s := startServer(t, Options{Handler: h})
	dg := caller(t, "udp", media.CodecAudioUlaw, media.CodecTelephoneEvent8000)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d, err := dg.Invite(ctx, target(t, s, "100", ""), diago.InviteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := media.CodecAudioFromSession(d.MediaSession()); got.Name != "PCMU" {
		t.Errorf("codec = %s, want PCMU", got.Name)
	}
	// The handler hangs up: we get a BYE.
	select {
	case <-d.Context().Done():
	case <-time.After(5 * time.Second):
		t.Fatal("no BYE from the server")
	}
}

func TestCancelWhileRinging(t *testing.T) {
	h := newRecorder(nil)
	s := startServer(t, Options{Handler: h, RingFor: 5 * time.Second})
	dg := caller(t, "udp")
	ctx, cancel := context.WithCancel(context.Background())
	ringing := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		_, err := dg.Invite(ctx, target(t, s, "100", ""), diago.InviteOptions{OnResponse: func(res *sip.Response) error {
			if res.StatusCode == 180 {
				close(ringing)
			}
			return nil
		}})
		errc <- err
	}()
	select {
	case <-ringing:
	case <-time.After(5 * time.Second):
		t.Fatal("no 180 Ringing")
	}
	cancel() // diago sends CANCEL
	if err := <-errc; err == nil {
		t.Fatal("call was answered after CANCEL")
	}
	select {
	case <-h.answered:
		t.Fatal("handler got a cancelled call")
	case <-time.After(300 * time.Millisecond):
	}
	waitNoCalls(t, s)
}

func waitNoCalls(t *testing.T, s *Server) {
	t.Helper()
	for range 100 {
		s.mu.Lock()
		n := len(s.calls)
		s.mu.Unlock()
		if n == 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("calls left over")
}

func TestHoldReInviteAndFlush(t *testing.T) {
	h := newRecorder(sine(10*time.Second, 440))
	s := startServer(t, Options{Handler: h})
	dg := caller(t, "udp")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	d, err := dg.Invite(ctx, target(t, s, "100", ""), diago.InviteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := <-h.answered
	time.Sleep(200 * time.Millisecond)
	// Hold: a=sendonly from the caller.
	if err := reinvite(ctx, d, "sendonly"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	p1 := c.Played()
	time.Sleep(300 * time.Millisecond)
	if p2 := c.Played(); p2-p1 > 60*time.Millisecond {
		t.Errorf("prompt went on while on hold: %v → %v", p1, p2)
	}
	if err := reinvite(ctx, d, "sendrecv"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if c.Played() <= p1 {
		t.Error("prompt did not resume after hold")
	}
	c.Flush()
	p3 := c.Played()
	time.Sleep(200 * time.Millisecond)
	if c.Played()-p3 > speech.FrameLength { // the frame already on its way may go out

		t.Errorf("Played moved after Flush: %v → %v", p3, c.Played())
	}
	if err := d.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	<-h.ended
}

// reinvite sends a re-INVITE with the caller's SDP in the given direction.
func reinvite(ctx context.Context, d *diago.DialogClientSession, mode string) error {
	ms := d.MediaSession().Fork()
	ms.Mode = mode
	req := sip.NewRequest(sip.INVITE, d.InviteResponse.Contact().Address)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(ms.LocalSDP())
	res, err := d.Do(ctx, req)
	if err != nil {
		return err
	}
	if res.StatusCode != 200 {
		return errors.New(res.StartLine())
	}
	return d.WriteAck(ctx, sip.NewRequest(sip.ACK, res.Contact().Address))
}

func TestMalformedSDPIs4xx(t *testing.T) {
	h := newRecorder(nil)
	s := startServer(t, Options{Handler: h})
	ua, _ := sipgo.NewUA()
	defer ua.Close()
	cl, err := sipgo.NewClient(ua)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, ct, body string
		want           int
	}{
		{"garbage", "application/sdp", "this is not sdp", 400},
		{"blank lines", "application/sdp", "v=0\n\n\no=- 1 1 IN IP4 127.0.0.1\ns=-\nc=IN\nm=audio 4000 RTP/AVP 8\n", 400},
		{"short c=", "application/sdp", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8\r\n", 400},
		{"no g711", "application/sdp", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 9\r\n", 488},
		{"video only", "application/sdp", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=video 4000 RTP/AVP 96\r\n", 488},
		{"no sdp", "text/plain", "hello", 415},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := sip.NewRequest(sip.INVITE, target(t, s, "100", ""))
			req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", Host: "127.0.0.1", Port: 5999}})
			req.AppendHeader(sip.NewHeader("Content-Type", tc.ct))
			req.SetBody([]byte(tc.body))
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			res, err := cl.Do(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != tc.want {
				t.Errorf("status = %d %s, want %d", res.StatusCode, res.Reason, tc.want)
			}
		})
	}
	select {
	case <-h.answered:
		t.Fatal("a malformed call reached the handler")
	default:
	}
}

func TestTransferSendsRefer(t *testing.T) {
	h := &transferer{target: "+4930999", result: make(chan error, 1)}
	s := startServer(t, Options{Handler: h})
	dg := caller(t, "udp")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	referTo := make(chan sip.Uri, 1)
	_, err := dg.Invite(ctx, target(t, s, "100", ""), diago.InviteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_ = referTo
	// diago's caller refuses REFER without an OnRefer hook (406): Transfer must report it
	// and keep the call.
	select {
	case err := <-h.result:
		if err == nil {
			t.Fatal("Transfer succeeded though the peer refused the REFER")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Transfer did not return")
	}
}

type transferer struct {
	target string
	result chan error
}

func (h *transferer) HandleCall(ctx context.Context, c phone.Call) {
	h.result <- c.Transfer(ctx, h.target)
	_ = c.Hangup(ctx)
}

func TestCloseEndsCalls(t *testing.T) {
	h := newRecorder(nil)
	s := startServer(t, Options{Handler: h})
	dg := caller(t, "udp")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d, err := dg.Invite(ctx, target(t, s, "100", ""), diago.InviteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	<-h.answered
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-d.Context().Done():
	case <-time.After(5 * time.Second):
		t.Fatal("caller got no BYE on Close")
	}
	select {
	case <-h.ended:
	case <-time.After(5 * time.Second):
		t.Fatal("handler still running after Close")
	}
}
