package tenant

import (
	"testing"

	"github.com/tresen/tresen/internal/errs"
)

func TestValidateIK(t *testing.T) {
	// Valid IKs taken from the official E-Rezept examples in shared/fixtures.
	for _, ik := range []string{"104212059", "108018347", "109719018", "101377508", "308412345"} {
		if err := ValidateIK(ik); err != nil {
			t.Errorf("ValidateIK(%s) = %v, want nil", ik, err)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"", "ik: die IK fehlt"},
		{"10421205", "ik: die IK muss genau 9 Ziffern haben, nicht 8 Zeichen"},
		{"10421205a", "ik: die IK darf nur Ziffern enthalten (Stelle 9)"},
		{"104212058", "ik: die Prüfziffer des IK stimmt nicht (erwartet 9, angegeben 8)"},
		{"987654321", "ik: die Prüfziffer des IK stimmt nicht (erwartet 4, angegeben 1)"},
	} {
		err := ValidateIK(tc.in)
		if err == nil || err.Error() != tc.want || !errs.Is(err, errs.Invalid) {
			t.Errorf("ValidateIK(%q) = %v, want %q", tc.in, err, tc.want)
		}
	}
}

func TestValidateBSNR(t *testing.T) {
	if err := ValidateBSNR("031234567"); err != nil {
		t.Errorf("valid BSNR rejected: %v", err)
	}
	for in, want := range map[string]string{
		"":           "bsnr: die BSNR fehlt",
		"12345678":   "bsnr: die BSNR muss genau 9 Ziffern haben, nicht 8 Zeichen",
		"0012345678": "bsnr: die BSNR muss genau 9 Ziffern haben, nicht 10 Zeichen",
		"001234567":  "bsnr: die BSNR beginnt mit 00; die ersten zwei Ziffern sind die KV-Region",
		"03123 567":  "bsnr: die BSNR darf nur Ziffern enthalten (Stelle 6)",
	} {
		if err := ValidateBSNR(in); err == nil || err.Error() != want {
			t.Errorf("ValidateBSNR(%q) = %v, want %q", in, err, want)
		}
	}
}

func TestTenantValidate(t *testing.T) {
	ok := Tenant{Kind: Pharmacy, Code: "308412345", Name: "Rosen-Apotheke"}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid tenant rejected: %v", err)
	}
	bad := []Tenant{
		{Kind: "clinic", Code: "308412345", Name: "X"},
		{Kind: Practice, Code: "308412345x", Name: "X"},
		{Kind: Pharmacy, Code: "308412340", Name: "X"},
		{Kind: Practice, Code: "031234567", Name: "  "},
	}
	for _, tn := range bad {
		if err := tn.Validate(); !errs.Is(err, errs.Invalid) {
			t.Errorf("%+v: Validate() = %v, want Invalid", tn, err)
		}
	}
}

func FuzzValidateIK(f *testing.F) {
	for _, s := range []string{"104212059", "", "abc", "1042120599", "ä04212059"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := ValidateIK(s)
		if err == nil {
			if len(s) != 9 || IKCheckDigit(s[:8]) != s[8] {
				t.Fatalf("accepted invalid IK %q", s)
			}
		} else if !errs.Is(err, errs.Invalid) {
			t.Fatalf("error of wrong kind: %v", err)
		}
	})
}

func FuzzValidateBSNR(f *testing.F) {
	for _, s := range []string{"031234567", "", "001234567", "0312345678"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if err := ValidateBSNR(s); err == nil && (len(s) != 9 || s[:2] == "00") {
			t.Fatalf("accepted invalid BSNR %q", s)
		} else if err != nil && !errs.Is(err, errs.Invalid) {
			t.Fatalf("error of wrong kind: %v", err)
		}
	})
}
