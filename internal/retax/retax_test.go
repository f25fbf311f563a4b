package retax_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/articles"
	"github.com/tresen/tresen/internal/berlin"
	"github.com/tresen/tresen/internal/erezept"
	"github.com/tresen/tresen/internal/prescription"
	"github.com/tresen/tresen/internal/retax"
)

const fixtures = "../../../shared/fixtures/erezept"

func catalog(t testing.TB) *articles.Catalog {
	t.Helper()
	c, err := articles.LoadFile("testdata/artikel.csv")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, berlin.Location)
	if err != nil {
		panic(err)
	}
	return t
}

func codes(r retax.Report, sev retax.Severity) []string {
	var out []string
	for _, f := range r.Findings {
		if f.Severity == sev && !slices.Contains(out, f.Code) {
			out = append(out, f.Code)
		}
	}
	slices.Sort(out)
	return out
}

// TestFixtures checks every official example, each on the day of its dispense (or of its
// issue), and finds exactly the errors the manifest describes.
func TestFixtures(t *testing.T) {
	want := map[string][]string{
		"160.087.893.173.538.24": {"KVNR-CHECKDIGIT"}, // PZN_Nr28: KVNR check digit should be 2
		"160.065.873.704.859.46": {"LANR-CHECKDIGIT"}, // PZN_Nr33
		// KBV 1.3 Nr1: the MedicationDispense names another, invalid KVNR.
		"1.3/160.000.764.737.300.50": {"KVNR-CHECKDIGIT", "KVNR-MISMATCH"},
		"169.018.562.305.023.72":     {"IK-CHECKDIGIT"}, // Zytostatika: pharmacy IK 987654321
	}
	negative := map[string][]string{ // the KBV 1.1.0 negative examples, each with its error
		"e98da709-d9f8-494d-87b0-a59a0f471924_13.xml": {"IK-CHECKDIGIT", "PROFILE-UNSUPPORTED", "PZN-CHECKDIGIT"},
		"e98da709-d9f8-494d-87b0-a59a0f471924_28.xml": {"IK-CHECKDIGIT", "KVNR-CHECKDIGIT", "PROFILE-UNSUPPORTED", "PZN-CHECKDIGIT"},
		"e98da709-d9f8-494d-87b0-a59a0f471924_36.xml": {"IK-CHECKDIGIT", "LANR-CHECKDIGIT", "PROFILE-UNSUPPORTED", "PZN-CHECKDIGIT"},
		"e98da709-d9f8-494d-87b0-a59a0f471924_41.xml": {"FIELD-MISSING", "IK-CHECKDIGIT", "PROFILE-UNSUPPORTED", "PZN-CHECKDIGIT"},
	}
	cat := catalog(t)
	dirs, _ := filepath.Glob(filepath.Join(fixtures, "*"))
	checked := 0
	for _, dir := range dirs {
		files, _ := filepath.Glob(filepath.Join(dir, "*.xml"))
		var read []erezept.File
		for _, name := range files {
			data, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			f, err := erezept.Read(filepath.Base(name), data)
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(filepath.Base(dir), "negative") {
				// Variants of one prescription: each on its own.
				checked++
				in := retax.Input{Prescription: f.Prescription, Unsupported: []string{f.Profile}, At: at(f.Prescription.AuthoredOn + " 10:00"), Articles: cat}
				if diff := cmp.Diff(negative[f.Name], codes(retax.Check(in), retax.Error)); diff != "" {
					t.Errorf("%s (-want +got):\n%s", f.Name, diff)
				}
				continue
			}
			read = append(read, f)
		}
		for _, c := range erezept.Group(read) {
			if c.Prescription == nil && c.Dispense == nil {
				continue
			}
			checked++
			day := ""
			if c.Prescription != nil {
				day = c.Prescription.AuthoredOn
			}
			if c.Dispense != nil {
				day = c.Dispense.HandedOver.Format(time.DateOnly)
			}
			r := retax.Check(retax.Input{Prescription: c.Prescription, Dispense: c.Dispense, Unsupported: c.Unsupported, At: at(day + " 10:00"), Articles: cat})
			key := c.ID
			if strings.HasPrefix(filepath.Base(dir), "kbv-1.3") && c.ID == "160.000.764.737.300.50" {
				key = "1.3/" + key
			}
			if diff := cmp.Diff(want[key], codes(r, retax.Error)); diff != "" {
				t.Errorf("%s %v (-want +got):\n%s\n%+v", key, c.Files, diff, r.Findings)
			}
		}
	}
	if checked != 24 { // 20 prescriptions and dispenses of the two example sets, 4 negative examples
		t.Errorf("%d prescriptions checked, want 24", checked)
	}
}

