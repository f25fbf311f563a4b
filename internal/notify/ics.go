package notify

import (
	"bytes"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// iCalendar methods (RFC 5546, iTIP) for the invitations patients receive.
const (
	MethodRequest = "REQUEST" // a new or changed appointment
	MethodCancel  = "CANCEL"  // a cancelled appointment
)

// Event statuses.
const (
	Confirmed = "CONFIRMED"
	Cancelled = "CANCELLED"
)

// prodID names the program that wrote a calendar (RFC 5545 §3.7.3).
const prodID = "-//Tresen//Rezeption//DE"

// Event is one appointment as a calendar event (VEVENT).
//
// Times are written in UTC ("…Z"), the one form every calendar program reads without a
// VTIMEZONE; each program shows them in its user's own zone, which for a practice in
// Germany is Europe/Berlin anyway.
type Event struct {
	// UID identifies the event across updates: a change or cancellation must carry the
	// UID of the invitation it replaces, with a higher Sequence.
	UID         string
	Summary     string
	Location    string
	Description string
	Start, End  time.Time // End zero or not after Start: no DTEND
	Status      string    // Confirmed or Cancelled; "": Confirmed, or Cancelled for MethodCancel
	Sequence    int       // revision, 0 for the first invitation
	Organizer   string    // an e-mail address, with or without "mailto:"; "": none
	// Stamp is when this version of the event was made (DTSTAMP); zero: now. Callers with
	// a clock set it.
	Stamp time.Time
}

// ICS writes events as an iCalendar object (RFC 5545) for method: MethodRequest for
// confirmations and changes, MethodCancel for cancellations, "" for none.
func ICS(events []Event, method string) []byte {
	var w icsWriter
	w.begin(token(method))
	for _, e := range events {
		w.event(e, token(method))
	}
	w.line("END:VCALENDAR")
	return w.b.Bytes()
}

// icsWriter writes content lines, folded and with CRLF.
type icsWriter struct{ b bytes.Buffer }

func (w *icsWriter) begin(method string) {
	w.line("BEGIN:VCALENDAR")
	w.line("VERSION:2.0")
	w.line("PRODID:" + prodID)
	w.line("CALSCALE:GREGORIAN")
	if method != "" {
		w.line("METHOD:" + method)
	}
}

func (w *icsWriter) event(e Event, method string) {
	stamp := e.Stamp
	if stamp.IsZero() {
		stamp = time.Now()
	}
	status := token(e.Status)
	switch {
	case status == Confirmed || status == Cancelled || status == "TENTATIVE":
	case method == MethodCancel:
		status = Cancelled
	default:
		status = Confirmed
	}
	w.line("BEGIN:VEVENT")
	w.line("UID:" + text(e.UID))
	w.line("DTSTAMP:" + utc(stamp))
	w.line("DTSTART:" + utc(e.Start))
	if e.End.After(e.Start) {
		w.line("DTEND:" + utc(e.End))
	}
	w.line("SEQUENCE:" + strconv.Itoa(max(e.Sequence, 0)))
	w.line("STATUS:" + status)
	w.textProp("SUMMARY", e.Summary)
	w.textProp("LOCATION", e.Location)
	w.textProp("DESCRIPTION", e.Description)
	if org := calAddress(e.Organizer); org != "" {
		w.line("ORGANIZER:" + org)
	}
	w.line("END:VEVENT")
}

func (w *icsWriter) textProp(name, value string) {
	if value != "" {
		w.line(name + ":" + text(value))
	}
}

// line writes one content line, folded so that no physical line is longer than 75 octets
// (RFC 5545 §3.1): a continuation starts with a space, which counts. A fold never falls
// inside a multi-byte rune, so every physical line is valid UTF-8 on its own.
func (w *icsWriter) line(s string) {
	limit := 75
	for len(s) > limit {
		cut := limit
		for !utf8.RuneStart(s[cut]) {
			cut--
		}
		w.b.WriteString(s[:cut])
		w.b.WriteString("\r\n ")
		s = s[cut:]
		limit = 74
	}
	w.b.WriteString(s)
	w.b.WriteString("\r\n")
}

// text escapes a TEXT value (RFC 5545 §3.3.11). Line breaks (LF, CRLF or CR) become "\n";
// other control characters but tab, which TEXT does not allow, are dropped, and invalid
// UTF-8 becomes U+FFFD.
func text(s string) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\r\n", "\n")
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == ';':
			b.WriteString(`\;`)
		case r == ',':
			b.WriteString(`\,`)
		case r == '\n' || r == '\r':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// calAddress makes an e-mail address a CAL-ADDRESS (a mailto URI), dropping what a URI
// cannot hold so that no value can start a property of its own.
func calAddress(s string) string {
	s = strings.Map(func(r rune) rune {
		if r <= ' ' || r == 0x7f || r == '"' || r == '<' || r == '>' {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
	if s == "" {
		return ""
	}
	if len(s) < 7 || !strings.EqualFold(s[:7], "mailto:") {
		s = "mailto:" + s
	}
	return s
}

// token keeps the letters, digits and dashes of an iCalendar name, upper-cased.
func token(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-':
			return r
		case 'a' <= r && r <= 'z':
			return r - 'a' + 'A'
		}
		return -1
	}, s)
}

func utc(t time.Time) string { return t.UTC().Format("20060102T150405Z") }
