package articles

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/errs"
)

const header = "pzn;name;hersteller;wirkstoffe;darreichungsform;packungsgroesse;einheit;normgroesse;apu;aek;avp;festbetrag;rezeptpflichtig;btm;t_rezept;gueltig_ab\n"

// MustLookup returns the sample article with the given PZN.
func MustLookup(tb testing.TB, c *Catalog, pzn string) Article {
	tb.Helper()
	a, ok := c.Lookup(pzn)
	if !ok {
		tb.Fatalf("Lookup(%s): not found", pzn)
	}
	return a
}

// pzns returns n PZNs from base on, skipping the seven-digit stems that have no check
// digit. It does not use validPZN, so that the tests check that one against an independent
// computation.
func pzns(base, n int) []string {
	var out []string
	for stem := base; len(out) < n; stem++ {
		s := fmt.Sprintf("%07d", stem)
		sum := 0
		for i, c := range s {
			sum += int(c-'0') * (i + 1)
		}
		if sum%11 != 10 {
			out = append(out, s+strconv.Itoa(sum%11))
		}
	}
	return out
}

// messages splits a joined error into its lines.
func messages(err error) []string {
	if err == nil {
		return nil
	}
	return strings.Split(err.Error(), "\n")
}

func TestSample(t *testing.T) {
	c := Sample()
	if got, want := c.Len(), 61; got != want {
		t.Errorf("Len() = %d, want %d", got, want)
	}
	tests := []Article{{
		PZN: "91000075", Name: "Ramipril Musterpharm 5 mg Tabletten", Manufacturer: "Musterpharm",
		Ingredients: []Ingredient{{Name: "Ramipril", Strength: "5", Unit: "mg"}},
		DoseForm:    "TAB", PackSize: "100", PackUnit: "St", Normgroesse: "N3",
		ApU: 410, AEK: 496, AVP: 1650, Festbetrag: 1650, RxOnly: true, ValidFrom: "2026-11-01",
	}, {
		PZN: "91001330", Name: "Irbesartan/HCT Musterpharm 150 mg/12,5 mg Filmtabletten", Manufacturer: "Musterpharm",
		Ingredients: []Ingredient{{Name: "Irbesartan", Strength: "150", Unit: "mg"}, {Name: "Hydrochlorothiazid", Strength: "12.5", Unit: "mg"}},
		DoseForm:    "FTA", PackSize: "98", PackUnit: "St", Normgroesse: "N3",
		ApU: 980, AEK: 1084, AVP: 2371, RxOnly: true, ValidFrom: "2026-11-01",
	}, {
		PZN: "91004067", Name: "Morphin Musterpharm 30 mg Retardtabletten", Manufacturer: "Musterpharm",
		Ingredients: []Ingredient{{Name: "Morphin sulfat", Strength: "30", Unit: "mg"}},
		DoseForm:    "RET", PackSize: "50", PackUnit: "St", Normgroesse: "N2",
		ApU: 2140, AEK: 2280, AVP: 3837, RxOnly: true, BtM: true, ValidFrom: "2026-11-01",
	}, {
		PZN: "91004274", Name: "Lenalidomid Exempla 10 mg Hartkapseln", Manufacturer: "Exempla AG",
		Ingredients: []Ingredient{{Name: "Lenalidomid", Strength: "10", Unit: "mg"}},
		DoseForm:    "HKP", PackSize: "21", PackUnit: "St",
		ApU: 148000, AEK: 151853, AVP: 187169, RxOnly: true, TRezept: true, ValidFrom: "2026-11-01",
	}, {
		PZN: "91004699", Name: "Basiscreme Demo Rezepturgrundlage", Manufacturer: "Demo Rezepturbedarf",
		DoseForm: "CRE", PackSize: "500", PackUnit: "g",
		ApU: 780, AEK: 858, AVP: 1750, ValidFrom: "2026-10-01",
	}}
	for _, want := range tests {
		got := MustLookup(t, c, want.PZN)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Lookup(%s) mismatch (-want +got):\n%s", want.PZN, diff)
		}
	}
	if _, ok := c.Lookup("91000076"); ok {
		t.Error("Lookup of an unknown PZN succeeded")
	}
}

