// Package articles is the Artikelstamm (drug master data) that prescription checks read:
// what a PZN is, what it contains, its prices, and whether one article may replace another
// under the aut-idem rules of § 129 SGB V. The import format is our own, documented in
// docs/artikelstamm.md; a synthetic sample ships with the package.
package articles

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tresen/tresen/internal/errs"
)

// Article is one entry of the Artikelstamm: a pack with its own PZN.
type Article struct {
	PZN          string // Pharmazentralnummer, 8 digits with check digit
	Name         string
	Manufacturer string // Hersteller / Anbieter
	Ingredients  []Ingredient
	DoseForm     string // KBV Darreichungsform code: TAB, FTA, HKP, SUP, CRE …
	PackSize     string // amount as printed on the pack, e.g. "100"
	PackUnit     string // "St", "ml", "g" …
	Normgroesse  string // N1, N2, N3, KTP (Klinikpackung) or "" (none)
	ApU          int64  // Abgabepreis des pharmazeutischen Unternehmers, euro cents
	AEK          int64  // Apothekeneinkaufspreis, euro cents
	AVP          int64  // Apothekenverkaufspreis, euro cents
	Festbetrag   int64  // reference price of the statutory insurance, euro cents; 0 = none
	RxOnly       bool   // verschreibungspflichtig
	BtM          bool   // Betäubungsmittel: needs a BtM-Rezept
	TRezept      bool   // needs a T-Rezept (thalidomide and its analogues)
	ValidFrom    string // YYYY-MM-DD from which the prices apply
}

// Ingredient is one active ingredient (Wirkstoff) of an article.
type Ingredient struct {
	Name     string
	ASK      string // Arzneistoffkatalog number; optional
	Strength string // decimal with a point, e.g. "47.5"; "" for a substance sold as such
	Unit     string // "mg", "µg", "mg/g" …; "" when Strength is
}

// Catalog is a loaded Artikelstamm. It is not changed after loading and is safe for
// concurrent use.
type Catalog struct {
	byPZN          map[string]Article
	pzns           []string // sorted
	formGroups     []formGroup
	noSubstitution []formGroup
}

// Lookup returns the article with the given PZN.
func (c *Catalog) Lookup(pzn string) (Article, bool) {
	a, ok := c.byPZN[pzn]
	if !ok {
		return Article{}, false
	}
	a.Ingredients = slices.Clone(a.Ingredients) // callers must not change the catalog
	return a, true
}

// Len returns the number of articles.
func (c *Catalog) Len() int { return len(c.pzns) }

// Articles returns every article, ordered by PZN.
func (c *Catalog) Articles() []Article {
	out := make([]Article, 0, len(c.pzns))
	for _, p := range c.pzns {
		a, _ := c.Lookup(p)
		out = append(out, a)
	}
	return out
}

// A formGroup lists dose forms that the G-BA declared interchangeable for one active
// ingredient or combination (Arzneimittel-Richtlinie Anlage VII Teil A). The G-BA decides
// per ingredient, not per pair of forms: film-coated and coated tablets of
// levonorgestrel + ethinylestradiol, for instance, may not replace each other.
type formGroup struct {
	ingredients string   // normalised names, sorted, joined by "+"
	forms       []string // KBV codes
}

// defaultFormGroups is a small excerpt of Anlage VII Teil A, enough for the sample and
// the tests; see docs/artikelstamm.md for the sources. A real deployment needs the full
// list, which changes with every G-BA decision.
func defaultFormGroups() []formGroup {
	return []formGroup{
		{"aripiprazol", []string{"SMT", "TAB"}},
		{"hydrochlorothiazid+irbesartan", []string{"FTA", "TAB"}},
		{"hydrochlorothiazid+telmisartan", []string{"FTA", "TAB"}},
		{"memantin", []string{"FTA", "SMT"}},
		{"methocarbamol", []string{"FTA", "TAB"}},
		{"zolmitriptan", []string{"FTA", "SMT", "TAB"}},
	}
}

