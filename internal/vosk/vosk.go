// Package vosk implements speech.Recognizer for a self-hosted Vosk server
// (alphacep/vosk-server, e.g. the alphacep/kaldi-de image) over its WebSocket protocol:
// a config message, binary 16-bit PCM, partial and final results as JSON, and {"eof" : 1}
// to finish.
package vosk

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/tresen/tresen/internal/endpoint"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/speech"
)

// DefaultTimeout bounds connecting to the server and, after Close, the wait for the last
// result when Settings leave Timeout at zero.
const DefaultTimeout = 5 * time.Second

// MaxTimeout is the longest timeout a practice may configure.
const MaxTimeout = 60 * time.Second

// chunkBytes is how much audio goes into one message: 100 ms. The server decodes and
// answers every message; at the 20 ms of a telephone frame that would be 50 answers a
// second per call, for partials that change no faster than words are spoken.
const chunkBytes = speech.SampleRate / 10 * 2

// maxMessage bounds one message from the server: a final result lists every word with its
// times, and a long utterance stays well under this.
const maxMessage = 1 << 20

// Settings say where the practice's (or Tresen's) Vosk server listens. The language is the
// model the server was started with (alphacep/kaldi-de for German); the protocol has no
// field for it.
type Settings struct {
	URL     string        `json:"url"` // e.g. ws://localhost:2700
	Timeout time.Duration `json:"timeout,omitempty"`
}

// Validate reports whether s may be used.
func (s Settings) Validate() error {
	if _, err := endpoint.Parse(s.URL, serverURL); err != nil {
		return err
	}
	if s.Timeout < 0 || s.Timeout > MaxTimeout {
		return errs.Field("timeout", "Die Zeitgrenze muss zwischen 0 (Standard: %d Sekunden) und %d Sekunden liegen.",
			int(DefaultTimeout.Seconds()), int(MaxTimeout.Seconds()))
	}
	return nil
}

// serverURL allows wss:// (or https://) anywhere and plain ws:// (or http://) only to
// this host: callers' speech never crosses a network unencrypted.
var serverURL = endpoint.Rule{
	Field:   "url",
	Service: "des Vosk-Servers",
	Example: "ws://localhost:2700",
	Secure:  []string{"wss", "https"},
	Plain:   []string{"ws", "http"},
}

// Recognizer recognises speech on one Vosk server. It is safe for concurrent use; every
// Stream is a connection of its own.
type Recognizer struct {
	url     string
	timeout time.Duration
	client  *http.Client
}

var _ speech.Recognizer = (*Recognizer)(nil)

