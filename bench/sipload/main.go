// Command sipload holds many concurrent phone calls with the phone assistant of a running
// Tresen server over SIP, as callers on the keypad line do, and measures the RTP the
// server sends (packet spacing), how fast it answers a key with the next prompt, and
// whether every call left its request in the store.
//
//	go run ./bench/sipload -sip 127.0.0.1:5080 -calls 200 -ramp 20s -duration 3m -pid PID -data DATA
//
// Each virtual caller is a SIP user agent built on diago (the library the server uses):
// it INVITEs the server with G.711 A-law and RFC 4733 telephone-events, from a number of
// its own (P-Asserted-Identity, as a carrier asserts it), and sends RTP all call long
// (A-law silence every 20 ms, as a phone does). It listens to every RTP packet the server
// sends, noting its arrival time and whether the frame is speech (RMS of the decoded
// samples), and walks the keypad menu of a line without speech recognition
// (internal/callflow/keypad.go):
//
//  1. the greeting and the menu play; the caller waits until they are over (-gap of
//     silence after speech);
//  2. it presses 2 (Rezept) as RFC 4733 events and measures the time from its key to the
//     first RTP packet of the next prompt (the birth date prompt) — the keypad path's
//     reply latency;
//  3. when that prompt is over it keys in the birth date, eight digits and '#', and
//     measures the time from '#' to the first packet of the goodbye;
//  4. it hears the goodbye and waits for the server's BYE. A call the server did not end
//     within -timeout of '#' is hung up by the caller and counts as failed.
//
// It also notes the time from INVITE to 200 OK and from the answer to the first audible
// packet of the greeting (which the server synthesises with espeak-ng for each call).
//
// With -duration a caller places a new call when one ends, until the time is up, so that
// -calls calls stay up. Afterwards, with -data (the server's --data directory, SQLite),
// the prescription requests created during the run are read from the store (master key
// and pepper found as `tresen serve` finds them; the reads are audited as "cli") and
// matched to the calls by the caller's number: every completed call must have left
// exactly one prescription request over the phone with its birth date.
//
// The exit status is 1 when a call failed, the p99 of the RTP packet spacing is outside
// -spacing-min…-spacing-max, or the p95 of a reply latency exceeds -reply-p95.
//
// With -caller sipp, sipp places the calls instead (Debian's sip-tester, scenario
// sipp_keypad.xml, embedded):
//
//	go run ./bench/sipload -caller sipp -sip 127.0.0.1:5080 -calls 200 -ramp 20s -duration 3m -pid PID -data DATA
//
// sipp sends all of the callers' SIP and RTP: A-law silence all call long, the keys as
// RFC 4733 events replayed from pcaps, 2 after -sipp-menu, the birth date 12031984 and
// '#' after -sipp-prompt more; then it waits for the server's BYE. It places -calls
// calls a -ramp, holds up to -calls at once and, when -duration is over, places no new
// ones. Each call's SDP offers an RTP port of a socket of sipload's, so sipload hears
// every packet the server sends and times it as above; sipp logs when it pressed each
// key, so that sipload can time the replies and check that each prompt had ended
// before the key. A call fails when sipp counts it failed or sipload finds a prompt
// missing, cut short by a key, or no goodbye. The exit status is 1 when a call failed,
// sipp's exit status is not 0, the spacing p99 is outside the window, or the store
// lacks a completed call's request; the reply latencies are reported only.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"net"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/diago/audio"
	"github.com/emiago/diago/media"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/tresen/tresen/bench/internal/loadstat"
	"github.com/tresen/tresen/bench/internal/loadstore"
)

type config struct {
	host           string
	port           int
	to             string
	bind           string
	n              int
	ramp, duration time.Duration
	gap            time.Duration // silence after speech that ends a prompt
	promptWait     time.Duration // longest wait for a prompt to begin and to end
	replyWait      time.Duration // longest wait for the first packet of a reply
	timeout        time.Duration // longest wait for the server's BYE after '#'
	keyPause       time.Duration
	birth          string
	speechRMS      float64
	spacingLo      time.Duration
	spacingHi      time.Duration
	replyP95       time.Duration
	numberBase     int64
	verbose        bool
}

