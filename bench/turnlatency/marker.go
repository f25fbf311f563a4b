package main

import (
	"math"
)

// The caller's turn starts with a marker: four short tones that name the turn of the
// script and the call, so that the fake recogniser, which gets nothing but the turn's
// audio from the server, knows what to answer and which caller's turn it timed. The tones
// come before the words, so they change nothing at the end of the turn, where the
// latency is measured. Tones alternate between two alphabets of eight frequencies each,
// so that neighbours always differ and each tone is one run of windows. The frequencies
// are whole multiples of the 50 Hz of a 20 ms window, so the windows of one tone see
// nothing of the others.
const (
	markerRate    = 8000
	markerWindow  = 160              // samples in a decoding window: 20 ms, one RTP frame
	markerTone    = 3 * markerWindow // samples of each tone: 60 ms
	markerSymbols = 4
	// maxTag is the number of calls the marker tells apart: calls up at the same time must
	// have different tags.
	maxTag    = 512
	maxTurns  = 8
	markerAmp = 8000 // about -12 dBFS, as loud as speech
)

// markerFreq is the frequency of symbol v (0–7) at position pos: alphabet A (600–1300 Hz)
// at even positions, B (1500–2200 Hz) at odd ones.
func markerFreq(pos, v int) float64 {
	if pos%2 == 0 {
		return 600 + 100*float64(v)
	}
	return 1500 + 100*float64(v)
}

// markerSamples is the marker of turn (0–7) of the call tagged tag (0–511) at 8 kHz.
func markerSamples(turn, tag int) []int16 {
	syms := [markerSymbols]int{turn & 7, tag >> 6 & 7, tag >> 3 & 7, tag & 7}
	out := make([]int16, 0, markerSymbols*markerTone)
	for pos, v := range syms {
		f := markerFreq(pos, v)
		for i := range markerTone {
			// A short ramp at each end keeps the edges from splattering across the
			// alphabet.
			a := markerAmp * math.Min(1, math.Min(float64(i), float64(markerTone-1-i))/16)
			out = append(out, int16(a*math.Sin(2*math.Pi*f*float64(i)/markerRate)))
		}
	}
	return out
}

// decodeMarker finds the first marker in pcm (8 kHz) and returns its turn and tag; ok is
// false when there is none. Windows of 20 ms are classed as one of the 16 tones when that
// tone holds most of their energy; a run of at least two windows of the same tone is one
// symbol (every tone covers two whole windows however the windows fall), and the marker
// is the first four symbols that alternate between the alphabets.
func decodeMarker(pcm []int16) (turn, tag int, ok bool) {
	type run struct{ pos, v, n int } // pos: alphabet (0 A, 1 B); v: symbol
	var runs []run
	cur := run{pos: -1}
	for i := 0; i+markerWindow <= len(pcm); i += markerWindow {
		pos, v := classifyWindow(pcm[i : i+markerWindow])
		if pos >= 0 && pos == cur.pos && v == cur.v {
			cur.n++
			continue
		}
		if cur.pos >= 0 && cur.n >= 2 {
			runs = append(runs, cur)
		}
		cur = run{pos: pos, v: v, n: 1}
	}
	if cur.pos >= 0 && cur.n >= 2 {
		runs = append(runs, cur)
	}
	// The marker: four runs in a row, alphabets A B A B.
	for s := 0; s+markerSymbols <= len(runs); s++ {
		good := true
		for k := range markerSymbols {
			if runs[s+k].pos != k%2 {
				good = false
				break
			}
		}
		if good {
			r := runs[s : s+markerSymbols]
			return r[0].v, r[1].v<<6 | r[2].v<<3 | r[3].v, true
		}
	}
	return 0, 0, false
}

// classifyWindow says which of the 16 tones a window is: its alphabet (0 or 1) and
// symbol, or pos -1 when it is quiet or no tone has at least half of its energy.
func classifyWindow(w []int16) (pos, v int) {
	var energy float64
	for _, s := range w {
		energy += float64(s) * float64(s)
	}
	if math.Sqrt(energy/float64(len(w))) < 500 {
		return -1, 0
	}
	best, bestPos, bestV := 0.0, -1, 0
	for p := range 2 {
		for k := range 8 {
			if sh := toneShare(w, markerFreq(p, k), energy); sh > best {
				best, bestPos, bestV = sh, p, k
			}
		}
	}
	if best < 0.5 {
		return -1, 0
	}
	return bestPos, bestV
}

// toneShare is the share of a window's energy at frequency f (Goertzel): 1 for a pure
// tone of a whole number of cycles in the window.
func toneShare(w []int16, f, energy float64) float64 {
	c := 2 * math.Cos(2*math.Pi*f/markerRate)
	var s1, s2 float64
	for _, x := range w {
		s0 := float64(x) + c*s1 - s2
		s1, s2 = s0, s1
	}
	power := s1*s1 + s2*s2 - c*s1*s2
	return 2 * power / (float64(len(w)) * energy)
}
