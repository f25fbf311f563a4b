package audio

import (
	"math"
	"math/rand/v2"
	"testing"
)

var telephoneRates = []int{16000, 22050, 24000, 44100, 48000}

func sine(rate int, hz, amp float64, n int) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(amp * math.Sin(2*math.Pi*hz*float64(i)/float64(rate)))
	}
	return out
}

// level is the RMS of pcm in dB relative to a full-scale sine... in dBFS (full scale 32768).
func level(pcm []int16) float64 {
	var sum float64
	for _, s := range pcm {
		sum += float64(s) * float64(s)
	}
	return 10 * math.Log10(sum/float64(len(pcm))/(32768*32768)+1e-20)
}

// gainDB is the level of a tone after conversion relative to before, measured away from
// the edges.
func gainDB(t *testing.T, from, to int, hz float64) float64 {
	t.Helper()
	in := sine(from, hz, 10000, from/2)
	out, err := Resample(in, from, to)
	if err != nil {
		t.Fatal(err)
	}
	m := to / 20
	return level(out[m:len(out)-m]) - level(in[from/20:len(in)-from/20])
}

func TestResamplePassbandAndStopband(t *testing.T) {
	for _, rate := range telephoneRates {
		for _, tc := range []struct {
			hz       float64
			min, max float64 // dB
		}{
			{300, -0.1, 0.1},
			{1000, -0.1, 0.1},
			{3000, -0.5, 0.1},
			{3400, -1.5, 0.1},
			{4500, -200, -60}, // would alias to 3500 Hz
			{6000, -200, -60}, // would alias to 2000 Hz
			{7500, -200, -60}, // would alias to 500 Hz
		} {
			if tc.hz >= float64(rate)/2 {
				continue
			}
			if g := gainDB(t, rate, 8000, tc.hz); g < tc.min || g > tc.max {
				t.Errorf("%d → 8000 Hz, %.0f Hz tone: gain %.1f dB, want %.1f…%.1f", rate, tc.hz, g, tc.min, tc.max)
			}
		}
		// Up from 8 kHz: the band is kept and no image appears.
		for _, hz := range []float64{300, 1000, 3000} {
			if g := gainDB(t, 8000, rate, hz); g < -0.5 || g > 0.1 {
				t.Errorf("8000 → %d Hz, %.0f Hz tone: gain %.1f dB", rate, hz, g)
			}
		}
		in := sine(8000, 1000, 10000, 4000)
		up, _ := Resample(in, 8000, rate)
		if img := toneLevel(up[rate/20:len(up)-rate/20], rate, 7000); img > -80 {
			t.Errorf("8000 → %d Hz: image at 7 kHz at %.1f dBFS", rate, img)
		}
	}
}

// toneLevel measures the level of one frequency in pcm (a single DFT bin, Hann window).
func toneLevel(pcm []int16, rate int, hz float64) float64 {
	var re, im, wsum float64
	n := len(pcm)
	for i, s := range pcm {
		w := 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(n-1))
		a := 2 * math.Pi * hz * float64(i) / float64(rate)
		re += w * float64(s) * math.Cos(a)
		im += w * float64(s) * math.Sin(a)
		wsum += w
	}
	amp := 2 * math.Hypot(re, im) / wsum
	return 20*math.Log10(amp/32768+1e-20) - 3.01 // RMS of a sine of that amplitude
}

func TestResampleLengthAndAlignment(t *testing.T) {
	for _, rate := range telephoneRates {
		for _, dir := range [][2]int{{rate, 8000}, {8000, rate}} {
			from, to := dir[0], dir[1]
			n := from/3 + 7
			in := make([]int16, n)
			in[n/2] = 20000 // an impulse in the middle stays in the middle
			out, err := Resample(in, from, to)
			if err != nil {
				t.Fatal(err)
			}
			want := (int64(n)*int64(to) + int64(from) - 1) / int64(from)
			if int64(len(out)) != want {
				t.Errorf("%d → %d: %d samples out of %d, want %d", from, to, len(out), n, want)
			}
			peak := 0
			for i := range out {
				if abs(out[i]) > abs(out[peak]) {
					peak = i
				}
			}
			wantAt := float64(n/2) * float64(to) / float64(from)
			if math.Abs(float64(peak)-wantAt) > 1 {
				t.Errorf("%d → %d: impulse at %d, want %.1f", from, to, peak, wantAt)
			}
		}
	}
}

func abs(s int16) int {
	if s < 0 {
		return -int(s)
	}
	return int(s)
}

// Chunked conversion gives exactly the samples of a conversion in one piece.
func TestResampleStreamingEqualsWhole(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, rate := range telephoneRates {
		for _, dir := range [][2]int{{rate, 8000}, {8000, rate}} {
			in := make([]int16, dir[0]/2)
			for i := range in {
				in[i] = int16(rng.IntN(20000) - 10000)
			}
			whole, _ := Resample(in, dir[0], dir[1])
			r, _ := NewResampler(dir[0], dir[1])
			var got []int16
			for rest := in; len(rest) > 0; {
				k := min(len(rest), rng.IntN(400))
				got = r.Process(got, rest[:k])
				rest = rest[k:]
			}
			got = r.Flush(got)
			if len(got) != len(whole) {
				t.Fatalf("%v: %d samples chunked, %d whole", dir, len(got), len(whole))
			}
			for i := range got {
				if got[i] != whole[i] {
					t.Fatalf("%v: sample %d: %d chunked, %d whole", dir, i, got[i], whole[i])
				}
			}
			// The Resampler is ready for the next stream after Flush.
			again := r.Flush(r.Process(nil, in))
			if len(again) != len(whole) || again[len(again)/2] != whole[len(whole)/2] {
				t.Fatalf("%v: second stream differs", dir)
			}
		}
	}
}

func TestResampleSameRateAndErrors(t *testing.T) {
	in := []int16{1, 2, 3}
	out, err := Resample(in, 8000, 8000)
	if err != nil || len(out) != 3 || out[2] != 3 {
		t.Fatalf("8000 → 8000: %v, %v", out, err)
	}
	if _, err := NewResampler(0, 8000); err == nil {
		t.Fatal("0 Hz accepted")
	}
}
