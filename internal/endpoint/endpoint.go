// Package endpoint checks the address of an outside service that a practice sets up (a
// language model, a speech server): encrypted to any host, unencrypted only to this one,
// so that health data and callers' speech never cross a network unencrypted.
package endpoint

import (
	"net/netip"
	"net/url"
	"slices"
	"strings"

	"github.com/tresen/tresen/internal/errs"
)

// Rule is one setting's policy and the words its messages use.
type Rule struct {
	Field   string // the settings field, e.g. "base_url"
	Service string // the service in the genitive, e.g. "des Vosk-Servers"
	Example string // an address to show, e.g. "ws://localhost:2700"; may be empty
	// Secure are the schemes allowed to any host, e.g. https; Plain those allowed only to
	// this host (Loopback), where a self-hosted server listens and nothing leaves the
	// machine unencrypted.
	Secure, Plain []string
	// Key says the service takes its key in a field of its own („API-Schlüssel“), where
	// credentials in the address belong instead.
	Key bool
}

// Parse returns raw as a URL, or an error for r.Field that says what is wrong with it. An
// accepted URL has a host and no credentials, query or fragment.
func Parse(raw string, r Rule) (*url.URL, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, errs.Field(r.Field, "Bitte geben Sie die Adresse %s an%s.", r.Service, r.example())
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Hostname() == "" {
		return nil, errs.Field(r.Field, "Die Adresse %s ist keine gültige URL%s.", r.Service, r.example())
	}
	if u.User != nil {
		if r.Key {
			return nil, errs.Field(r.Field, "Die Adresse %s darf keine Zugangsdaten enthalten; tragen Sie den Schlüssel im Feld „API-Schlüssel“ ein.", r.Service)
		}
		return nil, errs.Field(r.Field, "Die Adresse %s darf keine Zugangsdaten enthalten.", r.Service)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return nil, errs.Field(r.Field, "Die Adresse %s darf keine Parameter (?…) und keinen Anker (#…) enthalten.", r.Service)
	}
	// url.Parse lower-cases the scheme, so HTTPS:// counts as https://.
	switch {
	case slices.Contains(r.Secure, u.Scheme):
	case slices.Contains(r.Plain, u.Scheme) && Loopback(u.Hostname()):
	case len(r.Plain) == 0:
		return nil, errs.Field(r.Field, "Die Adresse %s muss mit %s beginnen.", r.Service, schemes(r.Secure))
	default:
		return nil, errs.Field(r.Field, "Die Adresse %s muss mit %s beginnen; %s ist nur für einen Dienst auf demselben Rechner (localhost) erlaubt.",
			r.Service, schemes(r.Secure), schemes(r.Plain))
	}
	return u, nil
}

// Loopback reports whether host is this machine: localhost or a loopback address. Other
// names are not resolved, so they count as remote; neither does an address with a zone.
func Loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Zone() == "" && ip.IsLoopback()
}

func (r Rule) example() string {
	if r.Example == "" {
		return ""
	}
	return ", z. B. " + r.Example
}

// schemes names list as a user writes it: "wss:// oder https://".
func schemes(list []string) string {
	s := make([]string, len(list))
	for i, v := range list {
		s[i] = v + "://"
	}
	return strings.Join(s, " oder ")
}
