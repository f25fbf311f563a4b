package person

import (
	"testing"
	"time"

	"github.com/tresen/tresen/internal/errs"
)

var now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func TestValidateKVNR(t *testing.T) {
	// Insurance numbers from the official E-Rezept examples in shared/fixtures.
	for _, k := range []string{"K030182229", "K220635158", "M310119814", "P123464117", "S040464113", "T110397981"} {
		if err := ValidateKVNR(k); err != nil {
			t.Errorf("ValidateKVNR(%s) = %v", k, err)
		}
	}
	for _, k := range []string{"", "K03018222", "k030182229", "K03018222X", "K030182228", "X234567890"} {
		if err := ValidateKVNR(k); !errs.Is(err, errs.Invalid) {
			t.Errorf("ValidateKVNR(%q) = %v, want Invalid", k, err)
		}
	}
}

func TestValidate(t *testing.T) {
	ok := Person{Name: "Erika Mustermann", BirthDate: "1964-08-12", KVNR: "K030182229"}
	if err := ok.Validate(now); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		p    Person
		want string
	}{
		{Person{Name: " "}, "name: der Name fehlt"},
		{Person{Name: "Max", BirthDate: "31.02.1980"}, "birth_date: kein gültiges Datum (TT.MM.JJJJ)"},
		{Person{Name: "Max", BirthDate: "2027-01-01"}, "birth_date: das Geburtsdatum liegt in der Zukunft"},
		{Person{Name: "Max", KVNR: "K030182228"}, "kvnr: die Prüfziffer der KVNR stimmt nicht"},
	} {
		if err := tc.p.Validate(now); err == nil || err.Error() != tc.want {
			t.Errorf("%+v: %v, want %q", tc.p, err, tc.want)
		}
	}
}

func FuzzValidateKVNR(f *testing.F) {
	f.Add("K030182229")
	f.Fuzz(func(t *testing.T, s string) {
		if ValidateKVNR(s) == nil && KVNRCheckDigit(s[:9]) != s[9] {
			t.Fatalf("accepted %q", s)
		}
	})
}

func FuzzParseBirthDate(f *testing.F) {
	f.Add("12.08.1964")
	f.Add("1964-08-12")
	f.Fuzz(func(t *testing.T, s string) {
		if d, err := ParseBirthDate(s, now); err == nil && (d.After(now) || d.Year() < now.Year()-131) {
			t.Fatalf("accepted %q as %v", s, d)
		}
	})
}
