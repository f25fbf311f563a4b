package speechapi

import (
	"bufio"
	"bytes"
	"io"
	"testing"

	"github.com/tresen/tresen/internal/audio"
	"github.com/tresen/tresen/internal/speech"
)

// wavSeeds are answers as servers send them: streamed WAV with placeholder sizes, a LIST
// chunk before fmt, no fmt at all, and an error in JSON where audio was expected.
var wavSeeds = []string{
	"RIFF\xff\xff\xff\xffWAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\xc0\x5d\x00\x00\x80\xbb\x00\x00\x02\x00\x10\x00data\xff\xff\xff\xff\x01\x02",
	"RIFF\x00\x00\x00\x00WAVELIST\x04\x00\x00\x00INFOfmt \x12\x00\x00\x00\x01\x00\x01\x00\x22\x56\x00\x00\x44\xac\x00\x00\x02\x00\x10\x00\x00\x00data\x00\x00\x00\x00",
	"RIFF\x00\x00\x00\x00WAVEdata\x00\x00\x00\x00",
	`{"error":"voice not found"}`,
}

// FuzzReadWAVRate feeds arbitrary answers as WAV: no panic, an accepted header names a
// rate that converts to telephone audio, and the samples after it convert.
func FuzzReadWAVRate(f *testing.F) {
	for _, s := range wavSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		br := bufio.NewReader(bytes.NewReader(b))
		rate, err := readWAVRate(br)
		if err != nil {
			return
		}
		if rate < speech.SampleRate || rate > maxWAVRate {
			t.Fatalf("accepted rate %d", rate)
		}
		rs, err := audio.NewResampler(rate, speech.SampleRate)
		if err != nil {
			t.Fatalf("rate %d: %v", rate, err)
		}
		var dec audio.PCM16Decoder
		rest, _ := io.ReadAll(br)
		rs.Flush(rs.Process(nil, dec.Decode(nil, rest)))
	})
}
