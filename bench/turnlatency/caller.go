package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/emiago/diago"
	dgaudio "github.com/emiago/diago/audio"
	"github.com/emiago/diago/media"
	"github.com/emiago/sipgo/sip"

	"github.com/tresen/tresen/bench/internal/loadstat"
	"github.com/tresen/tresen/internal/audio"
	"github.com/tresen/tresen/internal/speech"
)

// rms is the root mean square of a frame's samples.
func rms(pcm []int16) float64 {
	if len(pcm) == 0 {
		return 0
	}
	var sum float64
	for _, v := range pcm {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum / float64(len(pcm)))
}

// line is what a caller hears: the server's RTP, packet by packet.
type line struct {
	mu         sync.Mutex
	mark       time.Time // from when speech counts as the next prompt or reply
	speech     int       // speech frames since mark
	quiet      int       // frames without speech since the last speech frame
	firstAudio time.Time // the first packet since mark that is not the server's silence
	firstSpch  time.Time // the first speech frame since mark
	ended      error
}

func (l *line) setMark(t time.Time) {
	l.mu.Lock()
	l.mark, l.speech, l.firstAudio, l.firstSpch = t, 0, time.Time{}, time.Time{}
	l.mu.Unlock()
}

// listen reads the server's RTP until the call's media ends, and classes each packet:
// silence (only the A-law codes of 0 and −1, the server's filler), audible, or speech
// (RMS of the decoded samples above -speech-rms).
func (r *run) listen(d *diago.DialogClientSession, l *line) {
	rd := d.RTPPacketReader
	buf := make([]byte, media.RTPBufSize)
	lpcm := make([]byte, 2*media.RTPBufSize)
	pcm := make([]int16, 0, media.RTPBufSize)
	for {
		n, err := rd.Read(buf)
		now := time.Now()
		if err != nil {
			l.mu.Lock()
			l.ended = err
			l.mu.Unlock()
			return
		}
		if n == 0 || rd.PacketHeader.PayloadType != media.CodecAudioAlaw.PayloadType {
			continue
		}
		audible := false
		for _, b := range buf[:n] {
			if b != 0xD5 && b != 0x55 {
				audible = true
				break
			}
		}
		isSpeech := false
		if audible {
			if m, err := dgaudio.DecodeAlawTo(lpcm, buf[:n]); err == nil {
				pcm = audio.DecodePCM16(pcm[:0], lpcm[:m])
				isSpeech = rms(pcm) > r.c.speechRMS
			}
		}
		l.mu.Lock()
		if !l.mark.IsZero() && now.After(l.mark) {
			if audible && l.firstAudio.IsZero() {
				l.firstAudio = now
			}
			if isSpeech && l.firstSpch.IsZero() {
				l.firstSpch = now
			}
		}
		if isSpeech {
			l.quiet = 0
			l.speech++
		} else {
			l.quiet++
		}
		l.mu.Unlock()
	}
}

// errHungUp: the server ended the call while the caller still expected it to talk.
var errHungUp = errors.New("the server hung up")

// waitPrompt waits until a prompt or reply has played: speech heard since the mark, then
// -gap of silence after it (counted in frames received, so that a stalled stream is not
// taken for its end).
func (r *run) waitPrompt(d *diago.DialogClientSession, l *line, what string) error {
	deadline := time.Now().Add(r.c.promptWait)
	gapFrames := int(r.c.gap / speech.FrameLength)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-d.Context().Done():
			return fmt.Errorf("%s: %w", what, errHungUp)
		case <-tick.C:
		}
		l.mu.Lock()
		n, quiet, ended := l.speech, l.quiet, l.ended
		l.mu.Unlock()
		switch {
		case ended != nil:
			return fmt.Errorf("%s: RTP ended: %v", what, ended)
		case n > 0 && quiet >= gapFrames:
			return nil
		case time.Now().After(deadline) && n == 0:
			return fmt.Errorf("%s: no speech within %v", what, r.c.promptWait)
		case time.Now().After(deadline):
			return fmt.Errorf("%s: did not end within %v", what, r.c.promptWait)
		}
	}
}

// utterance is one turn of the caller as the sender sends it, and what the sender noted.
type utterance struct {
	frames [][]int16
	done   chan struct{} // closed when the detector mirror ended the turn, or gave up
	after  int           // frames of line noise sent after the utterance

	start, end, sent time.Time // first frame sent, last voiced frame sent, last frame sent
	vadEnd, detect   time.Time
}

