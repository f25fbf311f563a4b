// Command ocrload reads a corpus of generated scans (bench/m16synth) with a number of OCR
// workers, as the intake does with its -ocr-workers, and prints the throughput in pages
// per minute, the time a page takes per core, the latency of a page, and how many fields
// were read right:
//
//	go run ./bench/m16synth -out /tmp/m16 -n 40 -seed 101
//	go run ./bench/ocrload -dir /tmp/m16 -workers 2
//
// Each page is read from its file and decoded inside the measurement, as the intake reads
// a scanner's JPEG. Per core: the process's CPU time (user and system, from getrusage)
// over the pages, which does not depend on what else runs on the machine; the wall time
// per page times the workers is given beside it, and equals it only on otherwise idle
// cores. The engines' start (loading the German model) is not measured.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"image/jpeg"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tresen/tresen/internal/ocr"
)

// truth is what bench/m16synth writes beside each page.
type truth struct {
	Degraded bool              `json:"degraded"`
	Fields   map[string]string `json:"fields"`
}

type page struct {
	path  string
	truth truth
}

// result is one page read.
type result struct {
	degraded              bool
	right, all, unflagged int
	took                  time.Duration
	err                   error
}

func main() {
	dir := flag.String("dir", "", "corpus directory written by bench/m16synth")
	workers := flag.Int("workers", 2, "OCR workers (engines, each on a core of its own)")
	repeat := flag.Int("repeat", 1, "read the corpus this many times")
	flag.Parse()
	if *dir == "" {
		log.Fatal("ocrload: -dir DIR is needed")
	}
	pages, err := load(*dir)
	if err != nil {
		log.Fatal(err)
	}
	e, err := ocr.New(*workers)
	if err != nil {
		log.Fatal(err)
	}
	defer e.Close()

	jobs := make(chan page)
	results := make(chan result)
	var wg sync.WaitGroup
	cpu0 := cpuTime()
	start := time.Now()
	for range *workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range jobs {
				results <- read(e, p)
			}
		}()
	}
	go func() {
		for range *repeat {
			for _, p := range pages {
				jobs <- p
			}
		}
		close(jobs)
		wg.Wait()
		close(results)
	}()
	var all []result
	for r := range results {
		if r.err != nil {
			log.Fatal(r.err)
		}
		all = append(all, r)
	}
	wall := time.Since(start)
	cpu := cpuTime() - cpu0
	report(all, *workers, wall, cpu)
}

// load lists the corpus's pages with their truth.
func load(dir string) ([]page, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "page-*.jpg"))
	if err != nil || len(paths) == 0 {
		return nil, fmt.Errorf("ocrload: no pages in %s", dir)
	}
	var pages []page
	for _, path := range paths {
		b, err := os.ReadFile(strings.TrimSuffix(path, ".jpg") + ".json")
		if err != nil {
			return nil, err
		}
		p := page{path: path}
		if err := json.Unmarshal(b, &p.truth); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		pages = append(pages, p)
	}
	return pages, nil
}

// read reads one page from its file and compares it with its truth.
func read(e *ocr.Engine, p page) result {
	start := time.Now()
	f, err := os.Open(p.path)
	if err != nil {
		return result{err: err}
	}
	img, err := jpeg.Decode(f)
	f.Close()
	if err != nil {
		return result{err: fmt.Errorf("%s: %w", p.path, err)}
	}
	got, err := e.ReadPage(img)
	if err != nil {
		return result{err: fmt.Errorf("%s: %w", p.path, err)}
	}
	r := result{degraded: p.truth.Degraded, all: len(p.truth.Fields), took: time.Since(start)}
	for key, want := range p.truth.Fields {
		if got.Fields[key].Value == want {
			r.right++
		} else if !slices.ContainsFunc(got.Review, func(s string) bool { return strings.HasPrefix(s, key+":") }) {
			r.unflagged++
		}
	}
	return r
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		log.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func report(all []result, workers int, wall, cpu time.Duration) {
	n := len(all)
	fmt.Printf("pages %d, workers %d, wall %.1f s, CPU %.1f s (%.2f cores)\n", n, workers, wall.Seconds(), cpu.Seconds(), cpu.Seconds()/wall.Seconds())
	fmt.Printf("throughput %.1f pages/min\n", float64(n)/wall.Minutes())
	fmt.Printf("per page per core: %.3f s CPU, %.3f s wall × workers\n", cpu.Seconds()/float64(n), wall.Seconds()*float64(workers)/float64(n))
	took := make([]time.Duration, n)
	for i, r := range all {
		took[i] = r.took
	}
	slices.Sort(took)
	fmt.Printf("latency of a page (read, decode, OCR): p50 %.3f s, p95 %.3f s, max %.3f s\n",
		took[n/2].Seconds(), took[n*95/100].Seconds(), took[n-1].Seconds())
	for _, degraded := range []bool{false, true} {
		var pages, right, fields, unflagged int
		for _, r := range all {
			if r.degraded == degraded {
				pages, right, fields, unflagged = pages+1, right+r.right, fields+r.all, unflagged+r.unflagged
			}
		}
		if pages == 0 {
			continue
		}
		name := "clean"
		if degraded {
			name = "degraded"
		}
		fmt.Printf("%s pages %d: fields right %.1f %% (%d of %d), wrong without review %d\n",
			name, pages, 100*float64(right)/float64(fields), right, fields, unflagged)
	}
}
