package fhir_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/fhir"
	"github.com/tresen/tresen/internal/fhir/fhirtest"
)

// fixtures are the official E-Rezept examples (see ../shared/fixtures/erezept/MANIFEST.md).
const fixtures = "../../../shared/fixtures/erezept"

func fixtureFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(fixtures, "*", "*.xml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures under %s: %v", fixtures, err)
	}
	return files
}

func TestParseFixtures(t *testing.T) {
	for _, f := range fixtureFiles(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		n, err := fhir.Parse(data)
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
			continue
		}
		if n.Name != "Bundle" && n.Name != "Parameters" {
			t.Errorf("%s: root %s", filepath.Base(f), n.Name)
		}
		// The same tree comes back from the file written as FHIR JSON.
		j, err := fhir.Parse(fhirtest.JSON(t, n))
		if err != nil {
			t.Errorf("%s as JSON: %v", filepath.Base(f), err)
			continue
		}
		if diff := cmp.Diff(sorted(n), sorted(j)); diff != "" {
			t.Errorf("%s: JSON tree differs from XML tree (-xml +json):\n%s", filepath.Base(f), diff)
		}
	}
}

// sorted orders children by name, keeping the order of same-named ones: JSON groups
// repeated elements where XML may interleave them.
func sorted(n *fhir.Node) *fhir.Node {
	out := &fhir.Node{Name: n.Name, Value: n.Value, URL: n.URL}
	for _, c := range n.Children {
		out.Children = append(out.Children, sorted(c))
	}
	slices.SortStableFunc(out.Children, func(a, b *fhir.Node) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func TestQueries(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(fixtures, "kbv-1.4_dav-2026-07-01", "PZN_Nr1_VerordnungArzt.xml"))
	if err != nil {
		t.Fatal(err)
	}
	root, err := fhir.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	url, version := root.Profile()
	if url != "https://fhir.kbv.de/StructureDefinition/KBV_PR_ERP_Bundle" || version != "1.4" {
		t.Errorf("profile %q %q", url, version)
	}
	if got := root.Identifier("https://gematik.de/fhir/erp/NamingSystem/GEM_ERP_NS_PrescriptionId"); got != "160.000.764.737.300.50" {
		t.Errorf("prescription id %q", got)
	}
	b, err := fhir.NewBundle(root)
	if err != nil {
		t.Fatal(err)
	}
	req := b.First("MedicationRequest")
	if got := req.Ext("https://fhir.kbv.de/StructureDefinition/KBV_EX_FOR_StatusCoPayment").ExtValue(); got != "0" {
		t.Errorf("co-payment status %q", got)
	}
	med := b.Ref(req.Child("medicationReference"))
	if got := med.Get("code").Code("http://fhir.de/CodeSystem/ifa/pzn"); got != "06313728" {
		t.Errorf("PZN %q", got)
	}
	if got := b.Ref(req.Child("subject")).Str("birthDate"); got != "1935-06-22" {
		t.Errorf("birth date %q", got)
	}
	if b.Resolve("Patient/nope") != nil || b.Resolve("") != nil || b.Resolve("a/b/c") != nil {
		t.Error("resolved a reference to nothing")
	}
	var nilNode *fhir.Node
	if nilNode.Str("a", "b") != "" || nilNode.Ext("x") != nil || nilNode.ExtValue() != "" {
		t.Error("a nil node has content")
	}
}

func TestParseJSON(t *testing.T) {
	in := `{"resourceType":"Patient","id":"p1","birthDate":"1972","_birthDate":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"unknown"}]},
		"name":[{"family":"Mustermann","given":["Erika"]}],"extension":[{"url":"u","valueBoolean":true}],"active":true,"multipleBirthInteger":2}`
	n, err := fhir.Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := &fhir.Node{Name: "Patient", Children: []*fhir.Node{
		{Name: "id", Value: "p1"},
		{Name: "birthDate", Value: "1972", Children: []*fhir.Node{
			{Name: "extension", URL: "http://hl7.org/fhir/StructureDefinition/data-absent-reason", Children: []*fhir.Node{{Name: "valueCode", Value: "unknown"}}},
		}},
		{Name: "name", Children: []*fhir.Node{{Name: "family", Value: "Mustermann"}, {Name: "given", Value: "Erika"}}},
		{Name: "extension", URL: "u", Children: []*fhir.Node{{Name: "valueBoolean", Value: "true"}}},
		{Name: "active", Value: "true"},
		{Name: "multipleBirthInteger", Value: "2"},
	}}
	if diff := cmp.Diff(want, n); diff != "" {
		t.Errorf("tree (-want +got):\n%s", diff)
	}
}

func TestParseRejects(t *testing.T) {
	deep := strings.Repeat(`<a>`, fhir.MaxDepth+2)
	tests := []struct{ name, in, want string }{
		{"empty", "", "leer"},
		{"no FHIR", "hello", "weder FHIR-XML noch FHIR-JSON"},
		{"entity", `<?xml version="1.0"?><!DOCTYPE b [<!ENTITY x SYSTEM "file:///etc/passwd">]><Bundle xmlns="http://hl7.org/fhir"><id value="&x;"/></Bundle>`, "DOCTYPE"},
		{"wrong namespace", `<Bundle xmlns="http://example.org"/>`, "nicht im FHIR-Namensraum"},
		{"no namespace", `<Bundle/>`, "nicht im FHIR-Namensraum"},
		{"broken XML", `<Bundle xmlns="http://hl7.org/fhir"><id value="1">`, "XML Zeile 1"},
		{"text content", `<Bundle xmlns="http://hl7.org/fhir">Hallo</Bundle>`, "Text außerhalb"},
		{"deep XML", `<Bundle xmlns="http://hl7.org/fhir">` + deep, "Ebenen"},
		{"deep JSON", `{"resourceType":"Bundle","a":` + strings.Repeat(`{"a":`, fhir.MaxDepth+2), "Ebenen"},
		{"broken JSON", `{"resourceType":"Bundle",`, "JSON Byte"},
		{"JSON array", `[1]`, "weder FHIR-XML noch FHIR-JSON"},
		{"trailing data", `{"resourceType":"Bundle"} {}`, "nach dem Ende"},
		{"bad resourceType", `{"resourceType":"<x>"}`, "resourceType"},
		{"huge", `{"a":"` + strings.Repeat("x", fhir.MaxSize) + `"}`, "zu groß"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := fhir.Parse([]byte(tc.in))
			if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"kbv-1.4_dav-2026-07-01/PZN_Noctu_eAbgabedaten.xml", "kbv-1.4_dav-2026-07-01/PZN_Nr1_MedicationDispense.xml"} {
		if data, err := os.ReadFile(filepath.Join(fixtures, name)); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"resourceType":"Bundle","entry":[{"fullUrl":"urn:uuid:1","resource":{"resourceType":"Patient","_birthDate":{"extension":[]}}}]}`))
	f.Add([]byte(`<Bundle xmlns="http://hl7.org/fhir"><entry><resource><Patient><text><div xmlns="http://www.w3.org/1999/xhtml"><p>x</p></div></text></Patient></resource></entry></Bundle>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := fhir.Parse(data)
		if err != nil {
			if !errs.Is(err, errs.Invalid) {
				t.Fatalf("error of kind %v: %v", errs.KindOf(err), err)
			}
			return
		}
		if b, err := fhir.NewBundle(n); err == nil {
			for _, r := range b.OfType("MedicationRequest") {
				b.Ref(r.Child("subject"))
			}
		}
	})
}
