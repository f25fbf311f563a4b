package audio

import (
	"strconv"
	"testing"

	"github.com/tresen/tresen/internal/speech"
)

// Each benchmark handles one 20 ms frame per operation.

func BenchmarkG711(b *testing.B) {
	pcm := sine(8000, 440, 10000, speech.FrameSize)
	enc := make([]byte, 0, speech.FrameSize)
	dec := make([]int16, 0, speech.FrameSize)
	alaw := EncodeALaw(nil, pcm)
	b.Run("ALawEncode", func(b *testing.B) {
		for b.Loop() {
			enc = EncodeALaw(enc[:0], pcm)
		}
	})
	b.Run("ALawDecode", func(b *testing.B) {
		for b.Loop() {
			dec = DecodeALaw(dec[:0], alaw)
		}
	})
	b.Run("ULawEncode", func(b *testing.B) {
		for b.Loop() {
			enc = EncodeULaw(enc[:0], pcm)
		}
	})
	b.Run("ULawDecode", func(b *testing.B) {
		for b.Loop() {
			dec = DecodeULaw(dec[:0], alaw)
		}
	})
}

func BenchmarkResample(b *testing.B) {
	for _, rate := range telephoneRates {
		for _, dir := range [][2]int{{rate, 8000}, {8000, rate}} {
			from, to := dir[0], dir[1]
			b.Run(strconv.Itoa(from)+"to"+strconv.Itoa(to), func(b *testing.B) {
				in := sine(from, 440, 10000, from/50)
				r, _ := NewResampler(from, to)
				out := make([]int16, 0, to/50+2)
				for b.Loop() {
					out = r.Process(out[:0], in)
				}
			})
		}
	}
}

func BenchmarkDetectorFeed(b *testing.B) {
	pcm := newSignal(10*1e9).noise(-50, 0, 1<<62).tone(440, -25, 2e9, 6e9).int16s()
	d := NewDetector(VADConfig{})
	i := 0
	for b.Loop() {
		d.Feed(pcm[i : i+speech.FrameSize])
		if i += speech.FrameSize; i+speech.FrameSize > len(pcm) {
			i = 0
		}
	}
}

func BenchmarkJitterPushPop(b *testing.B) {
	j := NewJitter(JitterConfig{})
	pcm := framePCM(1)
	var k uint32
	for b.Loop() {
		j.Push(Packet{Seq: uint16(k), Timestamp: k * uint32(speech.FrameSize), PCM: pcm})
		j.Pop()
		k++
	}
}
