// Command widgetload holds many concurrent conversations with the online reception widget
// of a running Tresen server, over the widget's own WebSocket protocol, as browsers would,
// and measures how fast each message is answered and whether every message was stored
// exactly once.
//
//	go run ./bench/widgetload -url http://localhost:8080 -conversations 2000
//
// Each virtual patient opens /widget/ws?practice=ID with the server's own origin (the
// origin the demo practice's widget is shown on), consents and writes a script of a
// typical request at the pace of a person typing: a few seconds to read the reply and
// think, then the message at a typing speed, or a click on a quick reply. Every message
// carries its own id; the latency is from sending it to the reply under that id. With
// -duration a patient starts a new conversation (a new connection, as a new visitor of
// the website) when one ends, until the time is up, so that the number of open
// conversations stays at -conversations.
//
// Client addresses: the widget limits messages and new conversations per client address
// (a practice's waiting room shares one; real patients come from many). On loopback each
// virtual patient therefore connects from an address of its own in 127.0.0.0/8 (Linux
// routes all of it to lo), so that the limits per address are not what is measured.
// -spread=false connects all from the system's choice of address.
//
// Afterwards every conversation is checked against what the server stored, through the
// public protocol: the patient resumes it with its token and counts its own turns in the
// history the server reads back from the store. With -data (the server's --data
// directory, SQLite) the transcript records are also read straight from the store, with
// the server's master key and pepper found as `tresen serve` finds them.
//
// The exit status is 1 when a message was lost or duplicated, a conversation failed, or
// the p99 of the reply latency exceeds -p99.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/tresen/tresen/bench/internal/loadstat"
	"github.com/tresen/tresen/bench/internal/loadstore"
)

// In and Out mirror the widget's protocol (internal/widget/protocol.go); they are
// copied rather than imported so that the benchmark speaks the protocol as a browser
// does, from outside.
type In struct {
	Type         string `json:"type"`
	ID           string `json:"id,omitempty"`
	Text         string `json:"text,omitempty"`
	Conversation string `json:"conversation,omitempty"`
	Token        string `json:"token,omitempty"`
}

type Out struct {
	Type         string   `json:"type"`
	ID           string   `json:"id,omitempty"`
	Conversation string   `json:"conversation,omitempty"`
	Token        string   `json:"token,omitempty"`
	Text         string   `json:"text,omitempty"`
	Choices      []string `json:"choices,omitempty"`
	Done         bool     `json:"done,omitempty"`
	Items        []string `json:"items,omitempty"`
	History      []Entry  `json:"history,omitempty"`
	Message      string   `json:"message,omitempty"`
}

type Entry struct {
	Who  string `json:"who"`
	Text string `json:"text"`
	ID   string `json:"id,omitempty"`
}

// script is one request as a patient writes it, and what its summary names.
type script struct {
	name  string
	lines []string
	want  string // in the summary
}

// scripts are typical requests, in the wording of internal/dialogue's tests; a patient
// takes them in turn. Each ends with the assistant's "anything else?" answered "no".
var scripts = []script{
	{"Folgerezept", []string{
		"Ich brauche ein Folgerezept für Ramipril 5 mg",
		"Erika Mustermann, geboren am 12.03.1984",
		"gesetzlich",
		"ja",
		"nein danke",
	}, "Folgerezept"},
	{"Überweisung", []string{
		"Hallo, ich bräuchte eine Überweisung zum Orthopäden",
		"Max Mustermann, geb. 02.01.1990",
		"privat",
		"ja",
		"nein, das war alles",
	}, "Überweisung"},
	{"Krankschreibung", []string{
		"Guten Tag, ich brauche eine Krankschreibung seit gestern",
		"Anna Müller, 12.3.1984",
		"Techniker Krankenkasse",
		"ja",
		"nein danke, tschüss",
	}, "Krankschreibung"},
	{"Befund", []string{
		"sind meine Blutwerte schon da?",
		"Anna Müller, geboren am 12.03.1984",
		"ja",
		"nein danke",
	}, "Befund"},
}

