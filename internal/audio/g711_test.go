package audio

import (
	"math"
	"testing"
)

// The expected values agree with CPython's audioop (the Sun reference code) for A-law in
// both directions, µ-law decoding and µ-law encoding of positive samples. For negative
// samples µ-law follows G.191, which quantises the one's complement (-1 is negative zero,
// 0x7f), where the Sun code negates (-1 becomes 0x7e): the boundaries of negative segments
// lie one sample apart in the two.
func TestG711KnownValues(t *testing.T) {
	for _, tc := range []struct {
		in         int16
		alaw, ulaw uint8
	}{
		{0, 0xd5, 0xff},
		{-1, 0x55, 0x7f},
		{7, 0xd5, 0xfe},
		{-8, 0x55, 0x7e},
		{123, 0xd2, 0xf0}, // µ-law: top of segment 0
		{124, 0xd2, 0xef}, // µ-law: bottom of segment 1
		{-124, 0x52, 0x70},
		{-125, 0x52, 0x6f},
		{255, 0xda, 0xe7}, // A-law: top of segment 0
		{256, 0xc5, 0xe7}, // A-law: bottom of segment 1
		{-256, 0x5a, 0x67},
		{-257, 0x45, 0x67},
		{1000, 0xfa, 0xce},
		{-1000, 0x7a, 0x4e},
		{4095, 0x9a, 0xaf}, // A-law: top of segment 4
		{4096, 0x85, 0xaf}, // A-law: bottom of segment 5
		{-4096, 0x1a, 0x2f},
		{32767, 0xaa, 0x80}, // clipping
		{-32768, 0x2a, 0x00},
	} {
		if got := ALawEncode(tc.in); got != tc.alaw {
			t.Errorf("ALawEncode(%d) = %#02x, want %#02x", tc.in, got, tc.alaw)
		}
		if got := ULawEncode(tc.in); got != tc.ulaw {
			t.Errorf("ULawEncode(%d) = %#02x, want %#02x", tc.in, got, tc.ulaw)
		}
	}
	for _, tc := range []struct {
		code       uint8
		alaw, ulaw int16
	}{
		{0xd5, 8, 716}, {0x55, -8, -716},
		{0xda, 248, 556}, {0xc5, 264, 1564},
		{0xaa, 32256, 5372}, {0x2a, -32256, -5372},
		{0xff, 848, 0}, {0x7f, -848, 0},
		{0xf0, 688, 120}, {0xef, 1696, 132},
		{0x80, 5504, 32124}, {0x00, -5504, -32124},
	} {
		if got := ALawDecode(tc.code); got != tc.alaw {
			t.Errorf("ALawDecode(%#02x) = %d, want %d", tc.code, got, tc.alaw)
		}
		if got := ULawDecode(tc.code); got != tc.ulaw {
			t.Errorf("ULawDecode(%#02x) = %d, want %d", tc.code, got, tc.ulaw)
		}
	}
}

// The tables must agree with the reference algorithm for every sample, not only for the
// sample each table entry was built from.
func TestG711TablesMatchReference(t *testing.T) {
	for i := math.MinInt16; i <= math.MaxInt16; i++ {
		s := int16(i)
		if a, r := ALawEncode(s), alawEncodeRef(s); a != r {
			t.Fatalf("ALawEncode(%d) = %#02x, reference %#02x", s, a, r)
		}
		if u, r := ULawEncode(s), ulawEncodeRef(s); u != r {
			t.Fatalf("ULawEncode(%d) = %#02x, reference %#02x", s, u, r)
		}
	}
}

func TestG711RoundTrip(t *testing.T) {
	for i := math.MinInt16; i <= math.MaxInt16; i++ {
		x := int16(i)
		mag := math.Abs(float64(x))
		// Half a quantisation step of the segment (plus one for the one's complement of
		// negative samples); the step doubles from segment to segment.
		aBound := math.Max(8, mag/32) + 1
		uBound := (mag+132)/32 + 1
		if mag > 32124 {
			uBound = mag - 32124 + 1 // clipped above the top code
		}
		if mag > 32256 {
			aBound = mag - 32256 + 1
		}
		if e := math.Abs(float64(ALawDecode(ALawEncode(x))) - float64(x)); e > aBound {
			t.Fatalf("A-law round trip of %d: error %.0f > %.0f", x, e, aBound)
		}
		if e := math.Abs(float64(ULawDecode(ULawEncode(x))) - float64(x)); e > uBound {
			t.Fatalf("µ-law round trip of %d: error %.0f > %.0f", x, e, uBound)
		}
	}
	// Every code decodes to a value that encodes back to the same code (the two µ-law
	// zeros both come back as positive zero).
	for c := 0; c < 256; c++ {
		if got := ALawEncode(ALawDecode(uint8(c))); got != uint8(c) {
			t.Errorf("A-law code %#02x: decode, encode gives %#02x", c, got)
		}
		want := uint8(c)
		if c == 0x7f {
			want = 0xff
		}
		if got := ULawEncode(ULawDecode(uint8(c))); got != want {
			t.Errorf("µ-law code %#02x: decode, encode gives %#02x", c, got)
		}
	}
}

func TestG711Frames(t *testing.T) {
	pcm := make([]int16, 160)
	for i := range pcm {
		pcm[i] = int16(8000 * math.Sin(2*math.Pi*1000*float64(i)/8000))
	}
	a := EncodeALaw(nil, pcm)
	u := EncodeULaw(nil, pcm)
	if len(a) != 160 || len(u) != 160 {
		t.Fatalf("encoded lengths %d, %d", len(a), len(u))
	}
	da, du := DecodeALaw(nil, a), DecodeULaw(nil, u)
	for i := range pcm {
		if da[i] != ALawDecode(ALawEncode(pcm[i])) || du[i] != ULawDecode(ULawEncode(pcm[i])) {
			t.Fatalf("sample %d differs from the per-sample functions", i)
		}
	}
	// SNR of a full-band sine through each law is close to G.711's ~38 dB.
	for name, d := range map[string][]int16{"A-law": da, "µ-law": du} {
		var sig, noise float64
		for i := range pcm {
			sig += float64(pcm[i]) * float64(pcm[i])
			e := float64(d[i] - pcm[i])
			noise += e * e
		}
		if snr := 10 * math.Log10(sig/noise); snr < 33 {
			t.Errorf("%s: SNR %.1f dB", name, snr)
		}
	}
}
