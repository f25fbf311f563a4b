package elevenlabs

import (
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/tresen/tresen/internal/endpoint"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/speech"
)

// Endpoints of ElevenLabs. Only the EU residency endpoint keeps the processing in the EU;
// it needs an ElevenLabs contract with EU data residency.
const (
	GlobalURL = "wss://api.elevenlabs.io"
	EUURL     = "wss://api.eu.residency.elevenlabs.io"
)

// Defaults for what Settings leave empty.
const (
	DefaultModel    = "eleven_flash_v2_5" // multilingual, ElevenLabs' lowest latency
	DefaultSTTModel = "scribe_v2_realtime"
	DefaultLanguage = "de"
	DefaultTimeout  = 5 * time.Second
	MaxTimeout      = 30 * time.Second
)

// Output formats Voice may ask for: telephone audio as it is, 16 kHz PCM (halved here),
// or G.711 µ-law.
const (
	PCM8000  = "pcm_8000"
	PCM16000 = "pcm_16000"
	ULaw8000 = "ulaw_8000"
)

// Settings are a practice's ElevenLabs account and voice. Tresen keeps only the id of the
// voice, which may be one the practice cloned at ElevenLabs from its own recordings.
type Settings struct {
	// BaseURL is EUURL or GlobalURL, or a private deployment's wss:// address; empty means
	// EUURL.
	BaseURL string `json:"base_url,omitempty"`
	APIKey  string `json:"api_key"`
	VoiceID string `json:"voice_id,omitempty"` // required for the Voice
	Model   string `json:"model,omitempty"`    // text to speech
	// OutputFormat is PCM8000 (default), PCM16000 or ULaw8000.
	OutputFormat string `json:"output_format,omitempty"`
	// Voice settings; zero leaves ElevenLabs' default (0.5, 0.75, 1.0).
	Stability       float64 `json:"stability,omitempty"`
	SimilarityBoost float64 `json:"similarity_boost,omitempty"`
	Speed           float64 `json:"speed,omitempty"`

	STTModel string `json:"stt_model,omitempty"` // speech to text
	Language string `json:"language,omitempty"`  // ISO 639-1, of the caller; default "de"

	// EUResidency is the practice's confirmation for a private deployment; ElevenLabs' own
	// endpoints say by their address whether they are in the EU.
	EUResidency bool `json:"eu_residency"`
	// ZeroRetention is the practice's confirmation that its ElevenLabs contract includes
	// zero retention mode; the adapter then sends enable_logging=false.
	ZeroRetention bool          `json:"zero_retention"`
	Timeout       time.Duration `json:"timeout,omitempty"`
}

var (
	idPattern    = regexp.MustCompile(`^[A-Za-z0-9]{1,64}$`)
	modelPattern = regexp.MustCompile(`^[a-z0-9_.-]{1,64}$`)
	langPattern  = regexp.MustCompile(`^[a-z]{2,3}$`)
)

