package erezept

import (
	"strconv"
	"strings"

	"github.com/tresen/tresen/internal/fhir"
	"github.com/tresen/tresen/internal/prescription"
)

// Extensions of the DAV Abgabedaten (de.abda.erezeptabgabedaten 1.5, PKV 1.4).
const (
	dav                = "http://fhir.abda.de/eRezeptAbgabedaten/StructureDefinition/"
	extLines           = dav + "DAV-EX-ERP-Abrechnungszeilen"
	extVAT             = dav + "DAV-EX-ERP-MwStSatz"
	extPatientCost     = dav + "DAV-EX-ERP-KostenVersicherter"
	extTotalCoPayment  = dav + "DAV-EX-ERP-Gesamtzuzahlung"
	extAttributes      = dav + "DAV-EX-ERP-Zusatzattribute"
	extBatch           = dav + "DAV-EX-ERP-Chargenbezeichnung"
	extChange          = dav + "DAV-EX-ERP-Rezeptaenderung"
	attrNoctu          = "ZusatzattributAbgabeNoctu"
	patientCostCoPayme = "0" // KostenVersicherter Kategorie 0: Zuzahlung
)

// readDAV reads the pharmacy's Abgabedaten: the dispense, the pharmacy and the billed
// lines.
func readDAV(b *fhir.Bundle, profile string) *prescription.Dispense {
	d := &prescription.Dispense{Source: strings.TrimPrefix(profile, dav)}
	for _, md := range b.OfType("MedicationDispense") {
		if id := md.Get("authorizingPrescription").Identifier(sysPrescriptionID); id != "" {
			d.PrescriptionID = id
		} else if id := md.Child("authorizingPrescription").Str("identifier", "value"); id != "" {
			d.PrescriptionID = id
		}
		if t, hasTime, ok := handedOver(md.Str("whenHandedOver")); ok && (d.HandedOver.IsZero() || t.After(d.HandedOver)) {
			d.HandedOver, d.HasTime = t, hasTime
		}
		for _, ch := range md.Exts(extChange) {
			if c := firstValue(ch, "ArtRezeptaenderung"); c != "" {
				d.Changes = append(d.Changes, c)
			}
		}
		if inv := b.Resolve(md.Ext(extLines).ExtValue()); inv != nil {
			readInvoice(d, inv)
		}
		if org := b.Ref(md.Get("performer", "actor")); org != nil && d.PharmacyIK == "" {
			d.PharmacyIK = org.Identifier(sysIK)
		}
	}
	if d.PharmacyIK == "" {
		for _, org := range b.OfType("Organization") {
			if ik := org.Identifier(sysIK); ik != "" {
				d.PharmacyIK = ik
				break
			}
		}
	}
	return d
}

func readInvoice(d *prescription.Dispense, inv *fhir.Node) {
	for _, li := range inv.All("lineItem") {
		var it prescription.Item
		charge := li.Child("chargeItemCodeableConcept")
		it.PZN = charge.Code(sysPZN)
		it.Special = charge.Code(sysTA1)
		pc := li.Child("priceComponent")
		it.Factor = pc.Str("factor")
		it.Price, _ = cents(pc.Str("amount", "value"))
		it.VAT = pc.Ext(extVAT).ExtValue()
		if cost := pc.Ext(extPatientCost); cost.Ext("Kategorie").ExtValue() == patientCostCoPayme {
			it.CoPayment, _ = cents(cost.Ext("Kostenbetrag").ExtValue())
		}
		it.Batch = li.Ext(extBatch).ExtValue()
		for _, group := range li.Ext(extAttributes).All("extension") {
			if g := group.Ext("Gruppe").ExtValue(); g != "" {
				it.Attributes = append(it.Attributes, g)
			}
			if group.URL == attrNoctu {
				if t, hasTime, ok := handedOver(group.Ext("DatumUhrzeit").ExtValue()); ok && hasTime {
					it.NoctuAt = t
				}
			}
		}
		d.Items = append(d.Items, it)
	}
	total := inv.Child("totalGross")
	if v, ok := cents(total.Str("value")); ok {
		d.TotalGross += v
	}
	if v, ok := cents(total.Ext(extTotalCoPayment).ExtValue()); ok {
		d.CoPayment += v
	}
}

// readGEMDispense reads gematik MedicationDispense resources: in the $close operation's
// Parameters, in a Bundle, or on their own.
func readGEMDispense(root *fhir.Node, profile string) *prescription.Dispense {
	d := &prescription.Dispense{Source: profile[strings.LastIndexByte(profile, '/')+1:]}
	meds := map[string]*fhir.Node{} // Medication by id
	var dispenses []*fhir.Node
	var walk func(n *fhir.Node, depth int)
	walk = func(n *fhir.Node, depth int) {
		if depth > 6 {
			return
		}
		for _, c := range n.Children {
			switch c.Name {
			case "MedicationDispense":
				dispenses = append(dispenses, c)
			case "Medication":
				meds[c.Str("id")] = c
			default:
				walk(c, depth+1)
			}
		}
	}
	if root.Name == "MedicationDispense" {
		dispenses = append(dispenses, root)
	} else {
		walk(root, 0)
	}
	for _, md := range dispenses {
		if id := md.Identifier(sysPrescriptionID); id != "" {
			d.PrescriptionID = id
		}
		if kvnr := md.Get("subject").Identifier(sysKVNR); kvnr != "" {
			d.KVNR = kvnr
		} else if kvnr := md.Child("subject").Str("identifier", "value"); kvnr != "" {
			d.KVNR = kvnr
		}
		if t, hasTime, ok := handedOver(md.Str("whenHandedOver")); ok && (d.HandedOver.IsZero() || t.After(d.HandedOver)) {
			d.HandedOver, d.HasTime = t, hasTime
		}
		if s := md.Get("substitution", "wasSubstituted"); s != nil {
			v := boolean(s.Value)
			if d.Substituted == nil || v {
				d.Substituted = &v
			}
		}
		it := prescription.Item{}
		it.Quantity, _ = strconv.Atoi(md.Str("quantity", "value"))
		ref := md.Str("medicationReference", "reference")
		med := meds[strings.TrimPrefix(strings.TrimPrefix(ref, "urn:uuid:"), "Medication/")]
		if med == nil {
			med = md.Child("contained").Resource()
		}
		it.PZN = firstNonEmpty(med.Get("code").Code(sysPZN), md.Get("medicationCodeableConcept").Code(sysPZN))
		it.Batch = med.Str("batch", "lotNumber")
		d.Items = append(d.Items, it)
	}
	return d
}
