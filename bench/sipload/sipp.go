package main

// The sipp caller (-caller sipp): sipp places the calls and sends all of the callers'
// SIP and RTP (scenario sipp_keypad.xml); sipload writes the injection file, gives every
// call an RTP socket of its own that the call's SDP offers, and so receives and times
// every RTP packet the server sends. Debian's sipp 3.6.1 cannot time received RTP
// itself, nor wait for a prompt to end: its keys come after fixed pauses
// (-sipp-menu, -sipp-prompt), and sipload checks afterwards, from the RTP it heard and
// the times sipp logged for the keys, that each prompt had ended before the key.

import (
	"bufio"
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tresen/tresen/bench/internal/loadstat"
	"github.com/tresen/tresen/bench/internal/loadstore"
)

//go:embed sipp_keypad.xml
var sippScenario []byte

const (
	// sippBirth is the birth date the scenario keys in: its keys are pcap files named in
	// the XML, so the digits are fixed there.
	sippBirth = "12031984"
	// sippPcaps is where Debian's sip-tester keeps the RFC 4733 pcaps the scenario replays.
	sippPcaps = "/usr/share/sip-tester"
)

// sippConfig is the sipp caller's own part of the configuration.
type sippConfig struct {
	bin     string        // the sipp program
	dir     string        // working directory: scenario, injection file, statistics, logs
	rtpBase int           // sipload's RTP sockets take even ports from here (RTCP the odd one above)
	menu    time.Duration // from the answer to key 2: the greeting and menu play out
	prompt  time.Duration // from key 2 to the first digit: the birth date prompt plays out
}

// sippRun is one run of sipp against the server.
type sippRun struct {
	c     config
	sc    sippConfig
	calls []*sippCall // one a line of the injection file, in its order

	spacing    hist
	spacingWin atomic.Pointer[hist] // the last 10 s
	readLag    hist                 // kernel's arrival stamp → sipload's read: its own lateness
	packets    atomic.Int64
	stamped    atomic.Int64 // packets timed by the kernel's stamp (the others by the read)
	lost       atomic.Int64
	listeners  sync.WaitGroup
}

// sippCall is one call sipp places (a line of the injection file) as sipload hears it.
type sippCall struct {
	number     string
	port       int
	conn, rtcp *net.UDPConn
	last       atomic.Int64 // arrival of the latest RTP packet, Unix ns (calls up)

	// Written by the listener, read after it ended.
	packets, lost int
	runs          []audibleRun
	// Read from sipp's log after the run.
	events map[string]time.Time
}

// audibleRun is a run of consecutive audible packets (see frameKind) the server sent.
type audibleRun struct {
	start, end time.Time // arrival of its first and last packet
	speech     int       // speech frames in it
}

// The events the scenario logs, with the call's RTP port and the time.
const (
	evAnswered  = "answered"
	evKey2      = "key 2"
	evBirth     = "birth date" // the first digit
	evLastDigit = "last digit"
	evHash      = "key #"
	evHungUp    = "server hung up" // the scenario's end: sipp answered the server's BYE
)

