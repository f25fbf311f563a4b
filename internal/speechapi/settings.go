package speechapi

import (
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/tresen/tresen/internal/endpoint"
	"github.com/tresen/tresen/internal/errs"
)

// DefaultTimeout bounds how long Speak waits for the server: for the answer to start and
// for each further piece of audio. A caller on the phone must not hear a long silence.
const DefaultTimeout = 5 * time.Second

// MaxTimeout is the longest timeout a practice may configure.
const MaxTimeout = 30 * time.Second

// MaxText is the longest text one Speak call sends (OpenAI's limit for the endpoint).
const MaxText = 4096

// Formats the adapter asks for. "wav" names its sample rate in the header, so it suits any
// server; "pcm" is headerless 16-bit little-endian audio at Settings.SampleRate.
const (
	FormatWAV = "wav"
	FormatPCM = "pcm"
)

// DefaultPCMRate is the rate of OpenAI's "pcm" format.
const DefaultPCMRate = 24000

// Settings are a practice's choice of an OpenAI-compatible speech endpoint: a self-hosted
// Piper server (or another that speaks POST /v1/audio/speech), or a hosted provider.
type Settings struct {
	// BaseURL is the server's address, e.g. http://127.0.0.1:5000; the adapter posts to
	// BaseURL + "/v1/audio/speech" (a BaseURL that already ends in /v1 is taken as is).
	BaseURL string `json:"base_url"`
	Model   string `json:"model"`
	// Voice names the server's voice, e.g. "de_DE-thorsten-high" or a practice's own.
	Voice  string `json:"voice"`
	APIKey string `json:"api_key,omitempty"` // sent as a bearer token; may be empty for a local server
	// Format is FormatWAV (default) or FormatPCM; SampleRate is the rate of "pcm" audio
	// (default DefaultPCMRate) and ignored for "wav".
	Format     string `json:"format,omitempty"`
	SampleRate int    `json:"sample_rate,omitempty"`
	// EUResidency and ZeroRetention are the practice's confirmation of what a provider
	// that is not on its own network promises; a local server needs neither.
	EUResidency   bool          `json:"eu_residency"`
	ZeroRetention bool          `json:"zero_retention"`
	Timeout       time.Duration `json:"timeout,omitempty"`
}

// Validate reports whether s may be used. A server that is not local is refused until the
// practice has confirmed both EU residency and zero retention: the text spoken to a caller
// may name them, their appointment or their medication.
func (s Settings) Validate() error {
	u, err := endpoint.Parse(s.BaseURL, baseURL)
	if err != nil {
		return err
	}
	if !isLocal(u.Hostname()) {
		if !s.EUResidency {
			return errs.Field("eu_residency", "Bitte bestätigen Sie „EU-Hosting“: Der Anbieter der Sprachausgabe verarbeitet die Texte ausschließlich in der EU.")
		}
		if !s.ZeroRetention {
			return errs.Field("zero_retention", "Bitte bestätigen Sie „keine Speicherung“: Der Anbieter der Sprachausgabe speichert weder Texte noch Audio.")
		}
	}
	if err := checkName("model", s.Model, "Bitte geben Sie das Modell der Sprachausgabe an, z. B. tts-1 oder piper."); err != nil {
		return err
	}
	if err := checkName("voice", s.Voice, "Bitte geben Sie die Stimme an, z. B. de_DE-thorsten-high."); err != nil {
		return err
	}
	if strings.ContainsFunc(s.APIKey, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }) {
		return errs.Field("api_key", "Der API-Schlüssel enthält unzulässige Zeichen (Leerzeichen oder Zeilenumbrüche).")
	}
	switch s.Format {
	case "", FormatWAV:
	case FormatPCM:
		if s.SampleRate != 0 && (s.SampleRate < 8000 || s.SampleRate > 48000) {
			return errs.Field("sample_rate", "Die Abtastrate muss zwischen 8000 und 48000 Hz liegen.")
		}
	default:
		return errs.Field("format", "Das Audioformat muss „wav“ oder „pcm“ sein.")
	}
	if s.Timeout < 0 || s.Timeout > MaxTimeout {
		return errs.Field("timeout", "Die Zeitgrenze muss zwischen 0 (Standard: %d Sekunden) und %d Sekunden liegen.",
			int(DefaultTimeout.Seconds()), int(MaxTimeout.Seconds()))
	}
	return nil
}

func checkName(field, v, missing string) error {
	if strings.TrimSpace(v) == "" {
		return errs.Field(field, "%s", missing)
	}
	if len(v) > 200 || strings.ContainsFunc(v, unicode.IsControl) {
		return errs.Field(field, "Der Name enthält unzulässige Zeichen oder ist zu lang.")
	}
	return nil
}

// baseURL allows https anywhere and plain http only to this host, where a self-hosted
// Piper listens: text never crosses a network unencrypted. A Piper elsewhere on the
// practice's network needs https, though it counts as local (isLocal).
var baseURL = endpoint.Rule{
	Field:   "base_url",
	Service: "des Sprachausgabe-Dienstes",
	Example: "http://127.0.0.1:5000",
	Secure:  []string{"https"},
	Plain:   []string{"http"},
	Key:     true,
}

// isLocal reports whether host is this machine or an address of a private network (RFC
// 1918, RFC 4193): a server the practice or Tresen runs itself. Names other than
// localhost are not resolved, so they count as remote.
func isLocal(host string) bool {
	if endpoint.Loopback(host) {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Zone() == "" && ip.IsPrivate()
}

// speechURL is the speech URL under base.
func speechURL(base *url.URL) string {
	u := *base
	p := strings.TrimRight(u.Path, "/")
	if !strings.HasSuffix(p, "/v1") {
		p += "/v1"
	}
	u.Path = p + "/audio/speech"
	u.RawPath = ""
	return u.String()
}

// EffectiveTimeout is Timeout, or DefaultTimeout when unset.
func (s Settings) EffectiveTimeout() time.Duration {
	if s.Timeout <= 0 {
		return DefaultTimeout
	}
	return s.Timeout
}

// String prints s without its API key.
func (s Settings) String() string {
	return fmt.Sprintf("speechapi.Settings{BaseURL:%q Model:%q Voice:%q APIKey:%s Format:%q SampleRate:%d EUResidency:%t ZeroRetention:%t Timeout:%s}",
		s.BaseURL, s.Model, s.Voice, redacted(s.APIKey), s.Format, s.SampleRate, s.EUResidency, s.ZeroRetention, s.Timeout)
}

// GoString keeps %#v from printing the API key.
func (s Settings) GoString() string { return s.String() }

// LogValue keeps slog from printing the API key.
func (s Settings) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("base_url", s.BaseURL),
		slog.String("model", s.Model),
		slog.String("voice", s.Voice),
		slog.String("api_key", redacted(s.APIKey)),
		slog.String("format", s.Format),
		slog.Bool("eu_residency", s.EUResidency),
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
