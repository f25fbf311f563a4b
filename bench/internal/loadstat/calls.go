package loadstat

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Call is one phone call of a load run as its virtual caller saw it. A tool with fields
// of its own embeds it in its result of a call.
type Call struct {
	Caller, K int    // the virtual caller and which of its calls (from 0)
	Number    string // the caller's number (P-Asserted-Identity), to find its requests in the store
	Started   time.Time
	Duration  time.Duration
	Failed    string // why the call failed; "" when it completed
	Complete  bool

	verbose bool // Logf prints this call's course
}

// call makes *Call, and a pointer to a struct that embeds it, a Result.
func (c *Call) call() *Call { return c }

// Logf prints a step of the call's course, with the time since it started, when it is
// the call shown (Calls.Verbose).
func (c *Call) Logf(format string, a ...any) {
	if c.verbose {
		fmt.Printf("  %6.2fs  %s\n", time.Since(c.Started).Seconds(), fmt.Sprintf(format, a...))
	}
}

// Result is a tool's result of a call: *Call, or a pointer to a struct that embeds Call
// or *Call.
type Result interface{ call() *Call }

// Calls is the bookkeeping of a load run's calls, safe for concurrent use: it numbers the
// calls, counts them and their failures and keeps their results (R). Set the fields
// before the first call.
type Calls[R Result] struct {
	NumberPrefix string // callers' numbers are this followed by seven digits,
	NumberBase   int64  // from this on
	Verbose      bool   // print the course of one call, the first begun (Call.Logf)

	// Started, Completed and Failed are counted by Begin and Finish; Active, the calls
	// up, by the tool.
	Active, Started, Completed, Failed atomic.Int64
	Errors                             Errors // why calls failed

	seq     atomic.Int64
	mu      sync.Mutex
	shown   bool
	results []R
}

// Begin starts caller's k-th call: it gives it the next number and counts it started.
func (cs *Calls[R]) Begin(caller, k int) *Call {
	c := &Call{Caller: caller, K: k, Started: time.Now()}
	c.Number = fmt.Sprintf("%s%07d", cs.NumberPrefix, cs.NumberBase+cs.seq.Add(1))
	cs.Started.Add(1)
	if cs.Verbose {
		cs.mu.Lock()
		c.verbose, cs.shown = !cs.shown, true
		cs.mu.Unlock()
	}
	return c
}

// Finish ends the call of res, completed when why is empty and failed for why otherwise,
// counts it and keeps res; it returns whether the call completed.
func (cs *Calls[R]) Finish(res R, why string) bool {
	c := res.call()
	c.Duration = time.Since(c.Started)
	c.Failed = why
	if why == "" {
		c.Complete = true
		cs.Completed.Add(1)
	} else {
		cs.Failed.Add(1)
		cs.Errors.Add(why)
	}
	cs.mu.Lock()
	cs.results = append(cs.results, res)
	cs.mu.Unlock()
	return why == ""
}

// Results returns the finished calls, in the order they finished.
func (cs *Calls[R]) Results() []R {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return slices.Clone(cs.results)
}
