// Command turnlatency measures the spoken phone assistant's reply latency under load: the
// time from the end of a caller's speech to the first RTP packet of the reply, over SIP,
// against a running `tresen serve --demo --sip ADDR`, with the server's embedded voice
// (espeak-ng) and a recogniser that answers at once.
//
//	go run ./bench/turnlatency -sip 127.0.0.1:5080 -data DATA -pid PID -calls 50 -ramp 20s -duration 3m
//
// The recogniser is a local server in this process that speaks the Vosk WebSocket
// protocol (as internal/vosk talks to it). With -data (the server's --data directory,
// SQLite) the demo practice's voice settings (store.SettingVoice) are pointed at it for
// the run — recogniser "vosk" at ws://127.0.0.1:PORT, voice espeak-ng — and put back
// afterwards; the server reads them for each call. It sends the final result the moment
// the server's {"eof" : 1} arrives: a real recogniser's time for the last words is not
// Tresen's and is left out.
//
// Each virtual caller is a SIP user agent built on diago (as in bench/sipload): it INVITEs
// the server with G.711 A-law from a number of its own (P-Asserted-Identity), sends RTP
// every 20 ms all call long (quiet line noise, about −60 dBFS), and after the greeting
// speaks the turns of a prescription request — synthesised once with espeak-ng (-v de,
// 8 kHz) — each when the previous reply has ended (-gap of silence). Each turn starts with
// a 240 ms marker of four tones that tells the recogniser which turn of which call it
// hears (see marker.go); the words follow. For every turn it notes:
//
//   - end: when the last voiced packet of the words was sent (RMS of the frame as the
//     server decodes it above -speech-rms);
//   - reply: when the first packet of the reply carrying speech (RMS above -speech-rms)
//     arrived;
//   - detect: when the packet on which the server's voice activity detector ends the turn
//     was sent. The caller feeds every frame it sends, decoded as the server decodes it,
//     to a detector of internal/audio configured as the server's (audio.VADConfig{},
//     cmd/tresen/phone.go): the same frames in the same order give the same decision, so
//     this is the server's detection to the packet, without a change to the server;
//   - eof, final: when the recogniser got the turn's end and had sent its answer.
//
// Reported: raw = reply − end; after detection, nominal = raw − the detector's end-of-turn
// silence (700 ms, read from internal/audio's detector at start); after detection,
// exact = reply − detect, and how it splits at the recogniser. With -probe the tool also
// times, beside the calls, the reception service's turn and espeak-ng's first audio of
// the same replies (see probe.go). Afterwards the prescription request every completed
// call left is checked in the store (-data). The exit status is 1 when the p95 after detection
// (-verdict exact or nominal) exceeds -target, a call failed or a request is missing.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/diago/media"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/tresen/tresen/bench/internal/loadstat"
	"github.com/tresen/tresen/bench/internal/loadstore"
	"github.com/tresen/tresen/internal/audio"
)

// script is what the caller says, turn by turn: a prescription refill as the demo
// practice's assistant asks for it (its questions: name and birth date, birth date,
// insurance, confirmation, anything else). Synthetic data only.
var script = []string{
	"Ich brauche ein Folgerezept für Ramipril fünf Milligramm.",
	"Erika Mustermann.",
	"Am zwölften März neunzehnhundertvierundachtzig.",
	"Gesetzlich.",
	"Ja, das stimmt.",
	"Nein danke, das war alles.",
}

type config struct {
	host           string
	port           int
	to             string
	bind           string
	n              int
	ramp, duration time.Duration
	gap            time.Duration
	think          time.Duration
	promptWait     time.Duration
	replyWait      time.Duration
	timeout        time.Duration
	speechRMS      float64
	target         time.Duration
	verdict        string
	numberBase     int64
	voice          string
	verbose        bool
}

type run struct {
	c        config
	dg       *diago.Diago
	ctx      context.Context
	rec      *recognizer
	probe    *probe    // nil without -probe
	words    [][]int16 // the script, synthesised
	endAfter time.Duration
	tags     chan int

	calls loadstat.Calls[*loadstat.Call]

	mu              sync.Mutex
	turns           []turnResult
	win             []turnResult // since the last progress line
	overlaps, noRec atomic.Int64
	samples         []int64
	stopAt          time.Time
}

