package erezept_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/articles"
	"github.com/tresen/tresen/internal/erezept"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/fhir"
	"github.com/tresen/tresen/internal/fhir/fhirtest"
	"github.com/tresen/tresen/internal/prescription"
	"github.com/tresen/tresen/internal/retax"
)

// fixtures are the official E-Rezept examples; MANIFEST.md there lists the facts below.
const fixtures = "../../../shared/fixtures/erezept"

func read(t testing.TB, rel string) erezept.File {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtures, rel))
	if err != nil {
		t.Fatal(err)
	}
	f, err := erezept.Read(filepath.Base(rel), data)
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	return f
}

func TestEveryFixtureReads(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(fixtures, "*", "*.xml"))
	if err != nil || len(files) != 40 {
		t.Fatalf("want the 40 fixtures of the manifest, found %d (%v)", len(files), err)
	}
	for _, f := range files {
		rel, _ := filepath.Rel(fixtures, f)
		got := read(t, rel)
		if got.Kind == "" || got.Profile == "" {
			t.Errorf("%s: kind %q profile %q", rel, got.Kind, got.Profile)
		}
		if negative := strings.HasPrefix(rel, "negative"); got.Supported == negative {
			t.Errorf("%s: supported = %t", rel, got.Supported)
		}
	}
}

// facts are what the manifest says about a prescription.
type facts struct {
	ID, Profile, Kind, LegalBasis, AuthoredOn, KVNR, LANR, BSNR, IK, CoPayment, BirthDate string
	PZN, Normgroesse, MedKind                                                             string
	Quantity                                                                              int
	Substitution                                                                          string // "true", "false" or "" (absent)
	Noctu, SER                                                                            bool
}

func factsOf(p *prescription.Prescription) facts {
	f := facts{ID: p.ID, Profile: p.Source, Kind: string(p.Kind), LegalBasis: p.LegalBasis, AuthoredOn: p.AuthoredOn,
		KVNR: p.Patient.KVNR, LANR: p.Doctor.LANR, BSNR: p.BSNR, IK: p.Payer.IK, CoPayment: p.CoPayment, BirthDate: p.Patient.BirthDate,
		PZN: p.Medication.PZN, Normgroesse: p.Medication.Normgroesse, MedKind: p.Medication.Kind, Quantity: p.Medication.Quantity,
		Noctu: p.Noctu, SER: p.SER}
	if s := p.Medication.Substitution; s != nil {
		f.Substitution = map[bool]string{true: "true", false: "false"}[*s]
	}
	return f
}