// TestSampleSynthetic guards the promises of the sample: made-up manufacturers, prices
// that rise along the supply chain, and BtM and T-Rezept articles that need a prescription.
func TestSampleSynthetic(t *testing.T) {
	madeUp := map[string]bool{"Musterpharm": true, "Beispiel Generika": true, "Exempla AG": true,
		"Fiktiva Arzneimittel": true, "Probe Pharma": true, "Demo Rezepturbedarf": true}
	var btm, trezept, otc int
	for _, a := range Sample().Articles() {
		if !madeUp[a.Manufacturer] {
			t.Errorf("%s: manufacturer %q is not one of the made-up ones", a.PZN, a.Manufacturer)
		}
		if !strings.HasPrefix(a.PZN, "9100") {
			t.Errorf("%s: sample PZNs are taken from 9100xxxx", a.PZN)
		}
		if a.ApU <= 0 || a.AEK < a.ApU || a.AVP < a.AEK {
			t.Errorf("%s: prices ApU %d, AEK %d, AVP %d do not rise", a.PZN, a.ApU, a.AEK, a.AVP)
		}
		if (a.BtM || a.TRezept) && !a.RxOnly {
			t.Errorf("%s: BtM or T-Rezept without Rx", a.PZN)
		}
		if a.BtM {
			btm++
		}
		if a.TRezept {
			trezept++
		}
		if !a.RxOnly {
			otc++
		}
	}
	if btm == 0 || trezept == 0 || otc == 0 {
		t.Errorf("sample has %d BtM, %d T-Rezept and %d Rx-free articles; want some of each", btm, trezept, otc)
	}
}

func TestCSVAndJSONSameContent(t *testing.T) {
	fromCSV, err := LoadFile("testdata/artikel.csv")
	if err != nil {
		t.Fatal(err)
	}
	fromJSON, err := LoadFile("testdata/artikel.json")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(fromCSV.Articles(), fromJSON.Articles()); diff != "" {
		t.Errorf("CSV and JSON differ (-csv +json):\n%s", diff)
	}
	want := Article{
		PZN: "92000226", Name: "Candesartan/HCT Exempla 16 mg/12,5 mg Tabletten", Manufacturer: "Exempla AG",
		Ingredients: []Ingredient{{Name: "Candesartan cilexetil", Strength: "16", Unit: "mg"}, {Name: "Hydrochlorothiazid", Strength: "12.5", Unit: "mg"}},
		DoseForm:    "TAB", PackSize: "98", PackUnit: "St", Normgroesse: "N3",
		ApU: 1410, AEK: 1527, AVP: 3123, Festbetrag: 3000, RxOnly: true, ValidFrom: "2026-11-01",
	}
	if diff := cmp.Diff(want, MustLookup(t, fromCSV, want.PZN)); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	fentanyl := MustLookup(t, fromCSV, "92000338")
	if got := fentanyl.Ingredients[0].Unit; got != "µg/h" {
		t.Errorf("unit mcg/h read as %q, want µg/h", got)
	}
	if got := MustLookup(t, fromCSV, "92000551").Name; got != "Dexpanthenol Demo; Salbe 5 %" {
		t.Errorf("quoted name read as %q", got)
	}
}