// runSippMode runs the load with sipp as the callers and reports; false when it failed.
func runSippMode(c config, sc sippConfig, st loadstore.Flags, pid int) bool {
	if c.birth != sippBirth {
		fatalf("-caller sipp keys in the birth date of the scenario, %s; -birth cannot change it", sippBirth)
	}
	bin, err := exec.LookPath(sc.bin)
	if err != nil {
		fatalf("sipp: %v (Debian package sip-tester)", err)
	}
	sc.bin = bin
	if _, err := os.Stat(filepath.Join(sippPcaps, "dtmf_2833_pound.pcap")); err != nil {
		fatalf("the scenario replays the RFC 4733 pcaps of Debian's sip-tester: %v", err)
	}
	if sc.dir == "" {
		if sc.dir, err = os.MkdirTemp("", "sipload-sipp-"); err != nil {
			fatalf("%v", err)
		}
	} else if err := os.MkdirAll(sc.dir, 0o755); err != nil {
		fatalf("%v", err)
	}
	s := &sippRun{c: c, sc: sc}
	s.spacingWin.Store(new(hist))
	if err := s.prepare(); err != nil {
		fatalf("%v", err)
	}
	defer s.closeSockets()
	for _, call := range s.calls {
		s.listeners.Add(1)
		go s.listen(call)
	}

	psi0 := loadstat.CPUPressure()
	before := loadstat.Take(pid)
	if pid > 0 && before.Server == 0 {
		fmt.Fprintf(os.Stderr, "warning: no CPU time for process %d\n", pid)
	}
	start := before.At
	exit, sippCPU, samples, err := s.runSipp(pid)
	if err != nil {
		fatalf("sipp: %v", err)
	}
	// The last calls' RTP is in flight still for a moment after sipp's last 200 OK.
	time.Sleep(500 * time.Millisecond)
	s.closeSockets()
	s.listeners.Wait()
	cpu := loadstat.Take(pid).Since(before)
	load := loadstat.Loadavg()
	psi := loadstat.CPUPressure() - psi0

	stats, statsErr := readSippStats(filepath.Join(sc.dir, "stats.csv"))
	skipped, logErr := s.readLog(filepath.Join(sc.dir, "calls.log"))
	created := min(int(stats.count("TotalCallCreated")), len(s.calls))
	checks := make([]callCheck, created)
	results := make([]*callResult, created)
	for i, call := range s.calls[:created] {
		checks[i] = checkCall(call.events, call.runs, c.gap, c.replyWait)
		results[i] = &callResult{Call: &loadstat.Call{Caller: i, Number: call.number, Complete: checks[i].failed == "",
			Failed: checks[i].failed}, keyed: !call.events[evKey2].IsZero()}
	}

	if c.verbose && created > 0 {
		call, ch := s.calls[0], checks[0]
		fmt.Printf("\nthe first call (%s, RTP port %d): %d packets, %d runs of audio\n", call.number, call.port, call.packets, len(call.runs))
		for _, what := range []string{evAnswered, evKey2, evBirth, evLastDigit, evHash, evHungUp} {
			if at := call.events[what]; !at.IsZero() {
				fmt.Printf("  %-16s %s\n", what, at.Format("15:04:05.000"))
			}
		}
		fmt.Printf("  greeting %s, menu %.1f s, key 2 → prompt %s, last digit → goodbye %s, goodbye %d speech frames; failed: %q\n",
			loadstat.Ms(ch.greeting), ch.menu.Seconds(), loadstat.Ms(ch.key2), loadstat.Ms(ch.digit), ch.goodbye, ch.failed)
	}

	var sv *storeVerdict
	if st.Data != "" {
		time.Sleep(time.Second) // the request is closed when the call ends
		fmt.Printf("\nreading the prescription requests in the store at %s\n", st.Data)
		sv, err = verifyStore(st, start, sippBirth, results)
		if err != nil {
			fmt.Fprintf(os.Stderr, "store: %v\n", err)
			sv = &storeVerdict{err: err}
		}
	}
	return s.report(reportInput{exit: exit, stats: stats, statsErr: statsErr, logErr: logErr, skipped: skipped,
		checks: checks, samples: samples, cpu: cpu, sippCPU: sippCPU, load: load, psi: psi, sv: sv})
}

// prepare writes the scenario, the silence sipp loops and the injection file, and opens
// an RTP socket (and one for RTCP) for every call sipp may place.
func (s *sippRun) prepare() error {
	c := s.c
	if err := os.WriteFile(filepath.Join(s.sc.dir, "sipp_keypad.xml"), sippScenario, 0o644); err != nil {
		return err
	}
	// One second of A-law silence, looped by the scenario's rtp_stream.
	silence := make([]byte, 8000)
	for i := range silence {
		silence[i] = 0xD5
	}
	if err := os.WriteFile(filepath.Join(s.sc.dir, "silence.alaw"), silence, 0o644); err != nil {
		return err
	}
	// sipp places calls at -calls per -ramp up to -calls at once until the run is over:
	// never more than that rate allows, so every call gets a line of its own.
	lines := c.n
	if c.duration > 0 {
		lines += int(math.Ceil(s.rate() * max(c.duration, c.ramp).Seconds()))
	}
	var csv strings.Builder
	csv.WriteString("SEQUENTIAL\n")
	port := s.sc.rtpBase &^ 1
	for i := range lines {
		var call *sippCall
		for ; call == nil && port+1 <= 65535; port += 2 {
			call = openCallSockets(c.bind, port)
		}
		if call == nil {
			return fmt.Errorf("no free RTP ports above %d for %d calls", s.sc.rtpBase, lines)
		}
		call.number = fmt.Sprintf("+49170%07d", c.numberBase+int64(i)+1)
		s.calls = append(s.calls, call)
		fmt.Fprintf(&csv, "%s;%d;%d;%d\n", call.number, call.port, s.sc.menu.Milliseconds(), s.sc.prompt.Milliseconds())
	}
	return os.WriteFile(filepath.Join(s.sc.dir, "calls.csv"), []byte(csv.String()), 0o644)
}