// clean is a prescription and dispense without any finding: Ramipril 10 mg, 100 tablets,
// dispensed as prescribed three days after issue.
func clean() retax.Input {
	yes := true
	p := &prescription.Prescription{
		ID: "160.100.000.000.019.82", Source: "KBV_PR_ERP_Bundle|1.4", Kind: prescription.GKV, Flow: "160", LegalBasis: "00",
		Pruefnummer: "Y/410/2107/36/999",
		Patient:     prescription.Patient{Name: "Erika Mustermann", BirthDate: "1964-04-04", KVNR: "S040464113", PostalCode: "51105"},
		Payer:       prescription.Payer{Type: prescription.PayerGKV, IK: "104212059"},
		Doctor:      prescription.Doctor{LANR: "754236701"},
		BSNR:        "724444400",
		AuthoredOn:  "2026-11-02",
		CoPayment:   prescription.CoPaymentDue,
		Medication: prescription.Medication{Kind: prescription.MedPZN, PZN: "99000011", Normgroesse: "N3", PackSize: "100",
			Quantity: 1, Substitution: &yes, Ingredients: []prescription.Ingredient{{Name: "Ramipril", ASK: "22686", Strength: "10 mg"}}, Form: "TAB"},
	}
	d := &prescription.Dispense{
		PrescriptionID: p.ID, PharmacyIK: "308412345", HandedOver: at("2026-11-05 00:00"), KVNR: "S040464113",
		Items:      []prescription.Item{{PZN: "99000011", Factor: "1", Price: 1650, CoPayment: 500}},
		TotalGross: 1650, CoPayment: 500,
	}
	return retax.Input{Prescription: p, Dispense: d, At: at("2026-11-05 10:00")}
}

func TestCleanHasNoFindings(t *testing.T) {
	in := clean()
	in.Articles = catalog(t)
	r := retax.Check(in)
	if len(r.Findings) != 0 || len(r.NotChecked) != 0 {
		t.Errorf("findings %+v, not checked %v", r.Findings, r.NotChecked)
	}
	if r.PrescriptionID != "160.100.000.000.019.82" || r.Kind != "gkv" || r.CheckedAt != "2026-11-05T10:00:00+01:00" {
		t.Errorf("report %+v", r)
	}
}

func no() *bool { f := false; return &f }

