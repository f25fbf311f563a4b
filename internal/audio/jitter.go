package audio

import "github.com/tresen/tresen/internal/speech"

// Packet is one RTP-like packet of a caller's audio, already decoded.
type Packet struct {
	Seq       uint16
	Timestamp uint32  // RTP timestamp in samples at 8 kHz
	PCM       []int16 // usually speech.FrameSize samples; longer payloads (ptime 30, 40 ms) are split
}

// FrameKind says where a frame from the jitter buffer came from.
type FrameKind int

const (
	FrameAudio   FrameKind = iota // the caller's audio
	FrameRepeat                   // a lost frame, concealed by repeating the one before
	FrameSilence                  // a lost frame, or none sent (silence suppression)
)

// Frame is one 20 ms frame out of the jitter buffer.
type Frame struct {
	PCM       []int16 // speech.FrameSize samples, owned by the receiver
	Kind      FrameKind
	Timestamp uint32 // the RTP timestamp this frame stands for
}

// JitterConfig tunes a Jitter buffer. The zero value of a field takes its default.
type JitterConfig struct {
	// Delay is how many frames a packet waits before it is played (default 3: 60 ms):
	// packets arriving up to this much later than the first one are still in time.
	Delay int
	// MaxAhead is how far ahead of playout a packet may be, in frames (default 50: 1 s).
	// A packet further ahead means the sender's clock jumped: the buffer starts anew.
	MaxAhead int
	// NoRepeat fills every lost frame with silence; by default the first frame of a gap
	// repeats the last frame played, which hides a single lost packet well.
	NoRepeat bool
}

// JitterStats counts what a Jitter buffer did.
type JitterStats struct {
	Received  int // packets pushed
	Frames    int // frames played from packets
	Repeated  int // lost frames concealed by repetition
	Silence   int // frames filled with silence
	Late      int // packets dropped because their time had passed
	Duplicate int // packets dropped because their frame was already there or played
	Empty     int // packets without audio
	Resyncs   int // times the buffer started anew on a timestamp jump
}

// lateResync is how many late packets in a row mean that the sender's timestamps jumped
// back (a new stream, a hold) rather than that the network is slow.
const lateResync = 10

const frameSize = int64(speech.FrameSize)

// Jitter is a jitter buffer: packets go in as they arrive, out of order, duplicated or
// not at all; Pop, called once every 20 ms, gives the caller's audio frame by frame in
// order, a fixed Delay later, with the gaps filled. Playout follows the RTP timestamps,
// so silence suppression (no packets while the caller is quiet) needs no special case;
// sequence numbers are carried but not needed. It is not safe for concurrent use.
type Jitter struct {
	cfg   JitterConfig
	slots []jitterSlot // ring indexed by frame number & mask
	mask  int64

	started bool   // a packet has arrived
	playing bool   // a frame has been played
	wait    int    // Pops left before playout (re)starts
	refTS   uint32 // timestamp of the packet that anchored frame 0
	refExt  int64  // its extended value (timestamps unwrapped)
	lastTS  uint32 // latest timestamp seen, and its extended value, to unwrap the next
	lastExt int64
	play    int64 // frame number played next
	low     int64 // while waiting: the earliest frame number still accepted

	outTS    uint32  // timestamp of the last frame given out
	last     []int16 // last frame played
	repeated bool    // the current gap has used its one repetition
	lateRun  int
	stats    JitterStats
}

type jitterSlot struct {
	n      int64 // frame number held, or played (for duplicates)
	pcm    []int16
	full   bool
	played bool
}

// NewJitter returns an empty Jitter buffer.
func NewJitter(cfg JitterConfig) *Jitter {
	if cfg.Delay <= 0 {
		cfg.Delay = 3
	}
	if cfg.MaxAhead <= cfg.Delay {
		cfg.MaxAhead = max(50, cfg.Delay+1)
	}
	size := int64(1)
	for size < int64(cfg.Delay+cfg.MaxAhead+2) {
		size *= 2
	}
	return &Jitter{cfg: cfg, slots: make([]jitterSlot, size), mask: size - 1}
}

// Stats returns the counts so far.
func (j *Jitter) Stats() JitterStats { return j.stats }

// Buffered is how many frames are waiting to be played.
func (j *Jitter) Buffered() int {
	n := 0
	for i := range j.slots {
		if j.slots[i].full {
			n++
		}
	}
	return n
}

