package muster16

import (
	"slices"
	"strings"
	"testing"

	"github.com/tresen/tresen/internal/prescription"
)

func field(t *testing.T, key string) Field {
	t.Helper()
	f, ok := FieldByKey(key)
	if !ok {
		t.Fatalf("no field %q", key)
	}
	return f
}

// TestFields: every key of the spec once, each box on the form.
func TestFields(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range Fields {
		if seen[f.Key] {
			t.Errorf("key %q twice", f.Key)
		}
		seen[f.Key] = true
		for _, b := range f.Boxes {
			if b.X < 0 || b.Y < 0 || b.W <= 0 || b.H <= 0 || b.X+b.W > WidthMM || b.Y+b.H > HeightMM {
				t.Errorf("%s: box %+v off the form", f.Key, b)
			}
		}
	}
	if len(Fields) != 40 {
		t.Errorf("%d fields, want the spec's 40", len(Fields))
	}
}

func TestReadNumbersWithCheckDigits(t *testing.T) {
	for _, tc := range []struct {
		key, printed string
		want         string
		corrected    bool
		review       bool
	}{
		{"kvnr", "A123456780", "A123456780", false, false},
		{"kvnr", "A 1234 56780", "A123456780", false, false},
		{"kvnr", "A12345678O", "A123456780", true, false}, // O for 0
		{"kvnr", "4123456780", "A123456780", true, false}, // 4 for A
		{"kvnr", "A123456781", "A123456781", false, true}, // a wrong check digit, no confusion to undo
		{"kvnr", "A1234567", "A1234567", false, true},     // short
		{"kvnr", "A12#456780", "A12#456780", false, true}, // unreadable
		{"pzn_1", "02567018", "02567018", false, false},
		{"pzn_1", "O2567O18", "02567018", true, false}, // two O for 0
		{"pzn_1", "0256701B", "02567018", true, false}, // B for 8 (3 fails the check)
		{"pzn_1", "06461110", "06461110", false, false},
		{"pzn_2", "0646111O", "06461110", true, false},
		{"pzn_1", "02567013", "02567013", false, true}, // a digit for a digit: review, no guess
		{"payer_ik", "108310400", "108310400", false, false},
		{"payer_ik", "1O831O4OO", "1O831O4OO", false, true}, // more than two uncertain characters
		{"payer_ik", "10831040O", "108310400", true, false},
		{"pharmacy_ik", "260326822", "260326822", false, false},
		{"lanr", "123456601", "123456601", false, false},
		{"lanr", "I23456601", "123456601", true, false},
		{"bsnr", "021234500", "021234500", false, false},
		{"bsnr", "O21234500", "O21234500", false, true}, // no check digit: not corrected
		{"bsnr", "", "", false, false},
	} {
		got := Read(field(t, tc.key), tc.printed, 26)
		if got.Value != tc.want || got.Corrected != tc.corrected || (got.Review != "") != tc.review {
			t.Errorf("%s %q: %+v; want %q corrected=%v review=%v", tc.key, tc.printed, got, tc.want, tc.corrected, tc.review)
		}
	}
}

// TestNoWrongNumberWithoutReview: every single-character misread of valid numbers either
// reads back the right number or goes to review — never a wrong number without a flag —
// wherever the check digit covers the place: all of a KVNR and a PZN, an IK from its
// third digit (the first two are its class). A LANR's check (weights 4 and 9, modulo 10)
// misses some single-digit errors (1 and 6 under weight 4), so it is not among them. A
// misread in an uncovered place is for OCR's confidence to catch.
func TestNoWrongNumberWithoutReview(t *testing.T) {
	type covered struct {
		numbers  []string
		from, to int // the places the check digit covers
	}
	valid := map[string]covered{
		"kvnr":     {[]string{"A123456780", "S234567891", "X234567891"}, 0, 10},
		"pzn_1":    {[]string{"02567018", "06461110", "02567001", "02567024", "01126111"}, 0, 8},
		"payer_ik": {[]string{"108310400", "260326822", "109500969"}, 2, 9},
	}
	// The misreads OCR makes: a digit for a digit, or a shape of the other kind for a
	// character (the confusions correct.go undoes); a letter for another letter in the
	// KVNR's first place is left to OCR's confidence (the check digit does not tell all
	// letters apart).
	misreadsOf := func(c rune) []rune {
		var out []rune
		if c >= '0' && c <= '9' {
			out = append(out, []rune("0123456789")...)
			for l, ds := range asDigit {
				if slices.Contains(ds, c) {
					out = append(out, l)
				}
			}
			return out
		}
		for d, ls := range asLetter {
			if slices.Contains(ls, c) {
				out = append(out, d)
			}
		}
		return out
	}
	for key, c := range valid {
		f := field(t, key)
		for _, n := range c.numbers {
			if r := Read(f, n, 26); r.Value != n || r.Review != "" {
				t.Errorf("%s %s as printed: %+v", key, n, r)
				continue
			}
			for i := c.from; i < c.to; i++ {
				for _, c := range misreadsOf(rune(n[i])) {
					misread := n[:i] + string(c) + n[i+1:]
					if misread == n {
						continue
					}
					r := Read(f, misread, 26)
					if r.Review == "" && r.Value != n {
						t.Errorf("%s %s read as %s became %s without review", key, n, misread, r.Value)
					}
				}
			}
		}
	}
}