// defaultNoSubstitution is the part of the Substitutionsausschlussliste (AM-RL Anlage VII
// Teil B) that needs no more than ingredient and dose form to apply: articles listed here
// are never replaced by another PZN. Entries whose forms we cannot name with certainty
// (ciclosporin, retarded tacrolimus), that depend on the strength (everolimus up to 1 mg)
// or on the dosing interval (buprenorphine patches, hydromorphone and oxycodone retard
// tablets) are left out; docs/artikelstamm.md lists them.
func defaultNoSubstitution() []formGroup {
	return []formGroup{
		{"beta acetyldigoxin", []string{"TAB"}},
		{"carbamazepin", []string{"RET"}},
		{"digitoxin", []string{"TAB"}},
		{"digoxin", []string{"TAB"}},
		{"kaliumiodid+levothyroxin natrium", []string{"TAB"}},
		{"kaliumjodid+levothyroxin natrium", []string{"TAB"}},
		{"levothyroxin natrium", []string{"TAB"}},
		{"natriumvalproat", []string{"RET"}},
		{"natriumvalproat+valproinsäure", []string{"RET"}},
		{"phenobarbital", []string{"TAB"}},
		{"phenprocoumon", []string{"TAB"}},
		{"phenytoin", []string{"TAB"}},
		{"primidon", []string{"TAB"}},
		{"tacrolimus", []string{"HKP"}},
		{"valproinsäure", []string{"RET"}},
	}
}

// Equivalent reports whether b may be dispensed for a (and a for b) under aut idem
// (§ 129 Abs. 1 SGB V): the same active ingredients in identical strength, the same or a
// G-BA interchangeable dose form, the same pack size class (see SamePackClass), and no
// entry on the Substitutionsausschlussliste. When not, reasons says why, in German, naming
// each article by its PZN. It does not judge what the article data cannot tell: the
// indications (Anwendungsgebiete), discount contracts, imports, or the price order.
func (c *Catalog) Equivalent(a, b Article) (ok bool, reasons []string) {
	if a.PZN != "" && a.PZN == b.PZN {
		return true, nil
	}
	sameIngredients := true
	switch {
	case len(a.Ingredients) == 0 || len(b.Ingredients) == 0:
		sameIngredients = false
		for _, x := range []Article{a, b} {
			if len(x.Ingredients) == 0 {
				reasons = append(reasons, fmt.Sprintf("keine Wirkstoffe angegeben (%s), Austausch nicht prüfbar", x.PZN))
			}
		}
	default:
		r := compareIngredients(a, b)
		sameIngredients = len(r) == 0
		reasons = append(reasons, r...)
	}

	fa, fb := strings.ToUpper(a.DoseForm), strings.ToUpper(b.DoseForm)
	if sameIngredients {
		key := ingredientKey(a.Ingredients)
		for _, f := range []string{fa, fb} {
			if inGroup(c.noSubstitution, key, f) {
				reasons = append(reasons, fmt.Sprintf("%s als %s steht auf der Substitutionsausschlussliste (AM-RL Anlage VII Teil B)",
					joinNames(a.Ingredients), f))
				break
			}
		}
	}
	if fa != fb {
		if !sameIngredients || !inGroup(c.formGroups, ingredientKey(a.Ingredients), fa, fb) {
			reasons = append(reasons, fmt.Sprintf("Darreichungsform %s (%s) und %s (%s) nicht austauschbar",
				orNone(fa), a.PZN, orNone(fb), b.PZN))
		}
	}

	if !SamePackClass(a, b) {
		if a.Normgroesse != "" || b.Normgroesse != "" {
			reasons = append(reasons, fmt.Sprintf("Normgröße verschieden: %s (%s) gegenüber %s (%s)",
				orNone(a.Normgroesse), a.PZN, orNone(b.Normgroesse), b.PZN))
		} else {
			reasons = append(reasons, fmt.Sprintf("Packungsgröße verschieden: %s %s (%s) gegenüber %s %s (%s)",
				a.PackSize, a.PackUnit, a.PZN, b.PackSize, b.PackUnit, b.PZN))
		}
	}
	return len(reasons) == 0, reasons
}

// SamePackClass reports whether a and b fall into the same pack size class for aut idem:
// the same Normgröße when either has one, otherwise the same pack size and unit.
func SamePackClass(a, b Article) bool {
	na, nb := strings.ToUpper(strings.TrimSpace(a.Normgroesse)), strings.ToUpper(strings.TrimSpace(b.Normgroesse))
	if na != "" || nb != "" {
		return na == nb
	}
	return strings.TrimSpace(a.PackSize) == strings.TrimSpace(b.PackSize) &&
		strings.EqualFold(strings.TrimSpace(a.PackUnit), strings.TrimSpace(b.PackUnit))
}

func orNone(s string) string {
	if s == "" {
		return "keine"
	}
	return s
}

