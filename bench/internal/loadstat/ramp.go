package loadstat

import (
	"fmt"
	"os"
	"sort"
	"sync"
	"time"
)

// Ramp is the course of a load run: N workers (virtual patients, callers) start evenly
// over the ramp from Start; between the end of the ramp and Stop the active ones are
// counted once a second.
type Ramp struct {
	Start    time.Time
	N        int
	Over     time.Duration   // the ramp
	Stop     time.Time       // the end of the sampling: the workers' last start of a new round
	Worker   func(i int)     // worker i, until the run is over
	Active   func() int64    // how many are active (open conversations, calls up)
	Progress func(time.Time) // called every ten seconds, to print the progress
}

// Run starts the workers and waits for all of them to return; it returns the samples of
// Active taken after the ramp.
func (p Ramp) Run() []int64 {
	done := make(chan struct{})
	samples := make(chan []int64)
	go func() { samples <- p.monitor(done) }()
	var wg sync.WaitGroup
	for i := range p.N {
		at := p.Start.Add(time.Duration(int64(p.Over) * int64(i) / int64(p.N)))
		time.Sleep(time.Until(at))
		wg.Go(func() { p.Worker(i) })
	}
	wg.Wait()
	close(done)
	return <-samples
}

func (p Ramp) monitor(done chan struct{}) []int64 {
	var samples []int64
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for n := 1; ; n++ {
		select {
		case <-done:
			return samples
		case <-t.C:
		}
		now := time.Now()
		if now.Sub(p.Start) >= p.Over && now.Before(p.Stop) {
			samples = append(samples, p.Active())
		}
		if n%10 == 0 && p.Progress != nil {
			p.Progress(now)
		}
	}
}

// Errors counts errors by their text, safe for concurrent use.
type Errors struct {
	Verbose bool // print each error to stderr as well

	mu     sync.Mutex
	counts map[string]int
}

// Add counts one error.
func (e *Errors) Add(text string) {
	e.mu.Lock()
	if e.counts == nil {
		e.counts = map[string]int{}
	}
	e.counts[text]++
	e.mu.Unlock()
	if e.Verbose {
		fmt.Fprintln(os.Stderr, "error:", text)
	}
}

// Print prints title and then each error with its count, the most frequent first;
// nothing when there were none.
func (e *Errors) Print(title string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.counts) == 0 {
		return
	}
	fmt.Println(title)
	texts := make([]string, 0, len(e.counts))
	for t := range e.counts {
		texts = append(texts, t)
	}
	sort.Slice(texts, func(i, j int) bool {
		if a, b := e.counts[texts[i]], e.counts[texts[j]]; a != b {
			return a > b
		}
		return texts[i] < texts[j]
	})
	for _, t := range texts {
		fmt.Printf("  %6d  %s\n", e.counts[t], t)
	}
}
