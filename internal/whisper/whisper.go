// Package whisper implements speech.Recognizer for OpenAI-compatible transcription
// endpoints (/v1/audio/transcriptions), as self-hosted Whisper servers offer them
// (faster-whisper-server/speaches, whisper.cpp's server). They do not stream: a Stream
// keeps the audio of one caller turn and sends it as a WAV file on Close.
package whisper

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/netip"
	"net/textproto"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/tresen/tresen/internal/endpoint"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/speech"
)

const (
	DefaultLanguage = "de"
	// DefaultTimeout bounds one transcription when Settings leave Timeout at zero: a
	// Whisper model on a CPU needs a few seconds for a turn. MaxTimeout is the longest a
	// practice may set.
	DefaultTimeout = 15 * time.Second
	MaxTimeout     = 120 * time.Second
	// MaxAudio is the longest turn a Stream keeps; a caller's turn is far shorter, and the
	// WAV stays well below the 25 MB that OpenAI-compatible servers accept.
	MaxAudio = 5 * time.Minute
)

const (
	maxPCM      = int(MaxAudio/time.Second) * speech.SampleRate * 2
	maxResponse = 1 << 20
	path        = "v1/audio/transcriptions"
)

// Settings say which transcription server the practice uses. Where the server runs on
// this machine or the practice's network, the audio stays there; for any other server the
// practice confirms where it runs and what it keeps.
type Settings struct {
	URL      string `json:"url"`               // e.g. http://localhost:8000 or https://whisper.praxis-weber.de/v1
	APIKey   string `json:"api_key,omitempty"` // sent as a bearer token; may be empty for a local server
	Model    string `json:"model"`             // e.g. Systran/faster-whisper-large-v3
	Language string `json:"language,omitempty"`
	// Confirmed by the practice, for a server whose address does not show it: it runs on
	// the practice's own server (Local), in the EU (EUResidency), keeps no audio or text
	// (ZeroRetention).
	Local         bool          `json:"local"`
	EUResidency   bool          `json:"eu_residency"`
	ZeroRetention bool          `json:"zero_retention"`
	Timeout       time.Duration `json:"timeout,omitempty"`
}

var languageTag = regexp.MustCompile(`^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$`)

// Validate reports whether s may be used.
func (s Settings) Validate() error {
	if _, err := transcriptionURL(s.URL); err != nil {
		return err
	}
	if strings.TrimSpace(s.Model) == "" {
		return errs.Field("model", "Bitte geben Sie den Namen des Modells an, z. B. Systran/faster-whisper-large-v3.")
	}
	if strings.ContainsFunc(s.Model, unicode.IsControl) {
		return errs.Field("model", "Der Name des Modells enthält unzulässige Zeichen.")
	}
	if s.Language != "" && !languageTag.MatchString(s.Language) {
		return errs.Field("language", "Die Sprache muss ein Sprachcode wie „de“ sein.")
	}
	if strings.ContainsFunc(s.APIKey, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }) {
		return errs.Field("api_key", "Der API-Schlüssel enthält unzulässige Zeichen (Leerzeichen oder Zeilenumbrüche).")
	}
	if s.Timeout < 0 || s.Timeout > MaxTimeout {
		return errs.Field("timeout", "Die Zeitgrenze muss zwischen 0 (Standard: %d Sekunden) und %d Sekunden liegen.",
			int(DefaultTimeout.Seconds()), int(MaxTimeout.Seconds()))
	}
	return nil
}

// serverURL allows https anywhere and plain http only to this host: callers' speech never
// crosses a network unencrypted.
var serverURL = endpoint.Rule{
	Field:   "url",
	Service: "des Transkriptionsdienstes",
	Example: "http://localhost:8000",
	Secure:  []string{"https"},
	Plain:   []string{"http"},
	Key:     true,
}

// transcriptionURL checks the base URL (serverURL) and returns the transcription URL.
func transcriptionURL(raw string) (*url.URL, error) {
	u, err := endpoint.Parse(raw, serverURL)
	if err != nil {
		return nil, err
	}
	// The base may name the API version, as OpenAI base URLs do, or the endpoint itself.
	switch p := strings.TrimSuffix(u.Path, "/"); {
	case strings.HasSuffix(p, "/"+path):
	case strings.HasSuffix(p, "/v1"):
		u = u.JoinPath("audio", "transcriptions")
	default:
		u = u.JoinPath("v1", "audio", "transcriptions")
	}
	return u, nil
}

