// Package speechapi implements speech.Voice for any OpenAI-compatible text-to-speech
// endpoint (POST /v1/audio/speech): a self-hosted Piper server, or a hosted provider the
// practice has confirmed. The answer is streamed, so the first audio reaches the caller
// while the server still synthesises the rest.
package speechapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tresen/tresen/internal/audio"
	"github.com/tresen/tresen/internal/endpoint"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/speech"
)

// Voice speaks through one endpoint. It is safe for concurrent use.
type Voice struct {
	client   *http.Client
	url      string
	model    string
	voice    string
	apiKey   string
	format   string
	rate     int // of "pcm" audio
	timeout  time.Duration
	provider speech.Provider
}

var _ speech.Voice = (*Voice)(nil)

// New returns a Voice for s, or the error of s.Validate.
func New(s Settings) (*Voice, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	base, _ := endpoint.Parse(s.BaseURL, baseURL)
	v := &Voice{
		client: &http.Client{
			// A redirect would carry the text to an address the practice never confirmed.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		url:     speechURL(base),
		model:   s.Model,
		voice:   s.Voice,
		apiKey:  s.APIKey,
		format:  s.Format,
		rate:    s.SampleRate,
		timeout: s.EffectiveTimeout(),
	}
	if v.format == "" {
		v.format = FormatWAV
	}
	if v.rate == 0 {
		v.rate = DefaultPCMRate
	}
	if isLocal(base.Hostname()) {
		v.provider = speech.Provider{Name: "speechapi", Local: true, EUResidency: true, ZeroRetention: true}
	} else {
		v.provider = speech.Provider{Name: "speechapi", EUResidency: s.EUResidency, ZeroRetention: s.ZeroRetention}
	}
	return v, nil
}

// Provider says where the text goes: a server on this machine or the practice's network
// is Local (and so keeps everything in the EU and nothing elsewhere); for any other the
// practice's confirmations stand.
func (v *Voice) Provider() speech.Provider { return v.provider }

// request is the body of POST /v1/audio/speech.
type request struct {
	Model          string `json:"model"`
	Input          string `json:"input"`
	Voice          string `json:"voice"`
	ResponseFormat string `json:"response_format"`
}

// chunkBytes is how much of the body one read takes at most: 100 ms of 24 kHz audio.
const chunkBytes = 4800

// Speak posts text and hands the audio to out, converted to 8 kHz, piece by piece as the
// body arrives. Errors are errs.Internal (errs.Invalid for text that cannot be sent) and
// never carry the text; out's error is returned wrapped, and so is ctx's when it ended.
func (v *Voice) Speak(ctx context.Context, text string, out func(pcm []int16) error) (err error) {
	defer errs.Wrap(&err, "speechapi.Speak")
	text = strings.TrimSpace(text)
	if text == "" {
		return nil
	}
	if !utf8.ValidString(text) || utf8.RuneCountInString(text) > MaxText {
		return errs.Field("text", "Der Text für die Sprachausgabe ist ungültig oder länger als %d Zeichen.", MaxText)
	}
	body, err := json.Marshal(request{Model: v.model, Input: text, Voice: v.voice, ResponseFormat: v.format})
	if err != nil {
		return fault("Sprachausgabe: Anfrage nicht darstellbar", nil)
	}

	// The stall watch ends the request when the server is silent for longer than the
	// timeout: before the answer starts and between two pieces of audio.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stall := time.AfterFunc(v.timeout, func() { cancel(errStalled) })
	defer stall.Stop()

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.url, bytes.NewReader(body))
	if err != nil {
		return fault("Sprachausgabe: Anfrage nicht darstellbar", nil)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Tresen")
	if v.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+v.apiKey)
	}
	res, err := v.client.Do(req)
	if err != nil {
		return transportError(ctx, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fault("Sprachausgabe: der Dienst meldet einen Fehler", &StatusError{StatusCode: res.StatusCode})
	}
	stall.Reset(v.timeout)

	br := bufio.NewReaderSize(res.Body, chunkBytes)
	rate := v.rate
	if v.format == FormatWAV {
		if rate, err = readWAVRate(br); err != nil {
			if ctx.Err() != nil {
				return transportError(ctx, ctx.Err())
			}
			return fault("Sprachausgabe: Antwort ist kein unterstütztes WAV (16 Bit, mono)", nil)
		}
	}
	if rate < speech.SampleRate {
		return fault("Sprachausgabe: Abtastrate unter 8 kHz", nil)
	}
	rs, err := audio.NewResampler(rate, speech.SampleRate)
	if err != nil {
		return fault("Sprachausgabe: Abtastrate nicht umsetzbar", nil)
	}
	var dec audio.PCM16Decoder
	buf := make([]byte, chunkBytes)
	var samples, pcm []int16
	for {
		n, rerr := br.Read(buf)
		if n > 0 {
			// out may pace the audio in real time; that is not the server stalling.
			stall.Stop()
			samples = dec.Decode(samples[:0], buf[:n])
			pcm = rs.Process(pcm[:0], samples)
			if err := emit(ctx, out, pcm); err != nil {
				return err
			}
			stall.Reset(v.timeout)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return transportError(ctx, rerr)
		}
	}
	if rate == speech.SampleRate {
		return nil // audio at telephone rate passes through: nothing is held back
	}
	return emit(ctx, out, rs.Flush(pcm[:0]))
}