func TestPrescriptionFacts(t *testing.T) {
	const v14, v13 = "kbv-1.4_dav-2026-07-01/", "kbv-1.3_gematik-e2e-2025-10-01/"
	tests := []struct {
		file string
		want facts
	}{
		{v14 + "PZN_Nr1_VerordnungArzt.xml", facts{ID: "160.000.764.737.300.50", Profile: "KBV_PR_ERP_Bundle|1.4", Kind: "gkv", LegalBasis: "00", AuthoredOn: "2026-07-31",
			KVNR: "X234567891", LANR: "838382202", BSNR: "031234567", IK: "104212059", CoPayment: "0", BirthDate: "1935-06-22",
			PZN: "06313728", Normgroesse: "N3", MedKind: "pzn", Quantity: 1, Substitution: "true"}},
		{v14 + "PZN_Noctu_VerordnungArzt.xml", facts{ID: "160.100.000.000.003.33", Profile: "KBV_PR_ERP_Bundle|1.4", Kind: "gkv", LegalBasis: "00", AuthoredOn: "2026-07-27",
			KVNR: "M310119814", LANR: "456456534", BSNR: "687777700", IK: "108416214", CoPayment: "1", BirthDate: "2020-02-29",
			PZN: "03386388", Normgroesse: "N1", MedKind: "pzn", Quantity: 1, Substitution: "true", Noctu: true}},
		{v14 + "PZN_Nr2_VerordnungArzt.xml", facts{ID: "160.100.000.000.001.39", Profile: "KBV_PR_ERP_Bundle|1.4", Kind: "gkv", LegalBasis: "00", AuthoredOn: "2026-07-27",
			KVNR: "K220645122", LANR: "582369858", BSNR: "723333300", IK: "108018347", CoPayment: "1", BirthDate: "1970-12-24",
			PZN: "05392039", Normgroesse: "N3", MedKind: "pzn", Quantity: 1, Substitution: "true", SER: true}},
		{v14 + "PZN_Nr6_VerordnungArzt.xml", facts{ID: "160.100.000.000.011.09", Profile: "KBV_PR_ERP_Bundle|1.4", Kind: "gkv", LegalBasis: "04", AuthoredOn: "2026-07-27",
			KVNR: "P223331978", LANR: "159753527", BSNR: "757299999", IK: "101377508", CoPayment: "0", BirthDate: "1972",
			PZN: "04773414", Normgroesse: "N1", MedKind: "pzn", Quantity: 1, Substitution: "true"}},
		{v14 + "PZN_Nr8_VerordnungArzt.xml", facts{ID: "160.100.000.000.012.06", Profile: "KBV_PR_ERP_Bundle|1.4", Kind: "gkv", LegalBasis: "10", AuthoredOn: "2026-07-27",
			KVNR: "K220635158", LANR: "123456628", BSNR: "721111100", IK: "109719018", CoPayment: "1", BirthDate: "1935-06-22",
			PZN: "01256262", Normgroesse: "N3", MedKind: "pzn", Quantity: 1, Substitution: "true"}},
		{v14 + "PZN_aut_idem_VerordnungArzt.xml", facts{ID: "160.100.000.000.007.21", Profile: "KBV_PR_ERP_Bundle|1.4", Kind: "gkv", LegalBasis: "00", AuthoredOn: "2026-07-27",
			KVNR: "S040464113", LANR: "582369858", BSNR: "723333300", IK: "104212059", CoPayment: "0", BirthDate: "1964-04-04",
			PZN: "08850519", Normgroesse: "N3", MedKind: "pzn", Quantity: 1, Substitution: "false"}},
		{v14 + "WS_V1_VerordnungArzt.xml", facts{ID: "160.100.000.000.019.82", Profile: "KBV_PR_ERP_Bundle|1.4", Kind: "gkv", LegalBasis: "00", AuthoredOn: "2026-07-27",
			KVNR: "K030182229", LANR: "123456628", BSNR: "721111100", IK: "109777509", CoPayment: "0", BirthDate: "1982-01-03",
			Normgroesse: "N3", MedKind: "ingredient", Quantity: 1}},
		{v14 + "FT_V1_VerordnungArzt.xml", facts{ID: "160.100.000.000.023.70", Profile: "KBV_PR_ERP_Bundle|1.4", Kind: "gkv", LegalBasis: "00", AuthoredOn: "2026-07-27",
			KVNR: "S040464113", LANR: "987654423", BSNR: "721111100", IK: "104212059", CoPayment: "0", BirthDate: "1964-04-04",
			MedKind: "freetext", Quantity: 1, Substitution: "true"}},
		{v14 + "PKV_PZN_Nr1_VerordnungArzt.xml", facts{ID: "200.424.187.927.272.20", Profile: "KBV_PR_ERP_Bundle|1.4", Kind: "pkv", LegalBasis: "00", AuthoredOn: "2026-07-03",
			KVNR: "P123464117", LANR: "987654423", BSNR: "721111100", IK: "168140346", BirthDate: "1935-06-22",
			PZN: "03879429", Normgroesse: "N1", MedKind: "pzn", Quantity: 1, Substitution: "true"}},
		{v14 + "PZN_Nr28_VerordnungArzt.xml", facts{ID: "160.087.893.173.538.24", Profile: "KBV_PR_ERP_Bundle|1.4", Kind: "gkv", LegalBasis: "00", AuthoredOn: "2026-07-19",
			KVNR: "K220645120", LANR: "123412821", BSNR: "721111100", IK: "108018347", CoPayment: "0", BirthDate: "1970-12-24",
			PZN: "16598620", Normgroesse: "N2", MedKind: "pzn", Quantity: 1, Substitution: "true"}},
		{v13 + "PZN_Nr1_VerordnungArzt.xml", facts{ID: "160.000.764.737.300.50", Profile: "KBV_PR_ERP_Bundle|1.3", Kind: "gkv", LegalBasis: "00", AuthoredOn: "2025-10-30",
			KVNR: "X234567891", LANR: "838382202", BSNR: "031234567", IK: "104212059", CoPayment: "0", BirthDate: "1935-06-22",
			PZN: "06313728", Normgroesse: "N3", MedKind: "pzn", Quantity: 1, Substitution: "true"}},
	}
	for _, tc := range tests {
		t.Run(filepath.Base(tc.file), func(t *testing.T) {
			f := read(t, tc.file)
			if f.Kind != erezept.KindPrescription || f.Prescription == nil {
				t.Fatalf("kind %s", f.Kind)
			}
			if diff := cmp.Diff(tc.want, factsOf(f.Prescription)); diff != "" {
				t.Errorf("facts (-manifest +read):\n%s", diff)
			}
		})
	}
}

