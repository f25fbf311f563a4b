// Package azurespeech implements speech.Voice over Azure Speech's REST text to speech and
// speech.Recognizer over its streaming recognition: the WebSocket protocol of the Speech
// SDK, with interim and final results while the caller speaks.
package azurespeech

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tresen/tresen/internal/audio"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/speech"
)

// MaxText is the longest text one Speak call sends.
const MaxText = 5000

// outputFormat is telephone audio, so no conversion is needed.
const outputFormat = "raw-8khz-16bit-mono-pcm"

// Voice speaks with one Azure voice. It is safe for concurrent use.
type Voice struct {
	client   *http.Client
	url      string
	key      string
	voice    string
	language string
	timeout  time.Duration
	provider speech.Provider
}

var _ speech.Voice = (*Voice)(nil)

// NewVoice returns a Voice for s, or the error of s.Validate.
func NewVoice(s Settings) (*Voice, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	voice := s.Voice
	if voice == "" {
		voice = DefaultVoice
	}
	return &Voice{client: newClient(), url: s.ttsURL(), key: s.Key, voice: voice, language: s.language(), timeout: s.timeout(), provider: s.provider()}, nil
}

func newClient() *http.Client {
	return &http.Client{
		// A redirect would carry the key and the data to an address nobody confirmed.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Provider says where the region is and what the practice confirmed.
func (v *Voice) Provider() speech.Provider { return v.provider }

// ssml wraps text for the voice. The text is escaped, so that nothing a caller's name or
// a model's answer contains can become markup (another voice, an audio element, a break).
func ssml(language, voice, text string) []byte {
	var b bytes.Buffer
	b.WriteString("<speak version='1.0' xmlns='http://www.w3.org/2001/10/synthesis' xml:lang='")
	xml.EscapeText(&b, []byte(language))
	b.WriteString("'><voice name='")
	xml.EscapeText(&b, []byte(voice))
	b.WriteString("'>")
	xml.EscapeText(&b, []byte(text))
	b.WriteString("</voice></speak>")
	return b.Bytes()
}

// chunkBytes bounds one read of the answer: 100 ms of audio.
const chunkBytes = 1600

// Speak posts text as SSML and hands the audio to out as the chunked answer arrives.
// Errors are errs.Internal (errs.Invalid for text that cannot be sent) without the text;
// out's error is returned wrapped, and so is ctx's when it ended.
func (v *Voice) Speak(ctx context.Context, text string, out func(pcm []int16) error) (err error) {
	defer errs.Wrap(&err, "azurespeech.Speak")
	const what = "Sprachausgabe"
	text = strings.TrimSpace(text)
	if text == "" {
		return nil
	}
	if !utf8.ValidString(text) || utf8.RuneCountInString(text) > MaxText {
		return errs.Field("text", "Der Text für die Sprachausgabe ist ungültig oder länger als %d Zeichen.", MaxText)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// The stall watch ends the request when Azure is silent for longer than the timeout,
	// before the answer starts or between two pieces of audio.
	stall := time.AfterFunc(v.timeout, func() { cancel(errTimeout) })
	defer stall.Stop()

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.url, bytes.NewReader(ssml(v.language, v.voice, text)))
	if err != nil {
		return fault(what+": Anfrage nicht darstellbar", nil)
	}
	req.Header.Set("Ocp-Apim-Subscription-Key", v.key)
	req.Header.Set("Content-Type", "application/ssml+xml")
	req.Header.Set("X-Microsoft-OutputFormat", outputFormat)
	req.Header.Set("User-Agent", "Tresen")
	res, err := v.client.Do(req)
	if err != nil {
		return transportError(ctx, what, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fault(what+": Azure meldet einen Fehler", &StatusError{StatusCode: res.StatusCode})
	}
	stall.Reset(v.timeout)

	buf := make([]byte, chunkBytes)
	var dec audio.PCM16Decoder
	for {
		n, rerr := res.Body.Read(buf)
		if n > 0 {
			stall.Stop() // out may pace the audio in real time; that is not Azure stalling
			pcm := dec.Decode(make([]int16, 0, (n+1)/2), buf[:n])
			if ctx.Err() != nil {
				return transportError(ctx, what, ctx.Err())
			}
			if len(pcm) > 0 {
				if err := out(pcm); err != nil {
					return fmt.Errorf("audio output: %w", err)
				}
			}
			stall.Reset(v.timeout)
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return transportError(ctx, what, rerr)
		}
	}
}

var errTimeout = errors.New("no answer from Azure within the timeout")

// StatusError is the cause of an error when Azure answered with an HTTP error status
// (400 SSML refused, 401 key wrong, 429 too many requests, 5xx). It keeps the status only.
type StatusError struct {
	StatusCode int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("HTTP %d %s", e.StatusCode, http.StatusText(e.StatusCode))
}

// transportError translates an error of the request or the body into one without data.
func transportError(ctx context.Context, what string, err error) error {
	if cause := context.Cause(ctx); cause != nil {
		if errors.Is(cause, errTimeout) {
			return fault(what+": keine Antwort von Azure in der Zeitgrenze", cause)
		}
		return fault(what+": abgebrochen", cause)
	}
	if urlErr, ok := errors.AsType[*url.Error](err); ok {
		return fault(what+": Verbindung zu Azure fehlgeschlagen", urlErr)
	}
	return fault(what+": Verbindung zu Azure während der Antwort abgebrochen", nil)
}

func fault(msg string, cause error) error {
	return &errs.Error{Kind: errs.Internal, Message: msg, Err: cause}
}
