package speech

import (
	"context"
	"errors"
	"net"
	"net/http"

	"github.com/coder/websocket"
)

// NetCause keeps a network error, which names addresses but never data, as the cause of
// an adapter's error; other errors of a WebSocket or HTTP library are dropped, as they may
// quote what was received (a transcript).
func NetCause(err error) error {
	if opErr, ok := errors.AsType[*net.OpError](err); ok {
		return opErr
	}
	return nil
}

// DialFault says why dialling a provider's WebSocket failed, in German for the practice,
// with a cause that carries no data: cancelled, refused with an HTTP status (refused
// words some statuses the provider's way; status makes the cause), not reached in time,
// or a network error. peer names the other side: "Dienst" (a provider) or "Server" (one
// of the practice's own).
func DialFault(ctx context.Context, resp *http.Response, err error, peer string, refused map[int]string, status func(code int) error) (msg string, cause error) {
	switch {
	case ctx.Err() != nil:
		return "abgebrochen", ctx.Err()
	case resp != nil && resp.StatusCode != http.StatusSwitchingProtocols:
		msg, ok := refused[resp.StatusCode]
		if !ok {
			msg = "der " + peer + " hat die Verbindung abgelehnt"
		}
		return msg, status(resp.StatusCode)
	case errors.Is(err, context.DeadlineExceeded):
		return peer + " nicht in der Zeitgrenze erreichbar", context.DeadlineExceeded
	}
	return "Verbindung zum " + peer + " fehlgeschlagen", NetCause(err)
}

// ErrFinalTimeout is the cause that ends a recognition stream's context when no final
// result came within its time after the end of the audio.
var ErrFinalTimeout = errors.New("no final result in time")

// ReadFault says why a recogniser's WebSocket stream stopped reading, in German for the
// practice, with a cause that carries no data: cancelled or out of time (ctx's cause),
// closed by the peer (closed makes the cause of its close status; a close reason is free
// text, and closed keeps of it only what it knows to be a code), or a network error. done
// is true when the peer closed normally after the end of the audio (endSent): nothing more
// was to come, and there is no fault. peer is "Dienst" or "Server", as in DialFault.
func ReadFault(ctx context.Context, err error, endSent bool, peer string, closed func(websocket.CloseError) error) (msg string, cause error, done bool) {
	if ctx.Err() != nil {
		cause := context.Cause(ctx)
		if errors.Is(cause, ErrFinalTimeout) {
			return "kein Ergebnis in der Zeitgrenze nach dem Ende der Aufnahme", context.DeadlineExceeded, false
		}
		return "abgebrochen", cause, false
	}
	ce, ok := errors.AsType[websocket.CloseError](err)
	switch {
	case !ok:
		return "Verbindung zum " + peer + " unterbrochen", NetCause(err), false
	case ce.Code == websocket.StatusNormalClosure && endSent:
		return "", nil, true
	case ce.Code == websocket.StatusNormalClosure:
		return "der " + peer + " hat die Verbindung vorzeitig beendet", nil, false
	}
	return "der " + peer + " hat die Verbindung mit einem Fehler beendet", closed(ce), false
}

// Deliver hands a result to a stream's reader unless the stream ended first.
func Deliver(ctx context.Context, results chan<- Result, r Result) bool {
	select {
	case results <- r:
		return true
	case <-ctx.Done():
		return false
	}
}