func TestSpecialPrescriptions(t *testing.T) {
	mv := read(t, "kbv-1.4_dav-2026-07-01/PZN_MV2_VerordnungArzt.xml").Prescription
	if diff := cmp.Diff(&prescription.Multiple{Index: 2, Total: 4, ID: "urn:uuid:24e2e10d-e962-4d1c-be4f-8760e690a5f0", Start: "2026-10-15", End: "2026-12-31"}, mv.Multiple); diff != "" {
		t.Errorf("Mehrfachverordnung (-want +got):\n%s", diff)
	}
	open := read(t, "kbv-1.4_dav-2026-07-01/WS_MV1_VerordnungArzt.xml").Prescription.Multiple
	if open == nil || open.Start != "2026-07-27" || open.End != "" || open.Index != 1 || open.Total != 2 {
		t.Errorf("open Mehrfachverordnung: %+v", open)
	}
	acc := read(t, "kbv-1.4_dav-2026-07-01/PZN_Arbeitsunfall_VerordnungArzt.xml").Prescription
	if diff := cmp.Diff(&prescription.Accident{Code: "2", Date: "2026-07-27", Employer: "Arbeitsplatz"}, acc.Accident); diff != "" {
		t.Errorf("accident (-want +got):\n%s", diff)
	}
	if acc.Payer.Type != "UK" || acc.Payer.AltIK != "120591802" {
		t.Errorf("payer %+v", acc.Payer)
	}
	ws := read(t, "kbv-1.4_dav-2026-07-01/WS_V1_VerordnungArzt.xml").Prescription.Medication
	if diff := cmp.Diff([]prescription.Ingredient{{Name: "Ramipril", ASK: "22686", Strength: "5 mg"}}, ws.Ingredients); diff != "" {
		t.Errorf("Wirkstoff (-want +got):\n%s", diff)
	}
	if ws.PackSize != "100" || ws.Substitution != nil {
		t.Errorf("Wirkstoffverordnung: pack %q substitution %v", ws.PackSize, ws.Substitution)
	}
	rez := read(t, "kbv-1.4_dav-2026-07-01/Rez_Nr1_VerordnungArzt.xml").Prescription.Medication
	if rez.Kind != prescription.MedCompounding || len(rez.Ingredients) != 2 || rez.Ingredients[0].Strength != "5 g" || rez.Ingredients[1].Strength != "Ad 100 g" {
		t.Errorf("Rezeptur: %+v", rez)
	}
	ft := read(t, "kbv-1.4_dav-2026-07-01/FT_V1_VerordnungArzt.xml").Prescription.Medication
	if ft.Name != "Metformin 850mg Tabletten N3" {
		t.Errorf("Freitext %q", ft.Name)
	}
	neg := read(t, "negative_kbv-1.1.0/e98da709-d9f8-494d-87b0-a59a0f471924_41.xml").Prescription
	if diff := cmp.Diff([]string{"Composition.section:Coverage"}, neg.Gaps); diff != "" {
		t.Errorf("gaps (-want +got):\n%s", diff)
	}
}