// Validate reports whether s may be used. ElevenLabs is never on the practice's own
// server, so both promises are required: EU residency and zero retention.
func (s Settings) Validate() error {
	u, err := s.baseURL()
	if err != nil {
		return err
	}
	p := provider(u, s)
	if !p.EUResidency {
		return errs.Field("base_url", "ElevenLabs verarbeitet nur über den EU-Endpunkt (%s) in der EU; bitte wählen Sie ihn (Vertrag mit EU-Datenresidenz nötig).", EUURL)
	}
	if !p.ZeroRetention {
		return errs.Field("zero_retention", "Bitte bestätigen Sie „keine Speicherung“: Ihr ElevenLabs-Vertrag umfasst den Zero-Retention-Modus. Ohne diese Bestätigung wird nichts an ElevenLabs gesendet.")
	}
	if s.APIKey == "" || strings.ContainsFunc(s.APIKey, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }) {
		return errs.Field("api_key", "Bitte geben Sie den API-Schlüssel von ElevenLabs an (ohne Leerzeichen).")
	}
	if s.VoiceID != "" && !idPattern.MatchString(s.VoiceID) {
		return errs.Field("voice_id", "Die Stimmen-ID von ElevenLabs besteht nur aus Buchstaben und Ziffern.")
	}
	for field, m := range map[string]string{"model": s.Model, "stt_model": s.STTModel} {
		if m != "" && !modelPattern.MatchString(m) {
			return errs.Field(field, "Der Modellname ist ungültig.")
		}
	}
	switch s.OutputFormat {
	case "", PCM8000, PCM16000, ULaw8000:
	default:
		return errs.Field("output_format", "Das Ausgabeformat muss pcm_8000, pcm_16000 oder ulaw_8000 sein.")
	}
	if s.Language != "" && !langPattern.MatchString(s.Language) {
		return errs.Field("language", "Die Sprache ist ein Code nach ISO 639-1, z. B. „de“.")
	}
	for field, v := range map[string]float64{"stability": s.Stability, "similarity_boost": s.SimilarityBoost} {
		if v < 0 || v > 1 {
			return errs.Field(field, "Der Wert muss zwischen 0 und 1 liegen.")
		}
	}
	if s.Speed != 0 && (s.Speed < 0.7 || s.Speed > 1.2) {
		return errs.Field("speed", "Die Sprechgeschwindigkeit muss zwischen 0,7 und 1,2 liegen.")
	}
	if s.Timeout < 0 || s.Timeout > MaxTimeout {
		return errs.Field("timeout", "Die Zeitgrenze muss zwischen 0 (Standard: %d Sekunden) und %d Sekunden liegen.",
			int(DefaultTimeout.Seconds()), int(MaxTimeout.Seconds()))
	}
	return nil
}

// baseURLRule allows wss anywhere and plain ws only to this host (tests, a local relay):
// callers' speech and the text spoken to them never cross a network unencrypted.
var baseURLRule = endpoint.Rule{
	Field:   "base_url",
	Service: "des ElevenLabs-Dienstes",
	Example: EUURL,
	Secure:  []string{"wss"},
	Plain:   []string{"ws"},
	Key:     true,
}

// baseURL is s.BaseURL, or EUURL when empty, without a trailing slash.
func (s Settings) baseURL() (*url.URL, error) {
	raw := s.BaseURL
	if raw == "" {
		raw = EUURL
	}
	u, err := endpoint.Parse(raw, baseURLRule)
	if err != nil {
		return nil, err
	}
	u.Path = strings.TrimRight(u.Path, "/")
	return u, nil
}

// provider declares what the endpoint at u promises: ElevenLabs' own hosts by their
// address, a private deployment by the practice's confirmation.
func provider(u *url.URL, s Settings) speech.Provider {
	host := strings.ToLower(u.Hostname())
	eu := s.EUResidency
	if host == "elevenlabs.io" || strings.HasSuffix(host, ".elevenlabs.io") {
		eu = host == "api.eu.residency.elevenlabs.io"
	}
	return speech.Provider{Name: "elevenlabs", EUResidency: eu, ZeroRetention: s.ZeroRetention}
}

func (s Settings) timeout() time.Duration {
	if s.Timeout <= 0 {
		return DefaultTimeout
	}
	return s.Timeout
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// String prints s without its API key.
func (s Settings) String() string {
	return fmt.Sprintf("elevenlabs.Settings{BaseURL:%q APIKey:%s VoiceID:%q Model:%q OutputFormat:%q STTModel:%q Language:%q EUResidency:%t ZeroRetention:%t Timeout:%s}",
		s.BaseURL, redacted(s.APIKey), s.VoiceID, s.Model, s.OutputFormat, s.STTModel, s.Language, s.EUResidency, s.ZeroRetention, s.Timeout)
}

// GoString keeps %#v from printing the API key.
func (s Settings) GoString() string { return s.String() }

// LogValue keeps slog from printing the API key.
func (s Settings) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("base_url", s.BaseURL),
		slog.String("api_key", redacted(s.APIKey)),
		slog.String("voice_id", s.VoiceID),
		slog.String("model", s.Model),
		slog.String("stt_model", s.STTModel),
		slog.Bool("eu_residency", s.EUResidency),
		slog.Bool("zero_retention", s.ZeroRetention),
	)
}

func redacted(key string) string {
	if key == "" {
		return "none"
	}
	return "redacted"
}