// compareIngredients matches the ingredients of a and b — by ASK number when both carry
// one, else by normalised name — and returns what differs.
func compareIngredients(a, b Article) []string {
	var reasons []string
	used := make([]bool, len(b.Ingredients))
	for _, ia := range a.Ingredients {
		j := slices.IndexFunc(b.Ingredients, func(ib Ingredient) bool { return sameSubstance(ia, ib) })
		if j < 0 {
			reasons = append(reasons, fmt.Sprintf("Wirkstoff %s nur in %s enthalten", ia.Name, a.PZN))
			continue
		}
		used[j] = true
		ib := b.Ingredients[j]
		if canonDecimal(ia.Strength) != canonDecimal(ib.Strength) || !strings.EqualFold(canonUnit(ia.Unit), canonUnit(ib.Unit)) {
			reasons = append(reasons, fmt.Sprintf("Wirkstärke %s verschieden: %s (%s) gegenüber %s (%s)",
				ia.Name, strength(ia), a.PZN, strength(ib), b.PZN))
		}
	}
	for j, ib := range b.Ingredients {
		if !used[j] {
			reasons = append(reasons, fmt.Sprintf("Wirkstoff %s nur in %s enthalten", ib.Name, b.PZN))
		}
	}
	return reasons
}

func sameSubstance(x, y Ingredient) bool {
	if x.ASK != "" && y.ASK != "" {
		return x.ASK == y.ASK
	}
	return normName(x.Name) == normName(y.Name)
}

func strength(i Ingredient) string {
	if i.Strength == "" {
		return "ohne Stärke"
	}
	return strings.Replace(i.Strength, ".", ",", 1) + " " + i.Unit
}

// ingredientKey names a set of ingredients the way formGroup does.
func ingredientKey(ings []Ingredient) string {
	names := make([]string, len(ings))
	for i, in := range ings {
		names[i] = normName(in.Name)
	}
	slices.Sort(names)
	return strings.Join(names, "+")
}

// inGroup reports whether one of groups is for the ingredients key and holds every form.
func inGroup(groups []formGroup, key string, forms ...string) bool {
	for _, g := range groups {
		if g.ingredients == key && !slices.ContainsFunc(forms, func(f string) bool { return !slices.Contains(g.forms, f) }) {
			return true
		}
	}
	return false
}

func joinNames(ings []Ingredient) string {
	names := make([]string, len(ings))
	for i, in := range ings {
		names[i] = in.Name
	}
	return strings.Join(names, " + ")
}

// normName folds case, hyphens and runs of spaces so that "Levothyroxin-Natrium" and
// "levothyroxin  natrium" name the same substance.
func normName(s string) string {
	s = strings.ToLower(strings.ReplaceAll(s, "-", " "))
	return strings.Join(strings.Fields(s), " ")
}

// canonUnit writes the microgram spellings one way.
func canonUnit(u string) string {
	u = strings.TrimSpace(u)
	for _, alt := range []string{"mcg", "ug", "μg"} { // the last is Greek mu, U+03BC
		if rest, ok := strings.CutPrefix(u, alt); ok && (rest == "" || rest[0] == '/') {
			return "µg" + rest
		}
	}
	return u
}

