package nlu

import (
	"net/mail"
	"strings"
	"unicode"
)

// Limits of an e-mail address (RFC 5321 §4.5.3.1): longer ones no mail server takes.
const (
	maxEmail      = 254
	maxEmailLocal = 64
)

// Email finds the first e-mail address in a typed text ("meine Adresse ist
// erika.mustermann@example.de.") and returns it as a mail server takes it: a plain
// address without a display name, in a domain with at least two labels. It reports false
// when the text holds none.
func Email(s string) (string, bool) {
	// Brackets, quotes and separators around the address belong to the sentence:
	// "Mail:erika@…", "<erika@…>", "erika@….".
	words := strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune(`,;:()<>[]{}„“”«»`, r)
	})
	for _, w := range words {
		w = strings.TrimFunc(w, func(r rune) bool { return strings.ContainsRune(`.!?"'‚‘’`, r) })
		if !strings.Contains(w, "@") {
			continue
		}
		if addr, ok := validEmail(w); ok {
			return addr, true
		}
	}
	return "", false
}

// validEmail reports whether s, as a whole, is an e-mail address a patient's messages
// can be sent to, and returns it.
func validEmail(s string) (string, bool) {
	if len(s) > maxEmail || strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return "", false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return "", false
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || len(local) > maxEmailLocal || strings.HasPrefix(local, `"`) || !validDomain(domain) {
		return "", false
	}
	return s, true
}

// validDomain reports whether d is a host name with a top-level domain: labels of letters,
// digits and inner hyphens, the last of letters only.
func validDomain(d string) bool {
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' {
				return false
			}
		}
	}
	tld := labels[len(labels)-1]
	return len(tld) >= 2 && !strings.ContainsFunc(tld, func(r rune) bool { return !unicode.IsLetter(r) })
}