// openCallSockets binds port (RTP) and port+1 (RTCP, read by nobody: the server's
// reports find a socket rather than an ICMP error); nil when one of them is taken.
func openCallSockets(host string, port int) *sippCall {
	ip := net.ParseIP(host)
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip, Port: port})
	if err != nil {
		return nil
	}
	rtcp, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip, Port: port + 1})
	if err != nil {
		conn.Close()
		return nil
	}
	_ = enableStamps(conn) // without, the reads time the packets (the report counts them)
	return &sippCall{port: port, conn: conn, rtcp: rtcp}
}

func (s *sippRun) closeSockets() {
	for _, call := range s.calls {
		call.conn.Close()
		call.rtcp.Close()
	}
}

// rate is the calls a second sipp places during the ramp (and at most afterwards).
func (s *sippRun) rate() float64 {
	if s.c.ramp <= 0 {
		return float64(s.c.n)
	}
	return float64(s.c.n) / s.c.ramp.Seconds()
}

// listen reads the server's RTP for one call until its socket is closed after the run.
func (s *sippRun) listen(call *sippCall) {
	defer s.listeners.Done()
	buf := make([]byte, 2048)
	oob := make([]byte, 128)
	pcm := make([]byte, 4096)
	var last time.Time
	var lastSeq uint16
	inRun := false
	for {
		n, oobn, _, _, err := call.conn.ReadMsgUDP(buf, oob)
		now := time.Now()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // an ICMP error reported on the socket
		}
		h, payload, err := parseRTP(buf[:n])
		if err != nil {
			continue
		}
		if at, ok := stampOf(oob[:oobn]); ok {
			s.readLag.add(now.Sub(at))
			s.stamped.Add(1)
			now = at
		}
		call.last.Store(now.UnixNano())
		s.packets.Add(1)
		call.packets++
		if !last.IsZero() {
			gap := now.Sub(last)
			s.spacing.add(gap)
			s.spacingWin.Load().add(gap)
			if d := h.seq - lastSeq; d > 1 && d < 1000 {
				call.lost += int(d - 1)
				s.lost.Add(int64(d - 1))
			}
		}
		last, lastSeq = now, h.seq
		if h.pt != 8 { // A-law; the server sends nothing else on this line
			inRun = false
			continue
		}
		audible, speech := frameKind(payload, s.c.speechRMS, pcm)
		switch {
		case !audible:
			inRun = false
		case inRun:
			r := &call.runs[len(call.runs)-1]
			r.end = now
			if speech {
				r.speech++
			}
		default:
			call.runs = append(call.runs, audibleRun{start: now, end: now})
			if speech {
				call.runs[len(call.runs)-1].speech++
			}
			inRun = true
		}
	}
}

// rtpHeader is what sipload reads from an RTP packet's header.
type rtpHeader struct {
	pt     uint8
	marker bool
	seq    uint16
	ts     uint32
	ssrc   uint32
}

// parseRTP reads an RTP packet (RFC 3550 §5.1): its header and its payload, without
// CSRCs, header extension and padding.
func parseRTP(b []byte) (rtpHeader, []byte, error) {
	var h rtpHeader
	if len(b) < 12 {
		return h, nil, errors.New("rtp: short packet")
	}
	if b[0]>>6 != 2 {
		return h, nil, errors.New("rtp: not version 2")
	}
	h.marker = b[1]&0x80 != 0
	h.pt = b[1] & 0x7f
	if h.pt >= 72 && h.pt <= 76 {
		return h, nil, errors.New("rtp: an RTCP packet") // RFC 5761 §4
	}
	h.seq = binary.BigEndian.Uint16(b[2:])
	h.ts = binary.BigEndian.Uint32(b[4:])
	h.ssrc = binary.BigEndian.Uint32(b[8:])
	off := 12 + 4*int(b[0]&0x0f)
	if b[0]&0x10 != 0 { // header extension: 4 bytes, then its length in 32-bit words
		if len(b) < off+4 {
			return h, nil, errors.New("rtp: short header extension")
		}
		off += 4 + 4*int(binary.BigEndian.Uint16(b[off+2:]))
	}
	end := len(b)
	if b[0]&0x20 != 0 { // padding: its length in the last byte
		end -= int(b[len(b)-1])
	}
	if off > end {
		return h, nil, errors.New("rtp: header or padding longer than the packet")
	}
	return h, b[off:end], nil
}