// canonDecimal writes a decimal without superfluous zeros and with a point: "05,50" → "5.5".
// Text that is no decimal comes back unchanged.
func canonDecimal(s string) string {
	s = strings.TrimSpace(strings.Replace(s, ",", ".", 1))
	whole, frac, hasFrac := strings.Cut(s, ".")
	if whole == "" || !allDigits(whole) || (hasFrac && (frac == "" || !allDigits(frac))) {
		return s
	}
	whole = strings.TrimLeft(whole, "0")
	if whole == "" {
		whole = "0"
	}
	frac = strings.TrimRight(frac, "0")
	if frac == "" {
		return whole
	}
	return whole + "." + frac
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// validPZN reports whether s is a PZN-8 with a correct check digit: the first seven digits
// weighted 1 to 7, summed, modulo 11; a remainder of 10 is never issued.
func validPZN(s string) bool {
	if len(s) != 8 || !allDigits(s) {
		return false
	}
	sum := 0
	for i := 0; i < 7; i++ {
		sum += int(s[i]-'0') * (i + 1)
	}
	check := sum % 11
	return check != 10 && check == int(s[7]-'0')
}

// Import limits. An Artikelstamm of all German packs is well under 100 MiB as CSV.
const (
	MaxFileSize = 256 << 20
	MaxLineSize = 64 << 10
	maxErrors   = 20
)

// columns are the fields of the import format, in the order the documentation lists them.
// CSV files may order them differently; the header row says how.
var columns = []string{"pzn", "name", "hersteller", "wirkstoffe", "darreichungsform", "packungsgroesse",
	"einheit", "normgroesse", "apu", "aek", "avp", "festbetrag", "rezeptpflichtig", "btm", "t_rezept", "gueltig_ab"}

//go:embed sample/artikelstamm-beispiel.csv
var sampleCSV string

// Sample returns the synthetic example Artikelstamm shipped with the package: made-up
// articles, manufacturers and PZNs with plausible prices, for tests and demonstrations.
func Sample() *Catalog {
	c, err := load(strings.NewReader(sampleCSV), "csv", "artikelstamm-beispiel.csv", defaultLimits())
	if err != nil {
		panic("articles: embedded sample does not load: " + err.Error()) // caught by the tests
	}
	return c
}

// Load reads an Artikelstamm in format "csv" or "json" (see docs/artikelstamm.md). It checks
// every article and reports up to 20 problems at once, each with its line and column.
func Load(r io.Reader, format string) (*Catalog, error) {
	return load(r, format, "", defaultLimits())
}

// LoadFile reads an Artikelstamm file, choosing the format by its extension (.csv, .json).
// Errors name the file.
func LoadFile(path string) (*Catalog, error) {
	name := filepath.Base(path)
	format := strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
	if format != "csv" && format != "json" {
		return nil, errs.E(errs.Invalid, "%s: unbekanntes Format „%s“, erwartet .csv oder .json", name, filepath.Ext(path))
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errs.E(errs.NotFound, "%s: Datei nicht gefunden", name)
	}
	if err != nil {
		return nil, fmt.Errorf("articles.LoadFile: %w", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > MaxFileSize {
		return nil, errs.E(errs.Invalid, "%s: Datei größer als %s", name, size(MaxFileSize))
	}
	return load(f, format, name, defaultLimits())
}

type limits struct{ file, line int64 }

func defaultLimits() limits { return limits{file: MaxFileSize, line: MaxLineSize} }

func load(r io.Reader, format, name string, lim limits) (*Catalog, error) {
	b := &builder{name: name, seen: map[string]int{}, byPZN: map[string]Article{}}
	switch strings.ToLower(format) {
	case "csv":
		b.readCSV(r, lim)
	case "json":
		b.readJSON(r, lim)
	default:
		return nil, errs.E(errs.Invalid, "unbekanntes Format „%s“, erwartet csv oder json", format)
	}
	if len(b.errs) == 0 && len(b.byPZN) == 0 {
		b.fail(0, "", "enthält keine Artikel")
	}
	if len(b.errs) > 0 {
		return nil, errors.Join(b.errs...)
	}
	c := &Catalog{byPZN: b.byPZN, formGroups: defaultFormGroups(), noSubstitution: defaultNoSubstitution()}
	for p := range b.byPZN {
		c.pzns = append(c.pzns, p)
	}
	slices.Sort(c.pzns)
	return c, nil
}

// builder collects articles and errors while a file is read.
type builder struct {
	name  string // file name for messages; may be empty
	field string // "Spalte" for CSV, "Feld" for JSON
	errs  []error
	full  bool
	seen  map[string]int // PZN → line of first occurrence
	byPZN map[string]Article
}

// fail records an error at line (0: the file as a whole) and column. It reports false
// once the error limit is reached, and the reader should stop.
func (b *builder) fail(line int, col, format string, args ...any) bool {
	if b.full {
		return false
	}
	if len(b.errs) == maxErrors {
		b.full = true
		b.errs = append(b.errs, errs.E(errs.Invalid, "%smehr als %d Fehler, Prüfung abgebrochen", b.prefix(), maxErrors))
		return false
	}
	where := strings.TrimSpace(b.name)
	if line > 0 {
		where = strings.TrimSpace(fmt.Sprintf("%s Zeile %d", where, line))
	}
	if col != "" {
		where = strings.TrimPrefix(fmt.Sprintf("%s, %s %s", where, b.field, col), ", ")
	}
	msg := fmt.Sprintf(format, args...)
	if where != "" {
		msg = where + ": " + msg
	}
	b.errs = append(b.errs, errs.E(errs.Invalid, "%s", msg))
	return true
}

func size(n int64) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d KiB", n>>10)
}

func (b *builder) prefix() string {
	if b.name == "" {
		return ""
	}
	return b.name + ": "
}

// quote shows an offending value, shortened and with control characters made visible.
func quote(s string) string {
	const limit = 40
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '�'
		}
		return r
	}, s)
	if utf8.RuneCountInString(s) > limit {
		s = string([]rune(s)[:limit]) + "…"
	}
	return "„" + s + "“"
}

