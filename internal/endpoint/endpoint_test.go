package endpoint_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/endpoint"
	"github.com/tresen/tresen/internal/errs"
)

var (
	web = endpoint.Rule{
		Field:   "base_url",
		Service: "des Testdienstes",
		Example: "https://dienst.example.de/v1",
		Secure:  []string{"https"},
		Plain:   []string{"http"},
		Key:     true,
	}
	socket = endpoint.Rule{
		Field:   "url",
		Service: "des Testservers",
		Example: "ws://localhost:2700",
		Secure:  []string{"wss", "https"},
		Plain:   []string{"ws", "http"},
	}
	secureOnly = endpoint.Rule{Field: "url", Service: "des Testservers", Secure: []string{"wss"}}
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		rule endpoint.Rule
		want string // the message, "" when accepted
	}{
		{"https to a public host", "https://api.mistral.ai/v1", web, ""},
		{"https with path and port", "https://whisper.praxis-weber.de:8443/v1/", web, ""},
		{"upper-case https", "HTTPS://api.mistral.ai/v1", web, ""},
		{"upper-case wss", "WSS://vosk.example.org", socket, ""},
		{"https under a ws rule", "https://vosk.example.org", socket, ""},
		{"http to localhost", "http://localhost:11434/v1", web, ""},
		{"http to LOCALHOST", "http://LOCALHOST:11434/v1", web, ""},
		{"upper-case http to localhost", "HTTP://localhost:8000", web, ""},
		{"http to 127.0.0.1", "http://127.0.0.1:8000", web, ""},
		{"http to 127.0.0.2", "http://127.0.0.2:8000", web, ""},
		{"http to IPv6 loopback", "http://[::1]:8000", web, ""},
		{"ws to localhost", "ws://localhost:2700", socket, ""},
		{"ws to IPv6 loopback", "ws://[::1]:2700", socket, ""},
		{"private https", "https://10.1.2.3", web, ""},

		{"empty", "", web, "Bitte geben Sie die Adresse des Testdienstes an, z. B. https://dienst.example.de/v1."},
		{"blank", "  ", web, "Bitte geben Sie die Adresse des Testdienstes an, z. B. https://dienst.example.de/v1."},
		{"empty without example", "", secureOnly, "Bitte geben Sie die Adresse des Testservers an."},
		{"no scheme", "api.mistral.ai/v1", web, "Die Adresse des Testdienstes ist keine gültige URL, z. B. https://dienst.example.de/v1."},
		{"host and port without scheme", "localhost:2700", socket, "Die Adresse des Testservers ist keine gültige URL, z. B. ws://localhost:2700."},
		{"no host", "https:///v1", web, "Die Adresse des Testdienstes ist keine gültige URL, z. B. https://dienst.example.de/v1."},
		{"port only", "https://:443", web, "Die Adresse des Testdienstes ist keine gültige URL, z. B. https://dienst.example.de/v1."},
		{"not a URL", "https://api mistral ai/%zz", web, "Die Adresse des Testdienstes ist keine gültige URL, z. B. https://dienst.example.de/v1."},
		{"leading space", " https://api.mistral.ai", web, "Die Adresse des Testdienstes ist keine gültige URL, z. B. https://dienst.example.de/v1."},
		{"credentials", "https://user:pw@api.mistral.ai/v1", web, "Die Adresse des Testdienstes darf keine Zugangsdaten enthalten; tragen Sie den Schlüssel im Feld „API-Schlüssel“ ein."},
		{"user only", "wss://user@vosk.example.org", socket, "Die Adresse des Testservers darf keine Zugangsdaten enthalten."},
		{"empty user info", "https://@api.mistral.ai", web, "Die Adresse des Testdienstes darf keine Zugangsdaten enthalten; tragen Sie den Schlüssel im Feld „API-Schlüssel“ ein."},
		{"query", "https://api.mistral.ai/v1?x=1", web, "Die Adresse des Testdienstes darf keine Parameter (?…) und keinen Anker (#…) enthalten."},
		{"empty query", "https://api.mistral.ai/v1?", web, "Die Adresse des Testdienstes darf keine Parameter (?…) und keinen Anker (#…) enthalten."},
		{"fragment", "https://api.mistral.ai/v1#x", web, "Die Adresse des Testdienstes darf keine Parameter (?…) und keinen Anker (#…) enthalten."},
		{"other scheme", "ftp://api.mistral.ai/v1", web, "Die Adresse des Testdienstes muss mit https:// beginnen; http:// ist nur für einen Dienst auf demselben Rechner (localhost) erlaubt."},
		{"ws under an http rule", "ws://localhost:8000", web, "Die Adresse des Testdienstes muss mit https:// beginnen; http:// ist nur für einen Dienst auf demselben Rechner (localhost) erlaubt."},
		{"http to a public host", "http://api.mistral.ai/v1", web, "Die Adresse des Testdienstes muss mit https:// beginnen; http:// ist nur für einen Dienst auf demselben Rechner (localhost) erlaubt."},
		{"http to a private address", "http://192.168.1.20:11434", web, "Die Adresse des Testdienstes muss mit https:// beginnen; http:// ist nur für einen Dienst auf demselben Rechner (localhost) erlaubt."},
		{"http to a private IPv6 address", "http://[fd00::1]:8000", web, "Die Adresse des Testdienstes muss mit https:// beginnen; http:// ist nur für einen Dienst auf demselben Rechner (localhost) erlaubt."},
		{"http to a name on the LAN", "http://llm.praxis.lan:8000", web, "Die Adresse des Testdienstes muss mit https:// beginnen; http:// ist nur für einen Dienst auf demselben Rechner (localhost) erlaubt."},
		{"localhost look-alike", "http://localhost.example.org", web, "Die Adresse des Testdienstes muss mit https:// beginnen; http:// ist nur für einen Dienst auf demselben Rechner (localhost) erlaubt."},
		{"unspecified address", "http://0.0.0.0:8000", web, "Die Adresse des Testdienstes muss mit https:// beginnen; http:// ist nur für einen Dienst auf demselben Rechner (localhost) erlaubt."},
		{"loopback with a zone", "http://[::1%25lo]:8000", web, "Die Adresse des Testdienstes muss mit https:// beginnen; http:// ist nur für einen Dienst auf demselben Rechner (localhost) erlaubt."},
		{"ws to a private address", "ws://10.0.0.7:8080", socket, "Die Adresse des Testservers muss mit wss:// oder https:// beginnen; ws:// oder http:// ist nur für einen Dienst auf demselben Rechner (localhost) erlaubt."},
		{"ws to a public host", "ws://vosk.example.org", socket, "Die Adresse des Testservers muss mit wss:// oder https:// beginnen; ws:// oder http:// ist nur für einen Dienst auf demselben Rechner (localhost) erlaubt."},
		{"no plain scheme at all", "ws://localhost:2700", secureOnly, "Die Adresse des Testservers muss mit wss:// beginnen."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, err := endpoint.Parse(tc.raw, tc.rule)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Parse(%q) = %v, want nil", tc.raw, err)
				}
				if u.Host == "" {
					t.Errorf("Parse(%q) has no host", tc.raw)
				}
				return
			}
			var e *errs.Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q) = %v, %v; want invalid %s", tc.raw, u, err, tc.rule.Field)
			}
			if diff := cmp.Diff(errs.Error{Kind: errs.Invalid, Field: tc.rule.Field, Message: tc.want}, *e); diff != "" {
				t.Errorf("Parse(%q) (-want +got):\n%s", tc.raw, diff)
			}
		})
	}
}

