package prescription_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/prescription"
)

// Valid identifiers from the official E-Rezept examples in shared/fixtures/erezept
// (DAV-ABDA and gematik); see its MANIFEST for where each comes from.
var (
	validPrescriptionIDs = []string{
		"160.000.764.737.300.50", "160.100.000.000.003.33", "160.100.000.000.001.39",
		"160.100.000.000.011.09", "200.424.187.927.272.20", "169.018.562.305.023.72",
		"160.087.893.173.538.24", "160.065.873.704.859.46",
	}
	validLANRs = []string{
		"838382202", "456456534", "582369858", "159753527", "123456628", "987654423",
		"754236701", "123412821",
	}
	validBSNRs = []string{"031234567", "687777700", "723333300", "757299999", "721111100", "724444400", "464161081"}
	validIKs   = []string{
		"104212059", "108416214", "108018347", "101377508", "109719018", "109777509",
		"168140346", "120591802", "308412345",
	}
	validPZNs = []string{
		"06313728", "05454378", "03386388", "05392039", "04773414", "01256262", "08850519",
		"02532741", "00766759", "02950964", "06437034", "06437028", "06437011", "02090906",
		"03879429", "16598620", "18027910",
		// Sonderkennzeichen of Technische Anlage 1 (Notdienst, Rezeptur, Zuschläge).
		"02567018", "09999011", "06460518", "17717446", "09999092",
	}
)

