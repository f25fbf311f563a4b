package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tresen/tresen/internal/audio"
	"github.com/tresen/tresen/internal/demo"
	"github.com/tresen/tresen/internal/request"
	"github.com/tresen/tresen/internal/retention"
	"github.com/tresen/tresen/internal/store"
)

// baresipModules is where Debian's baresip-core installs its modules.
const baresipModules = "/usr/lib/baresip/modules"

// TestPhoneBaresip is a call from a real SIP phone, Debian's baresip: it calls the demo
// practice with A-law, its microphone plays a German caller (espeak-ng), and it is driven
// over its TCP control socket (ctrl_tcp): it presses 2 for a prescription and types the
// birth date. Tresen ends the call after its goodbye; the practice's inbox has the request
// with the caller's number, and what baresip decoded from Tresen's RTP (its sndfile module
// dumps it: Debian's baresip 1.0 has no file player) is speech — greeting, birth date
// prompt, goodbye — not silence.
func TestPhoneBaresip(t *testing.T) {
	mic := filepath.Join(t.TempDir(), "caller.wav")
	writeCallerSpeech(t, mic, "Guten Tag, hier ist Erika Mustermann. Ich brauche ein neues Rezept für mein Blutdruckmittel.", 2*time.Minute)

	m, _ := MustRunMain(t, store.SQLite, func(m *Main) { m.SIPAddr = "127.0.0.1:0" })
	if m.sip == nil {
		t.Fatal("no SIP server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	phone := startBaresip(ctx, t, mic)
	ctrl := phone.ctrl
	phone.dial(ctx, t, m)
	start := time.Now()

	// The greeting and the menu are heard for a while, then 2 (a prescription) stops them;
	// once the birth date prompt has begun, the date by keypad and '#'.
	if err := ctrl.sleep(ctx, 3*time.Second); err != nil {
		t.Fatal(err)
	}
	pressed := time.Since(start)
	phone.press(ctx, t, "2", 0)
	if err := ctrl.sleep(ctx, 1500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	phone.press(ctx, t, "12031984#", 300*time.Millisecond)
	typed := time.Since(start)

	// Tresen says goodbye and hangs up.
	closed, err := ctrl.waitEvent(ctx, "CALL_CLOSED")
	if err != nil {
		t.Fatal(err)
	}
	callLen := time.Since(start)
	t.Logf("call established, 2 at %v, date typed by %v, closed after %v: %s", pressed.Round(time.Millisecond), typed.Round(time.Millisecond), callLen.Round(time.Millisecond), closed.Param)
	if closed.Param != byeFromPeer {
		t.Errorf("the call closed with %q, want Tresen's BYE", closed.Param)
	}
	phone.quit(t)

	// The practice's inbox has the request.
	pr, err := m.DB.FindTenantByCode(ctx, demo.PracticeTenant.Kind, demo.PracticeTenant.Code)
	if err != nil {
		t.Fatal(err)
	}
	_, all := waitRequest(ctx, t, m, pr.ID, "a prescription request by phone with the birth date 1984-03-12", func(rq request.Request) bool {
		return rq.Type == request.PrescriptionRefill && rq.Patient.BirthDate == "1984-03-12" && rq.Channel == request.Phone
	})
	if rq := all[0]; rq.Patient.Phone != "+491701234567" {
		t.Errorf("caller's number %q, want +491701234567", rq.Patient.Phone)
	}
	if len(all) != 1 {
		t.Errorf("%d requests in the inbox, want 1: %v", len(all), describeRequests(all))
	}

	// What baresip heard from Tresen.
	heard := phone.heard(t)
	frames := speechFrames(heard)
	t.Logf("heard %d ms, speech in %d of %d frames", len(heard)/8, count(frames), len(frames))
	defer func() {
		if t.Failed() {
			t.Logf("speech (#) by 20 ms frame:%s", timeline(frames))
		}
	}()
	if n := count(frames); n < 100 {
		t.Errorf("the caller heard %d frames (20 ms) of speech, want the greeting, the birth date prompt and the goodbye (≥ 2 s)", n)
	}
	// The greeting before the caller pressed 2.
	before := int(pressed / (20 * time.Millisecond))
	if n := count(frames[:min(before, len(frames))]); n < 50 {
		t.Errorf("%d frames of speech before the caller pressed 2 (at %v), want the greeting (≥ 1 s)", n, pressed)
	}
	// The goodbye after the birth date: speech in the last part of the call.
	after := int(typed / (20 * time.Millisecond))
	if n := count(frames[min(after, len(frames)):]); n < 25 {
		t.Errorf("%d frames of speech after the birth date was typed (at %v), want the goodbye", n, typed)
	}
	// Tresen hangs up once the goodbye has been played, not in the middle of it.
	last := len(frames) - 1
	for last >= 0 && !frames[last] {
		last--
	}
	if quiet := time.Duration(len(frames)-1-last) * 20 * time.Millisecond; last < 0 || quiet > 3*time.Second {
		t.Errorf("the last speech ended %v before the call did, want the goodbye up to the hang-up", quiet)
	}
}

// byeFromPeer is baresip's reason for a call the other side ended with BYE.
const byeFromPeer = "Connection reset by peer"

// baresipPhone is Debian's baresip as the caller's phone: its account is the caller's
// number (+491701234567), its microphone a WAV file (aufile), what it decodes from the
// other side is dumped to WAV files (sndfile), and it is driven over its TCP control
// socket (ctrl_tcp).
type baresipPhone struct {
	ctrl   *baresipCtrl
	dumps  string
	cmd    *exec.Cmd
	exited chan struct{}
}

// startBaresip starts baresip with mic as its microphone; extra are further lines of its
// config. It is killed when the test ends, and its output logged if the test failed.
func startBaresip(ctx context.Context, t *testing.T, mic string, extra ...string) *baresipPhone {
	t.Helper()
	bin, err := exec.LookPath("baresip")
	if err != nil {
		t.Fatalf("baresip not installed (Debian package baresip-core; scripts/deps.sh test installs it): %v", err)
	}
	for _, mod := range []string{"g711.so", "aufile.so", "sndfile.so", "ctrl_tcp.so", "menu.so", "account.so"} {
		if _, err := os.Stat(filepath.Join(baresipModules, mod)); err != nil {
			t.Fatalf("baresip module %s missing (Debian package baresip-core): %v", mod, err)
		}
	}
	dir := t.TempDir()
	dumps := filepath.Join(dir, "heard")
	if err := os.Mkdir(dumps, 0o700); err != nil {
		t.Fatal(err)
	}
	ctrlAddr := "127.0.0.1:" + freePort(t, "tcp")
	config := strings.Join(append([]string{
		"poll_method epoll",
		"sip_listen 127.0.0.1:0",
		"call_local_timeout 60",
		"call_max_calls 1",
		"audio_source aufile," + mic,
		// No file player in baresip 1.0: what Tresen sends is taken from the sndfile dump.
		"audio_player aubridge,nil",
		"audio_alert aubridge,nil",
		"ausrc_srate 8000",
		"auplay_srate 8000",
		"ausrc_channels 1",
		"auplay_channels 1",
		"audio_buffer 20-160",
		"rtp_ports 20000-40000",
		"rtcp_mux no",
		"jitter_buffer_delay 1-20",
		"module_path " + baresipModules,
		"module g711.so",
		"module aufile.so",
		"module aubridge.so",
		"module sndfile.so",
		"module_tmp account.so",
		"module_app menu.so",
		"statmode_default off",
		"module_app ctrl_tcp.so",
		"ctrl_tcp_listen " + ctrlAddr,
		"snd_path " + dumps,
	}, append(extra, "")...), "\n")
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	// The caller's number as her phone's account; A-law only, no registration.
	account := "<sip:+491701234567@127.0.0.1>;regint=0;audio_codecs=PCMA/8000/1\n"
	if err := os.WriteFile(filepath.Join(dir, "accounts"), []byte(account), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "contacts"), nil, 0o600); err != nil {
		t.Fatal(err)
	}

	var out lockedBuffer
	cmd := exec.CommandContext(ctx, bin, "-f", dir)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+dir)
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &baresipPhone{dumps: dumps, cmd: cmd, exited: make(chan struct{})}
	go func() { cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		if p.ctrl != nil {
			p.ctrl.Close()
		}
		cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			t.Logf("baresip:\n%s", tailString(out.String(), 6000))
		}
	})
	p.ctrl = dialCtrl(ctx, t, ctrlAddr, p.exited)
	return p
}