// maxWAVHeader bounds what a WAV answer may hold before its samples (fmt, and LIST, fact
// or other chunks that are skipped).
const maxWAVHeader = 64 << 10

// maxWAVRate is the highest sample rate taken from a WAV answer.
const maxWAVRate = 48000

var errWAV = errors.New("not a 16-bit mono PCM WAV stream")

// readWAVRate reads a WAV answer's header up to its samples and returns their rate.
// Streaming servers write an unknown length (0 or 0xFFFFFFFF) into the RIFF and data
// sizes, so both are ignored: the audio runs to the end of the body.
func readWAVRate(r io.Reader) (int, error) {
	f, err := audio.ReadWAVHeader(io.LimitReader(r, maxWAVHeader))
	if err != nil || f.Channels != 1 || f.SampleRate < speech.SampleRate || f.SampleRate > maxWAVRate {
		return 0, errWAV
	}
	return f.SampleRate, nil
}

// emit hands pcm to out unless it is empty or ctx ended (barge-in). out gets its own copy:
// it may keep the slice.
func emit(ctx context.Context, out func([]int16) error, pcm []int16) error {
	if err := ctx.Err(); err != nil {
		return transportError(ctx, err)
	}
	if len(pcm) == 0 {
		return nil
	}
	if err := out(append([]int16(nil), pcm...)); err != nil {
		return fmt.Errorf("audio output: %w", err)
	}
	return nil
}

var errStalled = errors.New("no data from the speech server within the timeout")

// StatusError is the cause of a Speak error when the server answered with an HTTP error
// status. It keeps the status only: the server's message may quote the text.
type StatusError struct {
	StatusCode int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("HTTP %d %s", e.StatusCode, http.StatusText(e.StatusCode))
}

// transportError translates an error of the request or the body into one without data.
func transportError(ctx context.Context, err error) error {
	if cause := context.Cause(ctx); cause != nil {
		if errors.Is(cause, errStalled) {
			return fault("Sprachausgabe: keine Antwort in der Zeitgrenze", cause)
		}
		return fault("Sprachausgabe: abgebrochen", cause)
	}
	if urlErr, ok := errors.AsType[*url.Error](err); ok {
		// Dial, TLS and connection errors name the endpoint, never the text.
		return fault("Sprachausgabe: Verbindung zum Dienst fehlgeschlagen", urlErr)
	}
	return fault("Sprachausgabe: Verbindung während der Antwort abgebrochen", nil)
}

func fault(msg string, cause error) error {
	return &errs.Error{Kind: errs.Internal, Message: msg, Err: cause}
}
