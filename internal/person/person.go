// Package person defines a data subject: a patient or insured person whose data a tenant
// processes. All of a person's fields are personal data and are stored encrypted.
package person

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tresen/tresen/internal/errs"
)

// Person is a data subject of one tenant.
type Person struct {
	ID        string    `json:"id"`
	TenantID  string    `json:"-"`
	Name      string    `json:"name"`
	BirthDate string    `json:"birth_date,omitempty"` // YYYY-MM-DD
	KVNR      string    `json:"kvnr,omitempty"`       // Krankenversichertennummer (health insurance number)
	Phone     string    `json:"phone,omitempty"`
	Email     string    `json:"email,omitempty"`
	Address   string    `json:"address,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Validate checks a person's fields; now bounds the birth date.
func (p *Person) Validate(now time.Time) error {
	if strings.TrimSpace(p.Name) == "" {
		return errs.Field("name", "der Name fehlt")
	}
	for field, v := range map[string]string{"name": p.Name, "phone": p.Phone, "email": p.Email, "address": p.Address} {
		if !utf8.ValidString(v) || utf8.RuneCountInString(v) > 300 {
			return errs.Field(field, "ungültig oder länger als 300 Zeichen")
		}
	}
	if p.BirthDate != "" {
		if _, err := ParseBirthDate(p.BirthDate, now); err != nil {
			return err
		}
	}
	if p.KVNR != "" {
		if err := ValidateKVNR(p.KVNR); err != nil {
			return err
		}
	}
	return nil
}

// ParseBirthDate parses a birth date given as YYYY-MM-DD or DD.MM.YYYY; it must not lie in
// the future nor more than 130 years back.
func ParseBirthDate(s string, now time.Time) (time.Time, error) {
	var d time.Time
	var err error
	if strings.Contains(s, ".") {
		d, err = time.Parse("02.01.2006", s)
	} else {
		d, err = time.Parse(time.DateOnly, s)
	}
	switch {
	case err != nil:
		return time.Time{}, errs.Field("birth_date", "kein gültiges Datum (TT.MM.JJJJ)")
	case d.After(now):
		return time.Time{}, errs.Field("birth_date", "das Geburtsdatum liegt in der Zukunft")
	case d.Before(now.AddDate(-130, 0, 0)):
		return time.Time{}, errs.Field("birth_date", "das Geburtsdatum liegt mehr als 130 Jahre zurück")
	}
	return d, nil
}

// ValidateKVNR checks the unchangeable part of a Krankenversichertennummer: a capital letter,
// eight digits and a check digit. The letter counts as its two-digit position in the
// alphabet (A = 01); the ten digits are weighted 1-2-1-2…, products reduced to their digit
// sums and added; the sum modulo 10 is the check digit.
func ValidateKVNR(s string) error {
	if len(s) != 10 || s[0] < 'A' || s[0] > 'Z' {
		return errs.Field("kvnr", "die KVNR besteht aus einem Großbuchstaben und 9 Ziffern")
	}
	for i := 1; i < 10; i++ {
		if s[i] < '0' || s[i] > '9' {
			return errs.Field("kvnr", "die KVNR besteht aus einem Großbuchstaben und 9 Ziffern")
		}
	}
	if want := KVNRCheckDigit(s[:9]); s[9] != want {
		return errs.Field("kvnr", "die Prüfziffer der KVNR stimmt nicht")
	}
	return nil
}

// KVNRCheckDigit computes the check digit for a letter followed by eight digits.
func KVNRCheckDigit(s9 string) byte {
	letter := int(s9[0]-'A') + 1
	digits := []int{letter / 10, letter % 10}
	for i := 1; i < 9; i++ {
		digits = append(digits, int(s9[i]-'0'))
	}
	sum := 0
	for i, d := range digits {
		p := d * (1 + i%2)
		sum += p/10 + p%10
	}
	return byte('0' + sum%10)
}