// isPrivate reports whether host is this machine or an address of a private network.
func isPrivate(host string) bool {
	if endpoint.Loopback(host) {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsPrivate()
}

// String prints s without its API key.
func (s Settings) String() string {
	return fmt.Sprintf("whisper.Settings{URL:%q APIKey:%s Model:%q Language:%q Local:%t EUResidency:%t ZeroRetention:%t Timeout:%s}",
		s.URL, redacted(s.APIKey), s.Model, s.Language, s.Local, s.EUResidency, s.ZeroRetention, s.Timeout)
}

// GoString keeps %#v from printing the API key.
func (s Settings) GoString() string { return s.String() }

func redacted(key string) string {
	if key == "" {
		return "none"
	}
	return "redacted"
}

// Recognizer transcribes through one endpoint. It is safe for concurrent use.
type Recognizer struct {
	url      string
	apiKey   string
	model    string
	language string
	timeout  time.Duration
	provider speech.Provider
	client   *http.Client
}

var _ speech.Recognizer = (*Recognizer)(nil)

// New returns a Recognizer for s, or the first reason s is not valid.
func New(s Settings) (*Recognizer, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	u, _ := transcriptionURL(s.URL)
	if s.Language == "" {
		s.Language = DefaultLanguage
	}
	if s.Timeout == 0 {
		s.Timeout = DefaultTimeout
	}
	// A server on this machine or the practice's network keeps the audio there; a
	// Whisper server does not store what it transcribes.
	local := isPrivate(u.Hostname()) || s.Local
	return &Recognizer{
		url:      u.String(),
		apiKey:   s.APIKey,
		model:    s.Model,
		language: s.Language,
		timeout:  s.Timeout,
		provider: speech.Provider{
			Name:          "whisper",
			Local:         local,
			EUResidency:   local || s.EUResidency,
			ZeroRetention: local || s.ZeroRetention,
		},
		client: &http.Client{
			// A redirect would carry callers' speech to an address the practice never set.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}, nil
}

func (r *Recognizer) Provider() speech.Provider { return r.provider }

// Stream starts a turn. Nothing is sent until Close; the caller ends every Stream with Close
// or by ending ctx.
func (r *Recognizer) Stream(ctx context.Context) (speech.Stream, error) {
	if err := ctx.Err(); err != nil {
		return nil, fault("abgebrochen", err)
	}
	s := &stream{
		r:       r,
		ctx:     ctx,
		results: make(chan speech.Result, 1),
		closeCh: make(chan struct{}),
		done:    make(chan struct{}),
	}
	go s.run()
	return s, nil
}

type stream struct {
	r       *Recognizer
	ctx     context.Context
	results chan speech.Result
	closeCh chan struct{} // closed by Close
	done    chan struct{} // closed just before Results

	mu      sync.Mutex
	pcm     []byte
	closing bool

	errMu sync.Mutex
	err   error
}

// errClosed answers Write after Close.
var errClosed = &errs.Error{Kind: errs.Invalid, Message: "Spracherkennung (Whisper): die Aufnahme ist bereits beendet"}

func (s *stream) Results() <-chan speech.Result { return s.results }

func (s *stream) Err() error {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	return s.err
}

// Write keeps the audio for Close.
func (s *stream) Write(pcm []int16) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return errClosed
	}
	select {
	case <-s.done:
		return s.Err()
	default:
	}
	if len(s.pcm)+2*len(pcm) > maxPCM {
		return fault(fmt.Sprintf("Aufnahme länger als %d Minuten", int(MaxAudio.Minutes())), nil)
	}
	for _, v := range pcm {
		s.pcm = binary.LittleEndian.AppendUint16(s.pcm, uint16(v))
	}
	return nil
}

// Close sends the audio for transcription; the text arrives on Results as one final
// result, and Results closes.
func (s *stream) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closing {
		s.closing = true
		close(s.closeCh)
	}
	return nil
}

func (s *stream) run() {
	err := s.transcribe()
	s.errMu.Lock()
	s.err = err
	s.errMu.Unlock()
	close(s.done) // first, so that Write fails once Results is seen closed
	close(s.results)
}

