package sip

import (
	"bufio"
	"fmt"
	"strings"
)

// infoDigit reads the key from a SIP INFO body: application/dtmf-relay ("Signal=5\r\n
// Duration=160") or application/dtmf ("5"). ok is false for a body that names no key.
func infoDigit(contentType string, body []byte) (r rune, err error) {
	ct := strings.ToLower(strings.TrimSpace(strings.SplitN(contentType, ";", 2)[0]))
	switch ct {
	case "application/dtmf-relay":
		sc := bufio.NewScanner(strings.NewReader(string(body)))
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), "=")
			if !ok || !strings.EqualFold(strings.TrimSpace(k), "signal") {
				continue
			}
			return dtmfKey(strings.TrimSpace(v))
		}
		return 0, fmt.Errorf("dtmf-relay body without Signal")
	case "application/dtmf":
		return dtmfKey(strings.TrimSpace(string(body)))
	}
	return 0, fmt.Errorf("content type %q is not DTMF", truncate(ct))
}

// dtmfKey maps a key name ("5", "*", "#", or the event numbers "10" and "11" that some
// gateways send) to the key.
func dtmfKey(s string) (rune, error) {
	switch s {
	case "10":
		return '*', nil
	case "11":
		return '#', nil
	}
	if len(s) == 1 {
		c := rune(s[0])
		switch {
		case c >= '0' && c <= '9', c == '*', c == '#':
			return c, nil
		case c >= 'A' && c <= 'D', c >= 'a' && c <= 'd':
			return 0, fmt.Errorf("key %q is not on a telephone keypad", s)
		}
	}
	return 0, fmt.Errorf("not a DTMF key: %q", truncate(s))
}

// eventKey maps an RFC 4733 event code to its key; ok is false for codes that are not the
// twelve keys of a telephone keypad (A–D, flash, tones).
func eventKey(code uint8) (rune, bool) {
	switch {
	case code <= 9:
		return rune('0' + code), true
	case code == 10:
		return '*', true
	case code == 11:
		return '#', true
	}
	return 0, false
}

// eventDeduper turns the packets of RFC 4733 telephone-events into key presses. A sender
// repeats each event's packets (updates while the key is held, three end packets); all of
// them carry the event's start timestamp (RFC 4733 §2.5.1.3), and only the first has the
// marker bit. A press is a packet with a new timestamp, a new event code, or the marker
// bit: some senders (diago among them) keep one timestamp for a whole series of keys.
type eventDeduper struct {
	seen bool
	ssrc uint32
	ts   uint32
	code uint8
}

// press reports whether the packet starts a key press not yet reported.
func (d *eventDeduper) press(ssrc, ts uint32, code uint8, marker bool) bool {
	if d.seen && d.ssrc == ssrc && d.ts == ts && d.code == code && !marker {
		return false
	}
	d.seen, d.ssrc, d.ts, d.code = true, ssrc, ts, code
	return true
}
