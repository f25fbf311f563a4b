package elevenlabs

import (
	"encoding/binary"
	"math"
)

// This file holds the little audio handling the adapter needs until package audio offers
// it: 16-bit PCM from bytes, G.711 µ-law, and halving 16 kHz to 8 kHz.

// converter turns the bytes of one output format, split anywhere, into 8 kHz samples.
type converter struct {
	format string
	odd    byte
	hasOdd bool
	half   *halver
}

func newConverter(format string) *converter {
	c := &converter{format: format}
	if format == PCM16000 {
		c.half = newHalver()
	}
	return c
}

func (c *converter) convert(b []byte) []int16 {
	if c.format == ULaw8000 {
		out := make([]int16, len(b))
		for i, u := range b {
			out[i] = ulaw(u)
		}
		return out
	}
	out := make([]int16, 0, (len(b)+1)/2)
	if c.hasOdd && len(b) > 0 {
		out = append(out, int16(uint16(c.odd)|uint16(b[0])<<8))
		b = b[1:]
		c.hasOdd = false
	}
	for ; len(b) >= 2; b = b[2:] {
		out = append(out, int16(binary.LittleEndian.Uint16(b)))
	}
	if len(b) == 1 {
		c.odd, c.hasOdd = b[0], true
	}
	if c.half != nil {
		return c.half.process(out)
	}
	return out
}

// flush returns what the halver still holds once the audio ended.
func (c *converter) flush() []int16 {
	if c.half == nil {
		return nil
	}
	return c.half.process(make([]int16, halverTaps))
}

// ulaw decodes one G.711 µ-law byte.
func ulaw(u byte) int16 {
	u = ^u
	t := (int32(u&0x0f)<<3 + 0x84) << ((u >> 4) & 7)
	if u&0x80 != 0 {
		return int16(0x84 - t)
	}
	return int16(t - 0x84)
}

// halverTaps is the length of the low-pass before dropping every other sample: it passes
// the telephone band and stops at 4 kHz.
const halverTaps = 64

var halverFilter = func() [halverTaps]float32 {
	var h [halverTaps]float32
	const cutoff = 3500.0 / 16000 // cycles per input sample
	var sum float64
	for j := range h {
		d := float64(j) - (halverTaps-1)/2.0
		x := 2 * cutoff * d
		sinc := math.Sin(math.Pi*x) / (math.Pi * x)
		w := 0.5 - 0.5*math.Cos(2*math.Pi*(float64(j)+0.5)/halverTaps) // Hann
		v := 2 * cutoff * sinc * w
		h[j] = float32(v)
		sum += v
	}
	for j := range h {
		h[j] = float32(float64(h[j]) / sum)
	}
	return h
}()

// halver resamples 16 kHz to 8 kHz.
type halver struct {
	buf   []float32
	phase int // 0: the next full window yields a sample
}

func newHalver() *halver { return &halver{buf: make([]float32, halverTaps/2)} }

func (h *halver) process(in []int16) []int16 {
	var out []int16
	for _, s := range in {
		h.buf = append(h.buf, float32(s))
		if len(h.buf) < halverTaps {
			continue
		}
		if h.phase == 0 {
			var acc float32
			for j, t := range halverFilter {
				acc += t * h.buf[len(h.buf)-halverTaps+j]
			}
			out = append(out, clamp(acc))
		}
		h.phase ^= 1
		if len(h.buf) > 4*halverTaps {
			n := copy(h.buf, h.buf[len(h.buf)-halverTaps+1:])
			h.buf = h.buf[:n]
		}
	}
	return out
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