func main() {
	var c config
	var sipAddr string
	var st loadstore.Flags
	var pid int
	var caller string
	var sc sippConfig
	flag.StringVar(&caller, "caller", "diago", "who places the calls: diago (callers in this program) or sipp (sipp places them, this program listens to the server's RTP)")
	flag.StringVar(&sc.bin, "sipp", "sipp", "with -caller sipp: the sipp program (3.6.1 with PCAP and RTPSTREAM, Debian's sip-tester)")
	flag.StringVar(&sc.dir, "sipp-dir", "", "with -caller sipp: directory for sipp's scenario, injection file, statistics and logs (default: a new temporary one)")
	flag.IntVar(&sc.rtpBase, "rtp-base", 20000, "with -caller sipp: the RTP ports this program offers for the calls start here (two a call)")
	flag.DurationVar(&sc.menu, "sipp-menu", 29*time.Second, "with -caller sipp: from the answer to key 2 (the greeting and menu take about 26.5 s)")
	flag.DurationVar(&sc.prompt, "sipp-prompt", 10500*time.Millisecond, "with -caller sipp: from key 2 to the first digit of the birth date (its prompt takes about 8.7 s)")
	flag.StringVar(&sipAddr, "sip", "127.0.0.1:5080", "the server's SIP address (UDP)")
	flag.StringVar(&c.to, "to", "04211234567", "the number called (with --demo every number reaches the demo practice)")
	flag.StringVar(&c.bind, "bind", "127.0.0.1", "local address for SIP and RTP")
	flag.IntVar(&c.n, "calls", 200, "concurrent calls (virtual callers)")
	flag.DurationVar(&c.ramp, "ramp", 20*time.Second, "time over which the callers place their first call")
	flag.DurationVar(&c.duration, "duration", 3*time.Minute, "run time; callers place new calls until it is up (0: one call each)")
	flag.DurationVar(&c.gap, "gap", time.Second, "silence after speech that ends a prompt (counted in 20 ms frames received)")
	flag.DurationVar(&c.promptWait, "prompt-wait", 60*time.Second, "longest wait for a prompt to begin and end")
	flag.DurationVar(&c.replyWait, "reply-wait", 5*time.Second, "longest wait for the first packet of the reply to a key")
	flag.DurationVar(&c.timeout, "timeout", 30*time.Second, "longest wait for the server's BYE after '#'; then the caller hangs up and the call failed")
	flag.DurationVar(&c.keyPause, "key-pause", 150*time.Millisecond, "pause between the keys of the birth date (after each key's 140 ms of events)")
	flag.StringVar(&c.birth, "birth", "12031984", "the birth date keyed in (DDMMYYYY)")
	flag.Float64Var(&c.speechRMS, "speech-rms", 300, "a frame is speech when the RMS of its samples exceeds this")
	flag.DurationVar(&c.spacingLo, "spacing-min", 15*time.Millisecond, "fail when the p99 of the RTP packet spacing is below this")
	flag.DurationVar(&c.spacingHi, "spacing-max", 25*time.Millisecond, "fail when the p99 of the RTP packet spacing is above this")
	flag.DurationVar(&c.replyP95, "reply-p95", 250*time.Millisecond, "fail when the p95 of a reply latency exceeds this")
	flag.Int64Var(&c.numberBase, "number-base", 0, "callers' numbers are +49170 followed by seven digits from this (default: from the clock, so that runs do not share numbers)")
	flag.BoolVar(&c.verbose, "v", false, "print every call's course and every error")
	st.Register(flag.CommandLine, "the server's --data directory (SQLite): match the stored prescription requests to the calls")
	flag.IntVar(&pid, "pid", 0, "the server's process id: report its CPU time")
	flag.Parse()

	host, portStr, err := net.SplitHostPort(sipAddr)
	if err != nil {
		fatalf("-sip: %v", err)
	}
	if c.port, err = strconv.Atoi(portStr); err != nil {
		fatalf("-sip: port %q", portStr)
	}
	c.host = host
	if len(c.birth) != 8 || strings.Trim(c.birth, "0123456789") != "" {
		fatalf("-birth: eight digits")
	}
	if c.numberBase == 0 {
		c.numberBase = (time.Now().Unix() % 1000) * 10000
	}
	fmt.Printf("sipload: %d concurrent calls to sip:%s@%s by %s, ramp %v, duration %v; GOMAXPROCS %d, %d CPUs\n",
		c.n, c.to, sipAddr, caller, c.ramp, c.duration, runtime.GOMAXPROCS(0), runtime.NumCPU())
	fmt.Printf("load average at the start: %s\n", loadstat.Loadavg())
	switch caller {
	case "diago":
	case "sipp":
		if !runSippMode(c, sc, st, pid) {
			os.Exit(1)
		}
		return
	default:
		fatalf("-caller: diago or sipp, not %q", caller)
	}

	r, err := newRun(c)
	if err != nil {
		fatalf("%v", err)
	}
	psi0 := loadstat.CPUPressure()
	before := loadstat.Take(pid)
	if pid > 0 && before.Server == 0 {
		fmt.Fprintf(os.Stderr, "warning: no CPU time for process %d\n", pid)
	}
	start := before.At
	r.run(pid)
	cpu := loadstat.Take(pid).Since(before)
	load := loadstat.Loadavg()
	psi := loadstat.CPUPressure() - psi0

	var sv *storeVerdict
	if st.Data != "" {
		// The request is closed when the call ends (callflow's End after the hang-up);
		// give the last calls a moment.
		time.Sleep(2 * time.Second)
		fmt.Printf("\nreading the prescription requests in the store at %s\n", st.Data)
		sv, err = r.verifyStore(st, start)
		if err != nil {
			fmt.Fprintf(os.Stderr, "store: %v\n", err)
			sv = &storeVerdict{err: err}
		}
	}
	if !r.report(cpu, load, psi, sv) {
		os.Exit(1)
	}
}