// New returns a Recognizer for s, or the first reason s is not valid.
func New(s Settings) (*Recognizer, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	timeout := s.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	return &Recognizer{
		url:     s.URL,
		timeout: timeout,
		client: &http.Client{
			// A redirect would carry callers' speech to an address the practice never set.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}, nil
}

// Provider declares a Vosk server as local: Vosk has no hosted service, so the server is
// the practice's or Tresen's own, and it keeps nothing it hears.
func (r *Recognizer) Provider() speech.Provider {
	return speech.Provider{Name: "vosk", Local: true, EUResidency: true, ZeroRetention: true}
}

// Stream connects to the server and sends the configuration: 8 kHz audio.
func (r *Recognizer) Stream(ctx context.Context) (_ speech.Stream, err error) {
	defer errs.Wrap(&err, "vosk.Stream")
	dialCtx, cancelDial := context.WithTimeout(ctx, r.timeout)
	defer cancelDial()
	conn, resp, err := websocket.Dial(dialCtx, r.url, &websocket.DialOptions{HTTPClient: r.client})
	if err != nil {
		return nil, dialError(ctx, resp, err)
	}
	conn.SetReadLimit(maxMessage)
	config := fmt.Sprintf(`{"config": {"sample_rate": %d}}`, speech.SampleRate)
	if err := conn.Write(dialCtx, websocket.MessageText, []byte(config)); err != nil {
		conn.CloseNow()
		return nil, fault("Konfiguration konnte nicht gesendet werden", speech.NetCause(err))
	}
	s := &stream{WSStream: speech.NewWSStream(ctx, conn, r.timeout, peer)}
	go s.Run(s.receive)
	return s, nil
}

// stream is one connection to the server. The server answers every message it gets, in
// order — audio with a partial or final result, {"eof" : 1} with the last final result —
// and the reader counts the answers to know when the last one has come.
type stream struct {
	*speech.WSStream
	buf  []byte       // audio not yet sent; guarded by Mu
	sent atomic.Int64 // messages the server will answer
}

// peer words the stream's errors, without anything the server sent.
var peer = speech.WSPeer{
	Name:  "Server",
	Fault: fault,
	// Closed answers Write after Close.
	Closed:     &errs.Error{Kind: errs.Invalid, Message: "Spracherkennung (Vosk): die Aufnahme ist bereits beendet"},
	CloseError: func(ce websocket.CloseError) error { return &CloseError{Code: int(ce.Code)} },
}

// Write sends the audio in chunks of 100 ms.
func (s *stream) Write(pcm []int16) error {
	return s.WriteAudio(func() error {
		s.buf = slices.Grow(s.buf, 2*len(pcm))
		for _, v := range pcm {
			s.buf = binary.LittleEndian.AppendUint16(s.buf, uint16(v))
		}
		if len(s.buf) < chunkBytes {
			return nil
		}
		return s.flush()
	})
}

// Close sends the rest of the audio and {"eof" : 1}; the server answers with the last final
// result. Results closes when it has come, or after the timeout with an error.
func (s *stream) Close() error {
	return s.CloseAudio(func() error {
		if len(s.buf) > 0 {
			if err := s.flush(); err != nil {
				return err
			}
		}
		// Both server implementations compare this text byte for byte.
		s.sent.Add(1)
		return s.SendEnd(websocket.MessageText, []byte(`{"eof" : 1}`))
	})
}

// flush sends the buffered audio as one message. Mu is held.
func (s *stream) flush() error {
	s.sent.Add(1)
	err := s.Send(websocket.MessageBinary, s.buf)
	s.buf = s.buf[:0]
	return err
}

// receive reads the server's answers until the last one.
func (s *stream) receive() error {
	var answers int64
	last := ""       // the partial delivered last, repeated by the server with every chunk
	partial := false // a partial was delivered since the last final
	for {
		msg, err := s.ReadText()
		if err != nil {
			return err
		}
		answers++
		res, err := parseMessage(msg)
		if err != nil {
			return err
		}
		// An empty or repeated partial says nothing new; an empty final matters only where
		// it replaces a partial the listener already has.
		var deliver bool
		if res.Final {
			deliver = res.Text != "" || partial
			partial, last = false, ""
		} else {
			deliver = res.Text != "" && res.Text != last
			partial, last = partial || deliver, res.Text
		}
		if deliver {
			if err := s.Deliver(res); err != nil {
				return err
			}
		}
		// The answer to {"eof" : 1} is the last message. The reference server closes the
		// connection after it; the C++ server waits, so the count decides.
		if res.Final && s.EndSent() && answers >= s.sent.Load() {
			return nil
		}
	}
}

// parseMessage decodes one answer of the server: {"partial": "..."} while it listens,
// {"result": [words], "text": "..."} when an utterance ends, or, on a server started with
// alternatives, {"alternatives": [{"text": "...", "confidence": ...}]}.
func parseMessage(msg []byte) (speech.Result, error) {
	var m struct {
		Partial *string `json:"partial"`
		Text    *string `json:"text"`
		Result  []struct {
			Conf float64 `json:"conf"`
		} `json:"result"`
		Alternatives []struct {
			Text string `json:"text"`
		} `json:"alternatives"`
	}
	if err := json.Unmarshal(msg, &m); err != nil {
		// The decoder's message may quote what the server sent.
		return speech.Result{}, fault("Antwort des Servers nicht lesbar", nil)
	}
	switch {
	case len(m.Alternatives) > 0:
		// The alternatives' confidence is a lattice score, not a probability.
		return speech.Result{Text: strings.TrimSpace(m.Alternatives[0].Text), Final: true}, nil
	case m.Text != nil:
		res := speech.Result{Text: strings.TrimSpace(*m.Text), Final: true}
		if len(m.Result) > 0 {
			sum := 0.0
			for _, w := range m.Result {
				sum += clamp(w.Conf)
			}
			res.Confidence = clamp(sum / float64(len(m.Result)))
		}
		return res, nil
	case m.Partial != nil:
		return speech.Result{Text: strings.TrimSpace(*m.Partial)}, nil
	}
	return speech.Result{}, fault("Antwort des Servers ohne Ergebnis", nil)
}

func clamp(f float64) float64 {
	if math.IsNaN(f) || f < 0 {
		return 0
	}
	return min(f, 1)
}

// StatusError is the cause of a Stream error when the server refused the connection with
// an HTTP status.
type StatusError struct {
	StatusCode int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("HTTP %d %s", e.StatusCode, http.StatusText(e.StatusCode))
}

// CloseError is the cause of a stream error when the server closed the connection with a
// WebSocket status other than a normal closure. The reason text is not kept.
type CloseError struct {
	Code int
}

func (e *CloseError) Error() string { return fmt.Sprintf("WebSocket-Status %d", e.Code) }

func dialError(ctx context.Context, resp *http.Response, err error) error {
	return fault(speech.DialFault(ctx, resp, err, "Server", nil, func(code int) error { return &StatusError{StatusCode: code} }))
}

func fault(msg string, cause error) error {
	return &errs.Error{Kind: errs.Internal, Message: "Spracherkennung (Vosk): " + msg, Err: cause}
}