// runSipp starts sipp, samples the calls up each second after the ramp, prints the
// progress every ten seconds and, with -duration, tells sipp at the end to place no new
// calls (SIGUSR1: the calls up finish). It returns sipp's exit status, its CPU time and
// the samples.
func (s *sippRun) runSipp(pid int) (exit int, cpu time.Duration, samples sippSamples, err error) {
	c := s.c
	sipPort, err := freeUDPPort(c.bind)
	if err != nil {
		return 0, 0, samples, err
	}
	mediaPort, err := freeUDPPort(c.bind)
	if err != nil {
		return 0, 0, samples, err
	}
	ratePeriod := max(c.ramp, time.Second)
	total := len(s.calls)
	if c.duration == 0 {
		total = c.n
	}
	args := []string{net.JoinHostPort(c.host, strconv.Itoa(c.port)),
		"-sf", "sipp_keypad.xml", "-inf", "calls.csv", "-s", c.to,
		"-i", c.bind, "-mi", c.bind, "-p", strconv.Itoa(sipPort), "-mp", strconv.Itoa(mediaPort),
		"-l", strconv.Itoa(c.n), "-r", strconv.Itoa(c.n), "-rp", strconv.FormatInt(ratePeriod.Milliseconds(), 10),
		"-m", strconv.Itoa(total), "-recv_timeout", "30000", "-nostdin",
		"-trace_stat", "-stf", "stats.csv", "-fd", "10",
		"-trace_err", "-error_file", "errors.log",
		"-trace_logs", "-log_file", "calls.log"}
	fmt.Printf("sipp (in %s): %s %s\n", s.sc.dir, s.sc.bin, strings.Join(args, " "))
	out, err := os.Create(filepath.Join(s.sc.dir, "sipp.out"))
	if err != nil {
		return 0, 0, samples, err
	}
	defer out.Close()
	cmd := exec.Command(s.sc.bin, args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = s.sc.dir, out, out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, samples, err
	}
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()

	stopAt := start.Add(max(c.duration, c.ramp))
	// Every call ends by itself: the scenario's pauses, the goodbye, its 30 s timeouts.
	killAt := stopAt.Add(s.sc.menu + s.sc.prompt + 2*time.Minute)
	progress := s.progress(start, pid, cmd.Process.Pid)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	stopped := c.duration == 0
	for n := 1; ; n++ {
		select {
		case <-exited:
		case now := <-tick.C:
			held := now.Sub(start) >= c.ramp && now.Before(stopAt)
			if held {
				samples.rtp = append(samples.rtp, s.callsUp(now))
			}
			if n%10 == 0 {
				st, _ := readSippStats(filepath.Join(s.sc.dir, "stats.csv"))
				if held && st != nil {
					samples.sipp = append(samples.sipp, st.count("CurrentCall"))
				}
				progress(now, st)
			}
			if !stopped && now.After(stopAt) {
				fmt.Printf("%4.0fs  -duration is over: sipp places no new calls (SIGUSR1), the calls up finish\n", now.Sub(start).Seconds())
				_ = cmd.Process.Signal(syscall.SIGUSR1)
				stopped = true
			}
			if now.After(killAt) {
				fmt.Println("sipp did not end: killed")
				_ = cmd.Process.Kill()
			}
			continue
		}
		break
	}
	var ee *exec.ExitError
	if waitErr != nil && !errors.As(waitErr, &ee) {
		return 0, 0, samples, waitErr
	}
	ps := cmd.ProcessState
	return ps.ExitCode(), ps.UserTime() + ps.SystemTime(), samples, nil
}

// sippSamples are the calls up after the ramp: by sipload's count, each second, and by
// sipp's (CurrentCall), each of its reports.
type sippSamples struct{ rtp, sipp []int64 }

// freeUDPPort is a UDP port free a moment ago.
func freeUDPPort(host string) (int, error) {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(host)})
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	return conn.LocalAddr().(*net.UDPAddr).Port, nil
}