func fatalf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "sipload: "+format+"\n", a...)
	os.Exit(2)
}

// hist is a histogram of durations in 50 µs buckets up to 2 s, safe for concurrent use.
type hist struct {
	b     [40000]atomic.Int64
	over  atomic.Int64
	n     atomic.Int64
	maxNS atomic.Int64
}

const histStep = 50 * time.Microsecond

func (h *hist) add(d time.Duration) {
	h.n.Add(1)
	for {
		m := h.maxNS.Load()
		if int64(d) <= m || h.maxNS.CompareAndSwap(m, int64(d)) {
			break
		}
	}
	i := int(d / histStep)
	if i < 0 {
		i = 0
	}
	if i >= len(h.b) {
		h.over.Add(1)
		return
	}
	h.b[i].Add(1)
}

// pct is the p-th percentile (upper edge of its bucket).
func (h *hist) pct(p float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	want := int64(math.Ceil(float64(n) * p / 100))
	var sum int64
	for i := range h.b {
		sum += h.b[i].Load()
		if sum >= want {
			return time.Duration(i+1) * histStep
		}
	}
	return time.Duration(h.maxNS.Load())
}

// share is the fraction of samples in [lo, hi).
func (h *hist) share(lo, hi time.Duration) float64 {
	n := h.n.Load()
	if n == 0 {
		return math.NaN()
	}
	var sum int64
	for i := int(lo / histStep); i < int(hi/histStep) && i < len(h.b); i++ {
		sum += h.b[i].Load()
	}
	return float64(sum) / float64(n)
}

// callResult is one call as the caller saw it.
type callResult struct {
	*loadstat.Call
	keyed      bool          // pressed 2: the call may have left a request even if it failed later
	menu       time.Duration // greeting and menu, first to last speech frame
	packets    int
	lost       int
	serverHung bool
}

type run struct {
	c   config
	ua  *sipgo.UserAgent
	dg  *diago.Diago
	ctx context.Context

	spacing    hist                 // every packet after the first of a call
	sendGap    hist                 // this tool's own silence packets: how late its sender ran
	spacingWin atomic.Pointer[hist] // the last 10 s
	packets    atomic.Int64
	lost       atomic.Int64

	calls loadstat.Calls[*callResult]

	mu         sync.Mutex
	replyKey   []time.Duration // first event packet of '2' → first packet of the prompt
	replyKeyE  []time.Duration // last (end) event packet of '2' → first packet of the prompt
	replyKeyS  []time.Duration // first event packet of '2' → first speech frame of the prompt
	replyHash  []time.Duration // first event packet of '#' → first packet of the goodbye
	replyHashS []time.Duration
	answer     []time.Duration // INVITE sent → call answered (200 OK, ACK sent)
	greeting   []time.Duration // answered → first audible packet of the greeting (synthesised by espeak-ng per call)
	winReply   []time.Duration

	samples []int64 // calls up each second after the ramp
	stopAt  time.Time
}

