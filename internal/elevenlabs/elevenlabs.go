// Package elevenlabs implements speech.Voice over ElevenLabs' streaming text-to-speech
// WebSocket (/v1/text-to-speech/{voice_id}/stream-input) and speech.Recognizer over its
// realtime speech-to-text WebSocket (/v1/speech-to-text/realtime, Scribe), both in
// telephone audio.
package elevenlabs

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/coder/websocket"

	"github.com/tresen/tresen/internal/errs"
)

// maxMessage bounds one message from ElevenLabs: a few seconds of base64 audio.
const maxMessage = 4 << 20

// dial opens a WebSocket to u, authenticated by the API key header.
func dial(ctx context.Context, u *url.URL, apiKey string) (*websocket.Conn, *http.Response, error) {
	h := http.Header{}
	h.Set("xi-api-key", apiKey)
	h.Set("User-Agent", "Tresen")
	c, res, err := websocket.Dial(ctx, u.String(), &websocket.DialOptions{
		HTTPHeader: h,
		HTTPClient: &http.Client{
			// A redirect would carry the key and the text to an address nobody confirmed.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	})
	if err != nil {
		return nil, res, err
	}
	c.SetReadLimit(maxMessage)
	return c, res, nil
}

// StatusError is the cause of an error when ElevenLabs refused the WebSocket handshake
// with an HTTP status (401 key wrong, 403 no access to the voice, 429 too many requests).
type StatusError struct {
	StatusCode int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("HTTP %d %s", e.StatusCode, http.StatusText(e.StatusCode))
}

// ServerError is the cause of an error that ElevenLabs reported in a message or a close
// frame. It keeps ElevenLabs' code only (e.g. "auth_error", "quota_exceeded", or the
// close status): their messages may quote the text.
type ServerError struct {
	Code string
}

func (e *ServerError) Error() string { return "ElevenLabs: " + e.Code }

func fault(msg string, cause error) error {
	return &errs.Error{Kind: errs.Internal, Message: msg, Err: cause}
}

// safeToken keeps a provider's code printable and short for the error text.
func safeToken(s string) string {
	if len(s) > 40 {
		s = s[:40]
	}
	s = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		return -1
	}, s)
	if s == "" {
		return "unknown"
	}
	return s
}

// connError translates an error of dialling, reading or writing into one without data.
// what names the service in German ("Sprachausgabe", "Spracherkennung").
func connError(ctx context.Context, what string, res *http.Response, err error) error {
	if ctx.Err() != nil {
		if errors.Is(context.Cause(ctx), errTimeout) {
			return fault(what+": keine Antwort von ElevenLabs in der Zeitgrenze", context.Cause(ctx))
		}
		return fault(what+": abgebrochen", context.Cause(ctx))
	}
	if res != nil && res.StatusCode != http.StatusSwitchingProtocols {
		return fault(what+": ElevenLabs lehnt die Verbindung ab", &StatusError{StatusCode: res.StatusCode})
	}
	if code := websocket.CloseStatus(err); code != -1 {
		return fault(what+": ElevenLabs hat die Verbindung beendet", &ServerError{Code: fmt.Sprintf("close_%d", int(code))})
	}
	return fault(what+": Verbindung zu ElevenLabs unterbrochen", nil)
}

var errTimeout = errors.New("no answer from ElevenLabs within the timeout")
