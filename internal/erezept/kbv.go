package erezept

import (
	"strconv"
	"strings"

	"github.com/tresen/tresen/internal/fhir"
	"github.com/tresen/tresen/internal/prescription"
)

// Extensions of the KBV prescription (KBV_PR_ERP_* 1.3 and 1.4, KBV_PR_FOR_* 1.2 and 1.3).
const (
	kbv             = "https://fhir.kbv.de/StructureDefinition/"
	extLegalBasis   = kbv + "KBV_EX_FOR_Legal_basis"
	extCoPayment    = kbv + "KBV_EX_FOR_StatusCoPayment"
	extNoctu        = kbv + "KBV_EX_ERP_EmergencyServicesFee"
	extSER          = kbv + "KBV_EX_FOR_SER"
	extBVG          = kbv + "KBV_EX_ERP_BVG" // before 1.3
	extMultiple     = kbv + "KBV_EX_ERP_Multiple_Prescription"
	extDosageFlag   = kbv + "KBV_EX_ERP_DosageFlag"
	extAccident     = kbv + "KBV_EX_FOR_Accident"
	extAccident11   = kbv + "KBV_EX_ERP_Accident"
	extCategory     = kbv + "KBV_EX_ERP_Medication_Category"
	extVaccine      = kbv + "KBV_EX_ERP_Medication_Vaccine"
	extPackSize     = kbv + "KBV_EX_ERP_Medication_PackagingSize"
	extIngrAmount   = kbv + "KBV_EX_ERP_Medication_Ingredient_Amount"
	extAltIK        = kbv + "KBV_EX_FOR_Alternative_IK"
	extNormgroesse  = "http://fhir.de/StructureDefinition/normgroesse"
	extPersonGroup  = "http://fhir.de/StructureDefinition/gkv/besondere-personengruppe"
	extDMP          = "http://fhir.de/StructureDefinition/gkv/dmp-kennzeichen"
	extRenderedDose = "http://hl7.org/fhir/5.0/StructureDefinition/extension-MedicationRequest.renderedDosageInstruction"
	csQualification = "https://fhir.kbv.de/CodeSystem/KBV_CS_FOR_Qualification_Type"
)

// readKBV reads a KBV prescription bundle. Missing parts stay empty: saying what is
// missing is the checks' job.
func readKBV(b *fhir.Bundle, profile string) *prescription.Prescription {
	p := &prescription.Prescription{Source: strings.TrimPrefix(profile, kbv), ID: b.Root.Identifier(sysPrescriptionID)}
	p.Flow = prescription.FlowType(p.ID)

	comp := b.First("Composition")
	p.LegalBasis = comp.Ext(extLegalBasis).ExtValue()
	p.FormType = comp.Get("type").Code("")
	for _, a := range comp.All("author") {
		if id := a.Child("identifier"); id.Str("system") == sysPruefnummer {
			p.Pruefnummer = id.Str("value")
		}
	}

	req := b.First("MedicationRequest")
	p.CoPayment = req.Ext(extCoPayment).ExtValue()
	p.Noctu = boolean(req.Ext(extNoctu).ExtValue())
	p.SER = boolean(req.Ext(extSER).ExtValue()) || boolean(req.Ext(extBVG).ExtValue())
	p.AuthoredOn = req.Str("authoredOn")
	if acc := req.Ext(extAccident); acc != nil || req.Ext(extAccident11) != nil {
		if acc == nil {
			acc = req.Ext(extAccident11)
		}
		p.Accident = &prescription.Accident{
			Code:     firstValue(acc, "Unfallkennzeichen", "unfallkennzeichen"),
			Date:     firstValue(acc, "Unfalltag", "unfalltag"),
			Employer: firstValue(acc, "Unfallbetrieb", "unfallbetrieb"),
		}
	}
	if mv := req.Ext(extMultiple); boolean(mv.Ext("Kennzeichen").ExtValue()) {
		m := &prescription.Multiple{ID: mv.Ext("ID").ExtValue()}
		ratio := mv.Ext("Nummerierung").Child("valueRatio")
		m.Index, _ = strconv.Atoi(ratio.Str("numerator", "value"))
		m.Total, _ = strconv.Atoi(ratio.Str("denominator", "value"))
		period := mv.Ext("Zeitraum").Child("valuePeriod")
		m.Start, m.End = period.Str("start"), period.Str("end")
		p.Multiple = m
	}

	med := readMedication(b.Ref(req.Child("medicationReference")))
	med.Quantity, _ = strconv.Atoi(req.Str("dispenseRequest", "quantity", "value"))
	if s := req.Get("substitution", "allowedBoolean"); s != nil {
		allowed := boolean(s.Value)
		med.Substitution = &allowed
	}
	dose := req.Child("dosageInstruction")
	med.DosageFlag = boolean(req.Ext(extDosageFlag).ExtValue()) || boolean(dose.Ext(extDosageFlag).ExtValue())
	med.Dosage = dose.Str("text")
	if med.Dosage == "" {
		med.Dosage = req.Ext(extRenderedDose).ExtValue()
	}
	p.Medication = med

	pat := b.Ref(req.Child("subject"))
	p.Patient = prescription.Patient{
		KVNR:       firstNonEmpty(pat.Identifier(sysKVNR), pat.Identifier(sysKVNRPKV)),
		Name:       humanName(pat.Child("name")),
		BirthDate:  pat.Str("birthDate"),
		PostalCode: pat.Str("address", "postalCode"),
	}

	doc := b.Ref(req.Child("requester"))
	p.Doctor = prescription.Doctor{LANR: doc.Identifier(sysLANR), ZANR: doc.Identifier(sysZANR), Name: humanName(doc.Child("name"))}
	for _, q := range doc.All("qualification") {
		if c := q.Get("code").Code(csQualification); c != "" {
			p.Doctor.Qualification = c
		}
	}

	org := b.Ref(comp.Child("custodian"))
	if org == nil {
		org = b.First("Organization")
	}
	p.BSNR = firstNonEmpty(org.Identifier(sysBSNR), org.Identifier(sysKZVAbrechnung))

	cov := b.Ref(req.Child("insurance"))
	p.Payer = prescription.Payer{
		Type: cov.Get("type").Code(""),
		Name: cov.Str("payor", "display"),
	}
	if id := cov.Get("payor", "identifier"); id.Str("system") == sysIK {
		p.Payer.IK = id.Str("value")
		p.Payer.AltIK = id.Ext(extAltIK).ExtValue()
	}
	p.Patient.PersonGroup = cov.Ext(extPersonGroup).ExtValue()
	p.Patient.DMP = cov.Ext(extDMP).ExtValue()

	p.Kind = kind(p)
	p.Gaps = gaps(comp, req, med.Kind != "", pat, doc, cov)
	return p
}

