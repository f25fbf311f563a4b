package retax

import (
	"slices"
	"strconv"
	"strings"

	"github.com/tresen/tresen/internal/articles"
	"github.com/tresen/tresen/internal/prescription"
)

// Sonderkennzeichen and Zusatzattribut groups the rules look at.
const (
	codeNoctu        = "02567018" // Notdienstgebühr
	codeShortage     = "17717446" // Lieferengpass-Zuschlag
	attrPartialPack  = "16"       // Zusatzattribut Teilmengenabgabe
	compoundingCodes = "0999"     // prefix of the Rezeptur and Zubereitung codes
)

// products are the dispensed lines that are finished products (by PZN).
func (c *check) products() []prescription.Item {
	if c.d == nil {
		return nil
	}
	var out []prescription.Item
	for _, it := range c.d.Items {
		if it.PZN != "" && it.Special == "" {
			out = append(out, it)
		}
	}
	return out
}

// packs is the number of packs a line stands for.
func packs(it prescription.Item) int {
	if it.Quantity > 0 {
		return it.Quantity
	}
	if n, err := strconv.Atoi(it.Factor); err == nil && n > 0 && n < 1000 {
		return n
	}
	return 1
}

// splitDispense reports whether the pharmacy dispensed the prescribed amount in several
// packs (Stückelung) or a partial pack, as allowed in a shortage: then pack counts and
// sizes differ from the prescription by design.
func (c *check) splitDispense() bool {
	if c.d == nil {
		return false
	}
	for _, it := range c.d.Items {
		if it.Special == codeShortage || slices.Contains(it.Attributes, attrPartialPack) {
			return true
		}
	}
	ordered := 1
	if c.p != nil {
		ordered = max(c.p.Lines, 1)
	}
	return len(c.products()) > ordered
}

func checkKVNRMismatch(c *check) {
	if c.p == nil || c.d == nil || c.d.KVNR == "" || c.p.Patient.KVNR == "" {
		return
	}
	if !strings.EqualFold(c.d.KVNR, c.p.Patient.KVNR) {
		c.add("dispense.subject.kvnr", "Die Versichertennummer der Abgabe stimmt nicht mit der Verordnung überein. Bitte die Abgabedaten auf die Versichertennummer der Verordnung korrigieren.")
	}
}

// substitutionAllowed reports whether the prescription lets the pharmacy choose the
// product: a PZN with aut idem allowed, or any prescription by ingredient or free text.
func substitutionAllowed(m prescription.Medication) bool {
	if m.Kind != prescription.MedPZN {
		return true
	}
	return m.Substitution != nil && *m.Substitution
}

func checkPZNMismatch(c *check) {
	if c.p == nil || c.d == nil || c.p.Medication.Kind != prescription.MedPZN || c.p.Medication.PZN == "" || substitutionAllowed(c.p.Medication) {
		return
	}
	for i, it := range c.d.Items {
		if it.PZN == "" || it.Special != "" || it.PZN == c.p.Medication.PZN {
			continue
		}
		if len(c.d.Changes) > 0 {
			c.skip("Rezeptänderung dokumentiert (Schlüssel %s): der Austausch trotz Aut-idem-Kreuz ist nicht automatisch bewertbar", strings.Join(c.d.Changes, ", "))
			continue
		}
		c.add(itemPath(i, "pzn"), "Abgegeben wurde PZN %s statt der verordneten PZN %s, obwohl der Austausch ausgeschlossen ist (aut idem). Bitte das verordnete Arzneimittel abgeben oder die Rücksprache mit der Praxis als Rezeptänderung dokumentieren.",
			it.PZN, c.p.Medication.PZN)
	}
}