func newRun(c config) (*run, error) {
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("tresen-sipload"))
	if err != nil {
		return nil, err
	}
	// diago logs every call's SIP and RTP details at debug level; warnings are enough.
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	dg := diago.NewDiago(ua,
		diago.WithLogger(log),
		diago.WithMediaConfig(diago.MediaConfig{Codecs: []media.Codec{media.CodecAudioAlaw, media.CodecTelephoneEvent8000}}),
		diago.WithTransport(diago.Transport{Transport: "udp", BindHost: c.bind, BindPort: 0}))
	ctx := context.Background()
	// The server's BYE reaches the dialog through the caller's own SIP server.
	if err := dg.ServeBackground(ctx, func(d *diago.DialogServerSession) {
		_ = d.Respond(sip.StatusNotFound, "Not Found", nil)
	}); err != nil {
		return nil, err
	}
	r := &run{c: c, ua: ua, dg: dg, ctx: ctx}
	r.calls.NumberPrefix, r.calls.NumberBase, r.calls.Verbose = "+49170", c.numberBase, c.verbose
	r.calls.Errors.Verbose = c.verbose
	r.spacingWin.Store(new(hist))
	return r, nil
}

// run starts the callers over the ramp and waits for all to finish.
func (r *run) run(pid int) {
	start := time.Now()
	r.stopAt = start.Add(max(r.c.duration, r.c.ramp))
	r.samples = loadstat.Ramp{Start: start, N: r.c.n, Over: r.c.ramp, Stop: r.stopAt,
		Worker: r.caller, Active: r.calls.Active.Load, Progress: r.progress(start, pid)}.Run()
}

// progress prints the progress of the run (every ten seconds).
func (r *run) progress(start time.Time, pid int) func(now time.Time) {
	lastCPU, lastPSI := loadstat.MachineCPU(), loadstat.CPUPressure()
	lastSrv, _ := loadstat.ProcCPU(pid)
	lastProcs := loadstat.Procs()
	return func(now time.Time) {
		win := r.spacingWin.Swap(new(hist))
		r.mu.Lock()
		rep := r.winReply
		r.winReply = nil
		r.mu.Unlock()
		slices.Sort(rep)
		cpu := loadstat.MachineCPU()
		used := cpu.Sub(lastCPU)
		srv := ""
		if pid > 0 {
			s, _ := loadstat.ProcCPU(pid)
			srv = fmt.Sprintf("  server %.2f cores", (s-lastSrv).Seconds()/10)
			lastSrv = s
		}
		psi := loadstat.CPUPressure()
		procs := loadstat.Procs()
		fmt.Printf("%4.0fs  calls up %4d  started %5d  completed %5d  failed %3d  last 10 s: spacing p50 %s p99 %s max %s; reply p50 %s p95 %s (n=%d)  machine busy %.2f cores, steal %.2f%s  CPU pressure %.0f %%  load %s  others: %s\n",
			now.Sub(start).Seconds(), r.calls.Active.Load(), r.calls.Started.Load(), r.calls.Completed.Load(), r.calls.Failed.Load(),
			loadstat.Ms(win.pct(50)), loadstat.Ms(win.pct(99)), loadstat.Ms(time.Duration(win.maxNS.Load())),
			loadstat.Ms(loadstat.Pct(rep, 50)), loadstat.Ms(loadstat.Pct(rep, 95)), len(rep),
			used.Busy.Seconds()/10, used.Steal.Seconds()/10, srv,
			100*(psi-lastPSI).Seconds()/10, loadstat.Loadavg(), loadstat.TopOthers(lastProcs, procs, pid, 10*time.Second))
		lastCPU, lastPSI, lastProcs = cpu, psi, procs
	}
}

// caller places calls one after another until the run is over (one, without -duration).
func (r *run) caller(i int) {
	for k := 0; ; k++ {
		ok := r.call(i, k)
		if r.c.duration == 0 || time.Now().After(r.stopAt) {
			return
		}
		if !ok {
			time.Sleep(time.Second)
		}
	}
}

// line is what a caller hears: the server's RTP, packet by packet.
type line struct {
	mu          sync.Mutex
	speech      int       // speech frames heard since mark
	quiet       int       // frames without speech since the last speech frame
	firstSpeech time.Time // since mark
	lastSpeech  time.Time
	mark        time.Time // the moment from which a reply is awaited
	firstAudio  time.Time // first packet after mark that is not pure silence
	firstSpch   time.Time // first speech frame after mark
	packets     int
	lost        int
	allSpeech   int
	ended       error
}

