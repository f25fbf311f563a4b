package notify

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
)

// Feed writes a staff calendar feed: a VCALENDAR without METHOD (a published calendar, not
// an invitation) that calendar programs subscribe to by URL and refresh.
//
// Unlike patient messages, a feed may name patients in its events: it is the practice's
// own calendar, served only to staff under a secret URL (FeedToken). It should still leave
// out the reason for the visit unless the practice needs it there, since a subscribed
// calendar is copied onto phones and into calendar services.
func Feed(calendarName string, events []Event) []byte {
	var w icsWriter
	w.begin("")
	w.textProp("NAME", calendarName)         // RFC 7986
	w.textProp("X-WR-CALNAME", calendarName) // Apple, Google, Outlook
	w.line("X-WR-TIMEZONE:Europe/Berlin")
	w.line("REFRESH-INTERVAL;VALUE=DURATION:PT15M")
	w.line("X-PUBLISHED-TTL:PT15M")
	for _, e := range events {
		w.event(e, "")
	}
	w.line("END:VCALENDAR")
	return w.b.Bytes()
}

// FeedToken returns a new secret for a feed URL: 32 random bytes, URL-safe base64 without
// padding. Store only what is needed to check it, and compare with SameToken.
func FeedToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand: it crashes the program instead)
	return base64.RawURLEncoding.EncodeToString(b)
}

// SameToken reports whether two tokens are equal, in time that does not depend on where
// they differ. (Their length is no secret: every token has the same.)
func SameToken(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
