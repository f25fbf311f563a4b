package audio

import (
	"slices"
	"sort"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/speech"
)

// framePCM is a frame whose samples all carry the frame's number, so that the output
// tells which packet it came from.
func framePCM(id int) []int16 {
	pcm := make([]int16, speech.FrameSize)
	for i := range pcm {
		pcm[i] = int16(id)
	}
	return pcm
}

// arrival is a packet and when it arrives, in 20 ms ticks after the first was sent.
type arrival struct {
	tick float64
	p    Packet
}

// stream sends n packets of 20 ms from seq0/ts0, packet k at tick k, and lets delay
// (in ticks; <0 drops) decide when each arrives.
func stream(n int, seq0 uint16, ts0 uint32, delay func(k int) float64) []arrival {
	var as []arrival
	for k := 0; k < n; k++ {
		d := delay(k)
		if d < 0 {
			continue
		}
		as = append(as, arrival{float64(k) + d, Packet{Seq: seq0 + uint16(k), Timestamp: ts0 + uint32(k*speech.FrameSize), PCM: framePCM(k)}})
	}
	return as
}

// play pushes the arrivals and pops once per tick, for ticks Pops; it returns the
// frames as "A<id>" (audio), "R<id>" (repeat) or "S" (silence), "-" for no frame.
func play(j *Jitter, as []arrival, ticks int) []string {
	sort.SliceStable(as, func(a, b int) bool { return as[a].tick < as[b].tick })
	var out []string
	i := 0
	for t := 0; t < ticks; t++ {
		// Packets arriving in (t-1, t] are there for the Pop at tick t.
		for i < len(as) && as[i].tick <= float64(t) {
			j.Push(as[i].p)
			i++
		}
		f, ok := j.Pop()
		switch {
		case !ok:
			out = append(out, "-")
		case f.Kind == FrameAudio:
			out = append(out, "A"+itoa(int(f.PCM[0])))
		case f.Kind == FrameRepeat:
			out = append(out, "R"+itoa(int(f.PCM[0])))
		default:
			out = append(out, "S")
		}
	}
	return out
}

func itoa(i int) string { return strconv.Itoa(i) }

func seqOut(from, to int) []string {
	var s []string
	for k := from; k < to; k++ {
		s = append(s, "A"+itoa(k))
	}
	return s
}

func TestJitterInOrder(t *testing.T) {
	j := NewJitter(JitterConfig{})
	got := play(j, stream(10, 65530, 4294967296-5*160, func(int) float64 { return 0.3 }), 15)
	// The first packet waits Delay (3) Pops; sequence numbers and timestamps wrap.
	want := append([]string{"-", "-", "-", "-"}, seqOut(0, 10)...)
	want = append(want, "R9")
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("frames (-want +got):\n%s", d)
	}
	if s := j.Stats(); s.Frames != 10 || s.Late != 0 || s.Duplicate != 0 || s.Repeated != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestJitterReorderDuplicateLoss(t *testing.T) {
	j := NewJitter(JitterConfig{})
	as := stream(20, 100, 1000, func(k int) float64 {
		switch k {
		case 4:
			return 3.5 // overtaken by 5, 6 and 7: still in time
		case 8:
			return -1 // lost: repeated
		case 12, 13, 14:
			return -1 // lost: repeated once, then silence
		case 16:
			return 5 // too late: concealed, then dropped
		}
		return 0.2
	})
	// Every packet also arrives a second time, a little later.
	for _, a := range slices.Clone(as) {
		as = append(as, arrival{a.tick + 1.5, a.p})
	}
	got := play(j, as, 25)
	want := []string{"-", "-", "-", "-", "A0", "A1", "A2", "A3", "A4", "A5", "A6", "A7", "R7", "A9", "A10", "A11", "R11", "S", "S", "A15", "R15", "A17", "A18", "A19", "R19"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("frames (-want +got):\n%s", d)
	}
	s := j.Stats()
	// 16 packets twice; the one late packet twice late.
	want2 := JitterStats{Received: 32, Frames: 15, Repeated: 4, Silence: 2, Late: 2, Duplicate: 15}
	if d := cmp.Diff(want2, s); d != "" {
		t.Errorf("stats (-want +got):\n%s", d)
	}
}

func TestJitterNoRepeat(t *testing.T) {
	j := NewJitter(JitterConfig{Delay: 1, NoRepeat: true})
	got := play(j, stream(5, 0, 0, func(k int) float64 {
		if k == 2 {
			return -1
		}
		return 0
	}), 6)
	want := []string{"-", "A0", "A1", "S", "A3", "A4"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("frames (-want +got):\n%s", d)
	}
}

// Silence suppression: the sender stops for a second and goes on with later timestamps
// (and the next sequence number). The gap is silence, nothing is late.
func TestJitterSilenceSuppression(t *testing.T) {
	j := NewJitter(JitterConfig{Delay: 2})
	as := stream(5, 10, 8000, func(int) float64 { return 0 })
	for _, a := range stream(5, 15, 8000+55*160, func(int) float64 { return 0 }) {
		a.tick += 55
		a.p.PCM = framePCM(int(a.p.PCM[0]) + 55)
		as = append(as, a)
	}
	got := play(j, as, 63)
	if s := j.Stats(); s.Frames != 10 || s.Late != 0 || s.Resyncs != 0 {
		t.Errorf("stats %+v", s)
	}
	if d := cmp.Diff(seqOut(55, 60), got[57:62]); d != "" {
		t.Errorf("after the pause (-want +got):\n%s", d)
	}
}

