package azurespeech

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

// Defaults for what Settings leave empty.
const (
	DefaultVoice    = "de-DE-KatjaNeural"
	DefaultLanguage = "de-DE"
	DefaultTimeout  = 10 * time.Second
	MaxTimeout      = 60 * time.Second
)

// euRegions are the Azure regions in member states of the EU. Norway, Switzerland and the
// UK are not among them: their regions are outside the EU, whatever GDPR says of them.
var euRegions = map[string]bool{
	"westeurope": true, "northeurope": true, "germanywestcentral": true, "germanynorth": true,
	"francecentral": true, "francesouth": true, "swedencentral": true, "swedensouth": true,
	"italynorth": true, "polandcentral": true, "spaincentral": true, "austriaeast": true,
	"belgiumcentral": true, "denmarkeast": true,
}

// Settings are a practice's Azure Speech resource.
type Settings struct {
	Region   string `json:"region"` // e.g. germanywestcentral
	Key      string `json:"key"`
	Voice    string `json:"voice,omitempty"`    // e.g. de-DE-KatjaNeural, or a custom voice's name
	Language string `json:"language,omitempty"` // of the caller and the voice, e.g. de-DE
	// ZeroRetention is the practice's confirmation that its resource keeps neither audio
	// nor text (no data logging, no custom speech training on its data).
	ZeroRetention bool `json:"zero_retention"`
	// TTSEndpoint and STTEndpoint replace the regional addresses, for a private endpoint
	// of the same resource (and tests); the region still says where it is. STTEndpoint is
	// the WebSocket address of the recognition, wss://…/speech/recognition/conversation/
	// cognitiveservices/v1 (https:// stands for wss://).
	TTSEndpoint string        `json:"tts_endpoint,omitempty"`
	STTEndpoint string        `json:"stt_endpoint,omitempty"`
	Timeout     time.Duration `json:"timeout,omitempty"`
}

var (
	regionPattern   = regexp.MustCompile(`^[a-z0-9]{2,40}$`)
	voicePattern    = regexp.MustCompile(`^[A-Za-z0-9:_-]{1,100}$`)
	languagePattern = regexp.MustCompile(`^[a-z]{2,3}-[A-Z]{2}$`)
)

// Validate reports whether s may be used. Azure is never on the practice's own server, so
// the region must be in the EU and the practice must have confirmed zero retention.
func (s Settings) Validate() error {
	if !regionPattern.MatchString(s.Region) {
		return errs.Field("region", "Bitte geben Sie die Region der Azure-Speech-Ressource an, z. B. germanywestcentral.")
	}
	if !euRegions[s.Region] {
		return errs.Field("region", "Die Region %s liegt nicht in der EU; bitte wählen Sie eine Ressource z. B. in germanywestcentral oder westeurope.", s.Region)
	}
	if !s.ZeroRetention {
		return errs.Field("zero_retention", "Bitte bestätigen Sie „keine Speicherung“: Ihre Azure-Speech-Ressource speichert weder Audio noch Text. Ohne diese Bestätigung wird nichts an Azure gesendet.")
	}
	if s.Key == "" || strings.ContainsFunc(s.Key, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }) {
		return errs.Field("key", "Bitte geben Sie den Schlüssel der Azure-Speech-Ressource an (ohne Leerzeichen).")
	}
	if s.Voice != "" && !voicePattern.MatchString(s.Voice) {
		return errs.Field("voice", "Der Name der Stimme ist ungültig, z. B. de-DE-KatjaNeural.")
	}
	if s.Language != "" && !languagePattern.MatchString(s.Language) {
		return errs.Field("language", "Die Sprache ist ein Code wie de-DE.")
	}
	for _, e := range []struct {
		raw  string
		rule endpoint.Rule
	}{{s.TTSEndpoint, ttsEndpoint}, {s.STTEndpoint, sttEndpoint}} {
		if e.raw == "" {
			continue
		}
		u, err := endpoint.Parse(e.raw, e.rule)
		if err != nil {
			return err
		}
		if r, ok := regionOf(u.Hostname()); ok && r != s.Region {
			return errs.Field(e.rule.Field, "Die Adresse gehört zur Region %s, nicht zur Region %s der Ressource.", r, s.Region)
		}
	}
	if s.Timeout < 0 || s.Timeout > MaxTimeout {
		return errs.Field("timeout", "Die Zeitgrenze muss zwischen 0 (Standard: %d Sekunden) und %d Sekunden liegen.",
			int(DefaultTimeout.Seconds()), int(MaxTimeout.Seconds()))
	}
	return nil
}

