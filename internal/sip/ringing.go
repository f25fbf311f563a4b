package sip

import (
	"math"
	"sync"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/diago/audio"

	"github.com/tresen/tresen/internal/speech"
)

// ringer tells the caller that the call rings before it is answered: 180 Ringing, or
// with Options.EarlyMedia 183 Session Progress with SDP and the ringing tone in the
// media. Starting and stopping are idempotent; stop before the call is answered.
type ringer struct {
	s   *Server
	d   *diago.DialogServerSession
	adm admission

	once    sync.Once
	err     error
	quit    chan struct{}
	stopped sync.WaitGroup
	stopMu  sync.Once
}

func newRinger(s *Server, d *diago.DialogServerSession, adm admission) *ringer {
	return &ringer{s: s, d: d, adm: adm, quit: make(chan struct{})}
}

// start sends 180, or 183 with early media, once.
func (r *ringer) start() error {
	r.once.Do(func() {
		if !r.s.opts.EarlyMedia || r.adm.late {
			r.err = r.d.Ringing()
			return
		}
		if r.err = r.d.ProgressMediaOptions(diago.ProgressMediaOptions{Codecs: r.adm.offer.codecs}); r.err != nil {
			return
		}
		r.stopped.Add(1)
		go func() {
			defer r.stopped.Done()
			r.playTone()
		}()
	})
	return r.err
}

// stop ends the ringing tone and waits until its writer is done.
func (r *ringer) stop() {
	r.stopMu.Do(func() { close(r.quit) })
	r.stopped.Wait()
}

// Germany's ringing tone (ITU-T E.180 Suppl. 2): 425 Hz, 1 s on, 4 s off.
const (
	ringHz  = 425
	ringOn  = time.Second
	ringOff = 4 * time.Second
	// ringLevel is about −13 dBm0 in 16-bit linear PCM.
	ringLevel = 5000
)

// ringTone is one cadence of the tone: 1 s of 425 Hz, then 4 s of silence.
var ringTone = func() []int16 {
	on := int(ringOn.Seconds() * speech.SampleRate)
	pcm := make([]int16, int((ringOn+ringOff).Seconds()*speech.SampleRate))
	for i := range on {
		pcm[i] = int16(ringLevel * math.Sin(2*math.Pi*ringHz*float64(i)/speech.SampleRate))
	}
	return pcm
}()

// playTone sends the ringing tone in the early media, a frame every 20 ms, until stop.
func (r *ringer) playTone() {
	w := r.d.RTPPacketWriter
	if w == nil {
		return
	}
	codec := r.adm.offer.codecs[0]
	lpcm := make([]byte, 2*speech.FrameSize)
	enc := make([]byte, speech.FrameSize)
	tick := time.NewTicker(speech.FrameLength)
	defer tick.Stop()
	for pos := 0; ; pos = (pos + speech.FrameSize) % len(ringTone) {
		for i, v := range ringTone[pos : pos+speech.FrameSize] {
			lpcm[2*i], lpcm[2*i+1] = byte(v), byte(uint16(v)>>8)
		}
		var err error
		if codec.PayloadType == 0 {
			_, err = audio.EncodeUlawTo(enc, lpcm)
		} else {
			_, err = audio.EncodeAlawTo(enc, lpcm)
		}
		if err == nil {
			_, err = w.Write(enc)
		}
		if err != nil {
			return
		}
		select {
		case <-tick.C:
		case <-r.quit:
			return
		case <-r.d.Context().Done():
			return
		}
	}
}