type config struct {
	base, practice, origin string
	n                      int
	ramp, duration, think  time.Duration
	cps                    float64
	timeout                time.Duration
	spread, loopback       bool
	p99                    time.Duration
	verbose                bool
}

func main() {
	var c config
	var baseURL string
	var st loadstore.Flags
	var pid int
	flag.StringVar(&baseURL, "url", "http://localhost:8080", "the server")
	flag.StringVar(&c.practice, "practice", "", "practice id (default: read from /demo/practice-website)")
	flag.IntVar(&c.n, "conversations", 2000, "concurrent conversations (virtual patients)")
	flag.DurationVar(&c.ramp, "ramp", 60*time.Second, "time over which the patients arrive")
	flag.DurationVar(&c.duration, "duration", 3*time.Minute, "run time; patients start new conversations until it is up (0: one conversation each)")
	flag.DurationVar(&c.think, "think", 2*time.Second, "mean time to read a reply before writing (jittered ±50 %)")
	flag.Float64Var(&c.cps, "cps", 6, "typing speed in characters per second (jittered ±50 %); quick replies are clicked; 0: no typing time")
	flag.DurationVar(&c.timeout, "timeout", 30*time.Second, "how long to wait for a reply before a message counts as unanswered")
	flag.BoolVar(&c.spread, "spread", true, "on loopback: one client address in 127.0.0.0/8 per patient")
	flag.DurationVar(&c.p99, "p99", 150*time.Millisecond, "fail when the p99 reply latency exceeds this")
	flag.BoolVar(&c.verbose, "v", false, "print the first conversation and every error")
	st.Register(flag.CommandLine, "the server's --data directory (SQLite): also count the stored turns in the store")
	flag.IntVar(&pid, "pid", 0, "the server's process id: report its CPU time")
	flag.Parse()

	u, err := url.Parse(strings.TrimSuffix(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		fatalf("-url: want http(s)://host:port")
	}
	c.base, c.origin = u.String(), u.Scheme+"://"+u.Host
	c.loopback = isLoopback(u.Hostname())
	if c.practice == "" {
		if c.practice, err = demoPractice(c.base); err != nil {
			fatalf("practice: %v (give -practice)", err)
		}
	}
	fmt.Printf("widgetload: %d concurrent conversations against %s, practice %s, origin %s\n", c.n, c.base, c.practice, c.origin)
	switch {
	case c.spread && c.loopback:
		fmt.Println("client addresses: one per patient in 127.0.0.0/8, so the widget's per-address limits are not what is measured")
	case c.spread:
		fmt.Println("client addresses: the server is not on loopback; all patients share this machine's address (per-address limits apply)")
		c.spread = false
	default:
		fmt.Println("client addresses: all patients share one address (per-address limits apply)")
	}
	fmt.Printf("pace: think %v ±50 %%, typing %.0f chars/s ±50 %% (quick replies clicked), ramp %v, duration %v; GOMAXPROCS %d, %d CPUs\n",
		c.think, c.cps, c.ramp, c.duration, runtime.GOMAXPROCS(0), runtime.NumCPU())

	r := newRun(c)
	before := loadstat.Take(pid)
	start := before.At
	r.run()
	cpu := loadstat.Take(pid).Since(before)

	fmt.Printf("\nverifying %d conversations by resuming them (the history the server reads from its store)\n", len(r.convs))
	v := r.verifyResume()
	var sv *verdict
	if st.Data != "" {
		fmt.Printf("reading the transcripts in the store at %s\n", st.Data)
		sv, err = r.verifyStore(st, start)
		if err != nil {
			fmt.Fprintf(os.Stderr, "store: %v\n", err)
		}
	}
	ok := r.report(cpu, v, sv)
	if !ok {
		os.Exit(1)
	}
}

func fatalf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "widgetload: "+format+"\n", a...)
	os.Exit(2)
}

var practiceRE = regexp.MustCompile(`data-practice="([^"]+)"`)