// TestRules holds every rule to a case where it fires and one where it must not.
func TestRules(t *testing.T) {
	cat := catalog(t)
	type mod = func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input)
	noctu := func(when string) mod {
		return func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			p.Noctu = true
			d.Items = append(d.Items, prescription.Item{Special: "02567018", Factor: "1", Price: 250, NoctuAt: at(when)})
		}
	}
	dispensed := func(day string) mod {
		return func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			d.HandedOver, in.At = at(day+" 00:00"), at(day+" 10:00")
		}
	}
	issued := func(day string, then mod) mod {
		return func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			p.AuthoredOn = day
			then(p, d, in)
		}
	}
	product := func(pzn, factor string, price int64) mod {
		return func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			d.Items = []prescription.Item{{PZN: pzn, Factor: factor, Price: price, CoPayment: 500}}
		}
	}
	tests := []struct {
		name  string
		code  string
		fires bool
		mod   mod
	}{
		{"unknown profile", "PROFILE-UNSUPPORTED", true, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			in.Unsupported = []string{"https://fhir.kbv.de/StructureDefinition/KBV_PR_ERP_Bundle|1.1.0"}
		}},
		{"known profiles", "PROFILE-UNSUPPORTED", false, nil},
		{"1.4 before it was in force", "PROFILE-NOT-IN-FORCE", true, issued("2026-06-30", dispensed("2026-07-01"))},
		{"1.3 after its end", "PROFILE-NOT-IN-FORCE", true, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			p.Source = "KBV_PR_ERP_Bundle|1.3"
			issued("2027-01-15", dispensed("2027-01-16"))(p, d, in)
		}},
		{"1.3 in its last days", "PROFILE-NOT-IN-FORCE", false, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			p.Source = "KBV_PR_ERP_Bundle|1.3"
			issued("2027-01-14", dispensed("2027-01-16"))(p, d, in)
		}},
		{"bad Rezept-ID", "PRESCRIPTION-ID-CHECKDIGIT", true, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			p.ID = "160.100.000.000.019.83"
		}},
		{"bad Rezept-ID in the dispense", "PRESCRIPTION-ID-CHECKDIGIT", true, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			d.PrescriptionID = "160.100.000.000.019.8"
		}},
		{"good Rezept-ID", "PRESCRIPTION-ID-CHECKDIGIT", false, nil},
		{"bad KVNR", "KVNR-CHECKDIGIT", true, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			p.Patient.KVNR, d.KVNR = "S040464114", ""
		}},
		{"bad KVNR in the dispense", "KVNR-CHECKDIGIT", true, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) { d.KVNR = "S040464114" }},
		{"private patient's id is not checked", "KVNR-CHECKDIGIT", false, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			p.Kind, p.Payer.Type, p.Patient.KVNR, d.KVNR = prescription.PKV, prescription.PayerPKV, "P12346411", ""
		}},
		{"bad LANR", "LANR-CHECKDIGIT", true, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			p.Doctor.LANR = "754236801"
		}},
		{"good LANR", "LANR-CHECKDIGIT", false, nil},
		{"bad BSNR", "BSNR-FORMAT", true, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) { p.BSNR = "12345" }},
		{"good BSNR", "BSNR-FORMAT", false, nil},
		{"bad payer IK", "IK-CHECKDIGIT", true, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			p.Payer.IK = "104212058"
		}},
		{"bad pharmacy IK", "IK-CHECKDIGIT", true, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			d.PharmacyIK = "308412346"
		}},
		{"good IKs", "IK-CHECKDIGIT", false, nil},
		{"bad dispensed PZN", "PZN-CHECKDIGIT", true, product("99000012", "1", 1650)},
		{"bad special code", "PZN-CHECKDIGIT", true, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			d.Items = append(d.Items, prescription.Item{Special: "17717447", Factor: "1", Price: 60})
		}},
		{"good PZNs", "PZN-CHECKDIGIT", false, nil},
		{"no Prüfnummer", "FIELD-MISSING", true, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) { p.Pruefnummer = "" }},
		{"no co-payment status", "FIELD-MISSING", true, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) { p.CoPayment = "" }},
		{"no aut idem flag", "FIELD-MISSING", true, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			p.Medication.Substitution = nil
		}},
		{"no pack size", "FIELD-MISSING", true, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			p.Medication.Normgroesse, p.Medication.PackSize = "", ""
		}},
		{"no postal code", "FIELD-MISSING", true, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			p.Patient.PostalCode = ""
		}},
		{"work accident without its day", "FIELD-MISSING", true, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			p.Accident = &prescription.Accident{Code: "2", Employer: "Musterbau GmbH"}
		}},
		{"work accident complete", "FIELD-MISSING", false, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			p.Accident = &prescription.Accident{Code: "2", Date: "2026-11-01", Employer: "Musterbau GmbH"}
		}},
		{"private prescription needs no co-payment status", "FIELD-MISSING", false, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			p.Kind, p.Payer.Type, p.CoPayment, p.Pruefnummer = prescription.PKV, prescription.PayerPKV, "", ""
		}},
		{"no dispense date", "FIELD-MISSING", true, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			d.HandedOver = time.Time{}
		}},
		{"aut idem on an ingredient prescription", "FIELD-NOT-ALLOWED", true, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			p.Medication.Kind, p.Medication.PZN = prescription.MedIngredient, ""
		}},
		{"ingredient prescription without aut idem", "FIELD-NOT-ALLOWED", false, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			p.Medication.Kind, p.Medication.PZN, p.Medication.Substitution = prescription.MedIngredient, "", nil
		}},
		{"dispensed before issue", "DISPENSED-BEFORE-ISSUE", true, dispensed("2026-11-01")},
		{"dispensed on the day of issue", "DISPENSED-BEFORE-ISSUE", false, dispensed("2026-11-02")},
		{"repeat part before its start", "NOT-YET-VALID", true, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			p.Multiple = &prescription.Multiple{Index: 2, Total: 4, Start: "2026-12-01", End: "2027-03-01"}
		}},
		{"repeat part on its first day", "NOT-YET-VALID", false, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			p.Multiple = &prescription.Multiple{Index: 2, Total: 4, Start: "2026-11-05", End: "2027-03-01"}
		}},
		{"GKV on day 29", "EXPIRED", true, issued("2026-10-01", dispensed("2026-10-30"))},
		{"GKV on day 28", "EXPIRED", false, issued("2026-10-01", dispensed("2026-10-29"))},
		{"Entlassrezept on the 4th working day", "EXPIRED", true, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			p.LegalBasis = prescription.LegalDischarge
			issued("2026-10-30", dispensed("2026-11-03"))(p, d, in) // Fri, Sat, (Sun), Mon
		}},
		{"Entlassrezept on the 3rd working day", "EXPIRED", false, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			p.LegalBasis = prescription.LegalDischarge
			issued("2026-10-30", dispensed("2026-11-02"))(p, d, in)
		}},
		{"Entlassrezept over Christmas, 3rd working day", "EXPIRED", false, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			p.LegalBasis = prescription.LegalDischarge
			issued("2026-12-23", dispensed("2026-12-28"))(p, d, in) // Wed, Thu 24th, (25th, 26th holidays, Sun), Mon
		}},
		{"Entlassrezept over Christmas, too late", "EXPIRED", true, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			p.LegalBasis = prescription.LegalDischarge
			issued("2026-12-23", dispensed("2026-12-29"))(p, d, in)
		}},
		{"BtM on day 8", "EXPIRED", true, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			p.Kind = prescription.BtM
			issued("2026-11-01", dispensed("2026-11-09"))(p, d, in)
		}},
		{"BtM on day 7", "EXPIRED", false, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			p.Kind = prescription.BtM
			issued("2026-11-01", dispensed("2026-11-08"))(p, d, in)
		}},
		{"T-Rezept on day 7", "EXPIRED", true, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			p.Kind = prescription.TRezept
			issued("2026-11-01", dispensed("2026-11-08"))(p, d, in)
		}},
		{"isotretinoin for a woman of childbearing age on day 7", "EXPIRED", true, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			p.Patient.ChildbearingFemale = true
			p.Medication.Ingredients = []prescription.Ingredient{{Name: "Isotretinoin", Strength: "10 mg"}}
			issued("2026-11-01", dispensed("2026-11-08"))(p, d, in)
		}},
		{"PKV after three months", "EXPIRED", true, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			p.Kind, p.Payer.Type = prescription.PKV, prescription.PayerPKV
			issued("2026-08-04", dispensed("2026-11-05"))(p, d, in)
		}},
		{"PKV on the last day", "EXPIRED", false, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			p.Kind, p.Payer.Type = prescription.PKV, prescription.PayerPKV
			issued("2026-08-05", dispensed("2026-11-05"))(p, d, in)
		}},
		{"open repeat after 365 days", "EXPIRED", true, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			p.Multiple = &prescription.Multiple{Index: 2, Total: 2, Start: "2025-10-01"}
			issued("2025-10-01", dispensed("2026-10-02"))(p, d, in)
		}},
		{"other patient in the dispense", "KVNR-MISMATCH", true, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) { d.KVNR = "X234567891" }},
		{"same patient", "KVNR-MISMATCH", false, nil},
		{"aut idem excluded, other PZN", "PZN-MISMATCH", true, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			p.Medication.Substitution = no()
			product("99000057", "5", 6685)(p, d, in)
		}},
		{"aut idem excluded, same PZN", "PZN-MISMATCH", false, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			p.Medication.Substitution = no()
		}},
		{"substituted by another form", "SUBSTITUTION-INVALID", true, product("99000034", "1", 1650)},
		{"substituted by another strength", "SUBSTITUTION-INVALID", true, product("99000040", "1", 1650)},
		{"substituted by the same drug in smaller packs", "SUBSTITUTION-INVALID", false, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			d.Items = []prescription.Item{{PZN: "99000057", Factor: "3", Price: 4011, CoPayment: 500}, {PZN: "99000057", Factor: "2", Price: 2674}}
		}},
		{"two packs for one", "QUANTITY-EXCEEDED", true, product("99000011", "2", 3300)},
		{"six small packs for one large", "QUANTITY-EXCEEDED", true, product("99000057", "6", 8022)},
		{"five small packs for one large", "QUANTITY-EXCEEDED", false, product("99000057", "5", 6685)},
		{"substituted by another pack size class", "SUBSTITUTION-INVALID", true, product("99000057", "1", 1337)},
		{"ingredient prescription, N1 for N3", "PACKSIZE-MISMATCH", true, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			p.Medication.Kind, p.Medication.PZN, p.Medication.Substitution = prescription.MedIngredient, "", nil
			product("99000057", "1", 1337)(p, d, in)
		}},
		{"ingredient prescription, N3", "PACKSIZE-MISMATCH", false, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			p.Medication.Kind, p.Medication.PZN, p.Medication.Substitution = prescription.MedIngredient, "", nil
		}},
		{"co-payment too high", "ZUZAHLUNG-WRONG", true, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			d.Items[0].CoPayment, d.CoPayment = 600, 600
		}},
		{"co-payment from the exempt", "ZUZAHLUNG-WRONG", true, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			p.CoPayment = prescription.CoPaymentExempt
		}},
		{"co-payment from a child", "ZUZAHLUNG-WRONG", true, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			p.Patient.BirthDate = "2010-01-01"
		}},
		{"co-payment above the price", "ZUZAHLUNG-WRONG", true, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			d.Items[0].Price, d.TotalGross = 300, 300
		}},
		{"lines and total disagree", "ZUZAHLUNG-WRONG", true, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) { d.CoPayment = 1000 }},
		{"co-payment right", "ZUZAHLUNG-WRONG", false, nil},
		{"co-payment capped at 10 euros", "ZUZAHLUNG-WRONG", false, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			d.Items[0].Price, d.Items[0].CoPayment, d.CoPayment, d.TotalGross = 20000, 1000, 1000, 20000
		}},
		{"child turned 18 yesterday", "ZUZAHLUNG-WRONG", false, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			p.Patient.BirthDate = "2008-11-04"
		}},
		{"Noctu at noon", "NOCTU-INVALID", true, noctu("2026-11-05 12:00")},
		{"Noctu without the doctor's noctu", "NOCTU-INVALID", true, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			noctu("2026-11-05 22:30")(p, d, in)
			p.Noctu = false
		}},
		{"Noctu on 24 December before 14:00", "NOCTU-INVALID", true, noctu("2026-12-24 13:00")},
		{"Noctu at night", "NOCTU-INVALID", false, noctu("2026-11-05 22:30")},
		{"Noctu early morning", "NOCTU-INVALID", false, noctu("2026-11-05 05:59")},
		{"Noctu on a Sunday", "NOCTU-INVALID", false, noctu("2026-11-08 12:00")},
		{"Noctu on Christmas Day", "NOCTU-INVALID", false, noctu("2026-12-25 12:00")},
		{"Noctu on 24 December afternoon", "NOCTU-INVALID", false, noctu("2026-12-24 15:00")},
		{"price above the AMPreisV", "PRICE-MISMATCH", true, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			d.Items[0].Price, d.TotalGross = 1700, 1700
		}},
		{"price as the AMPreisV says", "PRICE-MISMATCH", false, nil},
		{"price rule not in force before its fees", "PRICE-MISMATCH", false, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			d.Items[0].Price, d.TotalGross = 1700, 1700
			issued("2023-06-01", dispensed("2023-06-02"))(p, d, in)
		}},
		{"unknown special code", "SPECIAL-CODE-UNKNOWN", true, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			d.Items = append(d.Items, prescription.Item{Special: "99000028", Factor: "1", Price: 100})
		}},
		{"known special code", "SPECIAL-CODE-UNKNOWN", false, func(p *prescription.Prescription, d *prescription.Dispense, in *retax.Input) {
			d.Items = append(d.Items, prescription.Item{Special: "17717446", Factor: "1", Price: 60})
		}},
	}
	covered := map[string][2]bool{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := clean()
			in.Articles = cat
			if tc.mod != nil {
				tc.mod(in.Prescription, in.Dispense, &in)
			}
			r := retax.Check(in)
			got := slices.ContainsFunc(r.Findings, func(f retax.Finding) bool { return f.Code == tc.code })
			if got != tc.fires {
				t.Errorf("%s fired = %t, want %t\nfindings: %+v\nnot checked: %v", tc.code, got, tc.fires, r.Findings, r.NotChecked)
			}
			for _, f := range r.Findings {
				if f.Message == "" || f.Source == "" || f.Path == "" {
					t.Errorf("finding without message, source or path: %+v", f)
				}
				if strings.Contains(f.Message, in.Prescription.Patient.KVNR) || strings.Contains(f.Message, in.Prescription.Patient.Name) {
					t.Errorf("finding names the patient: %q", f.Message)
				}
			}
		})
		c := covered[tc.code]
		if tc.fires {
			c[0] = true
		} else {
			c[1] = true
		}
		covered[tc.code] = c
	}
	for _, r := range retax.Rules() {
		if c := covered[r.Code]; !c[0] || !c[1] {
			t.Errorf("rule %s lacks a case where it fires (%t) or one where it must not (%t)", r.Code, c[0], c[1])
		}
	}
}