// gaps names the parts of a KBV bundle that are missing or that its references miss.
func gaps(comp, req *fhir.Node, med bool, pat, doc, cov *fhir.Node) []string {
	var out []string
	sections := map[string]bool{}
	for _, s := range comp.All("section") {
		sections[s.Get("code").Code("")] = true
	}
	for _, s := range []string{"Prescription", "Coverage"} {
		if comp != nil && !sections[s] {
			out = append(out, "Composition.section:"+s)
		}
	}
	for _, r := range []struct {
		name string
		ok   bool
	}{{"Composition", comp != nil}, {"MedicationRequest", req != nil}, {"Medication", med}, {"Patient", pat != nil}, {"Practitioner", doc != nil}, {"Coverage", cov != nil}} {
		if !r.ok {
			out = append(out, r.name)
		}
	}
	return out
}

// kind tells the kind of prescription from its flow type, payer and medication category.
func kind(p *prescription.Prescription) prescription.Kind {
	switch {
	case p.Medication.Category == prescription.CategoryBtM:
		return prescription.BtM
	case p.Medication.Category == prescription.CategoryAMVV:
		return prescription.TRezept
	case p.Flow == "200" || p.Flow == "209" || p.Payer.Type == prescription.PayerPKV:
		return prescription.PKV
	}
	return prescription.GKV
}

// readMedication reads a KBV Medication (PZN, ingredient, free text or compounding).
func readMedication(m *fhir.Node) prescription.Medication {
	var med prescription.Medication
	if m == nil {
		return med
	}
	url, _ := m.Profile()
	switch {
	case strings.HasSuffix(url, "_PZN"):
		med.Kind = prescription.MedPZN
	case strings.HasSuffix(url, "_Ingredient"):
		med.Kind = prescription.MedIngredient
	case strings.HasSuffix(url, "_FreeText"):
		med.Kind = prescription.MedFreeText
	case strings.HasSuffix(url, "_Compounding"):
		med.Kind = prescription.MedCompounding
	}
	med.Category = m.Ext(extCategory).ExtValue()
	med.Vaccine = boolean(m.Ext(extVaccine).ExtValue())
	med.Normgroesse = m.Ext(extNormgroesse).ExtValue()
	code := m.Child("code")
	med.PZN = code.Code(sysPZN)
	if med.Kind == "" && med.PZN != "" {
		med.Kind = prescription.MedPZN
	}
	med.Name = code.Str("text")
	med.Form = firstNonEmpty(m.Get("form").Code(""), m.Str("form", "text"))
	num := m.Get("amount", "numerator")
	med.PackSize = firstNonEmpty(num.Ext(extPackSize).ExtValue(), num.Str("value"))
	med.PackUnit = num.Str("unit")
	for _, in := range m.All("ingredient") {
		item := in.Child("itemCodeableConcept")
		strength := in.Child("strength")
		s := strings.TrimSpace(strength.Str("numerator", "value") + " " + strength.Str("numerator", "unit"))
		if s == "" {
			s = strength.Ext(extIngrAmount).ExtValue()
		}
		med.Ingredients = append(med.Ingredients, prescription.Ingredient{
			Name:     item.Str("text"),
			ASK:      item.Code(sysASK),
			Strength: s,
		})
	}
	return med
}

func humanName(n *fhir.Node) string {
	if n == nil {
		return ""
	}
	var parts []string
	for _, g := range n.All("given") {
		parts = append(parts, g.Value)
	}
	if f := n.Str("family"); f != "" {
		parts = append(parts, f)
	}
	return strings.Join(parts, " ")
}

// firstValue returns the value of the first sub-extension named by one of urls.
func firstValue(ext *fhir.Node, urls ...string) string {
	for _, u := range urls {
		if v := ext.Ext(u).ExtValue(); v != "" {
			return v
		}
	}
	return ""
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