// add checks one article given as column → text (ings, when not nil, replaces the
// "wirkstoffe" text: JSON gives them structured).
func (b *builder) add(line int, v map[string]string, ings []Ingredient) {
	var a Article
	bad := false
	fail := func(col, format string, args ...any) {
		bad = true
		b.fail(line, col, format, args...)
	}

	a.PZN = strings.TrimSpace(v["pzn"])
	switch {
	case a.PZN == "":
		fail("pzn", "fehlt")
	case len(a.PZN) != 8 || !allDigits(a.PZN):
		fail("pzn", "%s ist keine PZN (8 Ziffern erwartet)", quote(a.PZN))
	case !validPZN(a.PZN):
		fail("pzn", "%s hat eine falsche Prüfziffer", quote(a.PZN))
	}
	a.Name = text(v, "name", 200, fail)
	a.Manufacturer = text(v, "hersteller", 100, fail)

	if ings != nil {
		if len(ings) > 0 { // an empty list reads as nil, as from CSV
			a.Ingredients = ings
		}
	} else if w := strings.TrimSpace(v["wirkstoffe"]); w != "" {
		for i, part := range strings.Split(w, "+") {
			f := strings.Split(part, "|")
			if len(f) != 4 {
				fail("wirkstoffe", "Wirkstoff %d %s: erwartet Name|ASK|Stärke|Einheit", i+1, quote(part))
				continue
			}
			in, err := parseIngredient(f[0], f[1], f[2], f[3])
			if err != "" {
				fail("wirkstoffe", "Wirkstoff %d %s: %s", i+1, quote(part), err)
				continue
			}
			a.Ingredients = append(a.Ingredients, in)
		}
	}
	for i, x := range a.Ingredients {
		for _, y := range a.Ingredients[:i] {
			if sameSubstance(x, y) {
				fail("wirkstoffe", "Wirkstoff %s doppelt genannt", quote(x.Name))
			}
		}
	}

	a.DoseForm = strings.ToUpper(strings.TrimSpace(v["darreichungsform"]))
	if a.DoseForm == "" {
		fail("darreichungsform", "fehlt")
	} else if !isFormCode(a.DoseForm) {
		fail("darreichungsform", "%s ist kein Darreichungsform-Kürzel (drei Zeichen wie TAB, FTA, HKP)", quote(v["darreichungsform"]))
	}
	a.PackSize = text(v, "packungsgroesse", 20, fail)
	a.PackUnit = text(v, "einheit", 10, fail)
	a.Normgroesse = strings.ToUpper(strings.TrimSpace(v["normgroesse"]))
	switch a.Normgroesse {
	case "", "N1", "N2", "N3", "KTP":
	default:
		fail("normgroesse", "%s ist keine Normgröße (N1, N2, N3, KTP oder leer)", quote(v["normgroesse"]))
	}

	price := func(col string, required bool) int64 {
		s := strings.TrimSpace(v[col])
		if s == "" {
			if required {
				fail(col, "fehlt")
			}
			return 0
		}
		c, ok := parseEuro(s)
		if !ok {
			fail(col, "%s ist kein Eurobetrag", quote(s))
		}
		return c
	}
	a.ApU, a.AEK, a.AVP = price("apu", true), price("aek", true), price("avp", true)
	a.Festbetrag = price("festbetrag", false)

	flag := func(col string) bool {
		s := strings.ToLower(strings.TrimSpace(v[col]))
		switch s {
		case "ja", "1":
			return true
		case "nein", "0":
			return false
		case "":
			fail(col, "fehlt (ja oder nein)")
		default:
			fail(col, "%s ist kein Wahrheitswert (ja, nein, 1 oder 0)", quote(v[col]))
		}
		return false
	}
	a.RxOnly, a.BtM, a.TRezept = flag("rezeptpflichtig"), flag("btm"), flag("t_rezept")
	if (a.BtM || a.TRezept) && !a.RxOnly {
		fail("rezeptpflichtig", "BtM und T-Rezept-Artikel sind rezeptpflichtig")
	}

	a.ValidFrom = strings.TrimSpace(v["gueltig_ab"])
	if a.ValidFrom == "" {
		fail("gueltig_ab", "fehlt")
	} else if _, err := time.Parse(time.DateOnly, a.ValidFrom); err != nil {
		fail("gueltig_ab", "%s ist kein Datum (JJJJ-MM-TT)", quote(a.ValidFrom))
	}

	if validPZN(a.PZN) {
		if first, dup := b.seen[a.PZN]; dup {
			fail("pzn", "PZN %s kommt doppelt vor (zuerst in Zeile %d)", a.PZN, first)
		} else {
			b.seen[a.PZN] = line
		}
	}
	if !bad {
		b.byPZN[a.PZN] = a
	}
}