// demoPractice reads the demo practice's id from the script tag of its website.
func demoPractice(base string) (string, error) {
	resp, err := http.Get(base + "/demo/practice-website")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("/demo/practice-website: %s (is the server run with --demo?)", resp.Status)
	}
	m := practiceRE.FindSubmatch(b)
	if m == nil {
		return "", errors.New("no data-practice on /demo/practice-website")
	}
	return string(m[1]), nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// addrKey carries a patient's source address to the dialer.
type addrKey struct{}

// patientAddr is patient i's own loopback address, 127.10.0.1 onwards.
func patientAddr(i int) *net.TCPAddr {
	i++
	return &net.TCPAddr{IP: net.IPv4(127, 10+byte(i>>16), byte(i>>8), byte(i))}
}

// conv is one conversation as the patient knows it.
type conv struct {
	patient   int
	id, token string
	script    string
	sent      []string // the texts, in the order sent (each once; a resend is not counted)
	acked     int
	replied   int
	summary   []string
	complete  bool // summary received and it names the request
	failed    string
	messages  map[string]*msg
	started   time.Time
}

type msg struct {
	text      string
	sentAt    time.Time
	acks      int
	replies   int
	replyText string
}

type run struct {
	c      config
	client *http.Client

	mu         sync.Mutex
	convs      []*conv
	latencies  []time.Duration // say → reply
	consentLat []time.Duration // consent → greeting
	errors     loadstat.Errors // error messages and failures, by text
	shown      bool

	open, active                              atomic.Int64 // open sockets, conversations between consent and summary
	sent, acked, replied, dupAcks, dupReplies atomic.Int64
	rejected                                  atomic.Int64 // refused by the server three times (each with an error), given up
	samples                                   []int64      // active conversations, each second after the ramp
	slow                                      map[int]int  // replies slower than -p99, by ten seconds of the run
	start                                     time.Time
	stopAt                                    time.Time
}

func newRun(c config) *run {
	d := &net.Dialer{Timeout: 10 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if a, ok := ctx.Value(addrKey{}).(*net.TCPAddr); ok {
				d := *d
				d.LocalAddr = a
				return d.DialContext(ctx, network, addr)
			}
			return d.DialContext(ctx, network, addr)
		},
		MaxIdleConnsPerHost: 64,
	}
	r := &run{c: c, client: &http.Client{Transport: tr}, slow: map[int]int{}}
	r.errors.Verbose = c.verbose
	return r
}

// run starts the patients over the ramp and waits for all to finish.
func (r *run) run() {
	start := time.Now()
	r.start = start
	r.stopAt = start.Add(max(r.c.duration, r.c.ramp))
	r.samples = loadstat.Ramp{Start: start, N: r.c.n, Over: r.c.ramp, Stop: r.stopAt,
		Worker: r.patient, Active: r.active.Load, Progress: r.progress(start)}.Run()
}

// progress prints the progress of the run (every ten seconds).
func (r *run) progress(start time.Time) func(now time.Time) {
	var lastSent int64
	var lastN int
	lastCPU := loadstat.MachineCPU()
	return func(now time.Time) {
		r.mu.Lock()
		recent := slices.Clone(r.latencies[lastN:])
		lastN = len(r.latencies)
		r.mu.Unlock()
		slices.Sort(recent)
		s := r.sent.Load()
		cpu := loadstat.MachineCPU()
		used := cpu.Sub(lastCPU)
		fmt.Printf("%4.0fs  sockets %5d  conversations %5d  sent %7d (%5.1f/s)  last 10 s: p50 %6s p99 %6s max %6s  machine busy %.2f cores, steal %.2f\n",
			now.Sub(start).Seconds(), r.open.Load(), r.active.Load(), s, float64(s-lastSent)/10,
			loadstat.Ms(loadstat.Pct(recent, 50)), loadstat.Ms(loadstat.Pct(recent, 99)), loadstat.Ms(loadstat.Pct(recent, 100)),
			used.Busy.Seconds()/10, used.Steal.Seconds()/10)
		lastSent, lastCPU = s, cpu
	}
}