func TestLoadErrors(t *testing.T) {
	good := "92000114;Valsartan Musterpharm 80 mg Filmtabletten;Musterpharm;Valsartan||80|mg;FTA;98;St;N3;12,40;13,52;27,48;;ja;nein;nein;2026-11-01\n"
	// row replaces field i (in the order of the header) of the good row.
	row := func(repl map[int]string) string {
		f := strings.Split(strings.TrimSuffix(good, "\n"), ";")
		for i, v := range repl {
			f[i] = v
		}
		return strings.Join(f, ";") + "\n"
	}
	tests := []struct {
		name   string
		format string
		in     string
		want   []string
	}{{
		name: "bad check digit",
		in:   header + row(map[int]string{0: "92000115"}),
		want: []string{"Zeile 2, Spalte pzn: „92000115“ hat eine falsche Prüfziffer"},
	}, {
		name: "check digit would be 10",
		in:   header + row(map[int]string{0: "92000090"}),
		want: []string{"Zeile 2, Spalte pzn: „92000090“ hat eine falsche Prüfziffer"},
	}, {
		name: "PZN too short",
		in:   header + row(map[int]string{0: "2000114"}),
		want: []string{"Zeile 2, Spalte pzn: „2000114“ ist keine PZN (8 Ziffern erwartet)"},
	}, {
		name: "bad price",
		in:   header + row(map[int]string{10: "12,3x"}),
		want: []string{"Zeile 2, Spalte avp: „12,3x“ ist kein Eurobetrag"},
	}, {
		name: "thousands separator",
		in:   header + row(map[int]string{8: "1.234,56"}),
		want: []string{"Zeile 2, Spalte apu: „1.234,56“ ist kein Eurobetrag"},
	}, {
		name: "missing price",
		in:   header + row(map[int]string{9: ""}),
		want: []string{"Zeile 2, Spalte aek: fehlt"},
	}, {
		name: "duplicate PZN",
		in:   header + good + row(map[int]string{1: "Valsartan Musterpharm 80 mg Filmtabletten (neu)"}),
		want: []string{"Zeile 3, Spalte pzn: PZN 92000114 kommt doppelt vor (zuerst in Zeile 2)"},
	}, {
		name: "missing column",
		in:   strings.Replace(header, ";festbetrag", "", 1) + strings.Replace(good, ";;", ";", 1),
		want: []string{"Zeile 1: Kopfzeile ohne Spalte festbetrag"},
	}, {
		name: "unknown column",
		in:   strings.Replace(header, "\n", ";atc\n", 1) + strings.Replace(good, "\n", ";C09CA03\n", 1),
		want: []string{"Zeile 1: unbekannte Spalte „atc“ in der Kopfzeile"},
	}, {
		name: "no header",
		in:   good,
		want: []string{"Zeile 1: Kopfzeile fehlt (die erste Zeile sieht wie ein Artikel aus)"},
	}, {
		name: "empty",
		in:   "",
		want: []string{"leer, Kopfzeile fehlt"},
	}, {
		name: "header only",
		in:   header,
		want: []string{"enthält keine Artikel"},
	}, {
		name: "unknown boolean",
		in:   header + row(map[int]string{13: "vielleicht"}),
		want: []string{"Zeile 2, Spalte btm: „vielleicht“ ist kein Wahrheitswert (ja, nein, 1 oder 0)"},
	}, {
		name: "BtM without Rx",
		in:   header + row(map[int]string{12: "nein", 13: "ja"}),
		want: []string{"Zeile 2, Spalte rezeptpflichtig: BtM und T-Rezept-Artikel sind rezeptpflichtig"},
	}, {
		name: "bad Normgröße and date",
		in:   header + row(map[int]string{7: "N4", 15: "01.11.2026"}),
		want: []string{
			"Zeile 2, Spalte normgroesse: „N4“ ist keine Normgröße (N1, N2, N3, KTP oder leer)",
			"Zeile 2, Spalte gueltig_ab: „01.11.2026“ ist kein Datum (JJJJ-MM-TT)",
		},
	}, {
		name: "bad ingredients",
		in:   header + row(map[int]string{3: "Valsartan|x|80|mg+Hydrochlorothiazid||12,5|+Amlodipin|5|mg"}),
		want: []string{
			"Zeile 2, Spalte wirkstoffe: Wirkstoff 1 „Valsartan|x|80|mg“: ASK-Nummer „x“ besteht nicht aus Ziffern",
			"Zeile 2, Spalte wirkstoffe: Wirkstoff 2 „Hydrochlorothiazid||12,5|“: Stärke ohne Einheit",
			"Zeile 2, Spalte wirkstoffe: Wirkstoff 3 „Amlodipin|5|mg“: erwartet Name|ASK|Stärke|Einheit",
		},
	}, {
		name: "wrong number of fields",
		in:   header + "92000114;Valsartan\n",
		want: []string{"Zeile 2: 2 Spalten statt 16 wie in der Kopfzeile"},
	}, {
		name: "not UTF-8",
		in:   header + row(map[int]string{1: "Valsartan St\xfcck"}),
		want: []string{"Zeile 2: kein gültiges UTF-8; bitte als UTF-8 speichern, nicht als Windows-1252"},
	}, {
		name: "line too long",
		in:   header + good + strings.Repeat("x", MaxLineSize+1) + "\n" + row(map[int]string{0: "92000226"}),
		want: []string{"Zeile 3: länger als 64 KiB"},
	}, {
		name:   "unknown format",
		format: "xml",
		in:     "<artikel/>",
		want:   []string{"unbekanntes Format „xml“, erwartet csv oder json"},
	}, {
		name:   "JSON bad price",
		format: "json",
		in:     "[\n" + `{"pzn": "92000114", "name": "V", "hersteller": "M", "darreichungsform": "FTA", "packungsgroesse": "98", "einheit": "St",` + "\n" + `"apu": "12,3x", "aek": 1, "avp": 2, "rezeptpflichtig": true, "btm": false, "t_rezept": false, "gueltig_ab": "2026-11-01"}]`,
		want:   []string{"Zeile 2, Feld apu: „12,3x“ ist kein Eurobetrag"},
	}, {
		name:   "JSON unknown and missing fields",
		format: "json",
		in:     `[{"pzn": "92000114", "atc": "C09CA03"}, {"pzn": "92000114", "name": "V", "hersteller": "M", "darreichungsform": "FTA", "packungsgroesse": "98", "einheit": "St", "apu": 1, "aek": 1, "avp": 2, "rezeptpflichtig": "ja", "btm": 0, "t_rezept": {}, "gueltig_ab": "2026-11-01"}]`,
		want: []string{
			"Zeile 1: Artikel 1: unbekanntes Feld „atc“",
			"Zeile 1, Feld t_rezept: Artikel 2: „{}“ ist weder Text, Zahl noch Wahrheitswert",
		},
	}, {
		name:   "JSON missing fields",
		format: "json",
		in:     `[{"pzn": "92000114", "name": "V", "hersteller": "M", "darreichungsform": "FTA", "packungsgroesse": "98", "einheit": "St", "apu": 1, "aek": 1, "rezeptpflichtig": true, "t_rezept": false, "gueltig_ab": "2026-11-01"}]`,
		want: []string{
			"Zeile 1, Feld avp: fehlt",
			"Zeile 1, Feld btm: fehlt (ja oder nein)",
		},
	}, {
		name:   "JSON not an array",
		format: "json",
		in:     `{"pzn": "92000114"}`,
		want:   []string{"Zeile 1: erwartet ein JSON-Array von Artikeln"},
	}, {
		name:   "JSON syntax",
		format: "json",
		in:     "[\n{\"pzn\": \"92000114\",\n}]",
		want:   []string{"Zeile 3: kein gültiges JSON: invalid character '}' looking for beginning of object key string"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			format := tt.format
			if format == "" {
				format = "csv"
			}
			c, err := Load(strings.NewReader(tt.in), format)
			if c != nil {
				t.Errorf("Load returned a catalog with %d articles despite errors", c.Len())
			}
			if diff := cmp.Diff(tt.want, messages(err)); diff != "" {
				t.Errorf("errors mismatch (-want +got):\n%s", diff)
			}
			if err != nil && !errs.Is(err, errs.Invalid) {
				t.Errorf("error kind %v, want Invalid", errs.KindOf(err))
			}
		})
	}
}