func main() {
	var c config
	var sipAddr, recAddr string
	var st loadstore.Flags
	var pid int
	var probeEvery time.Duration
	flag.StringVar(&sipAddr, "sip", "127.0.0.1:5080", "the server's SIP address (UDP)")
	flag.StringVar(&c.to, "to", "04211234567", "the number called (with --demo every number reaches the demo practice)")
	flag.StringVar(&c.bind, "bind", "127.0.0.1", "local address for SIP and RTP")
	flag.StringVar(&recAddr, "recognizer", "127.0.0.1:0", "address of the fake Vosk recogniser")
	flag.IntVar(&c.n, "calls", 1, "concurrent calls (virtual callers), at most 512")
	flag.DurationVar(&c.ramp, "ramp", 10*time.Second, "time over which the callers place their first call")
	flag.DurationVar(&c.duration, "duration", 0, "run time; callers place new calls until it is up (0: one call each)")
	flag.DurationVar(&c.gap, "gap", time.Second, "silence after speech that ends a prompt or reply (counted in 20 ms frames received)")
	flag.DurationVar(&c.think, "think", 200*time.Millisecond, "pause before the caller speaks, after -gap")
	flag.DurationVar(&c.promptWait, "prompt-wait", 60*time.Second, "longest wait for a prompt to begin and end")
	flag.DurationVar(&c.replyWait, "reply-wait", 5*time.Second, "longest wait for the reply after the server's detector ended the turn")
	flag.DurationVar(&c.timeout, "timeout", 30*time.Second, "longest wait for the server's BYE after the last reply began")
	flag.Float64Var(&c.speechRMS, "speech-rms", 300, "a frame is voiced (speech) when the RMS of its samples exceeds this")
	flag.DurationVar(&c.target, "target", 250*time.Millisecond, "fail when the p95 after detection exceeds this")
	flag.StringVar(&c.verdict, "verdict", "exact", "which p95 after detection -target applies to: exact (the detecting packet, from the detector mirror) or nominal (raw − end-of-turn silence)")
	flag.Int64Var(&c.numberBase, "number-base", 0, "callers' numbers are +49171 followed by seven digits from this (default: from the clock)")
	flag.StringVar(&c.voice, "caller-voice", "de", "espeak-ng voice of the callers")
	flag.BoolVar(&c.verbose, "v", false, "print one call's course and every error")
	st.Register(flag.CommandLine, "the server's --data directory (SQLite): point the demo practice's recogniser at this tool for the run, and match the stored prescription requests to the calls")
	flag.DurationVar(&probeEvery, "probe", 0, "with a duration: time, beside the calls, the reception service's turn (dialogue and store, on the server's store) and espeak-ng's first audio of each reply, one turn every this long (0: off)")
	flag.IntVar(&pid, "pid", 0, "the server's process id: report its CPU time and its children's (espeak-ng)")
	flag.Parse()

	host, portStr, err := net.SplitHostPort(sipAddr)
	if err != nil {
		fatalf("-sip: %v", err)
	}
	if c.port, err = strconv.Atoi(portStr); err != nil {
		fatalf("-sip: port %q", portStr)
	}
	c.host = host
	if c.n < 1 || c.n > maxTag {
		fatalf("-calls: 1 to %d", maxTag)
	}
	if c.verdict != "exact" && c.verdict != "nominal" {
		fatalf("-verdict: exact or nominal")
	}
	if st.Data == "" {
		fatalf("-data: the server's --data directory is needed to point its recogniser at this tool")
	}
	if c.numberBase == 0 {
		c.numberBase = (time.Now().Unix() % 1000) * 10000
	}

	r, err := newRun(c, recAddr)
	if err != nil {
		fatalf("%v", err)
	}
	defer r.rec.Close()
	restore, err := configure(st, r.rec.URL())
	if err != nil {
		fatalf("configuring the demo practice's recogniser: %v", err)
	}
	fmt.Printf("turnlatency: %d concurrent calls to sip:%s@%s, ramp %v, duration %v; GOMAXPROCS %d, %d CPUs\n",
		c.n, c.to, sipAddr, c.ramp, c.duration, runtime.GOMAXPROCS(0), runtime.NumCPU())
	fmt.Printf("recogniser (fake, answers at once) at %s; the server's detector ends a turn after %v of silence\n", r.rec.URL(), r.endAfter)
	fmt.Printf("load average at the start: %s\n", loadstat.Loadavg())

	psi0 := loadstat.CPUPressure()
	before := loadstat.Take(pid)
	if pid > 0 && before.Server == 0 {
		fmt.Fprintf(os.Stderr, "warning: no CPU time for process %d\n", pid)
	}
	start := before.At
	probeDone := make(chan struct{})
	close(probeDone)
	pctx, stopProbe := context.WithCancel(context.Background())
	if probeEvery > 0 {
		ctx := loadstore.Context()
		db, err := st.Open(ctx)
		if err != nil {
			fatalf("probe: %v", err)
		}
		defer db.Close()
		if r.probe, err = newProbe(ctx, db, fmt.Sprintf("+49172%07d", c.numberBase)); err != nil {
			fatalf("probe: %v", err)
		}
		probeDone = make(chan struct{})
		go func() {
			defer close(probeDone)
			r.probe.run(pctx, probeEvery)
		}()
	}
	r.run(pid)
	stopProbe()
	<-probeDone
	cpu := loadstat.Take(pid).Since(before)
	load := loadstat.Loadavg()
	psi := loadstat.CPUPressure() - psi0

	// The conversation is closed when the call ends; give the last calls a moment.
	time.Sleep(2 * time.Second)
	sv, err := r.verifyStore(st, start)
	if err != nil {
		fmt.Fprintf(os.Stderr, "store: %v\n", err)
		sv = &storeVerdict{err: err}
	}
	if err := restore(); err != nil {
		fmt.Fprintf(os.Stderr, "putting the voice settings back: %v\n", err)
	}
	if !r.report(cpu, load, psi, sv) {
		os.Exit(1)
	}
}