// patient holds conversations one after another until the run is over (one, without
// -duration).
func (r *run) patient(i int) {
	rng := rand.New(rand.NewPCG(uint64(i), 7))
	for k := 0; ; k++ {
		s := scripts[(i+k)%len(scripts)]
		ok := r.conversation(i, k, s, rng)
		if r.c.duration == 0 || time.Now().After(r.stopAt) {
			return
		}
		// The next visitor comes at once, so that -conversations stay open; after a
		// failure, after a pause.
		if !ok {
			time.Sleep(max(time.Second, jitter(rng, r.c.think)))
		}
	}
}

func jitter(rng *rand.Rand, d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return d/2 + time.Duration(rng.Int64N(int64(d)))
}

// delay is the time a patient takes before sending text after the reply that offered
// choices: reading and thinking, then typing, or clicking a quick reply.
func (r *run) delay(rng *rand.Rand, text string, choices []string) time.Duration {
	d := jitter(rng, r.c.think)
	if r.c.cps > 0 && !slices.Contains(choices, text) {
		typing := time.Duration(float64(len([]rune(text))) / r.c.cps * float64(time.Second))
		d += jitter(rng, typing)
	}
	return d
}

func (r *run) dial(ctx context.Context, patient int) (*websocket.Conn, error) {
	if r.c.spread {
		ctx = context.WithValue(ctx, addrKey{}, patientAddr(patient))
	}
	u := strings.Replace(r.c.base, "http", "ws", 1) + "/widget/ws?practice=" + url.QueryEscape(r.c.practice)
	h := http.Header{}
	h.Set("Origin", r.c.origin)
	c, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPClient: r.client, HTTPHeader: h})
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("dial: %s", resp.Status)
		}
		return nil, fmt.Errorf("dial: %v", shortErr(err))
	}
	c.SetReadLimit(1 << 20)
	return c, nil
}

// shortErr drops the per-connection details (addresses, ports) from an error so that
// errors group by cause.
func shortErr(err error) string {
	s := err.Error()
	s = regexp.MustCompile(`\d+\.\d+\.\d+\.\d+:\d+`).ReplaceAllString(s, "ADDR")
	return s
}