func TestLoadCollectsAtMost20Errors(t *testing.T) {
	var in strings.Builder
	in.WriteString(header)
	for range 30 {
		in.WriteString("12345678;x;y;;TAB;1;St;;1;1;1;;ja;nein;nein;2026-11-01\n")
	}
	_, err := Load(strings.NewReader(in.String()), "csv")
	got := messages(err)
	if len(got) != 21 {
		t.Fatalf("got %d messages, want 20 and a closing note:\n%s", len(got), err)
	}
	if diff := cmp.Diff("mehr als 20 Fehler, Prüfung abgebrochen", got[20]); diff != "" {
		t.Errorf("closing note (-want +got):\n%s", diff)
	}
}

func TestLoadFileNamesFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "artikel.csv")
	var in strings.Builder
	in.WriteString(header)
	for i, p := range pzns(9300000, 16) {
		avp := "27,48"
		if i == 15 {
			avp = "12,3x"
		}
		in.WriteString(p + ";V;M;;FTA;98;St;N3;12,40;13,52;" + avp + ";;ja;nein;nein;2026-11-01\n")
	}
	if err := os.WriteFile(path, []byte(in.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadFile(path)
	got := messages(err)
	want := "artikel.csv Zeile 17, Spalte avp: „12,3x“ ist kein Eurobetrag"
	if len(got) == 0 || got[len(got)-1] != want {
		t.Errorf("last error = %q, want %q", got, want)
	}

	_, err = LoadFile(filepath.Join(dir, "fehlt.json"))
	if !errs.Is(err, errs.NotFound) {
		t.Errorf("missing file: %v, want NotFound", err)
	}

	_, err = LoadFile(filepath.Join(dir, "artikel.txt"))
	if diff := cmp.Diff([]string{"artikel.txt: unbekanntes Format „.txt“, erwartet .csv oder .json"}, messages(err)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestLoadFileSizeLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString(header)
	for _, p := range pzns(9300000, 40) {
		b.WriteString(p + ";V;M;;FTA;98;St;N3;12,40;13,52;27,48;;ja;nein;nein;2026-11-01\n")
	}
	in := b.String()
	for _, format := range []string{"csv", "json"} {
		_, err := load(strings.NewReader(in), format, "groß."+format, limits{file: 1 << 10, line: MaxLineSize})
		want := []string{"groß." + format + ": Datei größer als 1 KiB"}
		if diff := cmp.Diff(want, messages(err)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", format, diff)
		}
	}
}

func TestHeaderVariants(t *testing.T) {
	// A byte order mark, upper-case names, a different column order, CRLF line ends and
	// an empty spreadsheet row all load.
	cols := strings.Split(strings.TrimSpace(header), ";")
	cols[0], cols[1] = cols[1], cols[0]
	in := "\uFEFF" + strings.ToUpper(strings.Join(cols, ";")) + "\r\n" +
		"Valsartan Musterpharm 80 mg Filmtabletten;92000114;Musterpharm;Valsartan||80|mg;FTA;98;St;N3;12,40;13,52;27,48;;ja;nein;nein;2026-11-01\r\n" +
		";;;;;;;;;;;;;;;\r\n"
	c, err := Load(strings.NewReader(in), "csv")
	if err != nil {
		t.Fatal(err)
	}
	if got := MustLookup(t, c, "92000114").Name; got != "Valsartan Musterpharm 80 mg Filmtabletten" {
		t.Errorf("name = %q", got)
	}
}

func TestEquivalent(t *testing.T) {
	c := Sample()
	tests := []struct {
		name    string
		a, b    string
		ok      bool
		reasons []string
	}{
		{"same generic, other maker", "91000075", "91000141", true, nil},
		{"same PZN", "91000075", "91000075", true, nil},
		{"BtM generics", "91004067", "91004133", true, nil},
		{"no Normgröße, same pack size", "91004274", "91004340", true, nil},
		{"G-BA group FTA/TAB", "91001330", "91001407", true, nil},
		{"G-BA group FTA/SMT", "91001548", "91001614", true, nil},
		{"G-BA group SMT/TAB", "91001689", "91001755", true, nil},
		{"Substitutionsausschlussliste", "91001962", "91002039", false, []string{
			"Levothyroxin natrium als TAB steht auf der Substitutionsausschlussliste (AM-RL Anlage VII Teil B)",
		}},
		{"other Normgröße", "91000075", "91000282", false, []string{
			"Normgröße verschieden: N3 (91000075) gegenüber N1 (91000282)",
		}},
		{"other strength", "91000075", "91000359", false, []string{
			"Wirkstärke Ramipril verschieden: 5 mg (91000075) gegenüber 10 mg (91000359)",
		}},
		{"dose form not in a G-BA group", "91000075", "91000425", false, []string{
			"Darreichungsform TAB (91000075) und HKP (91000425) nicht austauschbar",
		}},
		{"other salt and form", "91001057", "91001264", false, []string{
			"Wirkstoff Metoprolol succinat nur in 91001057 enthalten",
			"Wirkstoff Metoprolol tartrat nur in 91001264 enthalten",
			"Darreichungsform RET (91001057) und TAB (91001264) nicht austauschbar",
		}},
		{"tablet and suppository", "91003576", "91003719", false, []string{
			"Darreichungsform TAB (91003576) und SUP (91003719) nicht austauschbar",
		}},
		{"other pack size without Normgröße", "91004340", "91004417", false, []string{
			"Packungsgröße verschieden: 21 St (91004340) gegenüber 7 St (91004417)",
		}},
		{"combination against mono", "91001330", "91001264", false, []string{
			"Wirkstoff Irbesartan nur in 91001330 enthalten",
			"Wirkstoff Hydrochlorothiazid nur in 91001330 enthalten",
			"Wirkstoff Metoprolol tartrat nur in 91001264 enthalten",
			"Darreichungsform FTA (91001330) und TAB (91001264) nicht austauschbar",
		}},
		{"no ingredients", "91004699", "91003990", false, []string{
			"keine Wirkstoffe angegeben (91004699), Austausch nicht prüfbar",
			"Packungsgröße verschieden: 500 g (91004699) gegenüber 30 g (91003990)",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := MustLookup(t, c, tt.a), MustLookup(t, c, tt.b)
			for _, pair := range [][2]Article{{a, b}, {b, a}} {
				ok, reasons := c.Equivalent(pair[0], pair[1])
				if ok != tt.ok {
					t.Errorf("Equivalent(%s, %s) = %v, want %v", pair[0].PZN, pair[1].PZN, ok, tt.ok)
				}
				if pair[0].PZN != tt.a {
					continue // reasons name the articles in argument order
				}
				if diff := cmp.Diff(tt.reasons, reasons); diff != "" {
					t.Errorf("reasons mismatch (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestEquivalentByASK(t *testing.T) {
	c := Sample()
	a := MustLookup(t, c, "91000075")
	b := MustLookup(t, c, "91000141")
	tests := []struct {
		name         string
		askA, askB   string
		nameB, unitB string
		ok           bool
	}{
		{"same ASK, other spelling", "1234", "1234", "Ramipril (als Ramipril)", "mg", true},
		{"other ASK, same name", "1234", "5678", "Ramipril", "mg", false},
		{"one ASK only: by name", "1234", "", "ramipril", "MG", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a.Ingredients = []Ingredient{{Name: "Ramipril", ASK: tt.askA, Strength: "5", Unit: "mg"}}
			b.Ingredients = []Ingredient{{Name: tt.nameB, ASK: tt.askB, Strength: "5.0", Unit: tt.unitB}}
			if ok, reasons := c.Equivalent(a, b); ok != tt.ok {
				t.Errorf("Equivalent = %v %q, want %v", ok, reasons, tt.ok)
			}
		})
	}
}

func TestSamePackClass(t *testing.T) {
	tests := []struct {
		name string
		a, b Article
		want bool
	}{
		{"same N", Article{Normgroesse: "N2", PackSize: "50"}, Article{Normgroesse: "N2", PackSize: "56"}, true},
		{"other N", Article{Normgroesse: "N2"}, Article{Normgroesse: "N3"}, false},
		{"one N only", Article{Normgroesse: "N1", PackSize: "20", PackUnit: "St"}, Article{PackSize: "20", PackUnit: "St"}, false},
		{"Klinikpackung", Article{Normgroesse: "KTP"}, Article{Normgroesse: "ktp"}, true},
		{"no N, same size", Article{PackSize: "21", PackUnit: "St"}, Article{PackSize: "21", PackUnit: "st"}, true},
		{"no N, other unit", Article{PackSize: "100", PackUnit: "g"}, Article{PackSize: "100", PackUnit: "ml"}, false},
	}
	for _, tt := range tests {
		if got := SamePackClass(tt.a, tt.b); got != tt.want {
			t.Errorf("%s: SamePackClass = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestValidPZN(t *testing.T) {
	tests := map[string]bool{
		"91000075":  true,
		"92000114":  true,
		"92000115":  false, // wrong check digit
		"92000090":  false, // remainder 10: never issued
		"9200011":   false,
		"920001140": false,
		"9200011a":  false,
		"":          false,
	}
	for _, p := range pzns(9400000, 200) {
		tests[p] = true
		for d := '0'; d <= '9'; d++ {
			if other := p[:7] + string(d); other != p {
				tests[other] = false
			}
		}
	}
	for in, want := range tests {
		if got := validPZN(in); got != want {
			t.Errorf("validPZN(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestParseEuro(t *testing.T) {
	tests := []struct {
		in    string
		cents int64
		ok    bool
	}{
		{"12,34", 1234, true},
		{"12.34", 1234, true},
		{"12,3", 1230, true},
		{"7", 700, true},
		{"0,00", 0, true},
		{"1480.00", 148000, true},
		{"12,345", 0, false},
		{"1.234,56", 0, false},
		{"12,", 0, false},
		{",50", 0, false},
		{"-1,00", 0, false},
		{"12 €", 0, false},
		{"1e3", 0, false},
	}
	for _, tt := range tests {
		cents, ok := parseEuro(tt.in)
		if cents != tt.cents || ok != tt.ok {
			t.Errorf("parseEuro(%q) = %d, %v, want %d, %v", tt.in, cents, ok, tt.cents, tt.ok)
		}
	}
}

func TestCanonDecimal(t *testing.T) {
	for in, want := range map[string]string{"5": "5", "05": "5", "47,50": "47.5", "5.0": "5", "0,25": "0.25", "x": "x"} {
		if got := canonDecimal(in); got != want {
			t.Errorf("canonDecimal(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLookupDoesNotShareIngredients(t *testing.T) {
	c := Sample()
	a := MustLookup(t, c, "91000075")
	a.Ingredients[0].Strength = "500"
	if got := MustLookup(t, c, "91000075").Ingredients[0].Strength; got != "5" {
		t.Errorf("changing a looked-up article changed the catalog: strength %q", got)
	}
}

func FuzzLoadCSV(f *testing.F) {
	f.Add([]byte(header + "92000114;Valsartan;M;Valsartan||80|mg;FTA;98;St;N3;12,40;13,52;27,48;;ja;nein;nein;2026-11-01\n"))
	f.Add([]byte(header + "92000226;\"C; D\";E;Candesartan|1|16|mg+HCT||12,5|mg;tab;98;St;n3;14.1;15.27;31.23;30;1;0;0;2026-11-01\n"))
	f.Add([]byte(header + "92000115;x;y;a|b|c;TAB;1;St;N9;1,2x;;;;vielleicht;;;\n"))
	f.Add([]byte("\uFEFFpzn;\"name\n;x\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Load(bytes.NewReader(data), "csv")
		if err != nil {
			if c != nil {
				t.Fatal("catalog and error")
			}
			if n := len(messages(err)); n > maxErrors+1 {
				t.Fatalf("%d messages", n)
			}
			return
		}
		if c.Len() == 0 {
			t.Fatal("empty catalog without error")
		}
		for _, a := range c.Articles() {
			if !validPZN(a.PZN) {
				t.Fatalf("accepted PZN %q", a.PZN)
			}
			c.Equivalent(a, a)
		}
	})
}

func FuzzLoadJSON(f *testing.F) {
	data, err := os.ReadFile("testdata/artikel.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`[{"pzn": 92000114, "wirkstoffe": [{"name": 1}]}]`))
	f.Add([]byte(`[1, "x", null]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Load(bytes.NewReader(data), "json")
		if (c == nil) == (err == nil) {
			t.Fatalf("catalog %v with error %v", c, err)
		}
	})
}