func TestDispenseFacts(t *testing.T) {
	nr31 := read(t, "kbv-1.4_dav-2026-07-01/PZN_Nr31_eAbgabedaten.xml").Dispense
	want := []prescription.Item{
		{PZN: "06437028", Factor: "2", Price: 2560, CoPayment: 500, VAT: "19.00", Batch: "A9876543210123-45678"},
		{PZN: "06437011", Factor: "1", Price: 1184, VAT: "19.00", Attributes: []string{"16"}, Batch: "A9876543210123-87654"},
		{Special: "17717446", Factor: "1", Price: 60, VAT: "19.00"},
	}
	if diff := cmp.Diff(want, nr31.Items); diff != "" {
		t.Errorf("Nr31 lines (-want +got):\n%s", diff)
	}
	if nr31.TotalGross != 3804 || nr31.CoPayment != 500 || nr31.PharmacyIK != "308412345" || nr31.HandedOver.Format("2006-01-02") != "2026-07-19" {
		t.Errorf("Nr31: %+v", nr31)
	}
	noctu := read(t, "kbv-1.4_dav-2026-07-01/PZN_Noctu_eAbgabedaten.xml").Dispense
	if len(noctu.Items) != 2 || noctu.Items[1].Special != "02567018" || noctu.Items[1].Price != 250 || noctu.Items[1].NoctuAt.UTC().Format("2006-01-02T15:04") != "2026-07-27T22:10" {
		t.Errorf("Noctu lines: %+v", noctu.Items)
	}
	zyto := read(t, "kbv-1.3_gematik-e2e-2025-10-01/Rez_parenterale_Zytostatika_eAbgabedaten.xml")
	if zyto.PrescriptionID != "169.018.562.305.023.72" || zyto.Dispense.Items[0].Special != "09999092" || zyto.Dispense.CoPayment != 1000 || zyto.Dispense.PharmacyIK != "987654321" {
		t.Errorf("Zytostatika: %+v", zyto.Dispense)
	}
	pkv := read(t, "kbv-1.4_dav-2026-07-01/PKV_PZN_Nr1_eAbgabedaten.xml")
	if !strings.Contains(pkv.Profile, "DAV-PKV-PR-ERP-AbgabedatenBundle|1.4") || pkv.Dispense.Items[0].Price != 2104 {
		t.Errorf("PKV: %s %+v", pkv.Profile, pkv.Dispense)
	}
	md := read(t, "kbv-1.4_dav-2026-07-01/PZN_Nr31_MedicationDispense.xml").Dispense
	if md.KVNR != "K220635158" || len(md.Items) != 2 || md.Items[0].Quantity != 2 || md.Items[1].PZN != "06437011" || md.Substituted == nil || !*md.Substituted {
		t.Errorf("MedicationDispense: %+v", md)
	}
	old := read(t, "kbv-1.3_gematik-e2e-2025-10-01/PZN_Nr1_MedicationDispense.xml").Dispense
	if old.KVNR != "X234567890" {
		t.Errorf("1.3 MedicationDispense KVNR %q", old.KVNR)
	}
}