func TestReadDatesAmountsAndCodes(t *testing.T) {
	for _, tc := range []struct {
		key, printed, want string
		review             bool
	}{
		{"date", "03.11.26", "2026-11-03", false},
		{"birth_date", "12.03.84", "1984-03-12", false},
		{"birth_date", "12.03.19", "2019-03-12", false}, // up to the issue year: this century
		{"birth_date", "12.03.27", "1927-03-12", false},
		{"birth_date", "00.03.84", "00.03.84", true}, // partly known (KP7-95)
		{"birth_date", "31.02.84", "31.02.84", true},
		{"birth_date", "12-03-84", "12-03-84", true},
		{"date", "1502.26", "2026-02-15", false}, // a dot OCR missed
		{"date", "15.0226", "2026-02-15", false},
		{"date", "1.50226", "1.50226", true},
		{"date", "150226", "150226", true}, // no dot at all: not the practice's TT.MM.JJ
		{"dispense_date", "051126", "2026-11-05", false},
		{"dispense_date", "05 11 26", "2026-11-05", false},
		{"dispense_date", "05.11.26", "2026-11-05", false},
		{"copayment", "500", "5.00", false},
		{"copayment", "5,00", "5.00", false},
		{"copayment", "0", "0.00", false},
		{"total_gross", "1234", "12.34", false},
		{"total_gross", "1.234,56", "1.234,56", true}, // a thousands mark is not printed in cells
		{"price_1", "12,3", "12,3", true},
		{"price_1", "12,34", "12.34", false},
		{"status", "1000000", "1000000", false},
		{"status", "5000400", "5000400", false},
		{"status", "2000000", "2000000", true},
		{"status", "1000007", "1000007", false}, // TSS
		{"status", "1000009", "1000009", true},  // no such Rechtsgrundlage
		{"factor_1", "1", "1", false},
		{"factor_1", "0", "0", true},
		{"payer_name", "  AOK   Bremen/Bremerh. ", "AOK Bremen/Bremerh.", false},
		{"rx_line_1", "Salbutamol Dosieraerosol 200 Hub Ni", "Salbutamol Dosieraerosol 200 Hub N1", false},
		{"rx_line_2", "Ibuprofen 600 mg 50 Tbl. Nl >>1-0-1<<", "Ibuprofen 600 mg 50 Tbl. N1 >>1-0-1<<", false},
		{"rx_line_3", "Nitrendipin 20 mg N2", "Nitrendipin 20 mg N2", false},
		{"patient_name", "Ni, Erika", "Ni, Erika", false}, // only prescription lines carry package sizes
	} {
		got := Read(field(t, tc.key), tc.printed, 26)
		if got.Value != tc.want || (got.Review != "") != tc.review {
			t.Errorf("%s %q: %+v; want %q review=%v", tc.key, tc.printed, got, tc.want, tc.review)
		}
	}
	if r := Read(field(t, "birth_date"), "12.03.84", -1); r.Review == "" {
		t.Errorf("birth date without the issue year: %+v, want review (century unknown)", r)
	}
}

// FuzzRead: any printed text gives a value or a review reason, never a panic; a value
// without review is in the field's format, and a corrected number passes its check.
func FuzzRead(f *testing.F) {
	for _, s := range []string{"A123456780", "0256701B", "12.03.84", "1.234,56", "051126", "5000400", "", "ÄÖÜ", "O O O"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, printed string) {
		for _, fl := range Fields {
			r := Read(fl, printed, 26)
			if r.Review != "" || r.Value == "" {
				continue
			}
			switch fl.Kind {
			case KVNR:
				if prescription.ValidateKVNR(r.Value) != nil {
					t.Fatalf("%s %q → %q passes as a KVNR", fl.Key, printed, r.Value)
				}
			case Digits:
				if len(r.Value) != fl.Len || strings.Trim(r.Value, "0123456789") != "" {
					t.Fatalf("%s %q → %q", fl.Key, printed, r.Value)
				}
				if check := checkFor(fl.Key); check != nil && check(r.Value) != nil {
					t.Fatalf("%s %q → %q fails its check", fl.Key, printed, r.Value)
				}
			case Amount:
				if i := strings.IndexByte(r.Value, '.'); i < 1 || len(r.Value)-i != 3 {
					t.Fatalf("%s %q → amount %q", fl.Key, printed, r.Value)
				}
			case Date, DispenseDate:
				if len(r.Value) != 10 || r.Value[4] != '-' {
					t.Fatalf("%s %q → date %q", fl.Key, printed, r.Value)
				}
			}
		}
	})
}