// text reads a required text field of at most limit characters.
func text(v map[string]string, col string, limit int, fail func(col, format string, args ...any)) string {
	s := strings.TrimSpace(v[col])
	switch {
	case s == "":
		fail(col, "fehlt")
	case utf8.RuneCountInString(s) > limit:
		fail(col, "länger als %d Zeichen", limit)
	}
	return s
}

func isFormCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if (s[i] < 'A' || s[i] > 'Z') && (s[i] < '0' || s[i] > '9') {
			return false
		}
	}
	return true
}

// parseIngredient checks one ingredient; the returned text says what is wrong.
func parseIngredient(name, ask, strength, unit string) (Ingredient, string) {
	in := Ingredient{
		Name:     strings.TrimSpace(name),
		ASK:      strings.TrimSpace(ask),
		Strength: strings.TrimSpace(strength),
		Unit:     canonUnit(unit),
	}
	switch {
	case in.Name == "":
		return in, "Name fehlt"
	case in.ASK != "" && (!allDigits(in.ASK) || len(in.ASK) > 10):
		return in, fmt.Sprintf("ASK-Nummer %s besteht nicht aus Ziffern", quote(in.ASK))
	case in.Strength == "" && in.Unit != "":
		return in, "Einheit ohne Stärke"
	case in.Strength != "" && in.Unit == "":
		return in, "Stärke ohne Einheit"
	}
	if in.Strength != "" {
		c := canonDecimal(in.Strength)
		if !allDigits(strings.Replace(c, ".", "", 1)) {
			return in, fmt.Sprintf("%s ist keine Stärke (Dezimalzahl wie 47,5)", quote(in.Strength))
		}
		in.Strength = c
	}
	return in, ""
}

// parseEuro reads a non-negative euro amount with at most two decimals after a comma or
// point ("12,34", "12.3", "7") into cents. Thousands separators are refused: "1.234" could
// be either.
func parseEuro(s string) (int64, bool) {
	whole, frac, hasFrac := s, "", false
	if i := strings.IndexAny(s, ",."); i >= 0 {
		whole, frac, hasFrac = s[:i], s[i+1:], true
	}
	if !allDigits(whole) || len(whole) > 9 || (hasFrac && (len(frac) == 0 || len(frac) > 2 || !allDigits(frac))) {
		return 0, false
	}
	euros, _ := strconv.ParseInt(whole, 10, 64)
	var cents int64
	if frac != "" {
		cents, _ = strconv.ParseInt(frac, 10, 64)
		if len(frac) == 1 {
			cents *= 10
		}
	}
	return euros*100 + cents, true
}

// limitReader fails once more than max bytes came through.
type limitReader struct {
	r   io.Reader
	n   int64
	max int64
}

var errFileTooLarge = errors.New("file too large")

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n > l.max {
		return 0, errFileTooLarge
	}
	if rest := l.max + 1 - l.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	if l.n > l.max {
		return n, errFileTooLarge
	}
	return n, err
}

// lineReader fails once a line grows longer than max bytes, so that one runaway line
// (a binary file, a missing line break) cannot fill the memory.
type lineReader struct {
	r    io.Reader
	max  int64
	cur  int64 // bytes since the last line break
	line int   // current line, from 1
}

type lineTooLongError struct{ line int }

func (e lineTooLongError) Error() string { return fmt.Sprintf("line %d too long", e.line) }

func (l *lineReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for i, c := range p[:n] {
		if c == '\n' {
			l.line++
			l.cur = 0
			continue
		}
		l.cur++
		if l.cur > l.max {
			return i, lineTooLongError{l.line + 1}
		}
	}
	return n, err
}