func (l *line) setMark(t time.Time) {
	l.mu.Lock()
	l.mark, l.speech, l.firstSpeech, l.firstAudio, l.firstSpch = t, 0, time.Time{}, time.Time{}, time.Time{}
	l.mu.Unlock()
}

// listen reads the server's RTP until the call's media ends.
func (r *run) listen(d *diago.DialogClientSession, l *line) {
	rd := d.RTPPacketReader
	buf := make([]byte, media.RTPBufSize)
	pcm := make([]byte, 2*media.RTPBufSize)
	var last time.Time
	var lastSeq uint16
	for {
		n, err := rd.Read(buf)
		now := time.Now()
		if err != nil {
			l.mu.Lock()
			l.ended = err
			l.mu.Unlock()
			return
		}
		if n == 0 {
			continue
		}
		hdr := rd.PacketHeader
		r.packets.Add(1)
		l.mu.Lock()
		l.packets++
		if !last.IsZero() {
			gap := now.Sub(last)
			r.spacing.add(gap)
			r.spacingWin.Load().add(gap)
			if d := hdr.SequenceNumber - lastSeq; d > 1 && d < 1000 {
				l.lost += int(d - 1)
				r.lost.Add(int64(d - 1))
			}
		}
		last, lastSeq = now, hdr.SequenceNumber
		if hdr.PayloadType != media.CodecAudioAlaw.PayloadType {
			l.mu.Unlock()
			continue
		}
		audible, speech := frameKind(buf[:n], r.c.speechRMS, pcm)
		if !l.mark.IsZero() {
			if audible && l.firstAudio.IsZero() {
				l.firstAudio = now
			}
			if speech && l.firstSpch.IsZero() {
				l.firstSpch = now
			}
		}
		if !speech {
			l.quiet++
		}
		if speech {
			l.quiet = 0
			l.speech++
			l.allSpeech++
			if l.firstSpeech.IsZero() {
				l.firstSpeech = now
			}
			l.lastSpeech = now
		}
		l.mu.Unlock()
	}
}

// frameKind classes an A-law frame the server sent: audible when it holds other codes
// than those of 0 and -1 (the server's silence), speech when the RMS of its samples
// exceeds speechRMS. pcm is room for the decoded samples (twice the frame's length).
func frameKind(alaw []byte, speechRMS float64, pcm []byte) (audible, speech bool) {
	for _, b := range alaw {
		if b != 0xD5 && b != 0x55 {
			audible = true
			break
		}
	}
	if !audible {
		return false, false
	}
	m, err := audio.DecodeAlawTo(pcm, alaw)
	if err != nil || m < 2 {
		return true, false
	}
	var sum float64
	for i := 0; i+1 < m; i += 2 {
		v := float64(int16(uint16(pcm[i]) | uint16(pcm[i+1])<<8))
		sum += v * v
	}
	return true, math.Sqrt(sum/float64(m/2)) > speechRMS
}

// errHungUp: the server ended the call while the caller still expected it to talk.
var errHungUp = errors.New("the server hung up")

// waitPrompt waits until a prompt has played (speech heard since the mark) and ended
// (-gap of silence after its last speech frame).
func (r *run) waitPrompt(d *diago.DialogClientSession, l *line, what string) error {
	deadline := time.Now().Add(r.c.promptWait)
	// Counted in frames received, not in time: a stall of the stream (the server or this
	// tool not scheduled) is not the end of a prompt.
	gapFrames := int(r.c.gap / (20 * time.Millisecond))
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-d.Context().Done():
			return fmt.Errorf("%s: %w", what, errHungUp)
		case <-tick.C:
		}
		l.mu.Lock()
		speech, quiet, ended := l.speech, l.quiet, l.ended
		l.mu.Unlock()
		now := time.Now()
		switch {
		case ended != nil:
			return fmt.Errorf("%s: RTP ended: %v", what, ended)
		case speech > 0 && quiet >= gapFrames:
			return nil
		case now.After(deadline) && speech == 0:
			return fmt.Errorf("%s: no speech within %v", what, r.c.promptWait)
		case now.After(deadline):
			return fmt.Errorf("%s: did not end within %v", what, r.c.promptWait)
		}
	}
}

