package retention

import (
	"testing"
	"time"

	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/tenant"
)

func TestValidate(t *testing.T) {
	ok := []struct {
		tk   tenant.Kind
		k    Kind
		days int
	}{
		{tenant.Practice, Request, 7}, {tenant.Practice, CallAudio, 0}, {tenant.Pharmacy, Prescription, 90},
	}
	for _, c := range ok {
		if err := Validate(c.tk, c.k, c.days); err != nil {
			t.Errorf("Validate(%v,%v,%d) = %v", c.tk, c.k, c.days, err)
		}
	}
	bad := []struct {
		tk   tenant.Kind
		k    Kind
		days int
		want string
	}{
		{tenant.Pharmacy, Prescription, 120, "prescription: Rezeptdaten und Prüfergebnisse werden fest 90 Tage aufbewahrt"},
		{tenant.Pharmacy, PrescriptionImage, 30, "prescription_image: Rezeptbilder werden fest 90 Tage aufbewahrt"},
		{tenant.Practice, Request, 0, "request: die Aufbewahrung für Anliegen muss zwischen 1 und 3650 Tagen liegen"},
		{tenant.Practice, Prescription, 90, "prescription: Rezeptdaten und Prüfergebnisse gibt es nur bei der Mandantenart Apotheke"},
		{tenant.Practice, "fax", 1, `kind: unbekannte Datenart "fax"`},
	}
	for _, c := range bad {
		err := Validate(c.tk, c.k, c.days)
		if err == nil || err.Error() != c.want || !errs.Is(err, errs.Invalid) {
			t.Errorf("Validate(%v,%v,%d) = %v, want %q", c.tk, c.k, c.days, err, c.want)
		}
	}
}

func TestDefaults(t *testing.T) {
	var p Policy
	for k, want := range map[Kind]int{Request: 30, Transcript: 30, CallAudio: 0, Prescription: 90, PrescriptionImage: 90} {
		if got := p.Days(k); got != want {
			t.Errorf("default %s = %d, want %d", k, got, want)
		}
	}
	if got := (Policy{Request: 7}).Days(Request); got != 7 {
		t.Errorf("configured request days = %d", got)
	}
}

func TestCutoff(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	if got, want := Cutoff(now, 90), time.Date(2026, 8, 25, 12, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("Cutoff = %v, want %v", got, want)
	}
}