// TestSeveralLines: a paper form orders up to three drugs, each billed on its own
// Taxzeile. Each drug is held to the line dispensed for it, not to the first drug.
func TestSeveralLines(t *testing.T) {
	cat := catalog(t)
	// Ramipril (line 1) as in clean, and Doxycyclin N3 (line 2), aut idem crossed out on both.
	twoLines := func() retax.Input {
		in := clean()
		in.Articles = cat
		in.Prescription.ID, in.Dispense.PrescriptionID, in.Prescription.Source, in.Prescription.Pruefnummer = "", "", "Muster16", ""
		in.Prescription.Medication.Substitution = no()
		in.Prescription.More = []prescription.Medication{{Kind: prescription.MedPZN, PZN: "06437034", Name: "Doxycyclin Testpräparat 100 mg N3",
			Normgroesse: "N3", Quantity: 1, Substitution: no()}}
		in.Dispense.Items = append(in.Dispense.Items, prescription.Item{PZN: "06437034", Factor: "1", Price: 2490, CoPayment: 500})
		in.Dispense.TotalGross, in.Dispense.CoPayment = 1650+2490, 1000
		return in
	}
	finding := func(r retax.Report, code string) (retax.Finding, bool) {
		i := slices.IndexFunc(r.Findings, func(f retax.Finding) bool { return f.Code == code })
		if i < 0 {
			return retax.Finding{}, false
		}
		return r.Findings[i], true
	}

	r := retax.Check(twoLines())
	if len(r.Findings) != 0 || len(r.NotChecked) != 0 {
		t.Errorf("each drug dispensed as prescribed: findings %+v, not checked %v", r.Findings, r.NotChecked)
	}

	// Taxzeilen in another order than the lines: still paired by PZN.
	in := twoLines()
	slices.Reverse(in.Dispense.Items)
	if r := retax.Check(in); len(r.Findings) != 0 {
		t.Errorf("Taxzeilen swapped: findings %+v", r.Findings)
	}

	// Line 2's drug swapped for another pack despite aut idem: found at its Taxzeile.
	in = twoLines()
	in.Dispense.Items[1] = prescription.Item{PZN: "06437028", Factor: "1", Price: 1280, CoPayment: 500}
	r = retax.Check(in)
	f, ok := finding(r, "PZN-MISMATCH")
	if !ok || f.Path != "dispense.items[1].pzn" || !strings.Contains(f.Message, "statt der verordneten PZN 06437034") {
		t.Errorf("line 2 swapped: %+v", r.Findings)
	}
	if n := len(slices.DeleteFunc(slices.Clone(r.Findings), func(f retax.Finding) bool { return f.Code != "PZN-MISMATCH" })); n != 1 {
		t.Errorf("%d PZN-MISMATCH findings, want 1 (line 1 was dispensed as prescribed): %+v", n, r.Findings)
	}

	// Two packs for line 2's one.
	in = twoLines()
	in.Dispense.Items[1].Factor, in.Dispense.Items[1].Price, in.Dispense.Items[1].CoPayment = "2", 4980, 1000
	in.Dispense.CoPayment, in.Dispense.TotalGross = 1500, 1650+4980
	f, ok = finding(retax.Check(in), "QUANTITY-EXCEEDED")
	if !ok || !strings.Contains(f.Message, "verordnet sind 1 (Verordnungszeile 2)") {
		t.Errorf("two packs for line 2: %+v", f)
	}

	// A wrong check digit in line 2's PZN.
	in = twoLines()
	in.Prescription.More[0].PZN = "06437035"
	f, ok = finding(retax.Check(in), "PZN-CHECKDIGIT")
	if !ok || f.Path != "medication[1].pzn" || !strings.Contains(f.Message, "(Verordnungszeile 2)") {
		t.Errorf("line 2's PZN: %+v", f)
	}

	// Two free-text lines and three products: which Taxzeile is whose cannot be told.
	in = twoLines()
	in.Prescription.Medication = prescription.Medication{Kind: prescription.MedFreeText, Name: "Ramipril 10 mg N3", Quantity: 1}
	in.Prescription.More[0] = prescription.Medication{Kind: prescription.MedFreeText, Name: "Doxycyclin 100 mg N3", Quantity: 1}
	in.Dispense.Items = append(in.Dispense.Items, prescription.Item{PZN: "06437028", Factor: "1", Price: 1280, CoPayment: 500})
	in.Dispense.CoPayment, in.Dispense.TotalGross = 1500, 1650+2490+1280
	r = retax.Check(in)
	// Of the rules that compare a drug with its Taxzeilen only the substitution check
	// applies to free text; it says why it could not compare.
	unpaired := slices.DeleteFunc(slices.Clone(r.NotChecked), func(s string) bool { return !strings.Contains(s, "Taxzeile 1, 2 und 3") })
	if len(unpaired) != 1 || !strings.HasPrefix(unpaired[0], "SUBSTITUTION-INVALID: ") {
		t.Errorf("unpaired Taxzeilen: %v", r.NotChecked)
	}
}

