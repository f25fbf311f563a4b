package audio

import (
	"slices"
	"testing"
)

// decodeInPieces decodes b through one PCM16Decoder, cut at the given offsets.
func decodeInPieces(b []byte, cuts []int) []int16 {
	var d PCM16Decoder
	var out []int16
	from := 0
	for _, c := range cuts {
		c = max(from, min(c, len(b)))
		out = d.Decode(out, b[from:c])
		from = c
	}
	return d.Decode(out, b[from:])
}

func TestPCM16DecoderPieces(t *testing.T) {
	b := []byte{0x01, 0x00, 0xff, 0xff, 0x00, 0x80, 0xff, 0x7f, 0x34, 0x12, 0xab}
	want := []int16{1, -1, -32768, 32767, 0x1234} // the odd last byte waits for its pair
	if got := DecodePCM16(nil, b); !slices.Equal(got, want) {
		t.Fatalf("DecodePCM16 = %v, want %v", got, want)
	}
	for _, cuts := range [][]int{nil, {0}, {1}, {3}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, {3, 3, 5}, {9}} {
		if got := decodeInPieces(b, cuts); !slices.Equal(got, want) {
			t.Errorf("cut at %v: %v, want %v", cuts, got, want)
		}
	}
	// The byte held back completes with the next piece.
	var d PCM16Decoder
	if got := d.Decode(nil, []byte{0x34}); len(got) != 0 {
		t.Fatalf("one byte gave %v", got)
	}
	if got := d.Decode(nil, nil); len(got) != 0 {
		t.Fatalf("nothing gave %v", got)
	}
	if got := d.Decode([]int16{7}, []byte{0x12}); !slices.Equal(got, []int16{7, 0x1234}) {
		t.Fatalf("completed sample: %v", got)
	}
}

// FuzzPCM16Decoder checks that any cutting of any bytes decodes as at once.
func FuzzPCM16Decoder(f *testing.F) {
	f.Add([]byte{1, 0, 2, 0, 3}, uint8(1), uint8(2))
	f.Add([]byte{}, uint8(0), uint8(0))
	f.Fuzz(func(t *testing.T, b []byte, c1, c2 uint8) {
		cuts := []int{int(c1), int(c1) + int(c2)}
		if got, want := decodeInPieces(b, cuts), DecodePCM16(nil, b); !slices.Equal(got, want) {
			t.Fatalf("cut at %v: %v, want %v", cuts, got, want)
		}
	})
}
