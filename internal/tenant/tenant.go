// Package tenant defines Tresen's tenants: an Arztpraxis identified by its BSNR
// (Betriebsstättennummer) or an Apotheke identified by its IK (Institutionskennzeichen).
package tenant

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tresen/tresen/internal/errs"
)

// Kind is the kind of a tenant, which decides the product part it uses.
type Kind string

const (
	Practice Kind = "practice" // Arztpraxis: Rezeption
	Pharmacy Kind = "pharmacy" // Apotheke: Rezeptprüfung
)

// Label is the German name of the kind, for the UI.
func (k Kind) Label() string {
	switch k {
	case Practice:
		return "Arztpraxis"
	case Pharmacy:
		return "Apotheke"
	}
	return string(k)
}

// ParseKind validates a tenant kind given as text.
func ParseKind(s string) (Kind, error) {
	switch k := Kind(strings.TrimSpace(s)); k {
	case Practice, Pharmacy:
		return k, nil
	}
	return "", errs.Field("kind", "unbekannte Mandantenart %q (erlaubt: practice, pharmacy)", s)
}

// Tenant is one customer: a practice or a pharmacy. Its Name is personal data where it
// carries a doctor's or pharmacist's name and is stored encrypted.
type Tenant struct {
	ID        string
	Kind      Kind
	Code      string // BSNR for a practice, IK for a pharmacy
	Name      string
	CreatedAt time.Time
}

// Validate checks a tenant before it is created.
func (t *Tenant) Validate() error {
	if _, err := ParseKind(string(t.Kind)); err != nil {
		return err
	}
	switch t.Kind {
	case Practice:
		if err := ValidateBSNR(t.Code); err != nil {
			return err
		}
	case Pharmacy:
		if err := ValidateIK(t.Code); err != nil {
			return err
		}
	}
	name := strings.TrimSpace(t.Name)
	switch {
	case name == "":
		return errs.Field("name", "der Name fehlt")
	case !utf8.ValidString(name):
		return errs.Field("name", "der Name enthält ungültige Zeichen")
	case utf8.RuneCountInString(name) > 200:
		return errs.Field("name", "der Name ist länger als 200 Zeichen")
	}
	return nil
}

// ValidateBSNR checks a Betriebsstättennummer: exactly nine digits, of which the first two
// name the KV region (never 00).
func ValidateBSNR(s string) error {
	if err := nineDigits("bsnr", "BSNR", s); err != nil {
		return err
	}
	if s[:2] == "00" {
		return errs.Field("bsnr", "die BSNR beginnt mit 00; die ersten zwei Ziffern sind die KV-Region")
	}
	return nil
}

// ValidateIK checks an Institutionskennzeichen: nine digits, the last a check digit over
// digits 3 to 8 (weights 2-1-2-1-2-1, sum of digit sums, modulo 10).
func ValidateIK(s string) error {
	if err := nineDigits("ik", "IK", s); err != nil {
		return err
	}
	if want := IKCheckDigit(s[:8]); s[8] != want {
		return errs.Field("ik", "die Prüfziffer des IK stimmt nicht (erwartet %c, angegeben %c)", want, s[8])
	}
	return nil
}

// IKCheckDigit computes the check digit for the first eight digits of an IK.
// It panics if ik8 is not eight ASCII digits; callers validate first.
func IKCheckDigit(ik8 string) byte {
	sum := 0
	for i, c := range ik8[2:8] {
		p := int(c-'0') * (2 - i%2)
		sum += p/10 + p%10
	}
	return byte('0' + sum%10)
}

func nineDigits(field, label, s string) error {
	if s == "" {
		return errs.Field(field, "die %s fehlt", label)
	}
	if len(s) != 9 {
		return errs.Field(field, "die %s muss genau 9 Ziffern haben, nicht %d Zeichen", label, utf8.RuneCountInString(s))
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return errs.Field(field, "die %s darf nur Ziffern enthalten (Stelle %d)", label, i+1)
		}
	}
	return nil
}
