package assistant

import (
	"context"

	"github.com/tresen/tresen/internal/azurespeech"
	"github.com/tresen/tresen/internal/deepgram"
	"github.com/tresen/tresen/internal/elevenlabs"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/retention"
	"github.com/tresen/tresen/internal/speech"
	"github.com/tresen/tresen/internal/speechapi"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/vosk"
	"github.com/tresen/tresen/internal/whisper"
)

// VoiceSettings choose how a practice's phone line hears and speaks
// (store.SettingVoice). Without a recogniser the line is served by keypad; without a
// voice it speaks with espeak-ng on this server. Only the chosen provider's settings are
// kept; a practice's cloned voice is only a reference (its id at the provider).
type VoiceSettings struct {
	// Recognizer is "" (keypad only), "vosk", "deepgram", "whisper", "elevenlabs" or
	// "azure".
	Recognizer string `json:"recognizer,omitempty"`
	// Voice is "" (espeak-ng), "speechapi" (Piper or another self-hosted server),
	// "elevenlabs" or "azure".
	Voice string `json:"voice,omitempty"`

	Vosk       *vosk.Settings        `json:"vosk,omitempty"`
	Deepgram   *deepgram.Settings    `json:"deepgram,omitempty"`
	Whisper    *whisper.Settings     `json:"whisper,omitempty"`
	ElevenLabs *elevenlabs.Settings  `json:"elevenlabs,omitempty"`
	Azure      *azurespeech.Settings `json:"azure,omitempty"`
	SpeechAPI  *speechapi.Settings   `json:"speechapi,omitempty"`
}

// Recognizers and Voices are the choices, with their German names.
var (
	Recognizers = []struct{ Key, Label string }{
		{"", "keine (Tastenwahl)"}, {"vosk", "Vosk (eigener Server)"}, {"whisper", "Whisper-kompatibel (eigener Server)"},
		{"deepgram", "Deepgram"}, {"elevenlabs", "ElevenLabs"}, {"azure", "Azure Speech"},
	}
	Voices = []struct{ Key, Label string }{
		{"", "espeak-ng (auf diesem Server)"}, {"speechapi", "Piper / OpenAI-kompatibel (eigener Server)"},
		{"elevenlabs", "ElevenLabs"}, {"azure", "Azure Speech"},
	}
)

// NewRecognizer returns the chosen recogniser; nil when the line is served by keypad.
func (v VoiceSettings) NewRecognizer() (speech.Recognizer, error) {
	var r speech.Recognizer
	var err error
	missing := errs.Field("recognizer", "Für die gewählte Spracherkennung fehlen die Angaben.")
	switch v.Recognizer {
	case "":
		return nil, nil
	case "vosk":
		if v.Vosk == nil {
			return nil, missing
		}
		r, err = vosk.New(*v.Vosk)
	case "deepgram":
		if v.Deepgram == nil {
			return nil, missing
		}
		r, err = deepgram.New(*v.Deepgram)
	case "whisper":
		if v.Whisper == nil {
			return nil, missing
		}
		r, err = whisper.New(*v.Whisper)
	case "elevenlabs":
		if v.ElevenLabs == nil {
			return nil, missing
		}
		r, err = elevenlabs.NewRecognizer(*v.ElevenLabs)
	case "azure":
		if v.Azure == nil {
			return nil, missing
		}
		r, err = azurespeech.NewRecognizer(*v.Azure)
	default:
		return nil, errs.Field("recognizer", "unbekannte Spracherkennung %q", v.Recognizer)
	}
	if err != nil {
		return nil, err
	}
	return r, promised("recognizer", r.Provider())
}

// NewVoice returns the chosen voice; nil for espeak-ng, which the server holds.
func (v VoiceSettings) NewVoice() (speech.Voice, error) {
	var out speech.Voice
	var err error
	missing := errs.Field("voice", "Für die gewählte Stimme fehlen die Angaben.")
	switch v.Voice {
	case "":
		return nil, nil
	case "speechapi":
		if v.SpeechAPI == nil {
			return nil, missing
		}
		out, err = speechapi.New(*v.SpeechAPI)
	case "elevenlabs":
		if v.ElevenLabs == nil {
			return nil, missing
		}
		out, err = elevenlabs.NewVoice(*v.ElevenLabs)
	case "azure":
		if v.Azure == nil {
			return nil, missing
		}
		out, err = azurespeech.NewVoice(*v.Azure)
	default:
		return nil, errs.Field("voice", "unbekannte Stimme %q", v.Voice)
	}
	if err != nil {
		return nil, err
	}
	return out, promised("voice", out.Provider())
}

// promised refuses a provider off the practice's own server unless it processes in the
// EU and keeps nothing: no audio or text of a call goes anywhere else.
func promised(field string, p speech.Provider) error {
	if p.Local || p.EUResidency && p.ZeroRetention {
		return nil
	}
	return errs.Field(field, "%s verarbeitet nicht nachweislich ausschließlich in der EU ohne Speicherung: bitte EU-Verarbeitung und „keine Speicherung“ bestätigen oder einen eigenen Server wählen.", p.Name)
}

// Validate checks that the chosen providers can be built and keep the promises.
func (v VoiceSettings) Validate() error {
	if _, err := v.NewRecognizer(); err != nil {
		return err
	}
	_, err := v.NewVoice()
	return err
}

// voiceSettings returns a practice's voice settings; none yet: the keypad line with
// espeak-ng.
func voiceSettings(ctx context.Context, db *store.DB, tenantID string) (VoiceSettings, error) {
	var v VoiceSettings
	if err := db.Setting(ctx, tenantID, store.SettingVoice, &v); err != nil && !errs.Is(err, errs.NotFound) {
		return v, err
	}
	return v, nil
}

// PhoneVoice returns the voice of each practice's line: its provider's, or embedded (the
// server's espeak-ng) when it chose none.
func PhoneVoice(db *store.DB, embedded speech.Voice) func(ctx context.Context, tenantID string) (speech.Voice, error) {
	return func(ctx context.Context, tenantID string) (speech.Voice, error) {
		set, err := voiceSettings(ctx, db, tenantID)
		if err != nil {
			return nil, err
		}
		v, err := set.NewVoice()
		if v == nil && err == nil {
			return embedded, nil
		}
		return v, err
	}
}

// PhoneRecognizer returns the recogniser of each practice's line; nil: keypad only.
func PhoneRecognizer(db *store.DB) func(ctx context.Context, tenantID string) (speech.Recognizer, error) {
	return func(ctx context.Context, tenantID string) (speech.Recognizer, error) {
		set, err := voiceSettings(ctx, db, tenantID)
		if err != nil {
			return nil, err
		}
		return set.NewRecognizer()
	}
}

// Records reports for each practice whether its calls are recorded: it chose to record
// them and keeps call audio (a retention period above 0 days).
func Records(db *store.DB) func(ctx context.Context, tenantID string) (bool, error) {
	return func(ctx context.Context, tenantID string) (bool, error) {
		var set Settings
		if err := db.Setting(ctx, tenantID, store.SettingAssistant, &set); err != nil && !errs.Is(err, errs.NotFound) {
			return false, err
		}
		if !set.RecordCalls {
			return false, nil
		}
		p, err := db.RetentionPolicy(ctx, tenantID)
		if err != nil {
			return false, err
		}
		return p.Days(retention.CallAudio) > 0, nil
	}
}