// callsUp counts the calls whose RTP arrived within the last half second.
func (s *sippRun) callsUp(now time.Time) int64 {
	since := now.Add(-500 * time.Millisecond).UnixNano()
	var n int64
	for _, call := range s.calls {
		if call.last.Load() >= since {
			n++
		}
	}
	return n
}

// progress prints the progress of the run (every ten seconds): sipload's view of the
// media and sipp's counts from the latest report of its statistics (st).
func (s *sippRun) progress(start time.Time, pid, sippPid int) func(now time.Time, st sippStats) {
	lastCPU, lastPSI := loadstat.MachineCPU(), loadstat.CPUPressure()
	lastSrv, _ := loadstat.ProcCPU(pid)
	lastSipp, _ := loadstat.ProcCPU(sippPid)
	lastProcs := loadstat.Procs()
	return func(now time.Time, st sippStats) {
		win := s.spacingWin.Swap(new(hist))
		cpu := loadstat.MachineCPU()
		used := cpu.Sub(lastCPU)
		srv := ""
		if pid > 0 {
			v, _ := loadstat.ProcCPU(pid)
			srv = fmt.Sprintf("  server %.2f cores", (v-lastSrv).Seconds()/10)
			lastSrv = v
		}
		sp, _ := loadstat.ProcCPU(sippPid)
		psi := loadstat.CPUPressure()
		procs := loadstat.Procs()
		fmt.Printf("%4.0fs  calls up %4d  sipp (at its last 10 s report): created %d, up %d, successful %d, failed %d  last 10 s: spacing p50 %s p99 %s max %s  machine busy %.2f cores, steal %.2f%s  sipp %.2f cores  CPU pressure %.0f %%  load %s  others: %s\n",
			now.Sub(start).Seconds(), s.callsUp(now),
			st.count("TotalCallCreated"), st.count("CurrentCall"), st.count("SuccessfulCall(C)"), st.count("FailedCall(C)"),
			loadstat.Ms(win.pct(50)), loadstat.Ms(win.pct(99)), loadstat.Ms(time.Duration(win.maxNS.Load())),
			used.Busy.Seconds()/10, used.Steal.Seconds()/10, srv, (sp-lastSipp).Seconds()/10,
			100*(psi-lastPSI).Seconds()/10, loadstat.Loadavg(), loadstat.TopOthers(lastProcs, procs, pid, 10*time.Second))
		lastCPU, lastPSI, lastProcs, lastSipp = cpu, psi, procs, sp
	}
}

// sippStats is the last report in sipp's statistics file (-trace_stat), by column:
// "TotalCallCreated", "SuccessfulCall(C)", "FailedCall(C)", … ((C): cumulated over the
// run, (P): over the last period).
type sippStats map[string]string

// readSippStats reads the last report of sipp's statistics file.
func readSippStats(path string) (sippStats, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseSippStats(f)
}