func (s *stream) transcribe() error {
	select {
	case <-s.ctx.Done():
		return fault("abgebrochen", s.ctx.Err())
	case <-s.closeCh:
	}
	s.mu.Lock()
	pcm := s.pcm
	s.pcm = nil
	s.mu.Unlock()
	if len(pcm) == 0 {
		return nil // nothing heard, nothing to send
	}
	text, err := s.r.transcribe(s.ctx, pcm)
	if err != nil {
		return err
	}
	if text == "" {
		return nil
	}
	select {
	case s.results <- speech.Result{Text: text, Final: true}:
		return nil
	case <-s.ctx.Done():
		return fault("abgebrochen", s.ctx.Err())
	}
}

// transcribe posts the audio as a WAV file and returns the text.
func (r *Recognizer) transcribe(ctx context.Context, pcm []byte) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	body, contentType := r.form(pcm)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url, body)
	if err != nil {
		return "", fault("Anfrage nicht möglich", nil)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	if r.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+r.apiKey)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			if errors.Is(ctxErr, context.DeadlineExceeded) {
				return "", fault("keine Antwort in der Zeitgrenze", ctxErr)
			}
			return "", fault("abgebrochen", ctxErr)
		}
		// Dial, TLS and connection errors name the endpoint, never the data.
		if urlErr, ok := errors.AsType[*url.Error](err); ok {
			return "", fault("Verbindung zum Dienst fehlgeschlagen", urlErr.Err)
		}
		return "", fault("Verbindung zum Dienst fehlgeschlagen", nil)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg := "der Dienst meldet einen Fehler"
		switch resp.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			msg = "Zugang abgelehnt – bitte den API-Schlüssel prüfen"
		case http.StatusTooManyRequests:
			msg = "der Dienst ist ausgelastet"
		case http.StatusRequestEntityTooLarge:
			msg = "die Aufnahme ist dem Dienst zu groß"
		}
		return "", fault(msg, &StatusError{StatusCode: resp.StatusCode})
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		if ctx.Err() != nil {
			return "", fault("keine Antwort in der Zeitgrenze", ctx.Err())
		}
		return "", fault("Antwort unvollständig", nil)
	}
	if len(b) > maxResponse {
		return "", fault("Antwort zu groß", nil)
	}
	return parseResponse(b)
}

// form builds the multipart body: model, language, response_format and the WAV file.
func (r *Recognizer) form(pcm []byte) (io.Reader, string) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.WriteField("model", r.model)
	w.WriteField("language", r.language)
	w.WriteField("response_format", "json")
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename="audio.wav"`)
	h.Set("Content-Type", "audio/wav")
	part, _ := w.CreatePart(h)
	part.Write(wavHeader(len(pcm)))
	part.Write(pcm)
	w.Close()
	return &buf, w.FormDataContentType()
}

// wavHeader is the RIFF header of a WAV file with n bytes of 16-bit PCM, mono, 8 kHz.
func wavHeader(n int) []byte {
	const channels, bits = 1, 16
	le := binary.LittleEndian
	h := make([]byte, 0, 44)
	h = append(h, "RIFF"...)
	h = le.AppendUint32(h, uint32(36+n))
	h = append(h, "WAVE"...)
	h = append(h, "fmt "...)
	h = le.AppendUint32(h, 16) // size of the fmt chunk
	h = le.AppendUint16(h, 1)  // PCM
	h = le.AppendUint16(h, channels)
	h = le.AppendUint32(h, speech.SampleRate)
	h = le.AppendUint32(h, speech.SampleRate*channels*bits/8) // bytes per second
	h = le.AppendUint16(h, channels*bits/8)                   // bytes per sample frame
	h = le.AppendUint16(h, bits)
	h = append(h, "data"...)
	h = le.AppendUint32(h, uint32(n))
	return h
}

// parseResponse reads the json response format: {"text": "..."}, with whatever else a
// server adds.
func parseResponse(b []byte) (string, error) {
	var m struct {
		Text *string `json:"text"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		// The decoder's message may quote the transcript.
		return "", fault("Antwort nicht lesbar", nil)
	}
	if m.Text == nil {
		return "", fault("Antwort ohne Text", nil)
	}
	return strings.TrimSpace(*m.Text), nil
}

// StatusError is the cause of an error when the server answered with an HTTP error
// status. It keeps the status only: the body may quote the request.
type StatusError struct {
	StatusCode int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("HTTP %d %s", e.StatusCode, http.StatusText(e.StatusCode))
}

func fault(msg string, cause error) error {
	return &errs.Error{Kind: errs.Internal, Message: "Spracherkennung (Whisper): " + msg, Err: cause}
}
