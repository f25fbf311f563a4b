package sip

import (
	"context"
	"log/slog"
	"regexp"
	"sync"

	"github.com/emiago/diago/media"
	"github.com/emiago/sipgo/sip"
)

// Personal data never goes to the logs. sipgo and diago log what they cannot parse or
// handle with the SIP message text (the caller's and the called number, display names);
// their log lines go through redacting, which drops those attributes and blanks anything
// that looks like a phone number or a date of birth in the rest.
type redacting struct{ slog.Handler }

// messageKeys are the attributes sipgo and diago put SIP message text in.
var messageKeys = map[string]bool{"data": true, "msg": true, "req": true, "request": true, "res": true, "response": true, "header": true}

// digits are runs of five or more digits, with spaces, dots, slashes or dashes inside: phone
// numbers, dates of birth, insurance numbers.
var digits = regexp.MustCompile(`\+?\d[\d ./-]{3,}\d`)

func (h redacting) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, digits.ReplaceAllString(r.Message, "…"), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(redact(a))
		return true
	})
	return h.Handler.Handle(ctx, out)
}

func (h redacting) WithAttrs(as []slog.Attr) slog.Handler {
	kept := make([]slog.Attr, len(as))
	for i, a := range as {
		kept[i] = redact(a)
	}
	return redacting{h.Handler.WithAttrs(kept)}
}

func (h redacting) WithGroup(name string) slog.Handler { return redacting{h.Handler.WithGroup(name)} }

func redact(a slog.Attr) slog.Attr {
	if messageKeys[a.Key] {
		return slog.String(a.Key, "[SIP-Nachricht ausgelassen]")
	}
	switch a.Value.Kind() {
	case slog.KindString, slog.KindAny:
		return slog.String(a.Key, digits.ReplaceAllString(a.Value.String(), "…"))
	}
	return a
}

// quietLibraries sends the libraries' own default loggers (used where no logger is
// passed down) through redacting as well; they are process-wide, so once.
var quietLibraries sync.Once

func redactingLogger(log *slog.Logger) *slog.Logger {
	l := slog.New(redacting{log.Handler()})
	quietLibraries.Do(func() {
		sip.SetDefaultLogger(l)
		media.SetDefaultLogger(l)
	})
	return l
}