// dial calls the demo practice's number at Tresen and waits until Tresen has answered.
func (p *baresipPhone) dial(ctx context.Context, t *testing.T, m *Main) {
	t.Helper()
	host, port, _ := net.SplitHostPort(m.sip.Addr())
	target := fmt.Sprintf("sip:04211234567@%s:%s;transport=udp", host, port)
	if err := p.ctrl.command("dial", target); err != nil {
		t.Fatal(err)
	}
	established, err := p.ctrl.waitEvent(ctx, "CALL_ESTABLISHED", "CALL_CLOSED")
	if err != nil {
		t.Fatal(err)
	}
	if established.Type != "CALL_ESTABLISHED" {
		t.Fatalf("call not established: %s %s", established.Type, established.Param)
	}
}

// press sends keys as RFC 4733 events, gap apart.
func (p *baresipPhone) press(ctx context.Context, t *testing.T, keys string, gap time.Duration) {
	t.Helper()
	for i, k := range keys {
		if i > 0 && gap > 0 {
			if err := p.ctrl.sleep(ctx, gap); err != nil {
				t.Fatal(err)
			}
		}
		if err := p.ctrl.command("sndcode", string(k)); err != nil {
			t.Fatal(err)
		}
	}
	if gap > 0 {
		if err := p.ctrl.sleep(ctx, gap); err != nil {
			t.Fatal(err)
		}
	}
}

