package elevenlabs

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"

	"github.com/tresen/tresen/internal/audio"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/speech"
)

// MaxText is the longest text one Speak call sends.
const MaxText = 5000

// Voice speaks with one ElevenLabs voice. It is safe for concurrent use: every Speak opens
// its own connection.
type Voice struct {
	url      *url.URL
	apiKey   string
	format   string
	settings voiceSettings
	timeout  time.Duration
	provider speech.Provider
}

var _ speech.Voice = (*Voice)(nil)

// NewVoice returns a Voice for s, or the error of s.Validate; s must name a voice.
func NewVoice(s Settings) (*Voice, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if s.VoiceID == "" {
		return nil, errs.Field("voice_id", "Bitte geben Sie die Stimmen-ID von ElevenLabs an.")
	}
	base, _ := s.baseURL()
	u := *base
	u.Path += "/v1/text-to-speech/" + s.VoiceID + "/stream-input"
	format := or(s.OutputFormat, PCM8000)
	q := url.Values{
		"model_id":      {or(s.Model, DefaultModel)},
		"output_format": {format},
		// The whole text is known when Speak starts: auto mode generates at sentence ends
		// instead of waiting to fill ElevenLabs' chunk schedule.
		"auto_mode": {"true"},
	}
	if s.ZeroRetention {
		q.Set("enable_logging", "false")
	}
	u.RawQuery = q.Encode()
	vs := voiceSettings{Stability: 0.5, SimilarityBoost: 0.75, Speed: 1}
	if s.Stability != 0 {
		vs.Stability = s.Stability
	}
	if s.SimilarityBoost != 0 {
		vs.SimilarityBoost = s.SimilarityBoost
	}
	if s.Speed != 0 {
		vs.Speed = s.Speed
	}
	return &Voice{url: &u, apiKey: s.APIKey, format: format, settings: vs, timeout: s.timeout(), provider: provider(base, s)}, nil
}

// Provider says what ElevenLabs promises for this endpoint and contract.
func (v *Voice) Provider() speech.Provider { return v.provider }

type voiceSettings struct {
	Stability       float64 `json:"stability"`
	SimilarityBoost float64 `json:"similarity_boost"`
	Speed           float64 `json:"speed"`
}

// Client messages of the stream-input protocol: the first carries a single space and the
// voice settings, then the text (ending in a space), then an empty text, which makes
// ElevenLabs generate what is left and end the stream.
type initMessage struct {
	Text          string        `json:"text"`
	VoiceSettings voiceSettings `json:"voice_settings"`
}

type textMessage struct {
	Text string `json:"text"`
}

// audioMessage is a server message: audio (base64 in the output format) or the end.
type audioMessage struct {
	Audio   *string `json:"audio"`
	IsFinal *bool   `json:"isFinal"`
	// On failure ElevenLabs sends an error code (and a message, which is not kept).
	Error json.RawMessage `json:"error"`
}

// parseAudio reads one server message: the audio it carries (decoded bytes, possibly
// none), whether it is the last, or ElevenLabs' error.
func parseAudio(data []byte) (audio []byte, final bool, err error) {
	var m audioMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, false, errMalformed
	}
	if len(m.Error) > 0 && string(m.Error) != "null" {
		var code string
		if json.Unmarshal(m.Error, &code) != nil {
			code = "error"
		}
		return nil, false, &ServerError{Code: safeToken(code)}
	}
	if m.Audio != nil && *m.Audio != "" {
		audio, err = base64.StdEncoding.DecodeString(*m.Audio)
		if err != nil {
			return nil, false, errMalformed
		}
	}
	return audio, m.IsFinal != nil && *m.IsFinal, nil
}

var errMalformed = errors.New("malformed message")