func (b *builder) readCSV(r io.Reader, lim limits) {
	b.field = "Spalte"
	lr := &lineReader{r: &limitReader{r: r, max: lim.file}, max: lim.line}
	cr := csv.NewReader(lr)
	cr.Comma = ';'
	cr.FieldsPerRecord = -1 // we count ourselves, with a German message

	var header []string
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		line := 0
		if err == nil {
			line, _ = cr.FieldPos(0)
		}
		if err != nil {
			var tooLong lineTooLongError
			var pe *csv.ParseError
			switch {
			case errors.Is(err, errFileTooLarge):
				b.fail(0, "", "Datei größer als %s", size(lim.file))
				return
			case errors.As(err, &tooLong):
				b.fail(tooLong.line, "", "länger als %s", size(lim.line))
				return
			case errors.As(err, &pe):
				msg := pe.Err.Error()
				switch pe.Err {
				case csv.ErrQuote:
					msg = "Anführungszeichen nicht geschlossen"
				case csv.ErrBareQuote:
					msg = "Anführungszeichen mitten im Feld; das Feld in \"…\" setzen und \" darin verdoppeln"
				}
				if !b.fail(pe.StartLine, "", "kein gültiges CSV: %s", msg) {
					return
				}
				continue
			default:
				b.fail(0, "", "nicht lesbar: %v", err)
				return
			}
		}
		if header == nil {
			rec[0] = strings.TrimPrefix(rec[0], "\uFEFF") // Excel writes a byte order mark
			header = rec
			if !b.header(line, header) {
				return
			}
			continue
		}
		if !utf8.ValidString(strings.Join(rec, "")) {
			if !b.fail(line, "", "kein gültiges UTF-8; bitte als UTF-8 speichern, nicht als Windows-1252") {
				return
			}
			continue
		}
		if len(rec) != len(header) {
			if !b.fail(line, "", "%d Spalten statt %d wie in der Kopfzeile", len(rec), len(header)) {
				return
			}
			continue
		}
		if strings.Trim(strings.Join(rec, ""), " \t") == "" {
			continue // spreadsheets export empty rows as ";;;;"
		}
		v := make(map[string]string, len(rec))
		for i, col := range header {
			v[col] = rec[i]
		}
		b.add(line, v, nil)
		if b.full {
			return
		}
	}
	if header == nil {
		b.fail(0, "", "leer, Kopfzeile fehlt")
	}
}

// header checks the header row and normalises its names in place.
func (b *builder) header(line int, h []string) bool {
	if len(h) > 0 && len(strings.TrimSpace(h[0])) == 8 && allDigits(strings.TrimSpace(h[0])) {
		b.fail(line, "", "Kopfzeile fehlt (die erste Zeile sieht wie ein Artikel aus)")
		return false
	}
	ok := true
	seen := map[string]bool{}
	for i, col := range h {
		col = strings.ToLower(strings.TrimSpace(col))
		h[i] = col
		switch {
		case !slices.Contains(columns, col):
			ok = false
			b.fail(line, "", "unbekannte Spalte %s in der Kopfzeile", quote(col))
		case seen[col]:
			ok = false
			b.fail(line, "", "Spalte %s doppelt in der Kopfzeile", col)
		}
		seen[col] = true
	}
	var missing []string
	for _, col := range columns {
		if !seen[col] {
			missing = append(missing, col)
		}
	}
	if len(missing) > 0 {
		ok = false
		b.fail(line, "", "Kopfzeile ohne Spalte %s", strings.Join(missing, ", "))
	}
	return ok
}

