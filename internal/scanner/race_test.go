//go:build race

package scanner

// raceEnabled says the race detector is on. It slows parsing about tenfold, so time
// bounds meant to catch runaway work (not to measure speed) are widened under it.
const raceEnabled = true
