package notify

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestGSMLen(t *testing.T) {
	for _, tt := range []struct {
		s    string
		n    int
		gsm7 bool
	}{
		{"Termin am Do. 26.11.2026 um 9:30 Uhr", 36, true},
		{"Grüße aus Düsseldorf: Öffnungszeiten, Ärztin, Straße", 52, true},
		{"Preis 10 € [bar]", 19, true}, // €, [ and ] take two
		{"Frau Dr. Łukasiewicz", 0, false},
		{"Café", 4, true},          // é is in the alphabet
		{"Crème brûlée", 0, false}, // û is not
	} {
		n, ok := gsmLen(tt.s)
		if n != tt.n || ok != tt.gsm7 {
			t.Errorf("gsmLen(%q) = %d, %v; want %d, %v", tt.s, n, ok, tt.n, tt.gsm7)
		}
	}
}

// TestSMSShortens: a long practice name first costs the doctor, then the way to cancel,
// then the name itself; a name outside the GSM alphabet would leave only 70 characters,
// so it goes too.
func TestSMSShortens(t *testing.T) {
	start := time.Date(2026, 11, 26, 8, 30, 0, 0, time.UTC)
	a := Appointment{ID: "x", Start: start, Doctor: "Frau Dr. Schneider"}
	for _, tt := range []struct {
		name string
		want string
	}{
		{"Praxis am Markt",
			"Praxis am Markt: Ihr Termin am Do. 26.11.2026 um 9:30 Uhr bei Frau Dr. Schneider ist bestätigt. Absage bitte unter 0421 123456."},
		{"Gemeinschaftspraxis für Allgemeinmedizin Dr. Schneider & Kollegen",
			"Gemeinschaftspraxis für Allgemeinmedizin Dr. Schneider & Kollegen: Ihr Termin am Do. 26.11.2026 um 9:30 Uhr ist bestätigt. Absage bitte unter 0421 123456."},
		{"Gemeinschaftspraxis für Allgemeinmedizin und Innere Medizin Dr. Schneider & Kollegen",
			"Gemeinschaftspraxis für Allgemeinmedizin und Innere Medizin Dr. Schneider & Kollegen: Ihr Termin am Do. 26.11.2026 um 9:30 Uhr ist bestätigt."},
		{strings.Repeat("Praxis ", 30),
			"Ihr Termin am Do. 26.11.2026 um 9:30 Uhr ist bestätigt. Absage bitte unter 0421 123456."},
		{"Praxis Łukasiewicz",
			"Ihr Termin am Do. 26.11.2026 um 9:30 Uhr ist bestätigt. Absage bitte unter 0421 123456."},
	} {
		got := Confirmation(Practice{Name: tt.name, Phone: "0421 123456"}, a).SMS
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}