func fatalf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "turnlatency: "+format+"\n", a...)
	os.Exit(2)
}

func newRun(c config, recAddr string) (*run, error) {
	r := &run{c: c, ctx: context.Background(), endAfter: endOfTurnSilence(audio.VADConfig{})}
	r.calls.NumberPrefix, r.calls.NumberBase, r.calls.Verbose = "+49171", c.numberBase, c.verbose
	r.calls.Errors.Verbose = c.verbose
	if r.endAfter == 0 {
		return nil, fmt.Errorf("the detector did not end a turn")
	}
	var transcripts []string
	for _, s := range script {
		pcm, err := synthesize(c.voice, s)
		if err != nil {
			return nil, err
		}
		r.words = append(r.words, pcm)
		transcripts = append(transcripts, transcript(s))
	}
	if len(script) > maxTurns {
		return nil, fmt.Errorf("the marker tells %d turns apart, the script has %d", maxTurns, len(script))
	}
	r.tags = make(chan int, maxTag)
	for i := range maxTag {
		r.tags <- i
	}
	var err error
	if r.rec, err = newRecognizer(recAddr, transcripts); err != nil {
		return nil, err
	}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("tresen-turnlatency"))
	if err != nil {
		return nil, err
	}
	// diago logs every call's SIP and RTP details at debug level; errors are enough.
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	r.dg = diago.NewDiago(ua,
		diago.WithLogger(log),
		diago.WithMediaConfig(diago.MediaConfig{Codecs: []media.Codec{media.CodecAudioAlaw, media.CodecTelephoneEvent8000}}),
		diago.WithTransport(diago.Transport{Transport: "udp", BindHost: c.bind, BindPort: 0}))
	// The server's BYE reaches the dialog through the caller's own SIP server.
	if err := r.dg.ServeBackground(r.ctx, func(d *diago.DialogServerSession) {
		_ = d.Respond(sip.StatusNotFound, "Not Found", nil)
	}); err != nil {
		return nil, err
	}
	return r, nil
}

