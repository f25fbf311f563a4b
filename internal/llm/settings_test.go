package llm_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/llm"
)

func valid() llm.Settings {
	return llm.Settings{
		Enabled:       true,
		BaseURL:       "https://api.mistral.ai/v1",
		Model:         "mistral-small-latest",
		APIKey:        "sk-secret-123",
		EUHosted:      true,
		ZeroRetention: true,
	}
}

func TestSettingsValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*llm.Settings)
		field string // "" when valid
	}{
		{"complete", func(*llm.Settings) {}, ""},
		{"disabled and empty", func(s *llm.Settings) { *s = llm.Settings{} }, ""},
		{"disabled, unconfirmed, plain http", func(s *llm.Settings) {
			*s = llm.Settings{BaseURL: "http://example.org", Model: "x"}
		}, ""},
		{"Azure OpenAI", func(s *llm.Settings) { s.BaseURL = "https://tresen-praxis.openai.azure.com/openai/v1/" }, ""},
		{"Ollama on localhost", func(s *llm.Settings) { s.BaseURL, s.APIKey = "http://localhost:11434/v1", "" }, ""},
		{"vLLM on 127.0.0.1", func(s *llm.Settings) { s.BaseURL = "http://127.0.0.1:8000/v1" }, ""},
		{"vLLM on 127.0.0.2", func(s *llm.Settings) { s.BaseURL = "http://127.0.0.2:8000/v1" }, ""},
		{"IPv6 loopback", func(s *llm.Settings) { s.BaseURL = "http://[::1]:8000/v1" }, ""},
		{"HTTPS scheme in capitals", func(s *llm.Settings) { s.BaseURL = "HTTPS://api.mistral.ai/v1" }, ""},
		{"timeout set", func(s *llm.Settings) { s.Timeout = 5 * time.Second }, ""},

		{"EU hosting not confirmed", func(s *llm.Settings) { s.EUHosted = false }, "eu_hosted"},
		{"zero retention not confirmed", func(s *llm.Settings) { s.ZeroRetention = false }, "zero_retention"},
		{"nothing confirmed", func(s *llm.Settings) { s.EUHosted, s.ZeroRetention = false, false }, "eu_hosted"},
		{"no base URL", func(s *llm.Settings) { s.BaseURL = "" }, "base_url"},
		{"plain http to another host", func(s *llm.Settings) { s.BaseURL = "http://llm.praxis.lan:8000/v1" }, "base_url"},
		{"plain http to a LAN address", func(s *llm.Settings) { s.BaseURL = "http://192.168.1.20:11434/v1" }, "base_url"},
		{"localhost look-alike", func(s *llm.Settings) { s.BaseURL = "http://localhost.example.org/v1" }, "base_url"},
		{"unspecified address", func(s *llm.Settings) { s.BaseURL = "http://0.0.0.0:8000/v1" }, "base_url"},
		{"other scheme", func(s *llm.Settings) { s.BaseURL = "ftp://api.mistral.ai/v1" }, "base_url"},
		{"no scheme", func(s *llm.Settings) { s.BaseURL = "api.mistral.ai/v1" }, "base_url"},
		{"no host", func(s *llm.Settings) { s.BaseURL = "https:///v1" }, "base_url"},
		{"credentials in URL", func(s *llm.Settings) { s.BaseURL = "https://user:pw@api.mistral.ai/v1" }, "base_url"},
		{"query", func(s *llm.Settings) { s.BaseURL = "https://api.mistral.ai/v1?x=1" }, "base_url"},
		{"not a URL", func(s *llm.Settings) { s.BaseURL = "https://api mistral ai/%zz" }, "base_url"},
		{"no model", func(s *llm.Settings) { s.Model = "" }, "model"},
		{"blank model", func(s *llm.Settings) { s.Model = "  " }, "model"},
		{"model with newline", func(s *llm.Settings) { s.Model = "m\nX-Evil: 1" }, "model"},
		{"API key with newline", func(s *llm.Settings) { s.APIKey = "sk-1\r\nX-Evil: 1" }, "api_key"},
		{"negative timeout", func(s *llm.Settings) { s.Timeout = -time.Second }, "timeout"},
		{"timeout too long", func(s *llm.Settings) { s.Timeout = 5 * time.Minute }, "timeout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := valid()
			tc.edit(&s)
			err := s.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var e *errs.Error
			if !errors.As(err, &e) || e.Kind != errs.Invalid || e.Field != tc.field {
				t.Fatalf("Validate() = %#v, want invalid %s", err, tc.field)
			}
			if e.Message == "" || e.Message[0] < 'A' || e.Message[0] > 'Z' {
				t.Errorf("message %q is no German sentence", e.Message)
			}
			if strings.Contains(err.Error(), "sk-secret-123") {
				t.Errorf("error shows the API key: %v", err)
			}
		})
	}
}

// The confirmations are named in words the practice understands.
func TestSettingsValidateMessages(t *testing.T) {
	for field, want := range map[string]string{"eu_hosted": "EU", "zero_retention": "Speicherung"} {
		s := valid()
		if field == "eu_hosted" {
			s.EUHosted = false
		} else {
			s.ZeroRetention = false
		}
		if msg := errs.Message(s.Validate()); !strings.Contains(msg, want) || !strings.Contains(msg, "keine Daten") {
			t.Errorf("%s: message %q should name %q and say that no data is sent", field, msg, want)
		}
	}
}

func TestEffectiveTimeout(t *testing.T) {
	s := valid()
	if got := s.EffectiveTimeout(); got != llm.DefaultTimeout {
		t.Errorf("unset timeout = %v, want %v", got, llm.DefaultTimeout)
	}
	s.Timeout = 3 * time.Second
	if got := s.EffectiveTimeout(); got != 3*time.Second {
		t.Errorf("timeout = %v, want 3s", got)
	}
}

func TestSettingsHideAPIKey(t *testing.T) {
	s := valid()
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("llm", "settings", s)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("llm", "settings", s)
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%+v", s), fmt.Sprintf("%#v", s), fmt.Sprintf("%v", &s), buf.String()} {
		if strings.Contains(out, "sk-secret-123") {
			t.Errorf("API key printed: %s", out)
		}
		if !strings.Contains(out, "mistral-small-latest") {
			t.Errorf("settings lost their model: %s", out)
		}
	}
}