// prescribed returns the prescribed drug as an article: from the Artikelstamm for a PZN,
// built from the prescription for an ingredient prescription; ok is false when that is
// not possible, and the reason is reported.
func (c *check) prescribed() (articles.Article, bool) {
	m := c.p.Medication
	switch m.Kind {
	case prescription.MedPZN:
		a, ok := c.in.Articles.Lookup(m.PZN)
		if !ok {
			c.skip("die verordnete PZN %s fehlt im Artikelstamm", m.PZN)
		}
		return a, ok
	case prescription.MedIngredient:
		a := articles.Article{DoseForm: formCode(m.Form), Normgroesse: m.Normgroesse, PackSize: m.PackSize}
		for _, in := range m.Ingredients {
			strength, unit, _ := strings.Cut(strings.TrimSpace(in.Strength), " ")
			a.Ingredients = append(a.Ingredients, articles.Ingredient{Name: in.Name, ASK: in.ASK, Strength: strings.ReplaceAll(strength, ",", "."), Unit: unit})
		}
		return a, true
	case prescription.MedFreeText:
		c.skip("eine Freitextverordnung lässt sich nicht automatisch mit der Abgabe vergleichen")
	case prescription.MedCompounding:
		c.skip("Rezepturen werden nicht mit einzelnen Fertigarzneimitteln verglichen")
	}
	return articles.Article{}, false
}

// dispensed looks up a dispensed line's article.
func (c *check) dispensed(it prescription.Item) (articles.Article, bool) {
	a, ok := c.in.Articles.Lookup(it.PZN)
	if !ok {
		c.skip("die abgegebene PZN %s fehlt im Artikelstamm", it.PZN)
	}
	return a, ok
}

func (c *check) haveArticles() bool {
	if c.in.Articles == nil {
		c.skip("kein Artikelstamm geladen (--articles)")
		return false
	}
	return true
}

func checkSubstitution(c *check) {
	if c.p == nil || c.d == nil || !substitutionAllowed(c.p.Medication) {
		return
	}
	m := c.p.Medication
	var changed []int
	for i, it := range c.d.Items {
		if it.PZN != "" && it.Special == "" && (m.Kind != prescription.MedPZN || it.PZN != m.PZN) {
			changed = append(changed, i)
		}
	}
	if len(changed) == 0 || !c.haveArticles() {
		return
	}
	want, ok := c.prescribed()
	if !ok {
		return
	}
	for _, i := range changed {
		got, ok := c.dispensed(c.d.Items[i])
		if !ok {
			continue
		}
		// The pack size class counts for a substitute of a product; for an ingredient
		// prescription it is PACKSIZE-MISMATCH's to judge, and several packs for one
		// (Stückelung) differ by design.
		w := want
		if m.Kind != prescription.MedPZN || c.splitDispense() {
			w.Normgroesse, w.PackSize, w.PackUnit = got.Normgroesse, got.PackSize, got.PackUnit
		}
		if w.DoseForm == "" {
			w.DoseForm = got.DoseForm
		}
		if eq, reasons := c.in.Articles.Equivalent(w, got); !eq {
			c.add(itemPath(i, "pzn"), "Die abgegebene PZN %s ist kein zulässiger Austausch: %s. Bitte ein gleichwertiges Arzneimittel abgeben.",
				c.d.Items[i].PZN, strings.Join(reasons, "; "))
		}
	}
}

// unitsOf returns the amount in a pack as a number, or false.
func unitsOf(packSize string) (float64, bool) {
	f, err := strconv.ParseFloat(strings.ReplaceAll(strings.TrimSpace(packSize), ",", "."), 64)
	return f, err == nil && f > 0
}

func checkQuantity(c *check) {
	if c.p == nil || c.d == nil {
		return
	}
	m := c.p.Medication
	if m.Kind == prescription.MedCompounding || m.Kind == prescription.MedFreeText {
		return
	}
	want := max(m.Quantity, 1)
	lines := c.products()
	if len(lines) == 0 {
		return
	}
	if c.p.Lines > 1 {
		c.skip("das Papierrezept verordnet %d Arzneimittel; welche Taxzeile zu welcher Zeile gehört, ist nicht sicher zuzuordnen", c.p.Lines)
		return
	}
	same := true
	total := 0
	for _, it := range lines {
		same = same && m.Kind == prescription.MedPZN && it.PZN == m.PZN
		total += packs(it)
	}
	if same {
		if total > want {
			c.add("dispense.items", "Abgegeben wurden %d Packungen, verordnet sind %d. Bitte die Abgabemenge auf die Verordnung begrenzen.", total, want)
		}
		return
	}
	if !c.haveArticles() {
		return
	}
	per, ok := unitsOf(m.PackSize)
	if !ok && m.Kind == prescription.MedPZN {
		if a, found := c.prescribed(); found {
			per, ok = unitsOf(a.PackSize)
		}
	}
	if !ok {
		c.skip("die verordnete Packungsgröße ist nicht bekannt")
		return
	}
	var units float64
	for _, it := range lines {
		a, found := c.dispensed(it)
		if !found {
			return
		}
		n, ok := unitsOf(a.PackSize)
		if !ok {
			c.skip("die Packungsgröße der PZN %s fehlt im Artikelstamm", it.PZN)
			return
		}
		units += n * float64(packs(it))
	}
	if limit := per * float64(want); units > limit {
		c.add("dispense.items", "Abgegeben wurden %s Einheiten, verordnet sind %s. Bitte die Abgabemenge auf die Verordnung begrenzen.",
			trimFloat(units), trimFloat(limit))
	}
}

func trimFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// checkPackSize holds the product the pharmacy chose for an ingredient prescription to
// the prescribed Normgröße. (A substitute for a prescribed product is judged as a whole,
// pack size class included, by SUBSTITUTION-INVALID.)
func checkPackSize(c *check) {
	if c.p == nil || c.d == nil || c.splitDispense() {
		return
	}
	m := c.p.Medication
	if m.Normgroesse == "" || m.Kind != prescription.MedIngredient {
		return
	}
	for i, it := range c.d.Items {
		if it.PZN == "" || it.Special != "" || it.PZN == m.PZN {
			continue
		}
		if !c.haveArticles() {
			return
		}
		a, ok := c.dispensed(it)
		if !ok || a.Normgroesse == "" {
			continue
		}
		if a.Normgroesse != m.Normgroesse {
			c.add(itemPath(i, "pzn"), "Verordnet ist die Normgröße %s, abgegeben wurde %s (PZN %s). Bitte eine Packung der verordneten Normgröße abgeben.",
				m.Normgroesse, a.Normgroesse, it.PZN)
		}
	}
}

// formCodes map dosage forms as doctors write them to KBV Darreichungsform codes.
var formCodes = map[string]string{
	"tabletten": "TAB", "tablette": "TAB", "filmtabletten": "FTA", "filmtablette": "FTA",
	"kapseln": "KAP", "kapsel": "KAP", "hartkapseln": "HKP", "weichkapseln": "WKA",
	"retardtabletten": "RET", "brausetabletten": "BTA", "schmelztabletten": "SMT",
	"zäpfchen": "SUP", "suppositorien": "SUP", "creme": "CRE", "salbe": "SAL", "gel": "GEL",
	"tropfen": "TRO", "lösung": "LSG", "saft": "SAF", "sirup": "SIR", "pflaster": "PFL",
}

// formCode returns the KBV code of a dosage form given as code or word, or "".
func formCode(form string) string {
	f := strings.TrimSpace(form)
	if len(f) == 3 && strings.ToUpper(f) == f {
		return f
	}
	return formCodes[strings.ToLower(f)]
}

// specialCodes are the TA1 Sonderkennzeichen the checks know.
var specialCodes = map[string]string{
	"02567018": "Notdienstgebühr",
	"02567001": "BtM-Gebühr",
	"06461110": "Botendienst",
	"09999011": "Rezeptur (allgemein)",
	"09999092": "parenterale Zubereitung mit Zytostatika",
	"06460518": "Zuschläge für Rezepturen und Zubereitungen",
	"17717446": "Lieferengpass-Zuschlag",
}

// IsSpecialCode tells whether code is a Sonderkennzeichen the checks know rather than a
// product's PZN: a paper prescription's Taxzeile holds either.
func IsSpecialCode(code string) bool {
	_, ok := specialCodes[code]
	return ok
}

func checkSpecialCodes(c *check) {
	if c.d == nil {
		return
	}
	for i, it := range c.d.Items {
		if it.Special == "" {
			continue
		}
		if _, ok := specialCodes[it.Special]; !ok {
			c.add(itemPath(i, "special_code"), "Das Sonderkennzeichen %s ist nicht in der Liste bekannter Sonderkennzeichen. Bitte gegen die aktuelle Technische Anlage 1 prüfen.", it.Special)
		}
	}
}