// Push takes a packet as it arrives. It copies the samples. It reports whether the packet
// was kept (false: late, duplicate or empty).
func (j *Jitter) Push(p Packet) bool {
	j.stats.Received++
	if len(p.PCM) == 0 {
		j.stats.Empty++
		return false
	}
	if !j.started {
		j.anchor(p.Timestamp)
		j.started = true
	}
	ext := j.lastExt + int64(int32(p.Timestamp-j.lastTS))
	n := j.frameNumber(ext)
	lowest := j.play
	if !j.playing && j.wait > 0 {
		lowest = j.low
	}
	if n < lowest {
		if j.slots[n&j.mask].n == n && j.slots[n&j.mask].played {
			j.stats.Duplicate++
			return false
		}
		j.stats.Late++
		if j.lateRun++; j.lateRun < lateResync {
			return false
		}
		j.resync(p.Timestamp)
		ext, n = j.refExt, 0
	} else if n-lowest > int64(j.cfg.MaxAhead) {
		j.resync(p.Timestamp)
		ext, n = j.refExt, 0
	}
	j.lateRun = 0
	if ext > j.lastExt {
		j.lastTS, j.lastExt = p.Timestamp, ext
	}
	kept := false
	for pcm := p.PCM; len(pcm) > 0; n++ {
		k := min(len(pcm), speech.FrameSize)
		chunk := pcm[:k]
		pcm = pcm[k:]
		if n-j.play > int64(j.cfg.MaxAhead) {
			break // the rest of a very long payload
		}
		s := &j.slots[n&j.mask]
		if s.n == n && (s.full || s.played) {
			continue
		}
		frame := make([]int16, speech.FrameSize)
		copy(frame, chunk)
		*s = jitterSlot{n: n, pcm: frame, full: true}
		kept = true
	}
	if !kept {
		j.stats.Duplicate++
	}
	return kept
}

// anchor makes ts frame 0 and waits Delay Pops before playing.
func (j *Jitter) anchor(ts uint32) {
	j.refTS, j.refExt = ts, 0
	j.lastTS, j.lastExt = ts, 0
	j.play, j.low = 0, int64(-j.cfg.Delay)
	j.wait = j.cfg.Delay
}

func (j *Jitter) resync(ts uint32) {
	j.stats.Resyncs++
	for i := range j.slots {
		j.slots[i] = jitterSlot{}
	}
	j.anchor(ts)
	j.playing = false
	j.lateRun = 0
}

// frameNumber is the frame an extended timestamp falls in, rounded to the nearest.
func (j *Jitter) frameNumber(ext int64) int64 {
	d := ext - j.refExt + frameSize/2
	if d >= 0 {
		return d / frameSize
	}
	return -((-d + frameSize - 1) / frameSize)
}

// Pop returns the next frame; call it once per 20 ms. It returns false until the first
// packet has waited Delay Pops (it comes out of the next one); from then on it always
// returns a frame.
func (j *Jitter) Pop() (Frame, bool) {
	if !j.started {
		return Frame{}, false
	}
	if j.wait > 0 {
		j.wait--
		return j.silence(j.last != nil), j.last != nil
	}
	if !j.playing && !j.start() {
		return j.silence(j.last != nil), j.last != nil
	}
	n := j.play
	j.play++
	ts := j.refTS + uint32(n*frameSize)
	j.outTS = ts
	s := &j.slots[n&j.mask]
	if s.n == n && s.full {
		pcm := s.pcm
		s.full, s.played, s.pcm = false, true, nil
		j.last, j.repeated = pcm, false
		j.stats.Frames++
		return Frame{PCM: append([]int16(nil), pcm...), Kind: FrameAudio, Timestamp: ts}, true
	}
	if !j.cfg.NoRepeat && j.last != nil && !j.repeated {
		j.repeated = true
		j.stats.Repeated++
		return Frame{PCM: append([]int16(nil), j.last...), Kind: FrameRepeat, Timestamp: ts}, true
	}
	j.repeated = true
	j.stats.Silence++
	return Frame{PCM: make([]int16, speech.FrameSize), Kind: FrameSilence, Timestamp: ts}, true
}

// start begins playout at the earliest frame held; false if none is.
func (j *Jitter) start() bool {
	first, ok := int64(0), false
	for i := range j.slots {
		s := &j.slots[i]
		if s.full && (!ok || s.n < first) {
			first, ok = s.n, true
		}
	}
	if !ok {
		return false
	}
	j.play, j.playing = first, true
	return true
}

// silence is a silent frame; while the buffer refills after a resync, it continues the
// timestamps of the frames before.
func (j *Jitter) silence(count bool) Frame {
	if count {
		j.stats.Silence++
		j.outTS += uint32(speech.FrameSize)
	}
	return Frame{PCM: make([]int16, speech.FrameSize), Kind: FrameSilence, Timestamp: j.outTS}
}
