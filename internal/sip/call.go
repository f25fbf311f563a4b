package sip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/diago/audio"
	"github.com/emiago/diago/media"
	"github.com/emiago/sipgo/sip"

	"github.com/tresen/tresen/internal/speech"
)

// call is one answered SIP call as a phone.Call.
type call struct {
	srv      *Server
	d        *diago.DialogServerSession
	id       string
	from, to string

	audio chan []int16
	dtmf  chan rune

	dtmfMu     sync.Mutex // guards sends on dtmf against its close
	dtmfClosed bool

	// out is the audio queued for the caller; the writer takes a frame every 20 ms.
	outMu  sync.Mutex
	out    []int16
	played atomic.Int64 // samples of queued audio sent

	codec       atomic.Pointer[media.Codec] // the audio codec in use (changes on re-INVITE)
	eventPT     uint8                       // telephone-event payload type, 0 if none
	held        atomic.Bool                 // the caller put us on hold
	lastRTP     atomic.Int64                // unix nanos of the last RTP packet in
	droppedIn   atomic.Int64                // caller frames dropped because nobody read Audio
	done        chan struct{}
	endOnce     sync.Once
	workers     sync.WaitGroup
	transferred atomic.Bool

	// A transfer that joined the call to a leg Tresen placed itself (the peer took no
	// REFER): the call's own RTP loops stop (detached) and joined relays the media.
	media      sync.WaitGroup // the read and write loops
	detached   chan struct{}
	detachOnce sync.Once
	joined     atomic.Pointer[diago.DialogClientSession]
}

func newCall(s *Server, d *diago.DialogServerSession, adm admission) *call {
	c := &call{
		srv:   s,
		d:     d,
		id:    d.InviteRequest.CallID().Value(),
		from:  adm.from,
		to:    adm.to,
		audio: make(chan []int16, 250), // 5 s
		dtmf:  make(chan rune, 32),
		done:  make(chan struct{}),

		detached: make(chan struct{}),
	}
	codec := adm.offer.codecs[0]
	c.codec.Store(&codec)
	for _, cd := range adm.offer.codecs[1:] {
		if cd.Name == "telephone-event" {
			c.eventPT = cd.PayloadType
		}
	}
	c.held.Store(adm.offer.held)
	return c
}