// conversation holds one conversation: consent, the script, the summary; false when it
// failed.
func (r *run) conversation(patient, k int, s script, rng *rand.Rand) bool {
	cv := &conv{patient: patient, script: s.name, messages: map[string]*msg{}, started: time.Now()}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, err := r.dial(ctx, patient)
	if err != nil {
		r.errors.Add(err.Error())
		return false
	}
	r.open.Add(1)
	defer r.open.Add(-1)
	defer c.CloseNow()

	// The reader hands every message to the conversation; waiters wait on events.
	events := make(chan Out, 16)
	readErr := make(chan error, 1)
	go func() {
		for {
			var o Out
			if err := wsjson.Read(ctx, c, &o); err != nil {
				readErr <- err
				close(events)
				return
			}
			now := time.Now()
			switch o.Type {
			case "ack", "reply":
				r.mu.Lock()
				m := cv.messages[o.ID]
				if m != nil {
					if o.Type == "ack" {
						m.acks++
						if m.acks == 1 {
							cv.acked++
							r.acked.Add(1)
						} else {
							r.dupAcks.Add(1)
						}
					} else {
						m.replies++
						if m.replies == 1 {
							cv.replied++
							r.replied.Add(1)
							l := now.Sub(m.sentAt)
							r.latencies = append(r.latencies, l)
							if l > r.c.p99 {
								r.slow[int(now.Sub(r.start)/(10*time.Second))]++
							}
							m.replyText = o.Text
						} else {
							r.dupReplies.Add(1)
						}
					}
				}
				r.mu.Unlock()
			}
			select {
			case events <- o:
			case <-ctx.Done():
				return
			}
		}
	}()
	wait := func(match func(Out) bool) (Out, error) {
		t := time.NewTimer(r.c.timeout)
		defer t.Stop()
		for {
			select {
			case o, ok := <-events:
				if !ok {
					return Out{}, fmt.Errorf("connection closed: %v", shortErr(<-readErr))
				}
				if o.Type == "error" {
					r.errors.Add("error from server: " + o.Message)
					if o.ID == "" {
						// refused without a message id: the consent or the connection
						return Out{}, errors.New("refused")
					}
					if match(Out{Type: "reply", ID: o.ID}) {
						return o, nil
					}
					continue
				}
				if match(o) {
					return o, nil
				}
			case <-t.C:
				return Out{}, errors.New("no answer within " + r.c.timeout.String())
			}
		}
	}
	send := func(in In) error {
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		return wsjson.Write(wctx, c, in)
	}
	finish := func(why string) {
		cv.failed = why
		r.errors.Add(why)
		r.mu.Lock()
		r.convs = append(r.convs, cv)
		r.mu.Unlock()
	}

	// consent
	t0 := time.Now()
	if err := send(In{Type: "consent"}); err != nil {
		r.errors.Add("consent: " + shortErr(err))
		return false
	}
	started, err := wait(func(o Out) bool { return o.Type == "started" })
	if err != nil {
		r.errors.Add("consent: " + err.Error())
		return false
	}
	greeting, err := wait(func(o Out) bool { return o.Type == "reply" && o.ID == "" })
	if err != nil {
		r.errors.Add("greeting: " + err.Error())
		return false
	}
	r.mu.Lock()
	r.consentLat = append(r.consentLat, time.Since(t0))
	r.mu.Unlock()
	cv.id, cv.token = started.Conversation, started.Token
	r.active.Add(1)
	defer r.active.Add(-1)
	verbose := false
	if r.c.verbose {
		r.mu.Lock()
		verbose, r.shown = !r.shown, true
		r.mu.Unlock()
	}
	if verbose {
		fmt.Printf("  assistant: %s %v\n", greeting.Text, greeting.Choices)
	}

	choices := greeting.Choices
	done := false
	for j, text := range s.lines {
		time.Sleep(r.delay(rng, text, choices))
		id := fmt.Sprintf("p%d-c%d-m%d", patient, k, j)
		var reply Out
		for attempt := 0; ; attempt++ {
			r.mu.Lock()
			m := cv.messages[id]
			if m == nil {
				m = &msg{text: text}
				cv.messages[id] = m
				cv.sent = append(cv.sent, text)
				r.sent.Add(1)
			}
			m.sentAt = time.Now()
			r.mu.Unlock()
			if err := send(In{Type: "say", ID: id, Text: text}); err != nil {
				finish("say: " + shortErr(err))
				return false
			}
			reply, err = wait(func(o Out) bool { return o.Type == "reply" && o.ID == id })
			if err != nil {
				finish("say: " + err.Error())
				return false
			}
			if reply.Type != "error" {
				break
			}
			// The widget shows the error; the patient sends the message again (same id).
			if attempt == 2 {
				// Refused three times: the server said it did not take the message, so it
				// is rejected, not lost, and must not be stored.
				r.mu.Lock()
				cv.sent = cv.sent[:len(cv.sent)-1]
				delete(cv.messages, id)
				r.mu.Unlock()
				r.rejected.Add(1)
				finish("say: given up after 3 errors")
				return false
			}
			time.Sleep(3 * time.Second)
		}
		if verbose {
			fmt.Printf("  patient:   %s\n  assistant: %s %v\n", text, reply.Text, reply.Choices)
		}
		choices = reply.Choices
		if reply.Done {
			done = true
			break
		}
	}
	if !done {
		if err := send(In{Type: "end"}); err != nil {
			finish("end: " + shortErr(err))
			return false
		}
	}
	sum, err := wait(func(o Out) bool { return o.Type == "summary" })
	if err != nil {
		finish("summary: " + err.Error())
		return false
	}
	if verbose {
		fmt.Printf("  summary:   %q\n", sum.Items)
	}
	cv.summary = sum.Items
	for _, it := range sum.Items {
		if strings.Contains(it, s.want) {
			cv.complete = true
		}
	}
	if !cv.complete {
		r.errors.Add(fmt.Sprintf("script %s: summary without %q: %q", s.name, s.want, sum.Items))
	}
	if !done {
		r.errors.Add(fmt.Sprintf("script %s: the assistant did not end the conversation", s.name))
	}
	c.Close(websocket.StatusNormalClosure, "")
	r.mu.Lock()
	r.convs = append(r.convs, cv)
	r.mu.Unlock()
	return cv.complete
}

