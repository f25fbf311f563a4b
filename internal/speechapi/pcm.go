package speechapi

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"math"

	"github.com/tresen/tresen/internal/speech"
)

// This file holds the little audio handling the adapter needs until package audio offers
// it: the WAV header, and a resampler from the server's rate to telephone audio.

// maxSkipped bounds the WAV chunks before "data" (LIST, fact, …) that the parser skips.
const maxSkipped = 64 << 10

var errWAV = errors.New("not a 16-bit mono PCM WAV stream")

// readWAVHeader reads a RIFF/WAVE header up to the start of the "data" chunk and returns
// the sample rate. Streaming servers write an unknown length (0 or 0xFFFFFFFF) into the
// RIFF and data sizes, so both are ignored: the audio runs to the end of the body.
func readWAVHeader(r *bufio.Reader) (rate int, err error) {
	var head [12]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return 0, errWAV
	}
	if string(head[0:4]) != "RIFF" || string(head[8:12]) != "WAVE" {
		return 0, errWAV
	}
	skipped := 0
	haveFmt := false
	for {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			return 0, errWAV
		}
		id, size := string(ch[0:4]), int64(binary.LittleEndian.Uint32(ch[4:8]))
		switch id {
		case "fmt ":
			if size < 16 || size > 64 {
				return 0, errWAV
			}
			f := make([]byte, size+size%2)
			if _, err := io.ReadFull(r, f); err != nil {
				return 0, errWAV
			}
			format := binary.LittleEndian.Uint16(f[0:2])
			channels := binary.LittleEndian.Uint16(f[2:4])
			rate = int(binary.LittleEndian.Uint32(f[4:8]))
			bits := binary.LittleEndian.Uint16(f[14:16])
			// 0xFFFE is WAVE_FORMAT_EXTENSIBLE, which some writers use for plain PCM too.
			if (format != 1 && format != 0xFFFE) || channels != 1 || bits != 16 || rate < 8000 || rate > 48000 {
				return 0, errWAV
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return 0, errWAV
			}
			return rate, nil
		default:
			skipped += int(size)
			if size > maxSkipped || skipped > maxSkipped {
				return 0, errWAV
			}
			if _, err := r.Discard(int(size + size%2)); err != nil {
				return 0, errWAV
			}
		}
	}
}

// decoder turns bytes of 16-bit little-endian PCM, split anywhere, into samples.
type decoder struct {
	odd    byte
	hasOdd bool
}

func (d *decoder) decode(b []byte, out []int16) []int16 {
	if d.hasOdd && len(b) > 0 {
		out = append(out, int16(uint16(d.odd)|uint16(b[0])<<8))
		b = b[1:]
		d.hasOdd = false
	}
	for len(b) >= 2 {
		out = append(out, int16(binary.LittleEndian.Uint16(b)))
		b = b[2:]
	}
	if len(b) == 1 {
		d.odd, d.hasOdd = b[0], true
	}
	return out
}

// resampler converts a stream from rate in to speech.SampleRate with a windowed-sinc
// low-pass filter, in a table of phases so that no sine is computed per sample. Integer
// ratios (16, 24, 48 kHz) always use phase 0; others (22.05 kHz, Piper's usual rate) take
// the nearest of the phases, which is well below what a telephone line can carry.
type resampler struct {
	step   float64     // input samples per output sample
	half   int         // taps on each side
	phases [][]float32 // phases × 2·half taps
	buf    []float32   // input not yet consumed, starting at index base
	pos    float64     // position of the next output sample in buf
}

const resamplerPhases = 64

// newResampler returns nil for telephone audio, which needs no resampling; in must not be
// below speech.SampleRate.
func newResampler(in int) *resampler {
	if in == speech.SampleRate {
		return nil
	}
	step := float64(in) / speech.SampleRate
	// Pass the telephone band (up to 3.4 kHz) and stop at 4 kHz: a Hann window's transition
	// is about 4/N of the input rate, so 1 kHz around a 3.5 kHz cutoff takes N = 4·in/1000.
	cutoff := 3500.0 / float64(in) // cycles per input sample
	half := int(math.Ceil(2 * float64(in) / 1000))
	r := &resampler{step: step, half: half, phases: make([][]float32, resamplerPhases)}
	for p := range r.phases {
		taps := make([]float32, 2*half)
		frac := float64(p) / resamplerPhases
		var sum float64
		for j := range taps {
			d := float64(j-half+1) - frac
			x := 2 * cutoff * d
			sinc := 1.0
			if x != 0 {
				sinc = math.Sin(math.Pi*x) / (math.Pi * x)
			}
			w := 0.5 + 0.5*math.Cos(math.Pi*d/float64(half)) // Hann
			if math.Abs(d) >= float64(half) {
				w = 0
			}
			v := 2 * cutoff * sinc * w
			taps[j] = float32(v)
			sum += v
		}
		for j := range taps { // unity gain at DC for every phase
			taps[j] = float32(float64(taps[j]) / sum)
		}
		r.phases[p] = taps
	}
	// Start with half-1 samples of silence, so the first output lines up with the first input.
	r.buf = make([]float32, half-1)
	r.pos = float64(half - 1)
	return r
}

// process appends to out the output samples that in makes computable.
func (r *resampler) process(in []int16, out []int16) []int16 {
	for _, s := range in {
		r.buf = append(r.buf, float32(s))
	}
	for {
		i := int(r.pos)
		p := int(math.Round((r.pos - float64(i)) * resamplerPhases))
		if p == resamplerPhases {
			i, p = i+1, 0
		}
		if i+r.half >= len(r.buf) {
			break
		}
		taps := r.phases[p]
		x := r.buf[i-r.half+1 : i+r.half+1]
		var acc float32
		for j, t := range taps {
			acc += t * x[j]
		}
		out = append(out, clamp(acc))
		r.pos += r.step
	}
	// Drop what no later output needs.
	if drop := int(r.pos) - r.half + 1; drop > 0 {
		n := copy(r.buf, r.buf[drop:])
		r.buf = r.buf[:n]
		r.pos -= float64(drop)
	}
	return out
}

// flush appends the output the last input samples still owe, as if silence followed.
func (r *resampler) flush(out []int16) []int16 {
	return r.process(make([]int16, r.half+1), out)
}

func clamp(v float32) int16 {
	switch {
	case v > math.MaxInt16:
		return math.MaxInt16
	case v < math.MinInt16:
		return math.MinInt16
	}
	return int16(math.Round(float64(v)))
}