func TestGroup(t *testing.T) {
	var files []erezept.File
	for _, name := range []string{"PZN_Nr31_eAbgabedaten.xml", "PZN_Nr1_VerordnungArzt.xml", "PZN_Nr31_VerordnungArzt.xml", "PZN_Nr31_MedicationDispense.xml", "PZN_Nr1_TA7_Rechnung_Bundle.xml"} {
		files = append(files, read(t, "kbv-1.4_dav-2026-07-01/"+name))
	}
	cases := erezept.Group(files)
	if len(cases) != 3 {
		t.Fatalf("%d cases, want 3 (Nr31, Nr1, the billing bundle without id)", len(cases))
	}
	c := cases[0]
	if c.ID != "160.115.468.135.035.50" || c.Prescription == nil || c.Dispense == nil || len(c.Files) != 3 {
		t.Fatalf("Nr31 case: %+v", c)
	}
	// Prices from the Abgabedaten, packs and the patient from the MedicationDispense.
	if c.Dispense.KVNR != "K220635158" || c.Dispense.Items[0].Price != 2560 || c.Dispense.Items[0].Quantity != 2 || c.Dispense.PharmacyIK != "308412345" {
		t.Errorf("merged dispense: %+v", c.Dispense)
	}
}

// TestJSONEqualsXML reads every fixture written as FHIR JSON and gets the same result.
func TestJSONEqualsXML(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(fixtures, "*", "*.xml"))
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		root, err := fhir.Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		xml, err := erezept.Read(filepath.Base(name), data)
		if err != nil {
			t.Fatal(err)
		}
		js, err := erezept.Read(filepath.Base(name), fhirtest.JSON(t, root))
		if err != nil {
			t.Fatalf("%s as JSON: %v", filepath.Base(name), err)
		}
		if diff := cmp.Diff(xml, js); diff != "" {
			t.Errorf("%s: JSON differs from XML (-xml +json):\n%s", filepath.Base(name), diff)
		}
	}
}

func TestReadRejects(t *testing.T) {
	for _, in := range []string{"", "<x/>", `{"resourceType":"Patient"}`, `<Patient xmlns="http://hl7.org/fhir"/>`} {
		if _, err := erezept.Read("x", []byte(in)); !errs.Is(err, errs.Invalid) {
			t.Errorf("Read(%q) = %v, want an invalid-input error", in, err)
		}
	}
	// An unknown profile is read as far as it goes and marked.
	f, err := erezept.Read("x", []byte(`{"resourceType":"Bundle","meta":{"profile":["https://fhir.kbv.de/StructureDefinition/KBV_PR_ERP_Bundle|9.9"]},"entry":[]}`))
	if err != nil || f.Supported || f.Profile != "https://fhir.kbv.de/StructureDefinition/KBV_PR_ERP_Bundle|9.9" {
		t.Errorf("unknown version: %+v, %v", f, err)
	}
}

func FuzzRead(f *testing.F) {
	for _, rel := range []string{"kbv-1.4_dav-2026-07-01/PZN_Nr31_eAbgabedaten.xml", "kbv-1.4_dav-2026-07-01/PZN_MV2_VerordnungArzt.xml", "kbv-1.4_dav-2026-07-01/PZN_Nr31_MedicationDispense.xml"} {
		if data, err := os.ReadFile(filepath.Join(fixtures, rel)); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"resourceType":"Parameters","parameter":[{"part":[{"resource":{"resourceType":"MedicationDispense","whenHandedOver":"2026-13-45"}}]}]}`))
	at := time.Date(2026, 7, 20, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := erezept.Read("fuzz", data)
		if err != nil {
			return
		}
		cases := erezept.Group([]erezept.File{file, file})
		if _, err := json.Marshal(cases); err != nil {
			t.Fatal(err)
		}
		// Whatever was read, the rules run over it without panicking.
		for _, c := range cases {
			retax.Check(retax.Input{Prescription: c.Prescription, Dispense: c.Dispense, Unsupported: c.Unsupported, At: at, Articles: articles.Sample()})
		}
	})
}
