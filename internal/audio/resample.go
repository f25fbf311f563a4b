package audio

import (
	"fmt"
	"math"
	"sync"
)

// Resampler converts a stream of samples from one rate to another with a windowed-sinc
// (Kaiser) low-pass filter, evaluated as a polyphase filter: the ratio is reduced to
// up/down = L/M and each output sample is the dot product of the input around its
// position with one of L precomputed phases. The filter cuts at 90 % of the lower
// Nyquist frequency (3.6 kHz for telephone audio), so it both removes what would alias
// when going down to 8 kHz and the images when going up from it.
//
// It keeps the input it has not finished with between calls, so a stream converted in
// chunks of any size gives the same samples as converted at once: no clicks at chunk
// boundaries. It delays the output by half the filter length until Flush.
type Resampler struct {
	from, to int
	f        *filter
	hist     []float32 // input not yet consumed, starting at the first tap of the next output
	phase    int       // position of the next output between two input samples, in 1/L
	skip     int       // input samples to drop before hist continues (when the next output lies beyond the input held)
	in, out  int64     // samples taken and given since the start or the last Flush
}

// filter is the polyphase table for one conversion; it is immutable once built and
// shared by every Resampler of that conversion.
type filter struct {
	l, m int
	half int         // taps on each side of an output position, in input samples
	taps [][]float32 // [phase][2*half]
}

const (
	resampleRolloff   = 0.90 // cutoff as a fraction of the lower Nyquist frequency
	resampleCrossings = 20   // zero crossings of the sinc on each side
	resampleKaiser    = 8.0  // Kaiser β: about 80 dB stop-band attenuation
)

// filters memoises the tables per conversion (from, to): building one takes about a
// millisecond, and every call and every synthesised sentence needs one.
var filters sync.Map // [2]int → *filter

// NewResampler returns a Resampler from rate from to rate to (Hz). Any pair of positive
// rates works; the ones Tresen meets are 8000 to and from 16000, 22050, 24000, 44100 and
// 48000.
func NewResampler(from, to int) (*Resampler, error) {
	if from <= 0 || to <= 0 || from > 384000 || to > 384000 {
		return nil, fmt.Errorf("audio: cannot resample from %d Hz to %d Hz", from, to)
	}
	key := [2]int{from, to}
	f, ok := filters.Load(key)
	if !ok {
		f, _ = filters.LoadOrStore(key, newFilter(from, to))
	}
	r := &Resampler{from: from, to: to, f: f.(*filter)}
	r.reset()
	return r, nil
}

func (r *Resampler) reset() {
	// The first output sits on the first input sample; the taps before it see silence.
	r.hist = append(r.hist[:0], make([]float32, r.f.half-1)...)
	r.phase, r.skip = 0, 0
	r.in, r.out = 0, 0
}

// Process appends to dst the output for the next input samples and returns it.
func (r *Resampler) Process(dst, in []int16) []int16 {
	if r.from == r.to {
		r.in += int64(len(in))
		r.out += int64(len(in))
		return append(dst, in...)
	}
	r.in += int64(len(in))
	r.push(in)
	return r.run(dst, false)
}

func (r *Resampler) push(in []int16) {
	if r.skip > 0 {
		k := min(r.skip, len(in))
		in, r.skip = in[k:], r.skip-k
	}
	for _, s := range in {
		r.hist = append(r.hist, float32(s))
	}
}

// Flush appends the output still held back by the filter, as if silence followed the
// input, and makes the Resampler ready for a new stream. The total output of a stream is
// then ceil(input × to / from) samples.
func (r *Resampler) Flush(dst []int16) []int16 {
	if r.from != r.to {
		r.push(make([]int16, r.f.half+1))
		dst = r.run(dst, true)
	}
	r.reset()
	return dst
}

func (r *Resampler) run(dst []int16, flush bool) []int16 {
	f := r.f
	n := 2 * f.half
	b := 0 // index in hist of the first tap of the next output
	for b+n <= len(r.hist) {
		// At the end of a stream, stop after the output for the last input position.
		if flush && r.out*int64(f.m) >= r.in*int64(f.l) {
			break
		}
		taps := f.taps[r.phase]
		x := r.hist[b : b+n]
		var acc float32
		for i, w := range taps {
			acc += w * x[i]
		}
		dst = append(dst, clip16(acc))
		r.out++
		r.phase += f.m
		b += r.phase / f.l
		r.phase %= f.l
	}
	if b > len(r.hist) {
		r.skip = b - len(r.hist) // the next output's taps start beyond the input held
		b = len(r.hist)
	}
	r.hist = append(r.hist[:0], r.hist[b:]...)
	return dst
}

func clip16(v float32) int16 {
	switch {
	case v >= 32767:
		return 32767
	case v <= -32768:
		return -32768
	case v >= 0:
		return int16(v + 0.5)
	default:
		return int16(v - 0.5)
	}
}

func newFilter(from, to int) *filter {
	g := gcd(from, to)
	l, m := to/g, from/g
	// Cutoff relative to the input's Nyquist frequency; the filter runs in input time.
	fc := resampleRolloff * math.Min(1, float64(l)/float64(m))
	half := int(math.Ceil(resampleCrossings / fc))
	f := &filter{l: l, m: m, half: half, taps: make([][]float32, l)}
	i0b := besselI0(resampleKaiser)
	for p := 0; p < l; p++ {
		taps := make([]float64, 2*half)
		var sum float64
		for j := range taps {
			d := float64(p)/float64(l) - float64(j-half+1) // output position minus input position
			x := d / float64(half)
			if x <= -1 || x >= 1 {
				continue
			}
			w := besselI0(resampleKaiser*math.Sqrt(1-x*x)) / i0b
			taps[j] = fc * sinc(fc*d) * w
			sum += taps[j]
		}
		// Exactly unity gain at DC for every phase: no ripple at the output rate.
		f.taps[p] = make([]float32, 2*half)
		for j, t := range taps {
			f.taps[p][j] = float32(t / sum)
		}
	}
	return f
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// besselI0 is the modified Bessel function of the first kind, order 0 (power series).
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 50; k++ {
		term *= (x / (2 * float64(k))) * (x / (2 * float64(k)))
		sum += term
		if term < 1e-12*sum {
			break
		}
	}
	return sum
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// Resample converts a whole signal from one rate to another.
func Resample(in []int16, from, to int) ([]int16, error) {
	r, err := NewResampler(from, to)
	if err != nil {
		return nil, err
	}
	out := r.Process(make([]int16, 0, len(in)*to/from+1), in)
	return r.Flush(out), nil
}