// synthesize says sentence with espeak-ng and returns it at 8 kHz.
func synthesize(voice, sentence string) ([]int16, error) {
	wav, err := exec.Command("espeak-ng", "-v", voice, "--stdout", sentence).Output()
	if err != nil {
		return nil, fmt.Errorf("espeak-ng (Debian package espeak-ng): %w", err)
	}
	pcm, rate, err := audio.ReadWAV(bytes.NewReader(wav))
	if err != nil {
		return nil, err
	}
	return audio.Resample(pcm, rate, 8000)
}

// run starts the callers over the ramp and waits for all to finish.
func (r *run) run(pid int) {
	start := time.Now()
	r.stopAt = start.Add(max(r.c.duration, r.c.ramp))
	r.samples = loadstat.Ramp{Start: start, N: r.c.n, Over: r.c.ramp, Stop: r.stopAt,
		Worker: r.caller, Active: r.calls.Active.Load, Progress: r.progress(start, pid)}.Run()
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

func (r *run) addTurn(t turnResult) {
	r.mu.Lock()
	r.turns = append(r.turns, t)
	r.win = append(r.win, t)
	r.mu.Unlock()
}

// progress prints a line every ten seconds.
func (r *run) progress(start time.Time, pid int) func(now time.Time) {
	lastCPU, lastPSI := loadstat.MachineCPU(), loadstat.CPUPressure()
	lastSrv, lastKids := loadstat.ProcCPU(pid)
	lastProcs := loadstat.Procs()
	return func(now time.Time) {
		r.mu.Lock()
		win := r.win
		r.win = nil
		r.mu.Unlock()
		exact := values(win, measures[measureExact], r.endAfter, -1)
		cpu := loadstat.MachineCPU()
		used := cpu.Sub(lastCPU)
		srv := ""
		if pid > 0 {
			s, k := loadstat.ProcCPU(pid)
			srv = fmt.Sprintf("  server %.2f + espeak-ng %.2f cores", (s-lastSrv).Seconds()/10, (k-lastKids).Seconds()/10)
			lastSrv, lastKids = s, k
		}
		psi := loadstat.CPUPressure()
		procs := loadstat.Procs()
		fmt.Printf("%4.0fs  calls up %3d  started %4d  completed %4d  failed %3d  last 10 s: after detection p50 %s p95 %s (n=%d)  machine busy %.2f cores%s  CPU pressure %.0f %%  load %s  others: %s\n",
			now.Sub(start).Seconds(), r.calls.Active.Load(), r.calls.Started.Load(), r.calls.Completed.Load(), r.calls.Failed.Load(),
			loadstat.Ms(loadstat.Pct(exact, 50)), loadstat.Ms(loadstat.Pct(exact, 95)), len(exact),
			used.Busy.Seconds()/10, srv, 100*(psi-lastPSI).Seconds()/10, loadstat.Loadavg(),
			loadstat.TopOthers(lastProcs, procs, pid, 10*time.Second))
		lastCPU, lastPSI, lastProcs = cpu, psi, procs
	}
}

// shortErr drops per-call details (addresses, ports, ids) so that errors group by cause.
var detailRE = regexp.MustCompile(`\d+\.\d+\.\d+\.\d+:\d+|[0-9a-f]{8}-[0-9a-f-]{27,}`)

func shortErr(err error) string {
	return detailRE.ReplaceAllString(err.Error(), "…")
}

// reportWidth is the width of the labels in the result.
const reportWidth = 26

func (r *run) report(cpu loadstat.Usage, load string, psi time.Duration, sv *storeVerdict) bool {
	results := r.calls.Results()
	r.mu.Lock()
	defer r.mu.Unlock()
	var complete, failed int
	for _, res := range results {
		if res.Complete {
			complete++
		}
		if res.Failed != "" {
			failed++
		}
	}
	conns, unknown := r.rec.stats()
	loadstat.PrintTitle("turnlatency", reportWidth, cpu.Wall)
	fmt.Printf("%-*s%d (concurrent calls wanted)\n", reportWidth, "callers", r.c.n)
	loadstat.PrintSamples("calls up", reportWidth, r.samples)
	fmt.Printf("%-*s%d started, %d completed, %d failed\n", reportWidth, "calls", len(results), complete, failed)
	fmt.Printf("%-*s%d measured (%d without the recogniser's times); the server spoke during the caller's turn %d times\n",
		reportWidth, "turns", len(r.turns), r.noRec.Load(), r.overlaps.Load())
	fmt.Printf("%-*s%d connections, %d turns without a marker\n", reportWidth, "recogniser", conns, unknown)
	fmt.Printf("end-of-turn silence of the server's detector: %v\n\n", r.endAfter)
	for _, m := range measures {
		v := values(r.turns, m, r.endAfter, -1)
		fmt.Printf("%-58s %s  (n=%d)\n", m.name, loadstat.Quantiles(v, 50, 95, 99, 100), len(v))
	}
	fmt.Println("\nafter detection (exact) by turn of the script:")
	for k, s := range script {
		v := values(r.turns, measures[measureExact], r.endAfter, k)
		fmt.Printf("  %d %-50q %s  (n=%d)\n", k+1, s, loadstat.Quantiles(v, 50, 95, 100), len(v))
	}
	if r.probe != nil {
		fmt.Println("\nprobe beside the calls (this process, same machine and store; -probe):")
		say, speak := r.probe.results(-1)
		fmt.Printf("  %-56s %s  (n=%d)\n", "reception service turn (dialogue engine + store)", loadstat.Quantiles(say, 50, 95, 99, 100), len(say))
		fmt.Printf("  %-56s %s  (n=%d)\n", "espeak-ng, reply text → first audio", loadstat.Quantiles(speak, 50, 95, 99, 100), len(speak))
		for k := range script {
			say, speak := r.probe.results(k)
			fmt.Printf("    turn %d: service p50 %s p95 %s; espeak-ng p50 %s p95 %s\n", k+1,
				loadstat.Ms(loadstat.Pct(say, 50)), loadstat.Ms(loadstat.Pct(say, 95)),
				loadstat.Ms(loadstat.Pct(speak, 50)), loadstat.Ms(loadstat.Pct(speak, 95)))
		}
		r.probe.errs.Print("  probe errors:")
	}
	fmt.Println()
	cpu.PrintCPU(reportWidth, "espeak-ng")
	fmt.Printf("%-*ssome task waited for a CPU %.0f %% of the run (/proc/pressure/cpu)\n", reportWidth, "CPU pressure", 100*psi.Seconds()/cpu.Wall.Seconds())
	fmt.Printf("%-*s%s\n", reportWidth, "load average at the end", load)

	ok := true
	if sv.err != nil {
		fmt.Printf("persisted: NOT CHECKED: %v\n", sv.err)
		ok = false
	} else {
		fmt.Printf("%-*s%d prescription requests by phone created during the run, %d of them from this run's numbers; completed calls %d: with exactly one request %d, without %d, with more than one %d, with other data %d\n",
			reportWidth, "persisted (store)", sv.total, sv.ours, complete, sv.one, sv.missing, sv.dups, sv.wrong)
		for _, p := range sv.problems {
			fmt.Printf("  %s\n", p)
		}
		if sv.missing > 0 || sv.dups > 0 || sv.wrong > 0 {
			ok = false
		}
	}
	r.calls.Errors.Print("failures:")
	if failed > 0 || len(results) == 0 {
		fmt.Printf("FAIL: %d calls failed\n", failed)
		ok = false
	}
	which := measureExact
	if r.c.verdict == "nominal" {
		which = measureNominal
	}
	v := values(r.turns, measures[which], r.endAfter, -1)
	if len(v) == 0 {
		fmt.Println("FAIL: no turn measured")
		ok = false
	} else if p := loadstat.Pct(v, 95); p > r.c.target {
		fmt.Printf("FAIL: p95 after detection (%s) %s > %s\n", r.c.verdict, loadstat.Ms(p), loadstat.Ms(r.c.target))
		ok = false
	}
	return loadstat.Verdict(ok)
}
