// Package deepgram implements speech.Recognizer for Deepgram's live streaming API
// (/v1/listen over WebSocket): 16-bit PCM in, interim and final results out, CloseStream to
// finish and KeepAlive while the caller is silent.
package deepgram

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/coder/websocket"

	"github.com/tresen/tresen/internal/endpoint"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/speech"
)

const (
	// DefaultURL is Deepgram's global endpoint; EUURL keeps the audio in the EU.
	DefaultURL = "wss://api.deepgram.com"
	EUURL      = "wss://api.eu.deepgram.com"
	euHost     = "api.eu.deepgram.com"

	DefaultModel       = "nova-2"
	DefaultLanguage    = "de"
	DefaultEndpointing = 300 * time.Millisecond

	// DefaultTimeout bounds connecting and, after Close, the wait for the last result
	// when Settings leave Timeout at zero; MaxTimeout is the longest a practice may set.
	DefaultTimeout = 5 * time.Second
	MaxTimeout     = 60 * time.Second
)

// keepAlive is how long the stream may go without audio before it sends a KeepAlive:
// Deepgram closes a connection that hears nothing for 10 seconds, and asks for one every
// 3 to 5 seconds.
const keepAlive = 3 * time.Second

// maxMessage bounds one message from Deepgram.
const maxMessage = 1 << 20

// Settings are a practice's Deepgram account. Deepgram is a cloud service: the practice
// chooses the EU endpoint for EU residency, and confirms zero retention only where its
// contract with Deepgram says so. Every request opts out of Deepgram's model improvement
// programme (mip_opt_out), without which Deepgram keeps the audio.
type Settings struct {
	URL         string        `json:"url,omitempty"`     // DefaultURL when empty; EUURL for the EU
	APIKey      string        `json:"api_key,omitempty"` // sent as "Authorization: Token …"
	Model       string        `json:"model,omitempty"`   // DefaultModel when empty
	Language    string        `json:"language,omitempty"`
	Endpointing time.Duration `json:"endpointing,omitempty"` // silence that ends an utterance
	// ZeroRetention is the practice's confirmation that its Deepgram account keeps neither
	// audio nor transcripts.
	ZeroRetention bool          `json:"zero_retention"`
	Timeout       time.Duration `json:"timeout,omitempty"`
}

func (s Settings) withDefaults() Settings {
	if s.URL == "" {
		s.URL = DefaultURL
	}
	if s.Model == "" {
		s.Model = DefaultModel
	}
	if s.Language == "" {
		s.Language = DefaultLanguage
	}
	if s.Endpointing == 0 {
		s.Endpointing = DefaultEndpointing
	}
	if s.Timeout == 0 {
		s.Timeout = DefaultTimeout
	}
	return s
}

var languageTag = regexp.MustCompile(`^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$`)

// Validate reports whether s may be used; empty fields take their defaults.
func (s Settings) Validate() error {
	s = s.withDefaults()
	u, err := endpoint.Parse(s.URL, serverURL)
	if err != nil {
		return err
	}
	if s.APIKey == "" && isDeepgramHost(u.Hostname()) {
		return errs.Field("api_key", "Bitte geben Sie den API-Schlüssel von Deepgram an.")
	}
	if strings.ContainsFunc(s.APIKey, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }) {
		return errs.Field("api_key", "Der API-Schlüssel enthält unzulässige Zeichen (Leerzeichen oder Zeilenumbrüche).")
	}
	if strings.ContainsFunc(s.Model, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }) {
		return errs.Field("model", "Der Name des Modells enthält unzulässige Zeichen.")
	}
	if !languageTag.MatchString(s.Language) {
		return errs.Field("language", "Die Sprache muss ein Sprachcode wie „de“ oder „de-DE“ sein.")
	}
	if s.Endpointing < 10*time.Millisecond || s.Endpointing > 5*time.Second {
		return errs.Field("endpointing", "Die Pause, die eine Äußerung beendet, muss zwischen 10 ms und 5 Sekunden liegen.")
	}
	if s.Timeout < 0 || s.Timeout > MaxTimeout {
		return errs.Field("timeout", "Die Zeitgrenze muss zwischen 0 (Standard: %d Sekunden) und %d Sekunden liegen.",
			int(DefaultTimeout.Seconds()), int(MaxTimeout.Seconds()))
	}
	return nil
}

