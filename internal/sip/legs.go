// Calls Tresen places itself for a caller: the practice's own phone rings first during
// opening hours, and a transfer where the peer takes no REFER; both are joined to the
// caller's call with their RTP relayed as is.

package sip

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/diago/media"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// dialURI turns a number or SIP URI into the URI Tresen sends a call to (REFER's
// Refer-To, the practice's phone that rings first). A bare number goes to the trunk, or
// without one to the host the call came from (the PBX routes it on).
func (s *Server) dialURI(invite *sip.Request, target string) (sip.Uri, error) {
	var uri sip.Uri
	target = strings.TrimSpace(target)
	if target == "" {
		return uri, errors.New("no target")
	}
	if strings.HasPrefix(target, "sip:") || strings.HasPrefix(target, "sips:") {
		if err := sip.ParseUri(target, &uri); err != nil {
			return uri, fmt.Errorf("target: %w", err)
		}
		return uri, nil
	}
	number := strings.ReplaceAll(target, " ", "")
	if !isDialString(number) {
		return uri, fmt.Errorf("target %q is neither a number nor a SIP URI", target)
	}
	uri = sip.Uri{Scheme: "sip", User: number, Host: invite.Recipient.Host}
	if cont := invite.Contact(); cont != nil && cont.Address.Host != "" {
		// The Request-URI's host is Tresen's own: the PBX is where the call came from.
		uri.Host, uri.Port = cont.Address.Host, cont.Address.Port
	}
	if s.opts.Trunk != nil {
		uri.Host, uri.Port = s.opts.Trunk.domain(), 0
	}
	return uri, nil
}

// Outcomes of ringing the practice first.
type ringOutcome int

const (
	ringUnanswered ringOutcome = iota // nobody took it: the assistant answers
	ringTaken                         // the practice took the call, and it is over
	ringAbandoned                     // the caller hung up while it rang
)

// ringFirst lets the practice's phone (target) ring for up to wait while the caller hears
// ringing. When someone there answers, Tresen answers the caller with the codec the
// practice's phone chose and joins the two calls (RTP relayed as is, no transcoding)
// until either side hangs up. Busy, unreachable, refused or not answered in time: the
// assistant answers, and the practice's phone stops ringing (CANCEL).
func (s *Server) ringFirst(d *diago.DialogServerSession, adm admission, ring *ringer, target string, wait time.Duration) ringOutcome {
	id := d.InviteRequest.CallID().Value()
	uri, err := s.dialURI(d.InviteRequest, target)
	if err != nil {
		s.log.Error("ring first: bad target, the assistant answers", "call", id, "err", err)
		return ringUnanswered
	}
	if err := ring.start(); err != nil {
		return ringAbandoned
	}
	ctx, cancel := context.WithTimeout(d.Context(), wait)
	defer cancel()
	out, err := s.dial(ctx, d, uri)
	if d.Context().Err() != nil { // CANCEL from the caller
		s.log.Info("call cancelled while the practice rang", "call", id)
		if out != nil {
			hangup(out)
		}
		return ringAbandoned
	}
	if err != nil {
		switch status := responseStatus(err); {
		case status != 0:
			s.log.Info("the practice did not take the call, the assistant answers", "call", id, "status", status)
		case errors.Is(err, context.DeadlineExceeded):
			s.log.Info("nobody at the practice answered in time, the assistant answers", "call", id, "after", wait)
		default:
			s.log.Warn("ringing the practice failed, the assistant answers", "call", id, "err", err)
		}
		return ringUnanswered
	}
	defer out.Close()

	// Answer the caller with what the practice's phone chose, so that the RTP passes
	// through unchanged.
	codecs := adm.offer.codecs
	if ms := out.MediaSession(); ms != nil {
		chosen := media.CodecAudioFromSession(ms)
		codecs = []media.Codec{chosen}
		for _, c := range adm.offer.codecs {
			if c.Name == "telephone-event" {
				codecs = append(codecs, c)
			}
		}
	}
	ring.stop()
	if err := d.AnswerOptions(diago.AnswerOptions{Codecs: codecs}); err != nil {
		s.log.Warn("ring first: answering the caller failed", "call", id, "err", err)
		hangup(out, d)
		return ringAbandoned
	}
	if err := out.Ack(context.Background()); err != nil {
		s.log.Warn("ring first: ACK to the practice failed", "call", id, "err", err)
		hangup(out, d)
		return ringAbandoned
	}
	if err := relay(d, out); err != nil {
		s.log.Error("ring first: joining the calls failed", "call", id, "err", err)
		hangup(out, d)
		return ringAbandoned
	}
	s.log.Info("the practice took the call", "call", id)
	s.untilEither(d, out)
	hangup(out, d)
	s.log.Info("call ended", "call", id)
	return ringTaken
}

// dial places a call to uri for the caller of d (showing the caller's number; with the
// trunk's credentials where it goes to the trunk) and waits until it is answered, or
// refused, or ctx ends.
func (s *Server) dial(ctx context.Context, d *diago.DialogServerSession, uri sip.Uri) (*diago.DialogClientSession, error) {
	out, err := s.dg.NewDialog(uri, diago.NewDialogOptions{})
	if err != nil {
		return nil, err
	}
	opts := diago.InviteClientOptions{Originator: d}
	if t := s.opts.Trunk; t != nil && uri.Host == t.domain() {
		opts.Username, opts.Password = t.Username, t.Password
	}
	if err := out.Invite(ctx, opts); err != nil {
		out.Close()
		return nil, err
	}
	return out, nil
}

// relay joins two answered calls: diago relays their RTP as is, in the background.
func relay(a *diago.DialogServerSession, b *diago.DialogClientSession) error {
	br := diago.NewBridge()
	if err := br.AddDialogSession(a); err != nil {
		return err
	}
	return br.AddDialogSession(b)
}

// untilEither waits until either of two joined calls ends, or the server closes.
func (s *Server) untilEither(a *diago.DialogServerSession, b *diago.DialogClientSession) {
	select {
	case <-a.Context().Done():
	case <-b.Context().Done():
	case <-s.stop:
	}
}

// hangup ends calls (BYE, or a final response to one not yet answered).
func hangup(calls ...interface{ Hangup(context.Context) error }) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, c := range calls {
		_ = c.Hangup(ctx)
	}
}

// responseStatus is the status of the final response an INVITE failed with, 0 if it
// failed otherwise (sipgo returns the error both as value and as pointer).
func responseStatus(err error) int {
	var p *sipgo.ErrDialogResponse
	if errors.As(err, &p) && p.Res != nil {
		return p.Res.StatusCode
	}
	var v sipgo.ErrDialogResponse
	if errors.As(err, &v) && v.Res != nil {
		return v.Res.StatusCode
	}
	return 0
}