// result is what a test expects of a validator: "" for nil, else the error's text.
func result(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// check runs validate over cases (input → expected result) and reports every mismatch,
// and that every error is of kind Invalid.
func check(t *testing.T, validate func(string) error, cases map[string]string) {
	t.Helper()
	got := make(map[string]string, len(cases))
	for in := range cases {
		err := validate(in)
		got[in] = result(err)
		if err != nil && !errs.Is(err, errs.Invalid) {
			t.Errorf("%q: error of kind %v, want Invalid", in, errs.KindOf(err))
		}
	}
	if diff := cmp.Diff(cases, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
}

// withValid adds the valid inputs, expecting nil, to the cases.
func withValid(valid []string, cases map[string]string) map[string]string {
	for _, s := range valid {
		cases[s] = ""
	}
	return cases
}

func TestValidatePrescriptionID(t *testing.T) {
	check(t, prescription.ValidatePrescriptionID, withValid(validPrescriptionIDs, map[string]string{
		"160.100.000.000.012.06":  "", // Ersatzverordnung example
		"160.145.398.728.270.92":  "", // negative examples' bundle, whose Rezept-ID is fine
		"":                        "prescription_id: die Rezept-ID fehlt",
		"160.000.764.737.300.51":  "prescription_id: die Rezept-ID 160.000.764.737.300.51 hat eine falsche Prüfziffer (erwartet 50, angegeben 51)",
		"160.000.764.737.301.50":  "prescription_id: die Rezept-ID 160.000.764.737.301.50 hat eine falsche Prüfziffer (erwartet 47, angegeben 50)",
		"162.000.764.737.300.50":  "prescription_id: die Rezept-ID 162.000.764.737.300.50 hat eine falsche Prüfziffer (erwartet 41, angegeben 50)",
		"16000076473730050":       "prescription_id: die Rezept-ID muss das Format NNN.NNN.NNN.NNN.NNN.NN haben (N = Ziffer)",
		"160.000.764.737.300.5":   "prescription_id: die Rezept-ID muss das Format NNN.NNN.NNN.NNN.NNN.NN haben (N = Ziffer)",
		"160.000.764.737.300.500": "prescription_id: die Rezept-ID muss das Format NNN.NNN.NNN.NNN.NNN.NN haben (N = Ziffer)",
		"160-000-764-737-300-50":  "prescription_id: die Rezept-ID muss das Format NNN.NNN.NNN.NNN.NNN.NN haben (N = Ziffer)",
		"16a.000.764.737.300.50":  "prescription_id: die Rezept-ID muss das Format NNN.NNN.NNN.NNN.NNN.NN haben (N = Ziffer)",
		" 160.000.764.737.300.5":  "prescription_id: die Rezept-ID muss das Format NNN.NNN.NNN.NNN.NNN.NN haben (N = Ziffer)",
	}))
}

// TestPrescriptionIDExpectedCheckDigits checks that the expected check digits a message
// names are the right ones: changing the valid ids' check digits must name the originals.
func TestPrescriptionIDExpectedCheckDigits(t *testing.T) {
	for _, id := range validPrescriptionIDs {
		wrong := id[:20] + "99"
		if id[20:] == "99" {
			wrong = id[:20] + "98"
		}
		want := fmt.Sprintf("prescription_id: die Rezept-ID %s hat eine falsche Prüfziffer (erwartet %s, angegeben %s)", wrong, id[20:], wrong[20:])
		if got := result(prescription.ValidatePrescriptionID(wrong)); got != want {
			t.Errorf("ValidatePrescriptionID(%s) = %q, want %q", wrong, got, want)
		}
	}
}

func TestFlowType(t *testing.T) {
	for in, want := range map[string]string{
		"160.000.764.737.300.50": "160",
		"200.424.187.927.272.20": "200",
		"169.018.562.305.023.72": "169",
		"209":                    "209",
		"16":                     "",
		"":                       "",
		"1a0.000.764.737.300.50": "",
	} {
		if got := prescription.FlowType(in); got != want {
			t.Errorf("FlowType(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestValidateKVNR(t *testing.T) {
	check(t, prescription.ValidateKVNR, map[string]string{
		"X234567891": "",
		"M310119814": "",
		"K220645122": "",
		// Published examples with a wrong check digit; the message must not repeat them.
		"K220645120": "kvnr: die Prüfziffer der KVNR stimmt nicht",
		"X234567890": "kvnr: die Prüfziffer der KVNR stimmt nicht",
		"":           "kvnr: die KVNR besteht aus einem Großbuchstaben und 9 Ziffern",
		"x234567891": "kvnr: die KVNR besteht aus einem Großbuchstaben und 9 Ziffern",
	})
}

func TestValidateLANR(t *testing.T) {
	check(t, prescription.ValidateLANR, withValid(validLANRs, map[string]string{
		"555555001":  "", // ASV Pseudo-LANR: serial number instead of check digit
		"555555901":  "",
		"444444401":  "", // Entlassmanagement pseudo number
		"444444450":  "",
		"999999900":  "", // dentists, midwives, Bundeswehr
		"999999991":  "", // dentists' dummy
		"423987564":  "lanr: die Prüfziffer der LANR (7. Stelle) stimmt nicht (erwartet 8, angegeben 5)",
		"838382302":  "lanr: die Prüfziffer der LANR (7. Stelle) stimmt nicht (erwartet 2, angegeben 3)",
		"444444301":  "lanr: die Prüfziffer der LANR (7. Stelle) stimmt nicht (erwartet 4, angegeben 3)",
		"87654423":   "lanr: die LANR muss genau 9 Ziffern haben, nicht 8 Zeichen",
		"8383822020": "lanr: die LANR muss genau 9 Ziffern haben, nicht 10 Zeichen",
		"":           "lanr: die LANR fehlt",
		"83838220a":  "lanr: die LANR darf nur Ziffern enthalten (Stelle 9)",
		"83838 202":  "lanr: die LANR darf nur Ziffern enthalten (Stelle 6)",
		"ü38382202":  "lanr: die LANR darf nur Ziffern enthalten (Stelle 1)",
	}))
}

func TestValidateZANR(t *testing.T) {
	check(t, prescription.ValidateZANR, map[string]string{
		"999999991":  "",
		"123456789":  "", // format only: no check digit
		"":           "zanr: die ZANR fehlt",
		"12345678":   "zanr: die ZANR muss genau 9 Ziffern haben, nicht 8 Zeichen",
		"1234567890": "zanr: die ZANR muss genau 9 Ziffern haben, nicht 10 Zeichen",
		"1234-6789":  "zanr: die ZANR darf nur Ziffern enthalten (Stelle 5)",
	})
}

func TestValidateBSNR(t *testing.T) {
	check(t, prescription.ValidateBSNR, withValid(validBSNRs, map[string]string{
		"179999900": "", // Ersatz-BSNR of dentists and midwives
		"981234500": "", // KV Sachsen
		"061234500": "", // former Bezirksstelle Aurich
		"353812345": "", // hospital serving a Terminservicestelle, KV Nordrhein
		"742012363": "", // SAPV, Westfalen-Lippe
		"756350010": "", // Entlassmanagement, Bezirk Oberbayern (KV Bayerns example)
		"041234567": "bsnr: die BSNR 041234567 beginnt mit 04; die ersten zwei Ziffern müssen einen KV-Bereich nennen",
		"771234567": "bsnr: die BSNR 771234567 beginnt mit 77; die ersten zwei Ziffern müssen einen KV-Bereich nennen",
		"350412345": "bsnr: die BSNR 350412345 beginnt mit 35; die 3. und 4. Ziffer müssen dann einen KV-Bereich nennen, nicht 04",
		"757799999": "bsnr: die BSNR 757799999 beginnt mit 75; die 3. und 4. Ziffer müssen dann einen KV-Bereich nennen, nicht 77",
		"742012364": "bsnr: die BSNR 742012364 einer SAPV (beginnt mit 74) muss auf 63 enden",
		"001234567": "bsnr: die BSNR beginnt mit 00; die ersten zwei Ziffern sind die KV-Region",
		"":          "bsnr: die BSNR fehlt",
		"03123456":  "bsnr: die BSNR muss genau 9 Ziffern haben, nicht 8 Zeichen",
		"03123456x": "bsnr: die BSNR darf nur Ziffern enthalten (Stelle 9)",
	}))
}

func TestValidateIK(t *testing.T) {
	check(t, prescription.ValidateIK, withValid(validIKs, map[string]string{
		"987654321":  "ik: die Prüfziffer des IK stimmt nicht (erwartet 4, angegeben 1)",
		"343614470":  "ik: die Prüfziffer des IK stimmt nicht (erwartet 3, angegeben 0)",
		"0721111100": "ik: die IK muss genau 9 Ziffern haben, nicht 10 Zeichen",
		"":           "ik: die IK fehlt",
		"10421205a":  "ik: die IK darf nur Ziffern enthalten (Stelle 9)",
	}))
}

func TestValidatePZN(t *testing.T) {
	check(t, prescription.ValidatePZN, withValid(validPZNs, map[string]string{
		"22370390":  "pzn: die PZN 22370390 hat eine falsche Prüfziffer (erwartet 3, angegeben 0)",
		"06313729":  "pzn: die PZN 06313729 hat eine falsche Prüfziffer (erwartet 8, angegeben 9)",
		"00000030":  "pzn: die PZN 00000030 gibt es nicht: ihre Prüfziffer wäre 10, solche Nummern vergibt die IFA nicht",
		"6313728":   "pzn: die PZN muss genau 8 Ziffern haben; eine siebenstellige PZN wird mit einer führenden 0 geschrieben (06313728)",
		"063137280": "pzn: die PZN muss genau 8 Ziffern haben, nicht 9 Zeichen",
		"":          "pzn: die PZN fehlt",
		"PZN06313":  "pzn: die PZN darf nur Ziffern enthalten (Stelle 1)",
		"631372a":   "pzn: die PZN muss genau 8 Ziffern haben, nicht 7 Zeichen",
	}))
}

// fuzz checks that validate never panics, that what it accepts is n ASCII digits once the
// dots of a Rezept-ID are dropped, and that every error is of kind Invalid.
func fuzz(f *testing.F, validate func(string) error, n int, seeds []string) {
	for _, s := range slices.Concat(seeds, []string{"", "0", "ä", "\xff"}) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := validate(s)
		if err != nil {
			if !errs.Is(err, errs.Invalid) {
				t.Fatalf("%q: error of kind %v, want Invalid", s, errs.KindOf(err))
			}
			return
		}
		count := 0
		for i := 0; i < len(s); i++ {
			switch {
			case '0' <= s[i] && s[i] <= '9':
				count++
			case s[i] != '.' || n != 17:
				t.Fatalf("accepted %q with a character other than a digit", s)
			}
		}
		if count != n {
			t.Fatalf("accepted %q with %d digits, want %d", s, count, n)
		}
	})
}

func FuzzValidatePrescriptionID(f *testing.F) {
	fuzz(f, prescription.ValidatePrescriptionID, 17, validPrescriptionIDs)
}

func FuzzValidateKVNR(f *testing.F) {
	f.Add("X234567891")
	f.Add("K220645120")
	f.Fuzz(func(t *testing.T, s string) {
		if err := prescription.ValidateKVNR(s); err == nil && len(s) != 10 {
			t.Fatalf("accepted %q", s)
		} else if err != nil && !errs.Is(err, errs.Invalid) {
			t.Fatalf("%q: error of kind %v, want Invalid", s, errs.KindOf(err))
		}
	})
}

func FuzzValidateLANR(f *testing.F) {
	fuzz(f, prescription.ValidateLANR, 9, slices.Concat(validLANRs, []string{"423987564", "555555001", "87654423"}))
}

func FuzzValidateZANR(f *testing.F) {
	fuzz(f, prescription.ValidateZANR, 9, []string{"999999991", "12345678"})
}

func FuzzValidateBSNR(f *testing.F) {
	fuzz(f, prescription.ValidateBSNR, 9, slices.Concat(validBSNRs, []string{"742012363", "001234567"}))
}

func FuzzValidateIK(f *testing.F) {
	fuzz(f, prescription.ValidateIK, 9, slices.Concat(validIKs, []string{"987654321", "0721111100"}))
}

func FuzzValidatePZN(f *testing.F) {
	fuzz(f, prescription.ValidatePZN, 8, slices.Concat(validPZNs, []string{"22370390", "6313728"}))
}