// serverURL allows wss:// (or https://) anywhere and plain ws:// (or http://) only to
// this host, where a self-hosted Deepgram may listen: callers' speech never crosses a
// network unencrypted.
var serverURL = endpoint.Rule{
	Field:   "url",
	Service: "des Deepgram-Dienstes",
	Example: EUURL,
	Secure:  []string{"wss", "https"},
	Plain:   []string{"ws", "http"},
	Key:     true,
}

func isDeepgramHost(host string) bool {
	host = strings.ToLower(host)
	return host == "deepgram.com" || strings.HasSuffix(host, ".deepgram.com")
}

// isPrivate reports whether host is this machine or an address of a private network,
// where only a self-hosted Deepgram can listen.
func isPrivate(host string) bool {
	if endpoint.Loopback(host) {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsPrivate()
}

// String prints s without its API key.
func (s Settings) String() string {
	return fmt.Sprintf("deepgram.Settings{URL:%q APIKey:%s Model:%q Language:%q Endpointing:%s ZeroRetention:%t Timeout:%s}",
		s.URL, redacted(s.APIKey), s.Model, s.Language, s.Endpointing, s.ZeroRetention, s.Timeout)
}

// GoString keeps %#v from printing the API key.
func (s Settings) GoString() string { return s.String() }

func redacted(key string) string {
	if key == "" {
		return "none"
	}
	return "redacted"
}

// Recognizer recognises speech with Deepgram. It is safe for concurrent use; every Stream
// is a connection of its own.
type Recognizer struct {
	endpoint  string // the listen URL with its query
	header    http.Header
	provider  speech.Provider
	timeout   time.Duration
	keepAlive time.Duration
	client    *http.Client
}

var _ speech.Recognizer = (*Recognizer)(nil)

// New returns a Recognizer for s, or the first reason s is not valid.
func New(s Settings) (*Recognizer, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	s = s.withDefaults()
	u, _ := url.Parse(s.URL)
	if !strings.HasSuffix(strings.TrimSuffix(u.Path, "/"), "/v1/listen") {
		u = u.JoinPath("v1", "listen")
	}
	q := url.Values{}
	q.Set("encoding", "linear16")
	q.Set("sample_rate", strconv.Itoa(speech.SampleRate))
	q.Set("channels", "1")
	q.Set("language", s.Language)
	q.Set("model", s.Model)
	q.Set("interim_results", "true")
	q.Set("endpointing", strconv.FormatInt(s.Endpointing.Milliseconds(), 10))
	// Without the opt-out Deepgram keeps the audio to train its models, and may process it
	// outside the endpoint's region.
	q.Set("mip_opt_out", "true")
	u.RawQuery = q.Encode()

	header := http.Header{}
	if s.APIKey != "" {
		header.Set("Authorization", "Token "+s.APIKey)
	}
	host := u.Hostname()
	return &Recognizer{
		endpoint: u.String(),
		header:   header,
		provider: speech.Provider{
			Name:          "deepgram",
			Local:         isPrivate(host),
			EUResidency:   strings.EqualFold(host, euHost),
			ZeroRetention: s.ZeroRetention,
		},
		timeout:   s.Timeout,
		keepAlive: keepAlive,
		client: &http.Client{
			// A redirect would carry callers' speech to an address the practice never set.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}, nil
}

// Provider declares EU residency only for Deepgram's EU endpoint, and zero retention only
// where the practice confirmed it; Local only for a self-hosted Deepgram on this machine or
// the practice's network.
func (r *Recognizer) Provider() speech.Provider { return r.provider }

// Stream opens a live transcription.
func (r *Recognizer) Stream(ctx context.Context) (_ speech.Stream, err error) {
	defer errs.Wrap(&err, "deepgram.Stream")
	dialCtx, cancelDial := context.WithTimeout(ctx, r.timeout)
	defer cancelDial()
	conn, resp, err := websocket.Dial(dialCtx, r.endpoint, &websocket.DialOptions{
		HTTPClient: r.client,
		HTTPHeader: r.header.Clone(),
	})
	if err != nil {
		return nil, dialError(ctx, resp, err)
	}
	conn.SetReadLimit(maxMessage)
	s := &stream{WSStream: speech.NewWSStream(ctx, conn, r.timeout, peer)}
	s.lastAudio.Store(time.Now().UnixNano())
	go s.Run(s.receive)
	go s.keepAlive(r.keepAlive)
	return s, nil
}

type stream struct {
	*speech.WSStream
	lastAudio atomic.Int64 // when audio or a KeepAlive was last sent, in Unix nanoseconds
}

// peer words the stream's errors: Deepgram's close reason keeps only its error code.
var peer = speech.WSPeer{
	Name:  "Dienst",
	Fault: fault,
	// Closed answers Write after Close.
	Closed: &errs.Error{Kind: errs.Invalid, Message: "Spracherkennung (Deepgram): die Aufnahme ist bereits beendet"},
	CloseError: func(ce websocket.CloseError) error {
		return &CloseError{Code: int(ce.Code), Reason: errorCode(ce.Reason)}
	},
}

// Write sends the audio as one binary message.
func (s *stream) Write(pcm []int16) error {
	return s.WriteAudio(func() error {
		if len(pcm) == 0 {
			return nil // an empty message once meant the end of the audio to Deepgram
		}
		buf := make([]byte, 0, 2*len(pcm))
		for _, v := range pcm {
			buf = binary.LittleEndian.AppendUint16(buf, uint16(v))
		}
		s.lastAudio.Store(time.Now().UnixNano())
		return s.Send(websocket.MessageBinary, buf)
	})
}

// Close sends CloseStream: Deepgram finishes what it heard, sends the last results and
// its metadata, and closes the connection. Results closes then, or after the timeout with
// an error.
func (s *stream) Close() error {
	return s.CloseAudio(func() error {
		return s.SendEnd(websocket.MessageText, []byte(`{"type":"CloseStream"}`))
	})
}

// keepAlive sends a KeepAlive whenever no audio went out for the interval, until Close or
// the end of the stream.
func (s *stream) keepAlive(interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.Context().Done():
			return
		case <-t.C:
		}
		if time.Since(time.Unix(0, s.lastAudio.Load())) < interval {
			continue
		}
		s.Mu.Lock()
		if s.Closing() {
			s.Mu.Unlock()
			return
		}
		s.lastAudio.Store(time.Now().UnixNano())
		err := s.Send(websocket.MessageText, []byte(`{"type":"KeepAlive"}`))
		s.Mu.Unlock()
		if err != nil {
			return // the reader ends the stream with the reason
		}
	}
}

// receive reads Deepgram's messages until it closes the connection.
func (s *stream) receive() error {
	last := ""       // the interim result delivered last
	partial := false // an interim result was delivered since the last final one
	for {
		msg, err := s.ReadText()
		if err != nil {
			return err
		}
		m, err := parseMessage(msg)
		if err != nil {
			return err
		}
		if m.kind != kindResult {
			continue
		}
		res := m.result
		var deliver bool
		if res.Final {
			deliver = res.Text != "" || partial
			partial, last = false, ""
		} else {
			deliver = res.Text != "" && res.Text != last
			partial, last = partial || deliver, res.Text
		}
		if !deliver {
			continue
		}
		if err := s.Deliver(res); err != nil {
			return err
		}
	}
}

var deepgramCode = regexp.MustCompile(`^[A-Z]{2,8}-[0-9]{4}$`)

// errorCode keeps Deepgram's error code (DATA-0000, NET-0001 …) from a close reason and
// drops any other text.
func errorCode(reason string) string {
	reason = strings.TrimSpace(reason)
	if deepgramCode.MatchString(reason) {
		return reason
	}
	return ""
}

type kind int

const (
	kindOther  kind = iota // Metadata, SpeechStarted, UtteranceEnd and types yet to come
	kindResult             // Results
)

type message struct {
	kind   kind
	result speech.Result
}

// parseMessage decodes one message of Deepgram. Results carry the transcript of the first
// alternative; is_final marks the end of a segment, after which the next interim results
// start afresh. speech_final (the end of an utterance by endpointing) is not kept: the
// audio pipeline decides the end of the caller's turn.
func parseMessage(msg []byte) (message, error) {
	// The type comes first: "channel" is an object in Results but a list in SpeechStarted
	// and UtteranceEnd.
	var head struct {
		Type *string `json:"type"`
	}
	if err := json.Unmarshal(msg, &head); err != nil {
		// The decoder's message may quote what Deepgram sent.
		return message{}, fault("Antwort des Dienstes nicht lesbar", nil)
	}
	switch {
	case head.Type == nil:
		return message{}, fault("Antwort des Dienstes ohne Typ", nil)
	case *head.Type == "Error":
		return message{}, fault("der Dienst meldet einen Fehler", nil)
	case *head.Type != "Results":
		return message{kind: kindOther}, nil
	}
	var m struct {
		IsFinal bool `json:"is_final"`
		Channel struct {
			Alternatives []struct {
				Transcript string  `json:"transcript"`
				Confidence float64 `json:"confidence"`
			} `json:"alternatives"`
		} `json:"channel"`
	}
	if err := json.Unmarshal(msg, &m); err != nil {
		return message{}, fault("Antwort des Dienstes nicht lesbar", nil)
	}
	res := speech.Result{Final: m.IsFinal}
	if alts := m.Channel.Alternatives; len(alts) > 0 {
		res.Text = strings.TrimSpace(alts[0].Transcript)
		if res.Text != "" {
			res.Confidence = clamp(alts[0].Confidence)
		}
	}
	return message{kind: kindResult, result: res}, nil
}

func clamp(f float64) float64 {
	if math.IsNaN(f) || f < 0 {
		return 0
	}
	return min(f, 1)
}

// StatusError is the cause of a Stream error when Deepgram refused the connection with an
// HTTP status: 401 for a wrong key, 402 when the credit is used up, 429 for too many
// connections.
type StatusError struct {
	StatusCode int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("HTTP %d %s", e.StatusCode, http.StatusText(e.StatusCode))
}

// CloseError is the cause of a stream error when Deepgram closed the connection with a
// WebSocket status other than a normal closure, and its error code where it gave one.
type CloseError struct {
	Code   int
	Reason string // a Deepgram error code such as NET-0001, or empty
}

func (e *CloseError) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("WebSocket-Status %d", e.Code)
	}
	return fmt.Sprintf("WebSocket-Status %d %s", e.Code, e.Reason)
}

func dialError(ctx context.Context, resp *http.Response, err error) error {
	return fault(speech.DialFault(ctx, resp, err, "Dienst", map[int]string{
		http.StatusUnauthorized:    "Zugang abgelehnt – bitte den API-Schlüssel prüfen",
		http.StatusForbidden:       "Zugang abgelehnt – bitte den API-Schlüssel prüfen",
		http.StatusPaymentRequired: "das Guthaben des Kontos ist aufgebraucht",
		http.StatusTooManyRequests: "zu viele gleichzeitige Verbindungen",
	}, func(code int) error { return &StatusError{StatusCode: code} }))
}

func fault(msg string, cause error) error {
	return &errs.Error{Kind: errs.Internal, Message: "Spracherkennung (Deepgram): " + msg, Err: cause}
}