// parseSippStats reads a statistics file: a header line of column names and a line of
// values every period, all separated by ';'. It returns the last line that has a value
// for every column.
func parseSippStats(r io.Reader) (sippStats, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var header, last []string
	for sc.Scan() {
		fields := strings.Split(strings.TrimRight(sc.Text(), "\r"), ";")
		if len(fields) > 0 && fields[len(fields)-1] == "" {
			fields = fields[:len(fields)-1] // each line ends with ';'
		}
		switch {
		case header == nil:
			header = fields
		case len(fields) >= len(header):
			last = fields
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if header == nil || last == nil {
		return nil, errors.New("sipp statistics: no report")
	}
	st := sippStats{}
	for i, name := range header {
		st[name] = last[i]
	}
	return st, nil
}

// count is a counter of the report; 0 when it has none of that name.
func (st sippStats) count(name string) int64 {
	n, _ := strconv.ParseInt(st[name], 10, 64)
	return n
}

// failures are the kinds of failed calls of the run with their counts ("FailedTimeoutOnRecv
// 2"), the columns "Failed…(C)" other than the sum FailedCall(C).
func (st sippStats) failures() []string {
	var out []string
	for name := range st {
		if strings.HasPrefix(name, "Failed") && strings.HasSuffix(name, "(C)") && name != "FailedCall(C)" {
			if n := st.count(name); n > 0 {
				out = append(out, fmt.Sprintf("%s %d", strings.TrimSuffix(name, "(C)"), n))
			}
		}
	}
	slices.Sort(out)
	return out
}

// sippEvent is a line of the scenario's log: the call's RTP port, what happened, when.
type sippEvent struct {
	port int
	what string
	at   time.Time
}

// parseSippLog reads the scenario's log (-trace_logs): "PORT WHAT DATE\tTIME\tEPOCH",
// as its <log message="[field1] WHAT [timestamp]"/> writes it, EPOCH in seconds with
// microseconds. skipped counts the lines that are not events.
func parseSippLog(r io.Reader) (events []sippEvent, skipped int, err error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		ev, ok := parseSippEvent(line)
		if !ok {
			skipped++
			continue
		}
		events = append(events, ev)
	}
	return events, skipped, sc.Err()
}

func parseSippEvent(line string) (sippEvent, bool) {
	parts := strings.Split(line, "\t")
	if len(parts) != 3 {
		return sippEvent{}, false
	}
	head := strings.Fields(parts[0]) // PORT WHAT… DATE
	if len(head) < 3 {
		return sippEvent{}, false
	}
	port, err := strconv.Atoi(head[0])
	if err != nil || port <= 0 || port > 65535 {
		return sippEvent{}, false
	}
	sec, frac, _ := strings.Cut(parts[2], ".")
	s, err := strconv.ParseInt(sec, 10, 64)
	if err != nil || s < 0 || len(frac) > 9 {
		return sippEvent{}, false
	}
	var ns int64
	if frac != "" {
		f, err := strconv.ParseUint(frac, 10, 32)
		if err != nil {
			return sippEvent{}, false
		}
		ns = int64(f) * int64(math.Pow10(9-len(frac)))
	}
	return sippEvent{port: port, what: strings.Join(head[1:len(head)-1], " "), at: time.Unix(s, ns)}, true
}

// readLog gives each call the events sipp logged for it.
func (s *sippRun) readLog(path string) (skipped int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	events, skipped, err := parseSippLog(f)
	byPort := map[int]*sippCall{}
	for _, call := range s.calls {
		byPort[call.port] = call
		call.events = map[string]time.Time{}
	}
	for _, ev := range events {
		if call := byPort[ev.port]; call != nil {
			call.events[ev.what] = ev.at
		} else {
			skipped++
		}
	}
	return skipped, err
}

// callCheck is what sipload makes of one call sipp placed.
type callCheck struct {
	failed   string        // why the call failed; "" when it did not
	greeting time.Duration // answered → first audible packet of the greeting
	key2     time.Duration // key 2 → first audible packet of the birth date prompt
	digit    time.Duration // last digit of the birth date → first audible packet of the goodbye
	menu     time.Duration // the greeting and menu, first to last audible packet
	goodbye  int           // speech frames after the last digit
	silence  time.Duration // the shorter of the silences before key 2 and before the first digit
}

// checkCall judges a call by the events sipp logged for it and the runs of audio the
// server sent: it must have been answered; the greeting and menu must have played and
// ended gap before key 2 (sipp's fixed pause was long enough), the birth date prompt
// must have started within replyWait after the key and ended gap before the first
// digit, the goodbye must have followed the last digit (the server acts on the eighth
// digit; the '#' after it comes while the goodbye plays) with at least a second of
// speech, and the server must have hung up.
func checkCall(ev map[string]time.Time, runs []audibleRun, gap, replyWait time.Duration) callCheck {
	var ch callCheck
	fail := func(format string, a ...any) callCheck {
		ch.failed = fmt.Sprintf(format, a...)
		return ch
	}
	answered, key2, birth, lastDigit := ev[evAnswered], ev[evKey2], ev[evBirth], ev[evLastDigit]
	switch {
	case answered.IsZero():
		return fail("not answered (see sipp's errors.log)")
	case key2.IsZero() || birth.IsZero() || lastDigit.IsZero() || ev[evHash].IsZero():
		return fail("sipp did not key the menu and the birth date (see sipp's errors.log)")
	}
	// first is the index of the first run that starts after t; len(runs) when none does.
	first := func(t time.Time) int {
		i, _ := slices.BinarySearchFunc(runs, t, func(r audibleRun, t time.Time) int { return r.start.Compare(t) })
		return i
	}
	g := first(answered)
	if g == len(runs) {
		return fail("no audio from the server")
	}
	ch.greeting = runs[g].start.Sub(answered)
	p := first(key2)
	if p == g {
		return fail("no greeting before key 2")
	}
	ch.menu = runs[p-1].end.Sub(runs[g].start)
	ch.silence = key2.Sub(runs[p-1].end)
	if ch.silence < gap {
		return fail("key 2 while the greeting and menu played (-sipp-menu too short)")
	}
	if p == len(runs) || runs[p].start.Sub(key2) > replyWait {
		return fail("no birth date prompt within %v of key 2", replyWait)
	}
	ch.key2 = runs[p].start.Sub(key2)
	d := first(birth)
	if d == p {
		return fail("no birth date prompt before the first digit")
	}
	q := birth.Sub(runs[d-1].end)
	if q < gap {
		return fail("birth date keyed while its prompt played (-sipp-prompt too short)")
	}
	ch.silence = min(ch.silence, q)
	b := first(lastDigit)
	if b == len(runs) || runs[b].start.Sub(lastDigit) > replyWait {
		return fail("no goodbye within %v of the last digit", replyWait)
	}
	ch.digit = runs[b].start.Sub(lastDigit)
	for _, r := range runs[b:] {
		ch.goodbye += r.speech
	}
	if ev[evHungUp].IsZero() {
		return fail("no BYE from the server (see sipp's errors.log)")
	}
	if ch.goodbye < 50 {
		return fail("goodbye too short: %d speech frames before the BYE", ch.goodbye)
	}
	return ch
}

// reportInput is what the report of a sipp run is made of.
type reportInput struct {
	exit             int
	stats            sippStats
	statsErr, logErr error
	skipped          int
	checks           []callCheck
	samples          sippSamples
	cpu              loadstat.Usage
	sippCPU          time.Duration
	load             string
	psi              time.Duration
	sv               *storeVerdict
}

// report prints the result of the run; false when it failed.
func (s *sippRun) report(in reportInput) bool {
	ok := true
	var failed int
	var errs loadstat.Errors
	var greeting, key2, digit, menus, silences []time.Duration
	for _, ch := range in.checks {
		if ch.failed != "" {
			failed++
			errs.Add(ch.failed)
			continue
		}
		greeting = append(greeting, ch.greeting)
		key2 = append(key2, ch.key2)
		digit = append(digit, ch.digit)
		menus = append(menus, ch.menu)
		silences = append(silences, ch.silence)
	}
	for _, v := range [][]time.Duration{greeting, key2, digit, menus, silences} {
		slices.Sort(v)
	}
	loadstat.PrintTitle("sipload (sipp callers)", reportWidth, in.cpu.Wall)
	fmt.Printf("%-*s%d at once, %d a second during the ramp\n", reportWidth, "calls wanted", s.c.n, int(math.Round(s.rate())))
	loadstat.PrintSamples("calls up (RTP)", reportWidth, in.samples.rtp)
	fmt.Printf("%-*s(a call is up while its RTP arrives; counted within the last 0.5 s)\n", reportWidth, "")
	if v := in.samples.sipp; len(v) > 0 {
		fmt.Printf("%-*smin %d, max %d (CurrentCall in its reports every 10 s after the ramp, %d reports)\n",
			reportWidth, "calls up (sipp)", slices.Min(v), slices.Max(v), len(v))
	}
	if in.statsErr != nil {
		fmt.Printf("sipp statistics           NONE: %v\n", in.statsErr)
		ok = false
	} else {
		fmt.Printf("%-*screated %d, successful %d, failed %d, retransmissions %d, unexpected messages out of calls %d; exit status %d\n",
			reportWidth, "sipp", in.stats.count("TotalCallCreated"), in.stats.count("SuccessfulCall(C)"), in.stats.count("FailedCall(C)"),
			in.stats.count("Retransmissions(C)"), in.stats.count("OutOfCallMsgs(C)")+in.stats.count("DeadCallMsgs(C)"), in.exit)
		if f := in.stats.failures(); len(f) > 0 {
			fmt.Printf("%-*s%s\n", reportWidth, "sipp failures", strings.Join(f, ", "))
		}
	}
	if in.logErr != nil {
		fmt.Printf("sipp log                  NONE: %v\n", in.logErr)
		ok = false
	} else if in.skipped > 0 {
		fmt.Printf("sipp log                  %d lines that are no call's event\n", in.skipped)
	}
	fmt.Printf("%-*s%d placed, %d completed (heard and checked by sipload), %d failed\n",
		reportWidth, "calls", len(in.checks), len(in.checks)-failed, failed)
	fmt.Printf("%-*sgreeting + menu p50 %.1f s; silence before a key min %s, p50 %s (the prompt had ended)\n",
		reportWidth, "prompts (completed)", loadstat.Pct(menus, 50).Seconds(), loadstat.Ms(loadstat.Pct(silences, 0)), loadstat.Ms(loadstat.Pct(silences, 50)))
	h := &s.spacing
	fmt.Printf("RTP packets received      %d (lost by sequence number %d)\n", s.packets.Load(), s.lost.Load())
	lag := &s.readLag
	fmt.Printf("%-*s%d of them by the kernel's arrival stamp (SO_TIMESTAMPNS), the others by sipload's read; stamp → read p50 %s  p99 %s  max %s (sipload's own lateness, not in the spacing)\n",
		reportWidth, "arrival times", s.stamped.Load(), loadstat.Ms(lag.pct(50)), loadstat.Ms(lag.pct(99)), loadstat.Ms(time.Duration(lag.maxNS.Load())))
	fmt.Printf("RTP spacing               p50 %s  p99 %s  p99.9 %s  max %s  (n=%d; %.2f %% within 15–25 ms, %.3f %% over 40 ms)\n",
		loadstat.Ms(h.pct(50)), loadstat.Ms(h.pct(99)), loadstat.Ms(h.pct(99.9)), loadstat.Ms(time.Duration(h.maxNS.Load())), h.n.Load(),
		100*h.share(15*time.Millisecond, 25*time.Millisecond), 100*(1-h.share(0, 40*time.Millisecond)))
	for _, x := range []struct {
		name string
		v    []time.Duration
	}{
		{"key 2 → first packet of the birth date prompt (key: sipp's log)", key2},
		{"last digit → first packet of the goodbye (key: sipp's log)", digit},
		{"answered → first packet of greeting (espeak-ng, not cached)", greeting},
	} {
		fmt.Printf("%-68s %s  (n=%d)\n", x.name, loadstat.Quantiles(x.v, 50, 95, 100), len(x.v))
	}
	cpu := in.cpu
	self := cpu.Self
	cpu.Self += in.sippCPU // the load generator is sipp and sipload
	cpu.PrintCPU(reportWidth, "espeak-ng")
	fmt.Printf("%-*ssipp %.1f s = %.2f cores, sipload %.1f s = %.2f cores\n", reportWidth, "  of which",
		in.sippCPU.Seconds(), cpu.Cores(in.sippCPU), self.Seconds(), cpu.Cores(self))
	fmt.Printf("CPU pressure              some task waited for a CPU %.0f %% of the run (/proc/pressure/cpu)\n", 100*in.psi.Seconds()/cpu.Wall.Seconds())
	fmt.Printf("load average at the end   %s\n", in.load)
	fmt.Printf("sipp's files              %s\n", s.sc.dir)

	complete := len(in.checks) - failed
	if sv := in.sv; sv == nil {
		fmt.Println("persisted: NOT CHECKED (give -data)")
	} else if sv.err != nil {
		fmt.Printf("persisted: NOT CHECKED: %v\n", sv.err)
		ok = false
	} else {
		fmt.Printf("persisted (store)         %d prescription requests by phone created during the run, %d of them from this run's numbers; completed calls %d: with exactly one request %d, without %d, with more than one %d; birth date wrong %d; failed calls that left a request %d\n",
			sv.total, sv.ours, complete, sv.one, sv.missing, sv.dups, sv.wrongBirth, sv.failedWith)
		for _, p := range sv.problems {
			fmt.Printf("  %s\n", p)
		}
		if sv.missing > 0 || sv.dups > 0 || sv.wrongBirth > 0 {
			ok = false
		}
	}
	errs.Print("failures:")
	if in.exit != 0 {
		fmt.Printf("FAIL: sipp's exit status %d (0: all calls successful)\n", in.exit)
		ok = false
	}
	if n := in.stats.count("FailedCall(C)"); failed > 0 || n > 0 || len(in.checks) == 0 {
		fmt.Printf("FAIL: %d calls failed (sipp: %d)\n", failed, n)
		ok = false
	}
	if p := h.pct(99); p < s.c.spacingLo || p > s.c.spacingHi {
		fmt.Printf("FAIL: RTP spacing p99 %s outside %s–%s\n", loadstat.Ms(p), loadstat.Ms(s.c.spacingLo), loadstat.Ms(s.c.spacingHi))
		ok = false
	}
	return loadstat.Verdict(ok)
}
