package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tresen/tresen/internal/retax"
)

const fixtures = "../../../shared/fixtures/erezept"

func rx(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), append([]string{"rx", "check"}, args...), strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestRxCheck(t *testing.T) {
	dir := filepath.Join(fixtures, "kbv-1.4_dav-2026-07-01")
	// A clean prescription with its dispense: exit 0, one JSON line.
	code, out, errOut := rx(t, "--json", "--articles", "../../internal/retax/testdata/artikel.csv",
		filepath.Join(dir, "PZN_Nr31_VerordnungArzt.xml"), filepath.Join(dir, "PZN_Nr31_eAbgabedaten.xml"), filepath.Join(dir, "PZN_Nr31_MedicationDispense.xml"))
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d: %s\n%s", code, errOut, out)
	}
	var rep retax.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil || strings.Count(out, "\n") != 1 {
		t.Fatalf("output is not one JSON line: %v\n%s", err, out)
	}
	if rep.PrescriptionID != "160.115.468.135.035.50" || rep.Kind != "gkv" || rep.CheckedAt != "2026-07-19T00:00:00+02:00" || len(rep.Findings) != 0 {
		t.Errorf("report %+v", rep)
	}
	var raw map[string]any
	_ = json.Unmarshal([]byte(out), &raw)
	for _, field := range []string{"prescription_id", "kind", "checked_at", "findings", "not_checked"} {
		if _, ok := raw[field]; !ok {
			t.Errorf("JSON lacks %q", field)
		}
	}

	// A prescription with a wrong KVNR check digit: exit 1, the finding named.
	code, out, _ = rx(t, "--json", "--at", "2026-07-20", filepath.Join(dir, "PZN_Nr28_VerordnungArzt.xml"))
	if code != 1 || !strings.Contains(out, `"code":"KVNR-CHECKDIGIT"`) || !strings.Contains(out, `"path":"patient.kvnr"`) {
		t.Errorf("Nr28: exit %d\n%s", code, out)
	}
	if strings.Contains(out, "K220645120") {
		t.Error("the output names the KVNR")
	}

	// A whole directory, for people: one block per prescription.
	code, out, _ = rx(t, "--at", "2026-07-27T10:00", dir)
	if code != 1 || strings.Count(out, "Dateien:") != 17 || !strings.Contains(out, "LANR-CHECKDIGIT") {
		t.Errorf("directory: exit %d, %d prescriptions\n%s", code, strings.Count(out, "Dateien:"), out)
	}
}

func TestRxCheckUnreadable(t *testing.T) {
	tmp := t.TempDir()
	bad := filepath.Join(tmp, "kaputt.xml")
	if err := os.WriteFile(bad, []byte("<Bundle xmlns=\"http://hl7.org/fhir\"><id value=\"1\">"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(fixtures, "kbv-1.4_dav-2026-07-01", "PZN_Nr1_VerordnungArzt.xml")
	code, out, errOut := rx(t, "--json", "--at", "2026-07-31", bad, good, filepath.Join(tmp, "fehlt.xml"))
	if code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "kaputt.xml: XML Zeile 1") || !strings.Contains(lines[1], "fehlt.xml: Datei nicht gefunden") {
		t.Errorf("stderr: %q", errOut)
	}
	if !strings.Contains(out, "160.000.764.737.300.50") {
		t.Errorf("the readable file was not checked:\n%s", out)
	}
	for _, args := range [][]string{{}, {"--at", "gestern", good}, {"--articles", filepath.Join(tmp, "nichts.csv"), good}} {
		if code, _, errOut := rx(t, args...); code != 2 || strings.Count(errOut, "\n") != 1 {
			t.Errorf("rx check %v: exit %d, stderr %q", args, code, errOut)
		}
	}
}
