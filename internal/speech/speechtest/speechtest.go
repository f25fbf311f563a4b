// Package speechtest helps test the recognisers (speech.Recognizer adapters): telephone
// audio to send and the collecting of what a stream gives back.
package speechtest

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/tresen/tresen/internal/speech"
)

// Frames returns n telephone frames of 20 ms, each sample different, so that a server
// can tell whether it got the audio whole and in order.
func Frames(n int) [][]int16 {
	out := make([][]int16, n)
	for f := range out {
		out[f] = make([]int16, speech.FrameSize)
		for i := range out[f] {
			out[f][i] = int16(f*speech.FrameSize + i - 4000)
		}
	}
	return out
}

// PCMBytes is the frames as 16-bit little-endian PCM, as the services receive them.
func PCMBytes(fs [][]int16) []byte {
	var b []byte
	for _, f := range fs {
		for _, v := range f {
			b = binary.LittleEndian.AppendUint16(b, uint16(v))
		}
	}
	return b
}

// WriteAll writes the frames to the stream.
func WriteAll(t *testing.T, st speech.Stream, fs [][]int16) {
	t.Helper()
	for _, f := range fs {
		if err := st.Write(f); err != nil {
			t.Fatalf("Write: %v", err)
		}
	}
}

// Collect returns the stream's results once it closed them (within 10 s).
func Collect(t *testing.T, st speech.Stream) []speech.Result {
	t.Helper()
	var got []speech.Result
	timeout := time.After(10 * time.Second)
	for {
		select {
		case r, ok := <-st.Results():
			if !ok {
				return got
			}
			got = append(got, r)
		case <-timeout:
			t.Fatalf("Results not closed; got %+v so far", got)
		}
	}
}