// verdict compares the turns a patient sent with the turns stored.
type verdict struct {
	source                      string
	checked, unreadable         int
	sent, persisted, lost, dups int
	firstProblems               []string
}

// compare counts the texts sent that were stored, in order (lost: not stored), and the
// stored turns beyond them (duplicated).
func (v *verdict) compare(cv *conv, stored []string) {
	v.checked++
	v.sent += len(cv.sent)
	v.persisted += len(stored)
	j, matched := 0, 0
	for _, s := range stored {
		if j < len(cv.sent) && s == cv.sent[j] {
			j++
			matched++
		}
	}
	lost, dups := len(cv.sent)-matched, len(stored)-matched
	v.lost += lost
	v.dups += dups
	if (lost > 0 || dups > 0) && len(v.firstProblems) < 5 {
		v.firstProblems = append(v.firstProblems, fmt.Sprintf("%s: sent %q, stored %q", cv.id, cv.sent, stored))
	}
}

// verifyResume resumes every conversation and compares its history with what was sent.
func (r *run) verifyResume() *verdict {
	v := &verdict{source: "resume (public protocol)"}
	var mu sync.Mutex
	work := make(chan *conv)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for cv := range work {
				stored, err := r.history(cv)
				mu.Lock()
				if err != nil {
					v.unreadable++
					if len(v.firstProblems) < 5 {
						v.firstProblems = append(v.firstProblems, fmt.Sprintf("%s: %v", cv.id, err))
					}
				} else {
					v.compare(cv, stored)
				}
				mu.Unlock()
			}
		})
	}
	probed := false
	for _, cv := range r.convs {
		if cv.id == "" {
			continue
		}
		if !probed {
			// A server before the history message (resume answered with "resumed" only)
			// cannot be checked this way.
			stored, err := r.history(cv)
			if errors.Is(err, errNoHistory) {
				close(work)
				wg.Wait()
				fmt.Println("the server sends no history on resume: the persistence check needs -data")
				return nil
			}
			probed = true
			mu.Lock()
			if err != nil {
				v.unreadable++
				v.firstProblems = append(v.firstProblems, fmt.Sprintf("%s: %v", cv.id, err))
			} else {
				v.compare(cv, stored)
			}
			mu.Unlock()
			continue
		}
		work <- cv
	}
	close(work)
	wg.Wait()
	return v
}

var errNoHistory = errors.New("no history after resumed")

// history resumes a conversation and returns the patient's turns in it.
func (r *run) history(cv *conv) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), r.c.timeout)
	defer cancel()
	var c *websocket.Conn
	var err error
	for attempt := 0; ; attempt++ {
		if c, err = r.dial(ctx, cv.patient); err == nil || attempt == 3 {
			break
		}
		time.Sleep(time.Second)
	}
	if err != nil {
		return nil, err
	}
	defer c.CloseNow()
	if err := wsjson.Write(ctx, c, In{Type: "resume", Conversation: cv.id, Token: cv.token}); err != nil {
		return nil, err
	}
	resumed := false
	for {
		var o Out
		rctx, cancel := ctx, context.CancelFunc(func() {})
		if resumed {
			rctx, cancel = context.WithTimeout(ctx, 5*time.Second)
		}
		err := wsjson.Read(rctx, c, &o)
		cancel()
		if err != nil {
			if resumed && ctx.Err() == nil {
				return nil, errNoHistory
			}
			return nil, err
		}
		switch o.Type {
		case "resumed":
			resumed = true
		case "error":
			return nil, errors.New(o.Message)
		case "history":
			var out []string
			for _, e := range o.History {
				if e.Who == "patient" {
					out = append(out, e.Text)
				}
			}
			c.Close(websocket.StatusNormalClosure, "")
			return out, nil
		}
	}
}

