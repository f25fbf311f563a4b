package widget

import (
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tresen/tresen/internal/errs"
)

// colorRE is the one colour format the widget takes; anything else could carry CSS.
var colorRE = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// MaxNotice is the longest privacy notice in characters.
const MaxNotice = 1000

// Validate checks the settings a practice enters and normalises them: origins lower-case
// without a trailing slash or default port, empty lines dropped. The errors name the
// field (its JSON name) and say in German what to enter.
func (s *Settings) Validate() error {
	var origins []string
	for _, o := range s.AllowedOrigins {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		norm, err := normOrigin(o)
		if err != nil {
			return err
		}
		if !slices.Contains(origins, norm) {
			origins = append(origins, norm)
		}
	}
	s.AllowedOrigins = origins

	s.PrivacyURL = strings.TrimSpace(s.PrivacyURL)
	if s.PrivacyURL != "" && !httpsURL(s.PrivacyURL) {
		return errs.Field("privacy_url", "Bitte die Adresse der Datenschutzerklärung vollständig mit https:// angeben, etwa https://www.praxis-mustermann.de/datenschutz.")
	}

	s.Notice = strings.TrimSpace(s.Notice)
	switch {
	case utf8.RuneCountInString(s.Notice) > MaxNotice:
		return errs.Field("notice", "Der Hinweistext ist zu lang (höchstens 1.000 Zeichen).")
	case strings.ContainsAny(s.Notice, "<>"):
		return errs.Field("notice", "Der Hinweistext darf keine spitzen Klammern (< >) enthalten; er wird als reiner Text angezeigt.")
	}

	s.Color = strings.ToLower(strings.TrimSpace(s.Color))
	if s.Color != "" && !colorRE.MatchString(s.Color) {
		return errs.Field("color", "Bitte die Farbe als #rrggbb angeben, etwa #0b5563.")
	}
	return nil
}

// normOrigin returns an origin as browsers send it in the Origin header: scheme and host,
// lower-case, the port only where it is not the scheme's default.
func normOrigin(o string) (string, error) {
	bad := errs.Field("allowed_origins", "„%s“ ist keine Website-Adresse der Form https://www.praxis-mustermann.de (ohne Pfad wie /kontakt).", o)
	u, err := url.Parse(o)
	if err != nil || u.Opaque != "" || u.User != nil || u.Host == "" || u.Hostname() == "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", bad
	}
	scheme, host, port := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname()), u.Port()
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return "", bad
		}
	}
	switch scheme {
	case "https":
		if port == "443" {
			port = ""
		}
	case "http":
		if !loopback(host) {
			return "", errs.Field("allowed_origins", "„%s“: Bitte https:// verwenden; http:// geht nur für localhost.", o)
		}
		if port == "80" {
			port = ""
		}
	default:
		return "", bad
	}
	if port != "" {
		return scheme + "://" + net.JoinHostPort(host, port), nil
	}
	if strings.Contains(host, ":") { // IPv6
		host = "[" + host + "]"
	}
	return scheme + "://" + host, nil
}

func loopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// httpsURL reports whether s is an absolute https URL, the only kind the widget links to.
func httpsURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && strings.EqualFold(u.Scheme, "https") && u.Host != "" && u.User == nil && len(s) <= 2000
}
