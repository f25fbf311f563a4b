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

// products are the indices of the dispensed lines that are finished products (by PZN).
func (c *check) products() []int {
	if c.d == nil {
		return nil
	}
	var out []int
	for i, it := range c.d.Items {
		if it.PZN != "" && it.Special == "" {
			out = append(out, i)
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

// order is one prescribed drug and the dispensed product lines that supply it.
type order struct {
	m     prescription.Medication
	line  int   // its line on the prescription, from 0
	items []int // indices of its product lines in the dispense's items
}

// orders pairs each prescribed drug with the dispensed products that supply it, and
// returns the products it cannot pair. A prescription of one drug owns every product.
// Of a paper form's several lines, a product belongs to the line that prescribes its
// PZN; the others go, in order, to the lines left without one when exactly as many are
// left, and stay unpaired otherwise.
func (c *check) orders() (out []order, unpaired []int) {
	meds := c.p.Medications()
	out = make([]order, len(meds))
	for i, m := range meds {
		out[i] = order{m: m, line: i}
	}
	products := c.products()
	if len(meds) == 1 {
		out[0].items = products
		return out, nil
	}
	for _, i := range products {
		k := slices.IndexFunc(meds, func(m prescription.Medication) bool { return m.PZN != "" && m.PZN == c.d.Items[i].PZN })
		if k < 0 {
			unpaired = append(unpaired, i)
			continue
		}
		out[k].items = append(out[k].items, i)
	}
	var open []int
	for k, o := range out {
		if len(o.items) == 0 {
			open = append(open, k)
		}
	}
	if len(unpaired) == len(open) {
		for j, i := range unpaired {
			out[open[j]].items = []int{i}
		}
		unpaired = nil
	}
	return out, unpaired
}

// paired returns the orders for a rule that compares a prescribed drug with what was
// dispensed for it, when the rule applies to the drug; products that cannot be paired
// are reported as not compared when the rule applies to any drug.
func (c *check) paired(applies func(prescription.Medication) bool) []order {
	out, unpaired := c.orders()
	if len(unpaired) > 0 && slices.ContainsFunc(c.p.Medications(), applies) {
		c.skip("das Rezept verordnet %d Arzneimittel; zu welcher Zeile die Taxzeile %s gehört, ist nicht sicher zuzuordnen", len(out), itemNumbers(unpaired))
	}
	return slices.DeleteFunc(out, func(o order) bool { return !applies(o.m) })
}

// itemNumbers lists dispense lines as people count them: "2 und 3".
func itemNumbers(items []int) string {
	n := make([]string, len(items))
	for i, it := range items {
		n[i] = strconv.Itoa(it + 1)
	}
	if len(n) == 1 {
		return n[0]
	}
	return strings.Join(n[:len(n)-1], ", ") + " und " + n[len(n)-1]
}

// split reports whether the pharmacy dispensed an order's amount in several packs
// (Stückelung) or a partial pack, as allowed in a shortage: then pack counts and sizes
// differ from the prescription by design.
func (c *check) split(o order) bool {
	for _, it := range c.d.Items {
		if it.Special == codeShortage || slices.Contains(it.Attributes, attrPartialPack) {
			return true
		}
	}
	return len(o.items) > 1
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
	if c.p == nil || c.d == nil {
		return
	}
	aut := func(m prescription.Medication) bool { return m.PZN != "" && !substitutionAllowed(m) }
	for _, o := range c.paired(aut) {
		m := o.m
		for _, i := range o.items {
			it := c.d.Items[i]
			if it.PZN == m.PZN {
				continue
			}
			if len(c.d.Changes) > 0 {
				c.skip("Rezeptänderung dokumentiert (Schlüssel %s): der Austausch trotz Aut-idem-Kreuz ist nicht automatisch bewertbar", strings.Join(c.d.Changes, ", "))
				continue
			}
			c.add(itemPath(i, "pzn"), "Abgegeben wurde PZN %s statt der verordneten PZN %s, obwohl der Austausch ausgeschlossen ist (aut idem). Bitte das verordnete Arzneimittel abgeben oder die Rücksprache mit der Praxis als Rezeptänderung dokumentieren.",
				it.PZN, m.PZN)
		}
	}
}

// prescribed returns a prescribed drug as an article: from the Artikelstamm for a PZN,
// built from the prescription for an ingredient prescription; ok is false when that is
// not possible, and the reason is reported.
func (c *check) prescribed(m prescription.Medication) (articles.Article, bool) {
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
	if c.p == nil || c.d == nil {
		return
	}
	for _, o := range c.paired(substitutionAllowed) {
		c.substitution(o)
	}
}

// substitution judges the products dispensed for one order in place of what it names.
func (c *check) substitution(o order) {
	m := o.m
	var changed []int
	for _, i := range o.items {
		if m.Kind != prescription.MedPZN || c.d.Items[i].PZN != m.PZN {
			changed = append(changed, i)
		}
	}
	if len(changed) == 0 || !c.haveArticles() {
		return
	}
	want, ok := c.prescribed(m)
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
		if m.Kind != prescription.MedPZN || c.split(o) {
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
	counted := func(m prescription.Medication) bool {
		return m.Kind == prescription.MedPZN || m.Kind == prescription.MedIngredient
	}
	for _, o := range c.paired(counted) {
		c.quantity(o)
	}
}

// quantity holds what was dispensed for one order to the amount prescribed.
func (c *check) quantity(o order) {
	m := o.m
	if len(o.items) == 0 {
		return
	}
	want := max(m.Quantity, 1)
	same := true
	total := 0
	for _, i := range o.items {
		it := c.d.Items[i]
		same = same && m.Kind == prescription.MedPZN && it.PZN == m.PZN
		total += packs(it)
	}
	if same {
		if total > want {
			c.add("dispense.items", "Abgegeben wurden %d Packungen, verordnet sind %d%s. Bitte die Abgabemenge auf die Verordnung begrenzen.", total, want, c.lineOf(o.line))
		}
		return
	}
	if !c.haveArticles() {
		return
	}
	per, ok := unitsOf(m.PackSize)
	if !ok && m.Kind == prescription.MedPZN {
		if a, found := c.prescribed(m); found {
			per, ok = unitsOf(a.PackSize)
		}
	}
	if !ok {
		c.skip("die verordnete Packungsgröße ist nicht bekannt")
		return
	}
	var units float64
	for _, i := range o.items {
		it := c.d.Items[i]
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
		c.add("dispense.items", "Abgegeben wurden %s Einheiten, verordnet sind %s%s. Bitte die Abgabemenge auf die Verordnung begrenzen.",
			trimFloat(units), trimFloat(limit), c.lineOf(o.line))
	}
}

func trimFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// checkPackSize holds the product the pharmacy chose for an ingredient prescription to
// the prescribed Normgröße. (A substitute for a prescribed product is judged as a whole,
// pack size class included, by SUBSTITUTION-INVALID.)
func checkPackSize(c *check) {
	if c.p == nil || c.d == nil {
		return
	}
	sized := func(m prescription.Medication) bool {
		return m.Kind == prescription.MedIngredient && m.Normgroesse != ""
	}
	for _, o := range c.paired(sized) {
		m := o.m
		if c.split(o) {
			continue
		}
		for _, i := range o.items {
			it := c.d.Items[i]
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
