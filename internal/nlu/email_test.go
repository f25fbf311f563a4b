package nlu

import (
	"net/mail"
	"strings"
	"testing"
)

func TestEmail(t *testing.T) {
	tests := []struct{ in, want string }{
		{"erika.mustermann@example.de", "erika.mustermann@example.de"},
		{"Meine Adresse ist erika.mustermann@example.de.", "erika.mustermann@example.de"},
		{"gern an <erika.mustermann@example.de>, danke", "erika.mustermann@example.de"},
		{"ja: „erika+praxis@mail.example.de“", "erika+praxis@mail.example.de"},
		{"Erika.Mustermann@Example.DE", "Erika.Mustermann@Example.DE"},
		{"erika@müller-example.de", "erika@müller-example.de"},
		{"erst kaputt@ dann erika.mustermann@example.de", "erika.mustermann@example.de"},
		{"erika.mustermann@example", ""},     // no top-level domain
		{"erika.mustermann@example.d", ""},   // too short a top-level domain
		{"erika.mustermann@example.123", ""}, // digits are no top-level domain
		{"erika..mustermann@example.de", ""}, // empty atom
		{"erika@-example.de", ""},            // label starts with a hyphen
		{"erika@example..de", ""},            // empty label
		{"@example.de", ""},                  // no local part
		{"erika@", ""},                       // no domain
		{"erika@@example.de", ""},            // two at signs
		{"Erika <erika@example.de>", "erika@example.de"},
		{"Mail:erika@example.de", "erika@example.de"},
		{`"erika m"@example.de`, ""}, // quoted local part with a space is two words
		{"erika@[192.0.2.1]", ""},    // address literal
		{"erika@example.de\r\nBcc: x@y.de", "erika@example.de"},
		{strings.Repeat("a", 65) + "@example.de", ""},
		{"a@" + strings.Repeat("b", 250) + ".de", ""},
		{"Ich hätte gern einen Termin", ""},
		{"", ""},
	}
	for _, tc := range tests {
		got, ok := Email(tc.in)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("Email(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
}

// FuzzEmail: whatever a patient types, an address taken from it is in the text, has no
// space or line break, is within the limits and is read by net/mail as itself.
func FuzzEmail(f *testing.F) {
	for _, s := range []string{"erika.mustermann@example.de", "an <erika@example.de>.", "a@b", "erika@@example.de", "x@例え.テスト", `"a b"@example.de`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := Email(s)
		if !ok {
			if got != "" {
				t.Errorf("Email(%q) = %q, false", s, got)
			}
			return
		}
		if !strings.Contains(s, got) || len(got) > maxEmail || strings.ContainsAny(got, " \t\r\n<>") {
			t.Errorf("Email(%q) = %q", s, got)
		}
		if a, err := mail.ParseAddress(got); err != nil || a.Address != got || a.Name != "" {
			t.Errorf("Email(%q) = %q: net/mail reads %v, %v", s, got, a, err)
		}
		if again, ok := Email(got); !ok || again != got {
			t.Errorf("Email(%q) = %q, %v; want itself", got, again, ok)
		}
	})
}