// quit ends baresip, which closes its dumps.
func (p *baresipPhone) quit(t *testing.T) {
	t.Helper()
	p.ctrl.send("quit", "")
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		t.Error("baresip did not quit")
		p.cmd.Process.Kill()
		<-p.exited
	}
}

// heard is what baresip decoded from Tresen, once it has quit.
func (p *baresipPhone) heard(t *testing.T) []int16 {
	t.Helper()
	return readDump(t, p.dumps)
}

// waitRequest waits until the practice's inbox has a request that want accepts and
// returns it with every request in the inbox, the one wanted first.
func waitRequest(ctx context.Context, t *testing.T, m *Main, tenantID, what string, want func(request.Request) bool) (store.Record, []request.Request) {
	t.Helper()
	kind := retention.Request
	deadline := time.Now().Add(20 * time.Second)
	for {
		recs, err := m.DB.ListRecords(ctx, tenantID, store.RecordFilter{Kind: &kind})
		if err != nil {
			t.Fatal(err)
		}
		var all []request.Request
		found := -1
		for i, rec := range recs {
			var rq request.Request
			if err := json.Unmarshal(rec.Data, &rq); err != nil {
				t.Fatal(err)
			}
			all = append(all, rq)
			if found < 0 && want(rq) {
				found = i
			}
		}
		if found >= 0 {
			all[0], all[found] = all[found], all[0]
			return recs[found], all
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.Fatalf("no %s in the inbox: %v", what, describeRequests(all))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// describeRequests says what the requests are, for a failure message.
func describeRequests(rqs []request.Request) []string {
	var out []string
	for _, rq := range rqs {
		out = append(out, fmt.Sprintf("%s/%s/%s born %q from %q: %q", rq.Type, rq.Channel, rq.Status, rq.Patient.BirthDate, rq.Patient.Phone, rq.Details.Note))
	}
	return out
}

// writeCallerSpeech has espeak-ng say text in German and writes it as an 8 kHz mono WAV
// file followed by pad of silence, baresip's microphone.
func writeCallerSpeech(t *testing.T, path, text string, pad time.Duration) {
	t.Helper()
	writeCallerSpeechAt(t, path, 0, text, pad)
}

// writeCallerSpeechAt is writeCallerSpeech with lead of silence before the speech: the
// caller says nothing for that long after the call is answered. It returns the speech.
func writeCallerSpeechAt(t *testing.T, path string, lead time.Duration, text string, pad time.Duration) []int16 {
	t.Helper()
	espeak, err := exec.LookPath("espeak-ng")
	if err != nil {
		t.Fatalf("espeak-ng not installed (Debian package espeak-ng; scripts/deps.sh test installs it): %v", err)
	}
	raw := path + ".22k.wav"
	if out, err := exec.Command(espeak, "-v", "de", "-w", raw, text).CombinedOutput(); err != nil {
		t.Fatalf("espeak-ng: %v\n%s", err, out)
	}
	f, err := os.Open(raw)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	speech, rate, err := audio.ReadWAV(f)
	if err != nil {
		t.Fatal(err)
	}
	speech, err = audio.Resample(speech, rate, 8000)
	if err != nil {
		t.Fatal(err)
	}
	pcm := make([]int16, int(lead.Seconds()*8000), int((lead+pad).Seconds()*8000)+len(speech))
	pcm = append(pcm, speech...)
	// Then she listens: baresip ends the call when its microphone file ends.
	pcm = append(pcm, make([]int16, int(pad.Seconds()*8000))...)
	var b bytes.Buffer
	if err := audio.WriteWAV(&b, pcm, 8000); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return speech
}

// readDump reads the audio baresip decoded from Tresen (sndfile's "-dec" dump).
func readDump(t *testing.T, dir string) []int16 {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*dec*.wav"))
	if len(files) != 1 {
		all, _ := os.ReadDir(dir)
		t.Fatalf("sndfile dumps of the decoded audio: %v (in %s: %v)", files, dir, all)
	}
	f, err := os.Open(files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pcm, rate, err := audio.ReadWAV(f)
	if err != nil {
		t.Fatal(err)
	}
	if rate != 8000 {
		t.Fatalf("decoded audio at %d Hz, want 8000 (A-law)", rate)
	}
	return pcm
}

// speechFrames tells for each 20 ms frame whether it is speech (RMS above 300).
func speechFrames(pcm []int16) []bool {
	var frames []bool
	for i := 0; i+160 <= len(pcm); i += 160 {
		var sum float64
		for _, v := range pcm[i : i+160] {
			sum += float64(v) * float64(v)
		}
		frames = append(frames, math.Sqrt(sum/160) > 300)
	}
	return frames
}

// timeline draws frames, a line a second.
func timeline(frames []bool) string {
	var sb strings.Builder
	for i, f := range frames {
		if i%50 == 0 {
			fmt.Fprintf(&sb, "\n%6d ms ", i*20)
		}
		if f {
			sb.WriteByte('#')
		} else {
			sb.WriteByte('.')
		}
	}
	return sb.String()
}

func count(b []bool) int {
	n := 0
	for _, v := range b {
		if v {
			n++
		}
	}
	return n
}

func freePort(t *testing.T, network string) string {
	t.Helper()
	var addr net.Addr
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr = c.LocalAddr()
		c.Close()
	} else {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr = l.Addr()
		l.Close()
	}
	_, p, _ := net.SplitHostPort(addr.String())
	return p
}

// lockedBuffer collects baresip's output from both pipes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func tailString(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// baresipCtrl speaks baresip's ctrl_tcp protocol: JSON in netstrings, commands with a
// token and their responses, events as they come.
type baresipCtrl struct {
	t      *testing.T
	conn   net.Conn
	events chan baresipEvent
	resps  chan baresipResponse
	done   chan struct{}
	token  int
}

type baresipEvent struct {
	Event bool   `json:"event"`
	Type  string `json:"type"`
	Class string `json:"class"`
	Param string `json:"param"`
	Peer  string `json:"peeruri"`
}

type baresipResponse struct {
	Response bool   `json:"response"`
	OK       bool   `json:"ok"`
	Data     string `json:"data"`
	Token    string `json:"token"`
}

// dialCtrl connects to baresip's control socket, retrying while baresip starts.
func dialCtrl(ctx context.Context, t *testing.T, addr string, exited <-chan struct{}) *baresipCtrl {
	t.Helper()
	var conn net.Conn
	for {
		var err error
		conn, err = net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			break
		}
		select {
		case <-exited:
			t.Fatalf("baresip exited before its control socket was up")
		case <-ctx.Done():
			t.Fatalf("baresip's control socket %s: %v", addr, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
	c := &baresipCtrl{t: t, conn: conn, events: make(chan baresipEvent, 64), resps: make(chan baresipResponse, 16), done: make(chan struct{})}
	go c.read()
	return c
}

func (c *baresipCtrl) Close() error { return c.conn.Close() }

func (c *baresipCtrl) read() {
	defer close(c.done)
	r := bufio.NewReader(c.conn)
	for {
		msg, err := readNetstring(r)
		if err != nil {
			return
		}
		var probe struct {
			Event    bool `json:"event"`
			Response bool `json:"response"`
		}
		if json.Unmarshal(msg, &probe) != nil {
			continue
		}
		switch {
		case probe.Event:
			var e baresipEvent
			if json.Unmarshal(msg, &e) == nil {
				c.events <- e
			}
		case probe.Response:
			var rs baresipResponse
			if json.Unmarshal(msg, &rs) == nil {
				c.resps <- rs
			}
		}
	}
}

func readNetstring(r *bufio.Reader) ([]byte, error) {
	n, err := r.ReadString(':')
	if err != nil {
		return nil, err
	}
	size, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(n, ":")))
	if err != nil || size < 0 || size > 1<<20 {
		return nil, fmt.Errorf("netstring length %q", n)
	}
	b := make([]byte, size+1)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	if b[size] != ',' {
		return nil, errors.New("netstring without ','")
	}
	return b[:size], nil
}

// send sends a command and returns its token.
func (c *baresipCtrl) send(name, params string) (string, error) {
	c.token++
	token := strconv.Itoa(c.token)
	msg, _ := json.Marshal(map[string]string{"command": name, "params": params, "token": token})
	_, err := fmt.Fprintf(c.conn, "%d:%s,", len(msg), msg)
	return token, err
}

// command sends a command and waits for its response.
func (c *baresipCtrl) command(name, params string) error {
	token, err := c.send(name, params)
	if err != nil {
		return fmt.Errorf("baresip %s: %w", name, err)
	}
	timeout := time.After(20 * time.Second)
	for {
		select {
		case rs := <-c.resps:
			if rs.Token != token {
				continue
			}
			if !rs.OK {
				return fmt.Errorf("baresip %s %s: %s", name, params, rs.Data)
			}
			return nil
		case <-c.done:
			return fmt.Errorf("baresip %s: control connection closed", name)
		case <-timeout:
			return fmt.Errorf("baresip %s: no response", name)
		}
	}
}

// waitEvent waits for the first event of one of the types.
func (c *baresipCtrl) waitEvent(ctx context.Context, types ...string) (baresipEvent, error) {
	var seen []string
	for {
		select {
		case e := <-c.events:
			seen = append(seen, e.Type)
			for _, ty := range types {
				if e.Type == ty {
					return e, nil
				}
			}
		case <-c.done:
			return baresipEvent{}, fmt.Errorf("baresip's control connection closed waiting for %v (events: %v)", types, seen)
		case <-ctx.Done():
			return baresipEvent{}, fmt.Errorf("no %v from baresip (events: %v)", types, seen)
		}
	}
}

// sleep waits d, failing early when the call closes.
func (c *baresipCtrl) sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case <-timer.C:
			return nil
		case e := <-c.events:
			if e.Type == "CALL_CLOSED" {
				return fmt.Errorf("the call closed early: %s", e.Param)
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
