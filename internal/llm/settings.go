package llm

import (
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode"

	"github.com/tresen/tresen/internal/endpoint"
	"github.com/tresen/tresen/internal/errs"
)

// DefaultTimeout bounds one model call when Settings leave Timeout at zero: a caller on the
// phone should not wait longer before the deterministic engine answers instead.
const DefaultTimeout = 10 * time.Second

// MaxTimeout is the longest per-call timeout a practice may configure.
const MaxTimeout = 60 * time.Second

// Settings are a practice's choice of language model. LLM mode is off unless Enabled, and
// an enabled setting is only valid once the practice has confirmed both that the provider
// processes the data in the EU (EUHosted) and that it keeps neither prompts nor answers
// (ZeroRetention): Art. 28 and 44 ff. DSGVO are the practice's to check, not ours.
type Settings struct {
	Enabled       bool          `json:"enabled"`
	BaseURL       string        `json:"base_url,omitempty"` // OpenAI-compatible endpoint, e.g. https://api.mistral.ai/v1
	Model         string        `json:"model,omitempty"`
	APIKey        string        `json:"api_key,omitempty"` // sent as a bearer token; may be empty for a local server
	EUHosted      bool          `json:"eu_hosted"`         // confirmed by the practice
	ZeroRetention bool          `json:"zero_retention"`    // confirmed by the practice
	Timeout       time.Duration `json:"timeout,omitempty"`
}

// Validate reports whether s may be used. A disabled setting is always valid: it sends
// nothing.
func (s Settings) Validate() error {
	if !s.Enabled {
		return nil
	}
	if !s.EUHosted {
		return errs.Field("eu_hosted", "Bitte bestätigen Sie „EU-Hosting“: Der Anbieter verarbeitet die Daten ausschließlich in der EU. Ohne diese Bestätigung werden keine Daten an das Sprachmodell gesendet.")
	}
	if !s.ZeroRetention {
		return errs.Field("zero_retention", "Bitte bestätigen Sie „keine Speicherung“ (Zero Retention): Der Anbieter speichert weder Anfragen noch Antworten. Ohne diese Bestätigung werden keine Daten an das Sprachmodell gesendet.")
	}
	if _, err := endpoint.Parse(s.BaseURL, baseURL); err != nil {
		return err
	}
	if strings.TrimSpace(s.Model) == "" {
		return errs.Field("model", "Bitte geben Sie den Namen des Modells an.")
	}
	if strings.ContainsFunc(s.Model, unicode.IsControl) {
		return errs.Field("model", "Der Name des Modells enthält unzulässige Zeichen.")
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

// baseURL allows https anywhere and plain http only to this host, where a self-hosted
// Ollama or vLLM listens: health data never crosses a network unencrypted.
var baseURL = endpoint.Rule{
	Field:   "base_url",
	Service: "(Base-URL) des Sprachmodell-Dienstes",
	Example: "https://api.mistral.ai/v1",
	Secure:  []string{"https"},
	Plain:   []string{"http"},
	Key:     true,
}

// EffectiveTimeout is the per-call timeout: Timeout, or DefaultTimeout when unset.
func (s Settings) EffectiveTimeout() time.Duration {
	if s.Timeout <= 0 {
		return DefaultTimeout
	}
	return s.Timeout
}

// String prints s without its API key, so that settings in a log line or an error never
// reveal it.
func (s Settings) String() string {
	return fmt.Sprintf("llm.Settings{Enabled:%t BaseURL:%q Model:%q APIKey:%s EUHosted:%t ZeroRetention:%t Timeout:%s}",
		s.Enabled, s.BaseURL, s.Model, redacted(s.APIKey), s.EUHosted, s.ZeroRetention, s.Timeout)
}

// GoString keeps %#v from printing the API key.
func (s Settings) GoString() string { return s.String() }

// LogValue keeps slog, the JSON handler included, from printing the API key.
func (s Settings) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Bool("enabled", s.Enabled),
		slog.String("base_url", s.BaseURL),
		slog.String("model", s.Model),
		slog.String("api_key", redacted(s.APIKey)),
		slog.Bool("eu_hosted", s.EUHosted),
		slog.Bool("zero_retention", s.ZeroRetention),
		slog.Duration("timeout", s.Timeout),
	)
}

func redacted(key string) string {
	if key == "" {
		return "none"
	}
	return "redacted"
}
