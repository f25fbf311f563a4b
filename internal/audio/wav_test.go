package audio

import (
	"bytes"
	"encoding/binary"
	"testing"
)

func TestWAVRoundTrip(t *testing.T) {
	pcm := sine(8000, 440, 12000, 1234)
	var buf bytes.Buffer
	if err := WriteWAV(&buf, pcm, 8000); err != nil {
		t.Fatal(err)
	}
	if buf.Len() != 44+2*len(pcm) {
		t.Fatalf("file of %d bytes", buf.Len())
	}
	got, rate, err := ReadWAV(&buf)
	if err != nil || rate != 8000 || len(got) != len(pcm) {
		t.Fatalf("ReadWAV: %d samples at %d Hz, %v", len(got), rate, err)
	}
	for i := range pcm {
		if got[i] != pcm[i] {
			t.Fatalf("sample %d: %d, want %d", i, got[i], pcm[i])
		}
	}
}

// espeak-ng --stdout writes a placeholder data size and a LIST chunk may come first in
// other writers' files; stereo is mixed down.
func TestWAVStreamingHeaderAndStereo(t *testing.T) {
	var buf bytes.Buffer
	_ = WriteWAV(&buf, []int16{100, 300, -100, -300}, 22050)
	b := buf.Bytes()
	binary.LittleEndian.PutUint32(b[4:], 0x7ffff024)
	binary.LittleEndian.PutUint32(b[40:], 0x7ffff000)
	binary.LittleEndian.PutUint16(b[22:], 2) // stereo
	list := append([]byte("LIST\x03\x00\x00\x00abc\x00"), b[36:]...)
	file := append(append([]byte{}, b[:36]...), list...)
	got, rate, err := ReadWAV(bytes.NewReader(file))
	if err != nil || rate != 22050 {
		t.Fatalf("ReadWAV: %v, %d Hz", err, rate)
	}
	if len(got) != 2 || got[0] != 200 || got[1] != -200 {
		t.Fatalf("samples %v, want [200 -200]", got)
	}
}

func TestWAVRejects(t *testing.T) {
	var buf bytes.Buffer
	_ = WriteWAV(&buf, []int16{1, 2}, 8000)
	good := buf.Bytes()
	for name, mutate := range map[string]func(b []byte){
		"not RIFF":  func(b []byte) { copy(b, "RIFX") },
		"8-bit":     func(b []byte) { b[34] = 8 },
		"float":     func(b []byte) { b[20] = 3 },
		"6 chans":   func(b []byte) { b[22] = 6 },
		"0 Hz":      func(b []byte) { binary.LittleEndian.PutUint32(b[24:], 0) },
		"truncated": nil,
	} {
		b := append([]byte{}, good...)
		if mutate != nil {
			mutate(b)
		} else {
			b = b[:30]
		}
		if _, _, err := ReadWAV(bytes.NewReader(b)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzReadWAV(f *testing.F) {
	var buf bytes.Buffer
	_ = WriteWAV(&buf, []int16{1, -2, 3}, 8000)
	f.Add(buf.Bytes())
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVEdata\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		pcm, rate, err := ReadWAV(bytes.NewReader(b))
		if err == nil && (rate < 1000 || len(pcm) > len(b)/2) {
			t.Fatalf("%d samples at %d Hz from %d bytes", len(pcm), rate, len(b))
		}
	})
}
