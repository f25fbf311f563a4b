package speech

import (
	"context"
	"errors"
	"net"
	"net/http"
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