// Speak opens a stream-input connection, sends text and hands the audio to out as the
// messages arrive. Errors are errs.Internal (errs.Invalid for text that cannot be sent)
// without the text; out's error is returned wrapped, and so is ctx's when it ended.
func (v *Voice) Speak(ctx context.Context, text string, out func(pcm []int16) error) (err error) {
	defer errs.Wrap(&err, "elevenlabs.Speak")
	const what = "Sprachausgabe"
	text = strings.TrimSpace(text)
	if text == "" {
		return nil
	}
	if !utf8.ValidString(text) || utf8.RuneCountInString(text) > MaxText {
		return errs.Field("text", "Der Text für die Sprachausgabe ist ungültig oder länger als %d Zeichen.", MaxText)
	}

	dialCtx, dialCancel := context.WithTimeoutCause(ctx, v.timeout, errTimeout)
	c, res, err := dial(dialCtx, v.url, v.apiKey)
	if err != nil {
		err = connError(dialCtx, what, res, err)
		dialCancel()
		return err
	}
	dialCancel()
	defer c.CloseNow()

	for _, m := range []any{
		initMessage{Text: " ", VoiceSettings: v.settings},
		textMessage{Text: text + " "},
		textMessage{Text: ""},
	} {
		b, _ := json.Marshal(m)
		writeCtx, writeCancel := context.WithTimeoutCause(ctx, v.timeout, errTimeout)
		if err := c.Write(writeCtx, websocket.MessageText, b); err != nil {
			err = connError(writeCtx, what, nil, err)
			writeCancel()
			return err
		}
		writeCancel()
	}

	conv := newConverter(v.format)
	for {
		readCtx, readCancel := context.WithTimeoutCause(ctx, v.timeout, errTimeout)
		typ, data, err := c.Read(readCtx)
		if err != nil {
			if websocket.CloseStatus(err) == websocket.StatusNormalClosure {
				readCancel()
				break // ElevenLabs ends the stream after the empty text
			}
			err = connError(readCtx, what, nil, err)
			readCancel()
			return err
		}
		readCancel()
		if typ != websocket.MessageText {
			return fault(what+": unerwartete Nachricht von ElevenLabs", nil)
		}
		audio, final, err := parseAudio(data)
		if err != nil {
			if se, ok := errors.AsType[*ServerError](err); ok {
				return fault(what+": ElevenLabs meldet einen Fehler", se)
			}
			return fault(what+": Nachricht von ElevenLabs nicht lesbar", nil)
		}
		if err := emit(ctx, out, conv.convert(audio)); err != nil {
			return err
		}
		if final {
			break
		}
	}
	if err := emit(ctx, out, conv.flush()); err != nil {
		return err
	}
	c.Close(websocket.StatusNormalClosure, "")
	return nil
}

// converter turns the bytes of one output format, split anywhere, into 8 kHz samples.
type converter struct {
	ulaw bool
	dec  audio.PCM16Decoder
	rs   *audio.Resampler // for 16 kHz PCM
}

func newConverter(format string) *converter {
	c := &converter{ulaw: format == ULaw8000}
	if format == PCM16000 {
		c.rs, _ = audio.NewResampler(16000, speech.SampleRate) // fails for invalid rates only
	}
	return c
}

func (c *converter) convert(b []byte) []int16 {
	if c.ulaw {
		return audio.DecodeULaw(make([]int16, 0, len(b)), b)
	}
	pcm := c.dec.Decode(make([]int16, 0, (len(b)+1)/2), b)
	if c.rs != nil {
		return c.rs.Process(nil, pcm)
	}
	return pcm
}

// flush returns what the resampler still holds once the audio ended.
func (c *converter) flush() []int16 {
	if c.rs == nil {
		return nil
	}
	return c.rs.Flush(nil)
}

// emit hands pcm to out unless it is empty or ctx ended (barge-in).
func emit(ctx context.Context, out func([]int16) error, pcm []int16) error {
	if ctx.Err() != nil {
		return fault("Sprachausgabe: abgebrochen", context.Cause(ctx))
	}
	if len(pcm) == 0 {
		return nil
	}
	if err := out(pcm); err != nil {
		return fmt.Errorf("audio output: %w", err)
	}
	return nil
}