func (b *builder) readJSON(r io.Reader, lim limits) {
	b.field = "Feld"
	data, err := io.ReadAll(&limitReader{r: r, max: lim.file})
	switch {
	case errors.Is(err, errFileTooLarge):
		b.fail(0, "", "Datei größer als %s", size(lim.file))
		return
	case err != nil:
		b.fail(0, "", "nicht lesbar: %v", err)
		return
	}
	lines := lineCounter{data: data}
	// syntax reports a syntax error where it is. The streaming decoder's offsets are not
	// reliable for that; Unmarshal checks the whole input first and says where it fails.
	syntax := func(err error, at int64) {
		var se *json.SyntaxError
		if errors.As(json.Unmarshal(data, &struct{}{}), &se) {
			err, at = se, se.Offset
		}
		b.fail(lines.at(at), "", "kein gültiges JSON: %v", err)
	}

	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		syntax(err, dec.InputOffset())
		return
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		b.fail(lines.at(0), "", "erwartet ein JSON-Array von Artikeln")
		return
	}
	for n := 1; dec.More(); n++ {
		line := lines.at(skipSpace(data, dec.InputOffset()))
		var obj map[string]json.RawMessage
		if err := dec.Decode(&obj); err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				b.fail(line, "", "Artikel %d ist kein JSON-Objekt", n)
			} else {
				syntax(err, dec.InputOffset())
			}
			return
		}
		b.addJSON(line, n, obj)
		if b.full {
			return
		}
	}
	if _, err := dec.Token(); err != nil {
		syntax(err, dec.InputOffset())
		return
	}
	if _, err := dec.Token(); err != io.EOF {
		b.fail(lines.at(dec.InputOffset()), "", "Daten nach dem Ende des Arrays")
	}
}

func (b *builder) addJSON(line, n int, obj map[string]json.RawMessage) {
	v := make(map[string]string, len(obj))
	var ings []Ingredient // nil: take them from v["wirkstoffe"]
	ok := true
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys) // messages in a stable order
	for _, k := range keys {
		raw := bytes.TrimSpace(obj[k])
		if !slices.Contains(columns, k) {
			ok = false
			b.fail(line, "", "Artikel %d: unbekanntes Feld %s", n, quote(k))
			continue
		}
		if k == "wirkstoffe" && len(raw) > 0 && raw[0] != '"' {
			if ings = b.jsonIngredients(line, raw); ings == nil {
				ok = false
			}
			continue
		}
		s, good := jsonText(raw)
		if !good {
			ok = false
			b.fail(line, k, "Artikel %d: %s ist weder Text, Zahl noch Wahrheitswert", n, quote(string(raw)))
			continue
		}
		v[k] = s
	}
	if ok {
		b.add(line, v, ings)
	}
}

// jsonIngredients reads "wirkstoffe": an array of {"name", "ask", "staerke", "einheit"}.
// It returns nil after reporting an error.
func (b *builder) jsonIngredients(line int, raw json.RawMessage) []Ingredient {
	if string(raw) == "null" {
		return []Ingredient{}
	}
	var list []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		b.fail(line, "wirkstoffe", "erwartet eine Liste von Objekten mit name, ask, staerke, einheit")
		return nil
	}
	out := make([]Ingredient, 0, len(list))
	for i, m := range list {
		var f [4]string
		for k, raw := range m {
			j := slices.Index([]string{"name", "ask", "staerke", "einheit"}, k)
			s, good := jsonText(raw)
			if j < 0 || !good {
				b.fail(line, "wirkstoffe", "Wirkstoff %d: unbekanntes oder ungültiges Feld %s", i+1, quote(k))
				return nil
			}
			f[j] = s
		}
		in, msg := parseIngredient(f[0], f[1], f[2], f[3])
		if msg != "" {
			b.fail(line, "wirkstoffe", "Wirkstoff %d %s: %s", i+1, quote(f[0]), msg)
			return nil
		}
		out = append(out, in)
	}
	return out
}

// jsonText turns a JSON string, number or boolean into the text the CSV would hold, so
// that both formats go through the same checks. Numbers keep their exact digits.
func jsonText(raw json.RawMessage) (string, bool) {
	switch s := string(bytes.TrimSpace(raw)); {
	case s == "null":
		return "", true
	case s == "true":
		return "ja", true
	case s == "false":
		return "nein", true
	case strings.HasPrefix(s, `"`):
		var t string
		err := json.Unmarshal(raw, &t)
		return t, err == nil
	case s != "" && (s[0] == '-' || (s[0] >= '0' && s[0] <= '9')):
		return s, true
	}
	return "", false
}

func skipSpace(data []byte, off int64) int64 {
	for off < int64(len(data)) && strings.IndexByte(" \t\r\n,", data[off]) >= 0 {
		off++
	}
	return off
}

// lineCounter maps byte offsets, asked for in increasing order, to line numbers.
type lineCounter struct {
	data []byte
	off  int64
	line int
}

func (l *lineCounter) at(off int64) int {
	off = min(off, int64(len(l.data)))
	if off < l.off {
		l.off, l.line = 0, 0
	}
	l.line += bytes.Count(l.data[l.off:off], []byte{'\n'})
	l.off = off
	return l.line + 1
}