// sender sends the caller's RTP every 20 ms, A-law: quiet line noise, or the frames of an
// utterance when one is queued. It feeds what it sends, decoded as the server decodes
// it, to a detector configured as the server's (a mirror of the server's), so that it
// knows which packet ends the turn on the server.
type sender struct {
	r   *run
	w   *media.RTPPacketWriter
	det *audio.Detector

	mu   sync.Mutex
	cur  *utterance
	next int // next frame of cur

	// sentAt is the send time of the latest frames, by frame number, to find the packet
	// the mirror's event points at.
	sentAt [256]time.Time
	frames int
	err    error // why sending stopped
}

// noiseFrame is a quiet line (about −60 dBFS): the detector's noise floor, no speech.
var noiseFrame = func() []int16 {
	f := make([]int16, speech.FrameSize)
	for i := range f {
		f[i] = int16((i*7919)%61 - 30)
	}
	return f
}()

func (s *sender) say(u *utterance) {
	s.mu.Lock()
	s.cur, s.next = u, 0
	s.mu.Unlock()
}

func (s *sender) run(ctx context.Context) {
	t := time.NewTicker(speech.FrameLength)
	defer t.Stop()
	lpcm := make([]byte, 2*speech.FrameSize)
	enc := make([]byte, speech.FrameSize)
	dec := make([]byte, 2*speech.FrameSize)
	heard := make([]int16, 0, speech.FrameSize)
	for first := true; ; first = false {
		s.mu.Lock()
		u := s.cur
		frame, fromUtterance := noiseFrame, false
		if u != nil && s.next < len(u.frames) {
			frame, fromUtterance = u.frames[s.next], true
			s.next++
		}
		for i, v := range frame {
			lpcm[2*i], lpcm[2*i+1] = byte(v), byte(uint16(v)>>8)
		}
		_, _ = dgaudio.EncodeAlawTo(enc, lpcm)
		_, err := s.w.WriteSamples(enc, uint32(speech.FrameSize), first, media.CodecAudioAlaw.PayloadType)
		now := time.Now()
		if err != nil {
			s.err = err
			s.mu.Unlock()
			return
		}
		s.sentAt[s.frames%len(s.sentAt)] = now
		s.frames++
		m, _ := dgaudio.DecodeAlawTo(dec, enc)
		heard = audio.DecodePCM16(heard[:0], dec[:m])
		ev := s.det.Feed(heard)
		if u != nil {
			if fromUtterance {
				if u.start.IsZero() {
					u.start = now
				}
				if rms(heard) > s.r.c.speechRMS {
					u.end = now
				}
				if s.next == len(u.frames) {
					u.sent = now
				}
			}
			if !fromUtterance && !u.start.IsZero() {
				u.after++
			}
			switch {
			case ev.Kind == audio.SpeechEnd && !u.start.IsZero() && u.detect.IsZero():
				u.detect = now
				// At is the end of the last frame counted as speech.
				if k := int(ev.At / speech.FrameLength); k >= 1 && s.frames-k < len(s.sentAt) {
					u.vadEnd = s.sentAt[(k-1)%len(s.sentAt)]
				}
				close(u.done)
			case u.after == mirrorGiveUp && u.detect.IsZero():
				close(u.done)
			}
		}
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// mirrorGiveUp is how many frames of line noise after an utterance the sender sends
// before it gives up waiting for the detector mirror to end the turn (it should after
// 700 ms, 35 frames). Counted in frames, not time: a stalled sender is not a failure.
const mirrorGiveUp = 150

// call places one call and holds the conversation of the script; false when it failed.
func (r *run) call(i, k int) bool {
	res := r.calls.Begin(i, k)
	finish := func(why string) bool { return r.calls.Finish(res, why) }
	tag := <-r.tags
	defer func() {
		r.rec.forget(tag) // what a failed call left
		r.tags <- tag
	}()

	ictx, cancel := context.WithTimeout(r.ctx, 30*time.Second)
	d, err := r.dg.Invite(ictx, sip.Uri{Scheme: "sip", User: r.c.to, Host: r.c.host, Port: r.c.port},
		diago.InviteOptions{Headers: []sip.Header{sip.NewHeader("P-Asserted-Identity", "<sip:"+res.Number+"@"+r.c.bind+">")}})
	cancel()
	if err != nil {
		return finish("invite: " + shortErr(err))
	}
	defer d.Close()
	answered := time.Now()
	r.calls.Active.Add(1)
	defer r.calls.Active.Add(-1)
	res.Logf("answered (%s, tag %d)", res.Number, tag)

	l := &line{}
	go r.listen(d, l)
	sctx, stopSending := context.WithCancel(r.ctx)
	snd := &sender{r: r, w: d.RTPPacketWriter, det: audio.NewDetector(audio.VADConfig{})}
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		snd.run(sctx)
	}()
	defer func() {
		stopSending()
		<-sent
	}()
	hangup := func() {
		hctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = d.Hangup(hctx)
		cancel()
	}

	l.setMark(answered)
	if err := r.waitPrompt(d, l, "greeting"); err != nil {
		hangup()
		return finish(err.Error())
	}
	res.Logf("greeting heard")

	for turn, words := range r.words {
		time.Sleep(r.c.think)
		u := &utterance{frames: utteranceFrames(markerSamples(turn, tag), words), done: make(chan struct{})}
		begin := time.Now()
		l.setMark(begin)
		snd.say(u)
		select {
		case <-u.done:
		case <-d.Context().Done():
			return finish(fmt.Sprintf("turn %d: %v while the caller spoke", turn+1, errHungUp))
		case <-sent:
			snd.mu.Lock()
			err := snd.err
			snd.mu.Unlock()
			if err == nil {
				err = errors.New("stopped")
			}
			hangup()
			return finish(fmt.Sprintf("turn %d: sending RTP: %s", turn+1, shortErr(err)))
		}
		snd.mu.Lock()
		if u.detect.IsZero() {
			snd.mu.Unlock()
			hangup()
			return finish(fmt.Sprintf("turn %d: the detector mirror did not end the turn within %d frames of silence", turn+1, mirrorGiveUp))
		}
		t := turnResult{turn: turn, end: u.end, vadEnd: u.vadEnd, detect: u.detect}
		sentAll := u.sent
		snd.mu.Unlock()
		if err := r.waitReply(d, l, fmt.Sprintf("reply to turn %d", turn+1)); err != nil {
			hangup()
			return finish(err.Error())
		}
		l.mu.Lock()
		t.audible, t.speech = l.firstAudio, l.firstSpch
		l.mu.Unlock()
		if t.speech.Before(sentAll) {
			// The server spoke while the caller did (a prompt not over, a repeat after
			// silence): no reply to time, and the conversation is off its script.
			r.overlaps.Add(1)
			hangup()
			return finish(fmt.Sprintf("turn %d: the server spoke during the caller's turn", turn+1))
		}
		if rec, ok := r.rec.take(tag, turn); ok {
			t.eof, t.final = rec.eof, rec.final
		} else {
			r.noRec.Add(1)
		}
		r.addTurn(t)
		res.Logf("turn %d: raw %s, after detection (exact) %s, detect → EOF %s, final → reply %s",
			turn+1, loadstat.Ms(t.speech.Sub(t.end)), loadstat.Ms(t.speech.Sub(t.detect)),
			loadstat.Ms(t.eof.Sub(t.detect)), loadstat.Ms(t.speech.Sub(t.final)))
		if turn == len(r.words)-1 {
			break
		}
		if err := r.waitPrompt(d, l, fmt.Sprintf("reply to turn %d", turn+1)); err != nil {
			hangup()
			return finish(err.Error())
		}
	}
	// The goodbye; the server hangs up.
	select {
	case <-d.Context().Done():
	case <-time.After(r.c.timeout):
		hangup()
		return finish(fmt.Sprintf("no BYE from the server within %v of the last turn (the caller hung up)", r.c.timeout))
	}
	res.Logf("the server hung up")
	return finish("")
}

// waitReply waits for the first speech frame after the mark.
func (r *run) waitReply(d *diago.DialogClientSession, l *line, what string) error {
	deadline := time.Now().Add(r.c.replyWait)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		l.mu.Lock()
		speech, audible, ended := l.firstSpch, l.firstAudio, l.ended
		l.mu.Unlock()
		switch {
		case !speech.IsZero():
			return nil
		case ended != nil:
			return fmt.Errorf("%s: RTP ended: %v", what, ended)
		case time.Now().After(deadline) && !audible.IsZero():
			return fmt.Errorf("%s: audio but no speech within %v", what, r.c.replyWait)
		case time.Now().After(deadline):
			return fmt.Errorf("%s: no reply within %v", what, r.c.replyWait)
		}
		select {
		case <-d.Context().Done():
			return fmt.Errorf("%s: %w", what, errHungUp)
		case <-tick.C:
		}
	}
}

// utteranceFrames is a turn's audio in 20 ms frames: the marker, then the words.
func utteranceFrames(marker, words []int16) [][]int16 {
	pcm := append(append([]int16(nil), marker...), words...)
	var frames [][]int16
	for i := 0; i < len(pcm); i += speech.FrameSize {
		f := make([]int16, speech.FrameSize)
		copy(f, pcm[i:])
		frames = append(frames, f)
	}
	return frames
}
