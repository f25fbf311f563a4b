// Package loadstat holds what the load tools under bench/ share: the course of a run and
// the bookkeeping of its calls, percentiles of latencies, the CPU time of this process,
// of the machine and of the server read from /proc (Linux), and the lines of a result
// that report them.
package loadstat

import (
	"fmt"
	"strings"
	"time"
)

// Pct is the p-th percentile (nearest rank) of sorted; 0 when it is empty. Pct(s, 100) is
// the largest.
func Pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p/100+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// Ms formats d in milliseconds: "12.3ms".
func Ms(d time.Duration) string {
	return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
}

// PrintTitle prints the head of a tool's result: its title and the wall time of the run,
// the label padded to width.
func PrintTitle(tool string, width int, wall time.Duration) {
	fmt.Printf("\n== %s result ==\n", tool)
	fmt.Printf("%-*s%.1f s\n", width, "wall time", wall.Seconds())
}

// PrintSamples prints, under label padded to width, the samples taken each second after
// the ramp (open conversations, calls up): "min 2, mean 5, max 8 (sampled each second
// after the ramp, 3 samples)"; nothing without samples.
func PrintSamples(label string, width int, samples []int64) {
	if len(samples) == 0 {
		return
	}
	var minS, maxS, sum int64
	minS = -1
	for _, s := range samples {
		if minS < 0 || s < minS {
			minS = s
		}
		maxS = max(maxS, s)
		sum += s
	}
	fmt.Printf("%-*smin %d, mean %.0f, max %d (sampled each second after the ramp, %d samples)\n",
		width, label, minS, float64(sum)/float64(len(samples)), maxS, len(samples))
}

// Verdict prints the last line of a result, PASS or FAIL, and returns ok.
func Verdict(ok bool) bool {
	if ok {
		fmt.Println("PASS")
	} else {
		fmt.Println("FAIL")
	}
	return ok
}

// Quantiles formats the percentiles ps of sorted, 100 as the maximum:
// "p50 3.0ms  p95 7.1ms  max 9.0ms".
func Quantiles(sorted []time.Duration, ps ...float64) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		name := fmt.Sprintf("p%g", p)
		if p == 100 {
			name = "max"
		}
		parts[i] = name + " " + Ms(Pct(sorted, p))
	}
	return strings.Join(parts, "  ")
}