func (c *call) ID() string            { return c.id }
func (c *call) From() string          { return c.from }
func (c *call) To() string            { return c.to }
func (c *call) Audio() <-chan []int16 { return c.audio }
func (c *call) DTMF() <-chan rune     { return c.dtmf }
func (c *call) Done() <-chan struct{} { return c.done }
func (c *call) Played() time.Duration { return samplesDuration(c.played.Load()) }
func (c *call) codecName() string     { return c.codec.Load().Name }
func (c *call) ended() bool           { return isClosed(c.done) }
func (c *call) wait()                 { c.workers.Wait() }
func samplesDuration(n int64) time.Duration {
	return time.Duration(n) * time.Second / speech.SampleRate
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// Play queues audio for the caller.
func (c *call) Play(pcm []int16) error {
	if c.ended() {
		return errors.New("sip: play: call has ended")
	}
	c.outMu.Lock()
	c.out = append(c.out, pcm...)
	c.outMu.Unlock()
	return nil
}

// Flush drops the queued audio; the next frame out is silence.
func (c *call) Flush() {
	c.outMu.Lock()
	c.out = c.out[:0]
	c.outMu.Unlock()
}

// Hangup ends the call with BYE.
func (c *call) Hangup(ctx context.Context) error {
	if c.ended() {
		return nil
	}
	err := c.d.Hangup(ctx)
	c.end()
	if err != nil && !errors.Is(err, context.Canceled) && c.d.LoadState() != sip.DialogStateEnded {
		return fmt.Errorf("sip: hangup: %w", err)
	}
	return nil
}

// Transfer hands the call over with a blind REFER and ends the assistant's part once the
// caller's side reports the transfer target reached. If the peer refuses the REFER or
// the transfer fails, the call stays with the assistant and the error says why.
func (c *call) Transfer(ctx context.Context, target string) error {
	if c.ended() {
		return errors.New("sip: transfer: call has ended")
	}
	uri, err := c.transferURI(target)
	if err != nil {
		return err
	}
	final := make(chan int, 1)
	referErr := c.d.ReferOptions(ctx, uri, diago.ReferServerOptions{
		OnNotify: func(code int) {
			if code >= 200 {
				select {
				case final <- code:
				default:
				}
			}
		},
	})
	if referErr != nil {
		// Many trunks take no REFER from their customers: Tresen calls the team itself
		// and joins the calls.
		if err := c.join(ctx, uri); err != nil {
			return fmt.Errorf("sip: transfer: REFER refused (%v), calling the team failed: %w", referErr, err)
		}
		return nil
	}
	select {
	case code := <-final:
		if code >= 300 {
			return fmt.Errorf("sip: transfer failed: the target answered %d", code)
		}
	case <-c.done: // the peer hung up on its own once transferred
	case <-ctx.Done():
		return fmt.Errorf("sip: transfer: %w", ctx.Err())
	}
	c.transferred.Store(true)
	hctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.Hangup(hctx)
}

// transferRing is how long the team's phone rings when Tresen transfers by calling it.
const transferRing = 30 * time.Second

// join places a call to uri (showing the caller's number) and, once answered, joins the
// caller to it: the call's own RTP loops stop and diago relays the media as is. The call
// stays up until either side hangs up (see serveDialog).
func (c *call) join(ctx context.Context, uri sip.Uri) error {
	dctx, cancel := context.WithTimeout(ctx, transferRing)
	defer cancel()
	out, err := c.srv.dial(dctx, c.d, uri)
	if err != nil {
		if status := responseStatus(err); status != 0 {
			return fmt.Errorf("the team's phone answered %d", status)
		}
		return err
	}
	if err := out.Ack(ctx); err != nil {
		out.Close()
		return err
	}
	c.detach()
	if err := relay(c.d, out); err != nil {
		hangup(out, c)
		out.Close()
		// Its media loops are gone: the caller cannot stay with the assistant.
		return fmt.Errorf("joining the calls: %w", err)
	}
	c.joined.Store(out)
	c.transferred.Store(true)
	return nil
}

// detach stops the call's own reading and writing of RTP and waits for both loops; the
// call stays up.
func (c *call) detach() {
	c.detachOnce.Do(func() { close(c.detached) })
	ms := c.d.MediaSession()
	if ms != nil {
		_ = ms.StopRTP(1, 0) // unblocks the reader
	}
	c.media.Wait()
	if ms != nil {
		_ = ms.StartRTP(1)
	}
}

// transferURI turns a number or SIP URI into the Refer-To URI (see Server.dialURI).
func (c *call) transferURI(target string) (sip.Uri, error) {
	uri, err := c.srv.dialURI(c.d.InviteRequest, target)
	if err != nil {
		return uri, fmt.Errorf("sip: transfer: %w", err)
	}
	return uri, nil
}

// end marks the call ended and stops its goroutines; the channels close once the
// reader has stopped.
func (c *call) end() {
	c.endOnce.Do(func() {
		close(c.done)
		if ms := c.d.MediaSession(); ms != nil {
			_ = ms.StopRTP(1, 0) // unblocks the reader
		}
	})
}

// mediaUpdated follows a re-INVITE: the codec may have changed.
func (c *call) mediaUpdated(m *diago.DialogMedia) {
	if ms := m.MediaSession(); ms != nil {
		codec := media.CodecAudioFromSession(ms)
		c.codec.Store(&codec)
	}
}

func (c *call) start() {
	c.lastRTP.Store(time.Now().UnixNano())
	c.workers.Add(3)
	go func() {
		defer c.workers.Done()
		select {
		case <-c.d.Context().Done(): // BYE, or our own hangup
			c.end()
		case <-c.done:
		}
	}()
	c.media.Add(2)
	go func() {
		defer c.workers.Done()
		defer c.media.Done()
		c.readLoop()
	}()
	go func() {
		defer c.workers.Done()
		defer c.media.Done()
		c.writeLoop()
	}()
}

func (c *call) pushDTMF(r rune) {
	c.dtmfMu.Lock()
	defer c.dtmfMu.Unlock()
	if c.dtmfClosed {
		return
	}
	select {
	case c.dtmf <- r:
	default:
		c.srv.log.Warn("DTMF dropped: nobody reads the keys", "call", c.id)
	}
}

// maxGapFrames bounds the silence filled in for lost packets; a longer gap is a new
// stream (the peer restarted its clock) or silence suppression, not loss.
const maxGapFrames = 50

// readLoop decodes the caller's RTP into 20 ms frames of PCM, in order: late and
// duplicate packets are dropped, lost ones filled with silence; telephone-events become
// keys.
func (c *call) readLoop() {
	defer func() {
		close(c.audio)
		c.dtmfMu.Lock()
		c.dtmfClosed = true
		close(c.dtmf)
		c.dtmfMu.Unlock()
	}()
	r := c.d.RTPPacketReader
	buf := make([]byte, media.RTPBufSize)
	pcm := make([]byte, 2*media.RTPBufSize)
	var (
		frame   []int16
		started bool
		ssrc    uint32
		nextTS  uint32
		events  eventDeduper
	)
	emit := func(samples []int16) {
		for len(samples) > 0 {
			n := min(speech.FrameSize-len(frame), len(samples))
			frame = append(frame, samples[:n]...)
			samples = samples[n:]
			if len(frame) == speech.FrameSize {
				select {
				case c.audio <- frame:
				default:
					c.droppedIn.Add(1)
				}
				frame = make([]int16, 0, speech.FrameSize)
			}
		}
	}
	frame = make([]int16, 0, speech.FrameSize)
	for {
		n, err := r.Read(buf)
		if err != nil {
			if c.ended() {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				if isClosed(c.detached) {
					return // joined to another call: the bridge reads now
				}
				continue // a re-INVITE swapped the RTP session
			}
			c.srv.log.Info("RTP read ended", "call", c.id, "err", err)
			c.end()
			return
		}
		if n == 0 {
			continue
		}
		c.lastRTP.Store(time.Now().UnixNano())
		hdr := r.PacketHeader
		payload := buf[:n]
		if c.eventPT != 0 && hdr.PayloadType == c.eventPT {
			var ev media.DTMFEvent
			if media.DTMFDecode(payload, &ev) != nil {
				continue
			}
			if key, ok := eventKey(ev.Event); ok && events.press(hdr.SSRC, hdr.Timestamp, ev.Event, hdr.Marker) {
				c.pushDTMF(key)
			}
			continue
		}
		var decode func(lpcm, enc []byte) (int, error)
		switch hdr.PayloadType {
		case 8:
			decode = audio.DecodeAlawTo
		case 0:
			decode = audio.DecodeUlawTo
		default:
			continue // comfort noise and anything not negotiated
		}
		if started && hdr.SSRC == ssrc {
			diff := int32(hdr.Timestamp - nextTS)
			switch {
			case diff < 0 && diff > -int32(maxGapFrames*speech.FrameSize):
				continue // late or duplicate
			case diff > 0 && diff <= int32(maxGapFrames*speech.FrameSize):
				emit(make([]int16, diff))
			}
		}
		started, ssrc = true, hdr.SSRC
		nextTS = hdr.Timestamp + uint32(n)
		m, err := decode(pcm, payload)
		if err != nil {
			continue
		}
		samples := make([]int16, m/2)
		for i := range samples {
			samples[i] = int16(uint16(pcm[2*i]) | uint16(pcm[2*i+1])<<8)
		}
		emit(samples)
	}
}

// writeLoop sends a frame every 20 ms: queued audio, or silence when nothing is queued,
// so the caller's jitter buffer and NATs see a steady stream. diago's packet writer
// paces it on its clock.
func (c *call) writeLoop() {
	w := c.d.RTPPacketWriter
	frame := make([]int16, speech.FrameSize)
	lpcm := make([]byte, 2*speech.FrameSize)
	enc := make([]byte, speech.FrameSize)
	tick := time.NewTicker(speech.FrameLength)
	defer tick.Stop()
	for {
		if c.ended() || isClosed(c.detached) {
			return
		}
		if to := c.srv.opts.MediaTimeout; to > 0 && !c.held.Load() &&
			time.Since(time.Unix(0, c.lastRTP.Load())) > to {
			c.srv.log.Info("no RTP from the caller: hanging up", "call", c.id, "after", to)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = c.Hangup(ctx)
			cancel()
			return
		}
		if c.held.Load() {
			// On hold the caller hears their PBX's music; the prompt waits.
			c.lastRTP.Store(time.Now().UnixNano())
			select {
			case <-tick.C:
			case <-c.done:
				return
			}
			continue
		}
		clear(frame)
		c.outMu.Lock()
		n := copy(frame, c.out)
		c.out = c.out[n:]
		if len(c.out) == 0 {
			c.out = c.out[:0:0] // let a long prompt's buffer go
		}
		c.outMu.Unlock()
		for i, s := range frame {
			lpcm[2*i] = byte(s)
			lpcm[2*i+1] = byte(uint16(s) >> 8)
		}
		codec := c.codec.Load()
		var err error
		if codec.PayloadType == 0 {
			_, err = audio.EncodeUlawTo(enc, lpcm)
		} else {
			_, err = audio.EncodeAlawTo(enc, lpcm)
		}
		if err != nil {
			c.srv.log.Error("encode", "call", c.id, "err", err)
			return
		}
		if _, err := w.Write(enc); err != nil {
			if !c.ended() {
				c.srv.log.Info("RTP write ended", "call", c.id, "err", err)
				c.end()
			}
			return
		}
		c.played.Add(int64(n))
	}
}