func TestLoopback(t *testing.T) {
	for _, host := range []string{"localhost", "LocalHost", "127.0.0.1", "127.255.0.1", "::1", "::ffff:127.0.0.1"} {
		if !endpoint.Loopback(host) {
			t.Errorf("Loopback(%q) = false, want true", host)
		}
	}
	// Names are not resolved, and a zone does not count as this machine.
	for _, host := range []string{"", "0.0.0.0", "::", "192.168.1.20", "10.0.0.1", "fd00::1", "::1%lo",
		"localhost.", "localhost.example.org", "example.org"} {
		if endpoint.Loopback(host) {
			t.Errorf("Loopback(%q) = true, want false", host)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"https://api.mistral.ai/v1", "http://localhost:8000", "ws://[::1]:2700", "wss://u:p@x.example/?a#b",
		"HTTP://127.0.0.1", "http://[::1%25lo]", "https://:443", "localhost:2700", "https://@x?", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, r := range []endpoint.Rule{web, socket, secureOnly} {
			u, err := endpoint.Parse(raw, r)
			if err != nil {
				var e *errs.Error
				if !errors.As(err, &e) || e.Kind != errs.Invalid || e.Field != r.Field || !strings.Contains(e.Message, r.Service) {
					t.Fatalf("Parse(%q) = %v, want invalid %s naming %q", raw, err, r.Field, r.Service)
				}
				continue
			}
			if u.Host == "" || u.Hostname() == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
				t.Fatalf("Parse(%q) accepted %#v", raw, u)
			}
			if !slices.Contains(r.Secure, u.Scheme) && !(slices.Contains(r.Plain, u.Scheme) && endpoint.Loopback(u.Hostname())) {
				t.Fatalf("Parse(%q) accepted %s to %s", raw, u.Scheme, u.Hostname())
			}
		}
	})
}