// A timestamp jump forward (a new stream from the sender) or back starts the buffer anew
// instead of dropping everything after it.
func TestJitterResync(t *testing.T) {
	for name, jump := range map[string]uint32{"forward": 1 << 30, "back": 1<<32 - 1<<20} {
		t.Run(name, func(t *testing.T) {
			j := NewJitter(JitterConfig{})
			as := stream(10, 0, 5000, func(int) float64 { return 0 })
			for _, a := range stream(30, 10, 5000+10*160+jump, func(int) float64 { return 0 }) {
				a.tick += 10
				a.p.PCM = framePCM(int(a.p.PCM[0]) + 100)
				as = append(as, a)
			}
			got := play(j, as, 45)
			if s := j.Stats(); s.Resyncs != 1 {
				t.Fatalf("stats %+v", s)
			}
			// The frames of the new stream come out in order until the end.
			i := slices.Index(got, "A120")
			if i < 0 || !slices.Equal(got[i:i+10], seqOut(120, 130)) {
				t.Errorf("frames %v", got)
			}
		})
	}
}

// A packet of 40 ms fills two frames.
func TestJitterLongPayload(t *testing.T) {
	j := NewJitter(JitterConfig{Delay: 1})
	for k := 0; k < 3; k++ {
		pcm := append(framePCM(2*k), framePCM(2*k+1)...)
		j.Push(Packet{Seq: uint16(k), Timestamp: uint32(2 * k * speech.FrameSize), PCM: pcm})
	}
	var got []string
	for i := 0; i < 7; i++ {
		f, ok := j.Pop()
		if ok && f.Kind == FrameAudio {
			got = append(got, "A"+itoa(int(f.PCM[0])))
		}
	}
	if d := cmp.Diff(seqOut(0, 6), got); d != "" {
		t.Errorf("frames (-want +got):\n%s", d)
	}
	if j.Push(Packet{Seq: 9, Timestamp: 0}) || j.Stats().Empty != 1 {
		t.Error("empty packet accepted")
	}
}

// FuzzJitter pushes and pops at random: no panic; every frame is whole; frames are
// consecutive in timestamp except across a resync; audio frames of a well-behaved sender
// (timestamp = sequence number × 160) come out in sequence order.
func FuzzJitter(f *testing.F) {
	f.Add([]byte{1, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 3, 1, 0, 2, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{1, 255, 255, 1, 0, 0, 1, 0, 5, 0, 0, 0, 0, 0, 0, 1, 128, 0, 0, 0, 0})
	f.Add([]byte{5, 0, 9, 9, 0, 1, 3, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, ops []byte) {
		j := NewJitter(JitterConfig{Delay: int(len(ops) % 5)})
		var (
			started, have bool
			lastTS        uint32
			resyncs       int
			pendingJump   bool
			lastSeq       = -1
		)
		for len(ops) >= 3 {
			op, a, b := ops[0], ops[1], ops[2]
			ops = ops[3:]
			if op%4 != 0 {
				seq := uint16(a)<<8 | uint16(b)
				ts := uint32(seq) * uint32(speech.FrameSize)
				n := speech.FrameSize
				if op%16 == 3 {
					ts += uint32(op) * 977 // a sender with jumpy timestamps
				}
				if op%32 == 5 {
					n = int(op) * 3 // odd payload sizes
				}
				pcm := make([]int16, n)
				for i := range pcm {
					pcm[i] = int16(seq)
				}
				j.Push(Packet{Seq: seq, Timestamp: ts, PCM: pcm})
				continue
			}
			fr, ok := j.Pop()
			if !ok {
				if started {
					t.Fatal("no frame after frames had started")
				}
				continue
			}
			started = true
			if len(fr.PCM) != speech.FrameSize {
				t.Fatalf("frame of %d samples", len(fr.PCM))
			}
			if s := j.Stats(); s.Resyncs != resyncs {
				resyncs, pendingJump, lastSeq = s.Resyncs, true, -1
			}
			if have && fr.Timestamp != lastTS+uint32(speech.FrameSize) {
				if !pendingJump {
					t.Fatalf("timestamp %d after %d without a resync", fr.Timestamp, lastTS)
				}
				pendingJump = false
			}
			have, lastTS = true, fr.Timestamp
			if fr.Kind == FrameAudio {
				seq := int(uint16(fr.PCM[0]))
				if fr.Timestamp%uint32(speech.FrameSize) == 0 && uint16(fr.Timestamp/uint32(speech.FrameSize)) == uint16(seq) {
					// A well-behaved packet: later in sequence than the one before.
					if lastSeq >= 0 && int16(uint16(seq)-uint16(lastSeq)) <= 0 {
						t.Fatalf("frame of packet %d after packet %d", seq, lastSeq)
					}
					lastSeq = seq
				}
			}
		}
		s := j.Stats()
		if s.Frames+s.Repeated+s.Silence > s.Received*64+1000 {
			t.Fatalf("stats %+v", s)
		}
	})
}
