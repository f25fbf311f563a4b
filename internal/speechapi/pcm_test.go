package speechapi

import (
	"bufio"
	"bytes"
	"math"
	"testing"
)

func tone(rate int, freq float64, n int) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(10000 * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return out
}

func level(pcm []int16) float64 {
	pcm = pcm[200 : len(pcm)-200]
	var sum float64
	for _, s := range pcm {
		sum += float64(s) * float64(s)
	}
	return math.Sqrt(sum / float64(len(pcm)))
}

// TestResampler checks the filter: the telephone band passes, what lies above 4 kHz does
// not fold back into it, and feeding the input in pieces changes nothing.
func TestResampler(t *testing.T) {
	for _, rate := range []int{16000, 22050, 24000, 44100, 48000} {
		r := newResampler(rate)
		pass := r.flush(r.process(tone(rate, 1000, rate), nil))
		if got := level(pass); math.Abs(got-10000/math.Sqrt2) > 0.03*10000 {
			t.Errorf("%d Hz: 1 kHz level %.0f, want about %.0f", rate, got, 10000/math.Sqrt2)
		}
		if n := len(pass); math.Abs(float64(n-8000)) > 10 {
			t.Errorf("%d Hz: one second became %d samples", rate, n)
		}
		// 6 kHz would alias to 2 kHz without the filter.
		stop := newResampler(rate).process(tone(rate, 6000, rate), nil)
		if got := level(stop); got > 0.01*10000 {
			t.Errorf("%d Hz: 6 kHz leaks through at level %.0f", rate, got)
		}

		in := tone(rate, 700, rate/2)
		whole := newResampler(rate).process(in, nil)
		r = newResampler(rate)
		var pieces []int16
		for i := 0; i < len(in); i += 37 {
			pieces = r.process(in[i:min(i+37, len(in))], pieces)
		}
		if !slicesEqual(whole, pieces) {
			t.Errorf("%d Hz: resampling in pieces differs from resampling at once", rate)
		}
	}
}

func slicesEqual(a, b []int16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// FuzzReadWAVHeader feeds arbitrary answers as WAV: no panic, and an accepted header
// names a rate the resampler handles.
func FuzzReadWAVHeader(f *testing.F) {
	f.Add([]byte("RIFF\xff\xff\xff\xffWAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\xc0\x5d\x00\x00\x80\xbb\x00\x00\x02\x00\x10\x00data\xff\xff\xff\xff\x01\x02"))
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVELIST\x04\x00\x00\x00INFOfmt \x12\x00\x00\x00\x01\x00\x01\x00\x22\x56\x00\x00\x44\xac\x00\x00\x02\x00\x10\x00\x00\x00data\x00\x00\x00\x00"))
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVEdata\x00\x00\x00\x00"))
	f.Add([]byte(`{"error":"voice not found"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		rate, err := readWAVHeader(bufio.NewReader(bytes.NewReader(b)))
		if err != nil {
			return
		}
		if rate < 8000 || rate > 48000 {
			t.Fatalf("accepted rate %d", rate)
		}
		var d decoder
		samples := d.decode(b, nil)
		if r := newResampler(rate); r != nil {
			r.flush(r.process(samples, nil))
		}
	})
}
