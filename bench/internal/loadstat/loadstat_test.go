package loadstat

import (
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestPct(t *testing.T) {
	ms := func(n ...int) []time.Duration {
		var out []time.Duration
		for _, x := range n {
			out = append(out, time.Duration(x)*time.Millisecond)
		}
		return out
	}
	if got := Pct(nil, 50); got != 0 {
		t.Errorf("Pct(nil) = %v, want 0", got)
	}
	s := ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{
		{0, time.Millisecond}, {10, time.Millisecond}, {11, 2 * time.Millisecond}, {50, 5 * time.Millisecond},
		{95, 10 * time.Millisecond}, {99, 10 * time.Millisecond}, {100, 10 * time.Millisecond},
	} {
		if got := Pct(s, c.p); got != c.want {
			t.Errorf("Pct(1..10 ms, %v) = %v, want %v", c.p, got, c.want)
		}
	}
	if got := Pct(ms(7), 99.9); got != 7*time.Millisecond {
		t.Errorf("Pct(one, 99.9) = %v", got)
	}
	if got, want := Quantiles(s, 50, 99.9, 100), "p50 5.0ms  p99.9 10.0ms  max 10.0ms"; got != want {
		t.Errorf("Quantiles = %q, want %q", got, want)
	}
	if got, want := Ms(1234567*time.Nanosecond), "1.2ms"; got != want {
		t.Errorf("Ms = %q, want %q", got, want)
	}
}

func TestUsage(t *testing.T) {
	t0 := time.Unix(100, 0)
	before := Sample{At: t0, Self: time.Second, Machine: CPUTimes{Busy: 10 * time.Second, Steal: time.Second}, Server: 2 * time.Second}
	after := Sample{At: t0.Add(10 * time.Second), Self: 3 * time.Second, Machine: CPUTimes{Busy: 30 * time.Second, Steal: 2 * time.Second}, Server: 7 * time.Second, Children: time.Second}
	u := after.Since(before)
	want := Usage{Wall: 10 * time.Second, Self: 2 * time.Second, Machine: CPUTimes{Busy: 20 * time.Second, Steal: time.Second}, Server: 5 * time.Second, Children: time.Second}
	if u != want {
		t.Fatalf("Since = %+v, want %+v", u, want)
	}
	if c := u.Cores(u.Machine.Busy); c != 2 {
		t.Errorf("Cores = %v, want 2", c)
	}
}

func TestProc(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	if own, _ := ProcCPU(0); own != 0 {
		t.Errorf("ProcCPU(0) = %v", own)
	}
	deadline := time.Now().Add(100 * time.Millisecond)
	for time.Now().Before(deadline) { // spend some CPU time
	}
	if own, _ := ProcCPU(os.Getpid()); own <= 0 {
		t.Errorf("ProcCPU(self) = %v, want > 0", own)
	}
	if p, ok := Procs()[os.Getpid()]; !ok || p.Comm == "" || p.CPU <= 0 {
		t.Errorf("Procs()[self] = %+v, %v", p, ok)
	}
	if m := MachineCPU(); m.Busy <= 0 {
		t.Errorf("MachineCPU = %+v", m)
	}
}

func TestTopOthers(t *testing.T) {
	self := os.Getpid()
	before := map[int]Proc{1: {"a", time.Second}, 2: {"b", time.Second}, 3: {"old", 9 * time.Second}}
	after := map[int]Proc{
		1:    {"a", 6 * time.Second}, // 0.5 cores
		2:    {"b", 1010 * time.Millisecond},
		3:    {"new", 2 * time.Second}, // pid reused: all of its time
		4:    {"a", time.Second},       // summed with pid 1
		9:    {"server", 50 * time.Second},
		self: {"me", 50 * time.Second},
	}
	if got, want := TopOthers(before, after, 9, 10*time.Second), "a 0.60, new 0.20"; got != want {
		t.Errorf("TopOthers = %q, want %q", got, want)
	}
	if got := TopOthers(after, after, 9, 10*time.Second); got != "-" {
		t.Errorf("TopOthers without change = %q, want -", got)
	}
}

func TestRamp(t *testing.T) {
	var active atomic.Int64
	var started []int
	done := make(chan int, 4)
	start := time.Now()
	samples := Ramp{Start: start, N: 4, Over: 40 * time.Millisecond, Stop: start.Add(time.Hour),
		Worker: func(i int) {
			active.Add(1)
			done <- i
			time.Sleep(1500 * time.Millisecond) // past the first sample
			active.Add(-1)
		},
		Active: active.Load}.Run()
	close(done)
	for i := range done {
		started = append(started, i)
	}
	slices.Sort(started)
	if !slices.Equal(started, []int{0, 1, 2, 3}) {
		t.Errorf("workers started: %v", started)
	}
	if el := time.Since(start); el < 1500*time.Millisecond {
		t.Errorf("Run returned after %v, before its workers", el)
	}
	if len(samples) != 1 || samples[0] != 4 {
		t.Errorf("samples = %v, want [4]", samples)
	}
}

func TestErrors(t *testing.T) {
	var e Errors
	for _, s := range []string{"b", "a", "b"} {
		e.Add(s)
	}
	if e.counts["b"] != 2 || e.counts["a"] != 1 {
		t.Errorf("counts = %v", e.counts)
	}
}

// result is a tool's result of a call with a field of its own, as sipload's.
type result struct {
	*Call
	keyed bool
}

func TestCalls(t *testing.T) {
	cs := Calls[*result]{NumberPrefix: "+49170", NumberBase: 40000}
	a := &result{Call: cs.Begin(1, 0)}
	b := &result{Call: cs.Begin(2, 3), keyed: true}
	if a.Number != "+491700040001" || b.Number != "+491700040002" {
		t.Errorf("numbers %q, %q", a.Number, b.Number)
	}
	if b.Caller != 2 || b.K != 3 || b.Started.IsZero() {
		t.Errorf("Begin = %+v", *b.Call)
	}
	if cs.Started.Load() != 2 || cs.Completed.Load() != 0 || cs.Failed.Load() != 0 {
		t.Errorf("after Begin: started %d, completed %d, failed %d", cs.Started.Load(), cs.Completed.Load(), cs.Failed.Load())
	}
	if !cs.Finish(a, "") {
		t.Error("Finish without a reason = false")
	}
	if cs.Finish(b, "no BYE") {
		t.Error("Finish with a reason = true")
	}
	if !a.Complete || a.Failed != "" || a.Duration <= 0 {
		t.Errorf("completed call: %+v", *a.Call)
	}
	if b.Complete || b.Failed != "no BYE" {
		t.Errorf("failed call: %+v", *b.Call)
	}
	if cs.Started.Load() != 2 || cs.Completed.Load() != 1 || cs.Failed.Load() != 1 {
		t.Errorf("after Finish: started %d, completed %d, failed %d", cs.Started.Load(), cs.Completed.Load(), cs.Failed.Load())
	}
	if got := cs.Errors.counts; len(got) != 1 || got["no BYE"] != 1 {
		t.Errorf("errors = %v", got)
	}
	if got := cs.Results(); len(got) != 2 || !slices.Contains(got, a) || !slices.Contains(got, b) || !got[slices.Index(got, b)].keyed {
		t.Errorf("Results = %v", got)
	}
}

func TestCallsConcurrent(t *testing.T) {
	cs := Calls[*Call]{NumberPrefix: "+49171", Verbose: true}
	const n = 50
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			c := cs.Begin(i, 0)
			why := ""
			if i%5 == 0 {
				why = "failed"
			}
			cs.Finish(c, why)
		})
	}
	wg.Wait()
	if cs.Started.Load() != n || cs.Completed.Load() != n-n/5 || cs.Failed.Load() != n/5 {
		t.Errorf("started %d, completed %d, failed %d", cs.Started.Load(), cs.Completed.Load(), cs.Failed.Load())
	}
	numbers := map[string]bool{}
	var callers []int
	shown := 0
	for _, c := range cs.Results() {
		numbers[c.Number] = true
		callers = append(callers, c.Caller)
		if c.verbose {
			shown++
		}
		if c.Complete != (c.Caller%5 != 0) {
			t.Errorf("call of caller %d: complete %v", c.Caller, c.Complete)
		}
	}
	slices.Sort(callers)
	want := make([]int, n)
	for i := range want {
		want[i] = i
	}
	if !slices.Equal(callers, want) {
		t.Errorf("results of callers %v, want each of 0..%d once", callers, n-1)
	}
	if len(numbers) != n {
		t.Errorf("%d distinct numbers for %d calls", len(numbers), n)
	}
	if shown != 1 {
		t.Errorf("%d calls shown with Verbose, want 1", shown)
	}
}
