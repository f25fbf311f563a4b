package sip

import (
	"errors"
	"testing"

	"github.com/emiago/diago/media"
	"github.com/emiago/diago/media/sdp"
	"github.com/emiago/sipgo/sip"
)

// FuzzParseOffer: any offer either gets a clear 400/488 or is rewritten into SDP that
// diago's own parser takes without error (and without panicking, which its parser does
// on some malformed input that parseOffer must keep from it).
func FuzzParseOffer(f *testing.F) {
	f.Add([]byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n"))
	f.Add([]byte("v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nc=IN\n\nm=audio 4000 RTP/AVP 8\n"))
	f.Add([]byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/SAVP 8\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20\r\n"))
	f.Add([]byte("v=0\r\no=- 1 1 IN IP6 ::1\r\ns=-\r\nt=0 0\r\nm=video 5000 RTP/AVP 96\r\nm=audio 4000 RTP/AVP 8\r\nc=IN IP6 ::1\r\na=inactive\r\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		off, err := parseOffer(body)
		if err != nil {
			var oe *offerError
			if !errors.As(err, &oe) || (oe.status != 400 && oe.status != 488) {
				t.Fatalf("error without a 400/488 status: %v", err)
			}
			return
		}
		if len(off.codecs) == 0 || (off.codecs[0].Name != "PCMA" && off.codecs[0].Name != "PCMU") {
			t.Fatalf("codecs %v", off.codecs)
		}
		var sd sdp.SessionDescription = map[string][]string{}
		if err := sdp.Unmarshal(off.body, &sd); err != nil {
			t.Fatalf("rewritten offer unreadable: %v\n%q", err, off.body)
		}
		ms := &media.MediaSession{Codecs: off.codecs, Mode: sdp.ModeSendrecv}
		if off.secure {
			ms.SecureRTP, ms.SRTPAlg = 1, 1 // SDES, AES_CM_128_HMAC_SHA1_80
		}
		if err := ms.RemoteSDP(off.body); err != nil {
			t.Fatalf("diago refuses the rewritten offer: %v\n%q", err, off.body)
		}
	})
}

// FuzzNumbers: called and calling numbers from any Request-URI and From user part.
func FuzzNumbers(f *testing.F) {
	for _, s := range []string{"030123456", "+49 (30) 123-456", "0049301234", "anonymous", "100", "4930123456t0", "tel;phone-context=x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, user string) {
		n := normalizeNumber(user)
		if len(n) > 3*64 {
			t.Fatalf("normalized number too long: %q", n)
		}
		req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: user, Host: "h"})
		req.AppendHeader(&sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: "h"}})
		req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: "h"}})
		_ = calledNumber(req, []string{user})
		if c := callerNumber(req); c != "" && (c[0] != '+' || !isDialString(c)) {
			t.Fatalf("caller %q not E.164", c)
		}
	})
}

// FuzzInfoDigit: SIP INFO bodies give a keypad key or an error.
func FuzzInfoDigit(f *testing.F) {
	f.Add("application/dtmf-relay", []byte("Signal=5\r\nDuration=160\r\n"))
	f.Add("application/dtmf", []byte("#"))
	f.Add("application/dtmf-relay", []byte("Signal=11"))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		r, err := infoDigit(ct, body)
		if err != nil {
			return
		}
		if !(r >= '0' && r <= '9' || r == '*' || r == '#') {
			t.Fatalf("key %q", r)
		}
	})
}