// TestNoctuByDay: a dispense without a time of day (a paper prescription) has its
// Notdienstgebühr checked where the day alone decides: a Sunday or a public holiday of
// the pharmacy's Bundesland is emergency hours all day; a working day needs the time.
func TestNoctuByDay(t *testing.T) {
	for _, tc := range []struct {
		name, day, state string
		checked          bool
	}{
		{"Sunday", "2026-11-08", "", true},
		{"Reformationstag in Bremen", "2026-10-31", "HB", true},
		{"Reformationstag in Bayern, a Saturday", "2026-10-31", "BY", false},
		{"Thursday", "2026-11-05", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := clean()
			in.Articles = catalog(t)
			in.State = tc.state
			in.Prescription.AuthoredOn = "2026-10-30"
			in.Prescription.Noctu = true
			in.Dispense.HandedOver, in.At = at(tc.day+" 00:00"), at("2026-11-20 10:00")
			in.Dispense.Items = append(in.Dispense.Items, prescription.Item{Special: "02567018", Factor: "1", Price: 250})
			r := retax.Check(in)
			skipped := slices.ContainsFunc(r.NotChecked, func(s string) bool { return strings.HasPrefix(s, "NOCTU-INVALID: ") })
			if len(r.Findings) != 0 || skipped == tc.checked {
				t.Errorf("findings %+v, not checked %v; want the fee checked by the day alone: %t", r.Findings, r.NotChecked, tc.checked)
			}
		})
	}
}