func (r *run) report(cpu loadstat.Usage, v, sv *verdict) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	lat := slices.Clone(r.latencies)
	slices.Sort(lat)
	cons := slices.Clone(r.consentLat)
	slices.Sort(cons)
	complete, failed := 0, 0
	perScript := map[string]int{}
	for _, cv := range r.convs {
		if cv.complete {
			complete++
			perScript[cv.script]++
		}
		if cv.failed != "" {
			failed++
		}
	}
	wall := cpu.Wall
	loadstat.PrintTitle("widgetload", reportWidth, wall)
	fmt.Printf("patients                 %d (concurrent conversations wanted)\n", r.c.n)
	loadstat.PrintSamples("open conversations", reportWidth, r.samples)
	fmt.Printf("conversations            %d started, %d complete (%s), %d failed\n", len(r.convs)+0, complete, scriptCounts(perScript), failed)
	fmt.Printf("messages sent            %d (%.1f/s)\n", r.sent.Load(), float64(r.sent.Load())/wall.Seconds())
	fmt.Printf("messages acked           %d (duplicate acks %d)\n", r.acked.Load(), r.dupAcks.Load())
	fmt.Printf("messages replied         %d (duplicate replies %d)\n", r.replied.Load(), r.dupReplies.Load())
	fmt.Printf("reply latency            %s  (n=%d)\n", loadstat.Quantiles(lat, 50, 95, 99, 100), len(lat))
	fmt.Printf("consent → greeting       %s  (n=%d)\n", loadstat.Quantiles(cons, 50, 95, 99, 100), len(cons))
	cpu.PrintCPU(reportWidth, "")
	ok := true
	unacked := r.sent.Load() - r.acked.Load() - r.rejected.Load()
	fmt.Printf("by acks (client side)    lost (sent, never acked nor refused) %d, refused %d, duplicated acks %d\n",
		unacked, r.rejected.Load(), r.dupAcks.Load())
	if unacked > 0 || r.dupAcks.Load() > 0 || r.dupReplies.Load() > 0 {
		ok = false
	}
	if v == nil && sv == nil {
		fmt.Println("persisted: NOT CHECKED against the store (give -data, or a server that sends the history on resume); an ack is the server's word that it stored the message")
	}
	for _, x := range []*verdict{v, sv} {
		if x == nil {
			continue
		}
		fmt.Printf("persisted (%s): %d conversations checked, %d unreadable; sent %d, persisted %d, lost %d, duplicated %d\n",
			x.source, x.checked, x.unreadable, x.sent, x.persisted, x.lost, x.dups)
		for _, p := range x.firstProblems {
			fmt.Printf("  %s\n", p)
		}
		if x.lost > 0 || x.dups > 0 || x.unreadable > 0 {
			ok = false
		}
	}
	if len(r.slow) > 0 {
		fmt.Printf("replies slower than %s, by time of the run:", loadstat.Ms(r.c.p99))
		var tens []int
		for t := range r.slow {
			tens = append(tens, t)
		}
		slices.Sort(tens)
		for _, t := range tens {
			fmt.Printf(" %d–%ds: %d;", t*10, t*10+10, r.slow[t])
		}
		fmt.Println()
	}
	r.errors.Print("errors:")
	if failed > 0 || complete < len(r.convs) || len(r.convs) < r.c.n {
		ok = false
	}
	p99 := loadstat.Pct(lat, 99)
	if p99 > r.c.p99 {
		fmt.Printf("FAIL: p99 %s > %s\n", loadstat.Ms(p99), loadstat.Ms(r.c.p99))
		ok = false
	}
	return loadstat.Verdict(ok)
}

func scriptCounts(m map[string]int) string {
	var parts []string
	for _, s := range scripts {
		parts = append(parts, fmt.Sprintf("%s %d", s.name, m[s.name]))
	}
	return strings.Join(parts, ", ")
}

// reportWidth is the width of the labels in the result.
const reportWidth = 25