// waitReply waits for the first audible packet after the mark; it returns its arrival
// time and that of the first speech frame.
func (r *run) waitReply(d *diago.DialogClientSession, l *line, what string) (audible, speech time.Time, err error) {
	deadline := time.Now().Add(r.c.replyWait)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-d.Context().Done():
			return audible, speech, fmt.Errorf("%s: %w", what, errHungUp)
		case <-tick.C:
		}
		l.mu.Lock()
		audible, speech = l.firstAudio, l.firstSpch
		l.mu.Unlock()
		if !speech.IsZero() {
			return audible, speech, nil
		}
		if time.Now().After(deadline) {
			if !audible.IsZero() {
				return audible, speech, fmt.Errorf("%s: audio but no speech within %v", what, r.c.replyWait)
			}
			return audible, speech, fmt.Errorf("%s: no reply within %v", what, r.c.replyWait)
		}
	}
}

// sender sends the caller's RTP: A-law silence every 20 ms, and RFC 4733 events for keys
// in its place (one stream, one SSRC, as a phone sends them).
type sender struct {
	r  *run
	mu sync.Mutex
	w  *media.RTPPacketWriter
	pt uint8 // telephone-event
	// keyed: a key was sent since the last silence packet (that gap is not lateness)
	keyed bool
}

var silence = func() []byte {
	b := make([]byte, 160)
	for i := range b {
		b[i] = 0xD5
	}
	return b
}()