func TestNotChecked(t *testing.T) {
	in := clean()
	r := retax.Check(in) // no Artikelstamm
	if !slices.ContainsFunc(r.NotChecked, func(s string) bool { return strings.HasPrefix(s, "PRICE-MISMATCH: kein Artikelstamm") }) {
		t.Errorf("not checked: %v", r.NotChecked)
	}
	in.Articles = catalog(t)
	in.Dispense.Items[0].CoPayment, in.Dispense.CoPayment = 0, 0
	r = retax.Check(in)
	if codes(r, retax.Error) != nil || !slices.ContainsFunc(r.NotChecked, func(s string) bool { return strings.Contains(s, "Rabattvertrag") }) {
		t.Errorf("a co-payment of 0 is no error but a check not possible: %+v %v", r.Findings, r.NotChecked)
	}
}

func TestPharmacyPrice(t *testing.T) {
	// The synthetic Artikelstamm's finished drugs are priced by the AMPreisV: ApU → AVP.
	// (Substances for compounding, without a pack size class, are priced by the Hilfstaxe.)
	cat := articles.Sample()
	fees, ok := retax.FeesOn("2026-11-30")
	if !ok {
		t.Fatal("no fees for 2026")
	}
	n := 0
	for _, a := range cat.Articles() {
		if !a.RxOnly || a.ApU == 0 || a.Normgroesse == "" {
			continue
		}
		n++
		if got := fees.PharmacyPrice(a.ApU); got != a.AVP {
			t.Errorf("%s: ApU %d gives %d, the sample says %d", a.PZN, a.ApU, got, a.AVP)
		}
	}
	if n < 10 {
		t.Errorf("only %d priced articles", n)
	}
}

// TestRulesDocumented keeps docs/rezeptpruefung.md in step with the rules.
func TestRulesDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/rezeptpruefung.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range retax.Rules() {
		if !strings.Contains(string(doc), "| `"+r.Code+"` |") {
			t.Errorf("docs/rezeptpruefung.md does not describe %s", r.Code)
		}
		if r.Title == "" || r.Source == "" || r.Check == nil {
			t.Errorf("rule %s lacks a title, source or check", r.Code)
		}
	}
}
