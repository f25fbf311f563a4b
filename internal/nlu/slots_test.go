package nlu

import (
	"strings"
	"testing"
)

// TestNamesPhonesInsurance holds the name, phone and insurance readers to the ways
// patients state them.
func TestNamesPhonesInsurance(t *testing.T) {
	tests := []struct{ text, name, phone, insurance string }{
		{"mein name ist anna müller", "Anna Müller", "", ""},
		{"hier spricht die müller", "Müller", "", ""},
		{"müller hier ich brauche ein rezept", "Müller", "", ""},
		{"guten tag meier hans meier", "Hans Meier", "", ""},
		{"Müller, Anna", "Anna Müller", "", ""},
		{"für meinen sohn max mustermann", "Max Mustermann", "", ""},
		{"meine mutter braucht einen termin die heißt erna meier", "Erna Meier", "", ""},
		{"ich bin total erkältet", "", "", ""},
		{"ich bin die anna schmidt", "Anna Schmidt", "", ""},
		{"Rezept bitte. Viele Grüße, Hans-Peter Schmidt-Özdemir", "Hans-Peter Schmidt-Özdemir", "", ""},
		{"klaus musterfrau äh mustermann", "", "", ""},
		{"mein name ist klaus musterfrau äh mustermann", "Klaus Mustermann", "", ""},
		{"Tel. 0221/1234567", "", "+492211234567", ""},
		{"meine nummer ist null eins sieben eins zwölf vierunddreißig sechsundfünfzig", "", "+49171123456", ""},
		{"+49 30 1234567", "", "+49301234567", ""},
		{"meine nummer ist null eins sieben eins doppel drei vier fünf sechs sieben acht", "", "+491713345678", ""},
		{"null vier zwei eins doppelnull zwo drei vier", "", "+4942100234", ""},
		{"erreichbar unter 0421 doppel null eins zwei drei", "", "+4942100123", ""},
		{"ich bin bei der techniker krankenkasse", "", "", "gkv"},
		{"Kasse AOK", "", "", "gkv"},
		{"ich bin privat versichert bei der debeka", "", "", "pkv"},
		{"ich zahle selbst", "", "", "self"},
		{"es ist privat, ich möchte die ärztin sprechen", "", "", ""},
		{"die AU ist nicht bei meiner Kasse angekommen", "", "", ""},
	}
	u := &Understander{Doctors: demoDoctors}
	for _, tc := range tests {
		s := u.Understand(tc.text, monday).Slots
		if s.Name != tc.name || s.Phone != tc.phone || s.Insurance != tc.insurance {
			t.Errorf("%q: name %q phone %q insurance %q, want %q %q %q", tc.text, s.Name, s.Phone, s.Insurance, tc.name, tc.phone, tc.insurance)
		}
	}
}

// TestMobileE164 tells German mobile numbers, which can take an SMS, from every other
// number.
func TestMobileE164(t *testing.T) {
	tests := []struct{ in, want string }{
		{"+4915123456789", "+4915123456789"},
		{"0151 23456789", "+4915123456789"},
		{"004917012345678", "+4917012345678"},
		{"0160/1234567", "+491601234567"},
		{"+494211234567", ""},  // landline, Bremen
		{"030 1234567", ""},    // landline, Berlin
		{"0800 1110111", ""},   // service number
		{"+4367612345678", ""}, // Austrian mobile
		{"+43 1 2345678", ""},  // Austrian landline
		{"anonymous", ""},      // withheld caller id
		{"+49 (0) 151 23456789", "+4915123456789"},
		{"+49 00 17000000000", ""}, // a second 0 after the trunk 0
		{"", ""},
	}
	for _, tc := range tests {
		got, ok := MobileE164(tc.in)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("MobileE164(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
}

// FuzzMobileE164: whatever a caller id or a typed number holds, a number taken for SMS is
// a German mobile number in E.164, and taking it again gives itself.
func FuzzMobileE164(f *testing.F) {
	for _, s := range []string{"+4915123456789", "0151 23456789", "004917012345678", "+494211234567", "anonymous", "+49 (0) 151-234 567 89", "0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := MobileE164(s)
		if !ok {
			if got != "" {
				t.Errorf("MobileE164(%q) = %q, false", s, got)
			}
			return
		}
		if !strings.HasPrefix(got, "+491") || len(got) < 12 || len(got) > 15 || strings.Trim(got[1:], "0123456789") != "" {
			t.Errorf("MobileE164(%q) = %q: no German mobile number in E.164", s, got)
		}
		if again, ok := MobileE164(got); !ok || again != got {
			t.Errorf("MobileE164(%q) = %q, %v; want itself", got, again, ok)
		}
	})
}