func (s *sender) run(ctx context.Context) {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	var last time.Time
	for first := true; ; first = false {
		s.mu.Lock()
		now := time.Now()
		_, err := s.w.WriteSamples(silence, 160, first, media.CodecAudioAlaw.PayloadType)
		keyed := s.keyed
		s.keyed = false
		s.mu.Unlock()
		if !last.IsZero() && !keyed {
			s.r.sendGap.add(now.Sub(last))
		}
		last = now
		if err != nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// key sends one key as diago's DTMF writer does (four updates and three end packets, 20 ms
// apart, the event's timestamp throughout) and returns when its first and last packets
// went out. The silence stream waits meanwhile.
func (s *sender) key(k rune) (first, last time.Time, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	evs := media.RTPDTMFEncode8000(k)
	for i, e := range evs {
		if i > 0 {
			time.Sleep(20 * time.Millisecond)
		}
		now := time.Now()
		if _, err := s.w.WriteSamples(media.DTMFEncode(e), 0, i == 0, s.pt); err != nil {
			return first, last, err
		}
		if i == 0 {
			first = now
		}
		last = now
	}
	s.keyed = true
	// Audio goes on after the event's duration.
	s.w.DelayTimestamp(uint32(len(evs)) * 160)
	return first, last, nil
}

// call places one call and walks the menu; false when it failed.
func (r *run) call(i, k int) bool {
	res := &callResult{Call: r.calls.Begin(i, k)}
	finish := func(why string) bool { return r.calls.Finish(res, why) }

	invited := time.Now()
	ictx, cancel := context.WithTimeout(r.ctx, 30*time.Second)
	d, err := r.dg.Invite(ictx, sip.Uri{Scheme: "sip", User: r.c.to, Host: r.c.host, Port: r.c.port},
		diago.InviteOptions{Headers: []sip.Header{sip.NewHeader("P-Asserted-Identity", "<sip:"+res.Number+"@"+r.c.bind+">")}})
	cancel()
	if err != nil {
		return finish("invite: " + shortErr(err))
	}
	defer d.Close()
	answered := time.Now()
	r.calls.Active.Add(1)
	defer r.calls.Active.Add(-1)
	res.Logf("answered (%s)", res.Number)

	l := &line{}
	listened := make(chan struct{})
	go func() {
		defer close(listened)
		r.listen(d, l)
	}()
	sctx, stopSending := context.WithCancel(r.ctx)
	snd := &sender{r: r, w: d.RTPPacketWriter, pt: media.CodecTelephoneEvent8000.PayloadType}
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		snd.run(sctx)
	}()
	defer func() {
		stopSending()
		<-sent
		l.mu.Lock()
		res.packets, res.lost = l.packets, l.lost
		l.mu.Unlock()
	}()
	hangup := func() {
		hctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = d.Hangup(hctx)
		cancel()
	}

	// 1. Greeting and menu.
	l.setMark(answered)
	if err := r.waitPrompt(d, l, "greeting and menu"); err != nil {
		hangup()
		return finish(err.Error())
	}
	l.mu.Lock()
	res.menu = l.lastSpeech.Sub(l.firstSpeech)
	greeted := l.firstAudio.Sub(answered)
	l.mu.Unlock()
	r.mu.Lock()
	r.answer = append(r.answer, answered.Sub(invited))
	r.greeting = append(r.greeting, greeted)
	r.mu.Unlock()
	res.Logf("menu heard: %.1f s of speech", res.menu.Seconds())

	// 2. Key 2; the birth date prompt.
	l.setMark(time.Now())
	first, last, err := snd.key('2')
	if err != nil {
		hangup()
		return finish("key 2: " + err.Error())
	}
	res.keyed = true
	audible, speech, err := r.waitReply(d, l, "reply to 2")
	if err != nil {
		hangup()
		return finish(err.Error())
	}
	r.mu.Lock()
	r.replyKey = append(r.replyKey, audible.Sub(first))
	r.replyKeyE = append(r.replyKeyE, audible.Sub(last))
	r.replyKeyS = append(r.replyKeyS, speech.Sub(first))
	r.winReply = append(r.winReply, audible.Sub(first))
	r.mu.Unlock()
	res.Logf("key 2 → first audio %s, first speech %s", loadstat.Ms(audible.Sub(first)), loadstat.Ms(speech.Sub(first)))
	if err := r.waitPrompt(d, l, "birth date prompt"); err != nil {
		hangup()
		return finish(err.Error())
	}
	res.Logf("birth date prompt heard")

	// 3. The birth date and '#'; the goodbye.
	for _, kk := range r.c.birth {
		if _, _, err := snd.key(kk); err != nil {
			hangup()
			return finish("birth date: " + err.Error())
		}
		time.Sleep(r.c.keyPause)
	}
	l.setMark(time.Now())
	hashAt := time.Now()
	first, _, err = snd.key('#')
	if err != nil {
		hangup()
		return finish("key #: " + err.Error())
	}
	audible, speech, err = r.waitReply(d, l, "reply to #")
	if err != nil {
		hangup()
		return finish(err.Error())
	}
	r.mu.Lock()
	r.replyHash = append(r.replyHash, audible.Sub(first))
	r.replyHashS = append(r.replyHashS, speech.Sub(first))
	r.mu.Unlock()
	res.Logf("key # → first audio %s, first speech %s", loadstat.Ms(audible.Sub(first)), loadstat.Ms(speech.Sub(first)))

	// 4. The server says goodbye and hangs up.
	select {
	case <-d.Context().Done():
	case <-time.After(time.Until(hashAt.Add(r.c.timeout))):
		hangup()
		return finish(fmt.Sprintf("no BYE from the server within %v of '#' (the caller hung up)", r.c.timeout))
	}
	res.serverHung = true
	l.mu.Lock()
	goodbye := l.speech
	l.mu.Unlock()
	res.Logf("server hung up after %d speech frames of goodbye", goodbye)
	if goodbye < 50 {
		return finish(fmt.Sprintf("goodbye too short: %d speech frames before the BYE", goodbye))
	}
	return finish("")
}

// shortErr drops per-call details (addresses, ports, ids) so that errors group by cause.
var detailRE = regexp.MustCompile(`\d+\.\d+\.\d+\.\d+:\d+|[0-9a-f]{8}-[0-9a-f-]{27,}`)

func shortErr(err error) string {
	return detailRE.ReplaceAllString(err.Error(), "…")
}

func (r *run) report(cpu loadstat.Usage, load string, psi time.Duration, sv *storeVerdict) bool {
	results := r.calls.Results()
	r.mu.Lock()
	defer r.mu.Unlock()
	var complete, failed, keyed, serverHung int
	var menus, durations []time.Duration
	for _, res := range results {
		if res.Complete {
			complete++
			menus = append(menus, res.menu)
			durations = append(durations, res.Duration)
		}
		if res.Failed != "" {
			failed++
		}
		if res.keyed {
			keyed++
		}
		if res.serverHung {
			serverHung++
		}
	}
	slices.Sort(menus)
	slices.Sort(durations)
	wall := cpu.Wall
	loadstat.PrintTitle("sipload", reportWidth, wall)
	fmt.Printf("callers                   %d (concurrent calls wanted)\n", r.c.n)
	loadstat.PrintSamples("calls up", reportWidth, r.samples)
	fmt.Printf("calls                     %d started, %d completed, %d failed (%d pressed 2)\n", len(results), complete, failed, keyed)
	fmt.Printf("call length (completed)   p50 %.1f s, max %.1f s; greeting + menu speech p50 %.1f s\n",
		loadstat.Pct(durations, 50).Seconds(), loadstat.Pct(durations, 100).Seconds(), loadstat.Pct(menus, 50).Seconds())
	h := &r.spacing
	sg := &r.sendGap
	fmt.Printf("own RTP send spacing      p50 %s  p99 %s  p99.9 %s  max %s  (this tool's silence packets, n=%d: how late the load generator itself ran)\n",
		loadstat.Ms(sg.pct(50)), loadstat.Ms(sg.pct(99)), loadstat.Ms(sg.pct(99.9)), loadstat.Ms(time.Duration(sg.maxNS.Load())), sg.n.Load())
	fmt.Printf("RTP packets received      %d (lost by sequence number %d)\n", r.packets.Load(), r.lost.Load())
	fmt.Printf("RTP spacing               p50 %s  p99 %s  p99.9 %s  max %s  (n=%d; %.2f %% within 15–25 ms, %.3f %% over 40 ms)\n",
		loadstat.Ms(h.pct(50)), loadstat.Ms(h.pct(99)), loadstat.Ms(h.pct(99.9)), loadstat.Ms(time.Duration(h.maxNS.Load())), h.n.Load(),
		100*h.share(15*time.Millisecond, 25*time.Millisecond), 100*(1-h.share(0, 40*time.Millisecond)))
	for _, x := range []struct {
		name string
		v    []time.Duration
	}{
		{"key 2 → first packet of prompt (from the key's first event packet)", r.replyKey},
		{"key 2 → first packet of prompt (from the key's end packet)", r.replyKeyE},
		{"key 2 → first speech frame of prompt", r.replyKeyS},
		{"key # → first packet of goodbye", r.replyHash},
		{"key # → first speech frame of goodbye", r.replyHashS},
		{"INVITE → answered (200 OK)", r.answer},
		{"answered → first packet of greeting (espeak-ng, not cached)", r.greeting},
	} {
		s := slices.Clone(x.v)
		slices.Sort(s)
		fmt.Printf("%-68s %s  (n=%d)\n", x.name, loadstat.Quantiles(s, 50, 95, 100), len(s))
	}
	cpu.PrintCPU(reportWidth, "espeak-ng")
	fmt.Printf("CPU pressure              some task waited for a CPU %.0f %% of the run (/proc/pressure/cpu)\n", 100*psi.Seconds()/wall.Seconds())
	fmt.Printf("load average at the end   %s\n", load)

	ok := true
	if sv != nil {
		if sv.err != nil {
			fmt.Printf("persisted: NOT CHECKED: %v\n", sv.err)
			ok = false
		} else {
			fmt.Printf("persisted (store)         %d prescription requests by phone created during the run, %d of them from this run's numbers; completed calls %d: with exactly one request %d, without %d, with more than one %d; birth date wrong %d; failed calls that pressed 2 and left a request %d\n",
				sv.total, sv.ours, complete, sv.one, sv.missing, sv.dups, sv.wrongBirth, sv.failedWith)
			for _, p := range sv.problems {
				fmt.Printf("  %s\n", p)
			}
			if sv.missing > 0 || sv.dups > 0 || sv.wrongBirth > 0 {
				ok = false
			}
		}
	} else {
		fmt.Println("persisted: NOT CHECKED (give -data)")
	}
	r.calls.Errors.Print("failures:")
	if failed > 0 || len(results) == 0 {
		fmt.Printf("FAIL: %d calls failed\n", failed)
		ok = false
	}
	if p := h.pct(99); p < r.c.spacingLo || p > r.c.spacingHi {
		fmt.Printf("FAIL: RTP spacing p99 %s outside %s–%s\n", loadstat.Ms(p), loadstat.Ms(r.c.spacingLo), loadstat.Ms(r.c.spacingHi))
		ok = false
	}
	for _, x := range []struct {
		name string
		v    []time.Duration
	}{{"key 2 → prompt", r.replyKey}, {"key # → goodbye", r.replyHash}} {
		s := slices.Clone(x.v)
		slices.Sort(s)
		if p := loadstat.Pct(s, 95); p > r.c.replyP95 {
			fmt.Printf("FAIL: %s p95 %s > %s\n", x.name, loadstat.Ms(p), loadstat.Ms(r.c.replyP95))
			ok = false
		}
	}
	return loadstat.Verdict(ok)
}

// reportWidth is the width of the labels in the result.
const reportWidth = 26