// ttsEndpoint and sttEndpoint allow https (for the recognition also wss) anywhere and plain
// http (ws) only to this host: callers' speech and the text spoken to them never cross a
// network unencrypted.
var (
	ttsEndpoint = endpoint.Rule{
		Field:   "tts_endpoint",
		Service: "der Azure-Sprachausgabe",
		Secure:  []string{"https"},
		Plain:   []string{"http"},
		Key:     true,
	}
	sttEndpoint = endpoint.Rule{
		Field:   "stt_endpoint",
		Service: "der Azure-Spracherkennung",
		Secure:  []string{"wss", "https"},
		Plain:   []string{"ws", "http"},
		Key:     true,
	}
)

// regionOf returns the region of one of Azure's regional hosts
// ({region}.stt.speech.microsoft.com, {region}.api.cognitive.microsoft.com …), so that an
// endpoint cannot send the audio to another region than the one declared; ok is false for
// other hosts, such as a private endpoint's own name.
func regionOf(host string) (region string, ok bool) {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, domain := range []string{".speech.microsoft.com", ".api.cognitive.microsoft.com"} {
		if rest, found := strings.CutSuffix(host, domain); found {
			region, _, _ = strings.Cut(rest, ".")
			return region, true
		}
	}
	return "", false
}

func (s Settings) ttsURL() string {
	if s.TTSEndpoint != "" {
		return s.TTSEndpoint
	}
	return "https://" + s.Region + ".tts.speech.microsoft.com/cognitiveservices/v1"
}

// sttURL is the address of the streaming recognition in conversation mode (for utterances
// of any length), with detailed results and the caller's words unmasked.
func (s Settings) sttURL() string {
	base := s.STTEndpoint
	if base == "" {
		base = "wss://" + s.Region + ".stt.speech.microsoft.com/speech/recognition/conversation/cognitiveservices/v1"
	}
	if rest, ok := strings.CutPrefix(base, "https://"); ok {
		base = "wss://" + rest
	} else if rest, ok := strings.CutPrefix(base, "http://"); ok {
		base = "ws://" + rest
	}
	q := url.Values{"language": {s.language()}, "format": {"detailed"}, "profanity": {"raw"}}
	return base + "?" + q.Encode()
}

func (s Settings) language() string {
	if s.Language == "" {
		return DefaultLanguage
	}
	return s.Language
}

func (s Settings) timeout() time.Duration {
	if s.Timeout <= 0 {
		return DefaultTimeout
	}
	return s.Timeout
}

// provider declares the region's residency and the practice's confirmation.
func (s Settings) provider() speech.Provider {
	return speech.Provider{Name: "azurespeech", EUResidency: euRegions[s.Region], ZeroRetention: s.ZeroRetention}
}

// String prints s without its key.
func (s Settings) String() string {
	return fmt.Sprintf("azurespeech.Settings{Region:%q Key:%s Voice:%q Language:%q ZeroRetention:%t TTSEndpoint:%q STTEndpoint:%q Timeout:%s}",
		s.Region, redacted(s.Key), s.Voice, s.Language, s.ZeroRetention, s.TTSEndpoint, s.STTEndpoint, s.Timeout)
}

// GoString keeps %#v from printing the key.
func (s Settings) GoString() string { return s.String() }

// LogValue keeps slog from printing the key.
func (s Settings) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("region", s.Region),
		slog.String("key", redacted(s.Key)),
		slog.String("voice", s.Voice),
		slog.String("language", s.Language),
		slog.Bool("zero_retention", s.ZeroRetention),
	)
}

func redacted(key string) string {
	if key == "" {
		return "none"
	}
	return "redacted"
}
