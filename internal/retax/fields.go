package retax

import (
	"github.com/tresen/tresen/internal/prescription"
)

// Accident codes (Unfallkennzeichen) that need the day of the accident, and the employer.
const (
	accident     = "1" // Unfall
	workAccident = "2" // Arbeitsunfall
)

// checkFieldsMissing reports every mandatory field the prescription type lacks.
func checkFieldsMissing(c *check) {
	if p := c.p; p != nil {
		missing := func(path, what string) {
			c.add(path, "Pflichtangabe fehlt: %s. Bitte von der Praxis ergänzen lassen; ohne sie droht die Retaxation.", what)
		}
		for _, g := range p.Gaps {
			missing(g, "Abschnitt "+g)
		}
		if p.Patient.Name == "" {
			missing("patient.name", "Name der Patientin oder des Patienten")
		}
		if p.Patient.BirthDate == "" {
			missing("patient.birthDate", "Geburtsdatum")
		}
		if p.Patient.PostalCode == "" {
			missing("patient.address.postalCode", "Postleitzahl der Anschrift")
		}
		if p.AuthoredOn == "" {
			missing("medicationRequest.authoredOn", "Ausstellungsdatum")
		}
		if p.Doctor.LANR == "" && p.Doctor.ZANR == "" {
			missing("practitioner.identifier", "Arztnummer (LANR) oder Zahnarztnummer")
		}
		if c.gkvLike() {
			if p.ID != "" && p.Pruefnummer == "" {
				missing("composition.author.pruefnummer", "Prüfnummer der Verordnungssoftware")
			}
			if p.Patient.KVNR == "" {
				missing("patient.kvnr", "Versichertennummer")
			}
			if p.Payer.IK == "" {
				missing("coverage.payor.ik", "IK des Kostenträgers")
			}
			if p.BSNR == "" {
				missing("organization.bsnr", "Betriebsstättennummer")
			}
		}
		if p.Payer.Type == prescription.PayerGKV && p.CoPayment == "" {
			missing("medicationRequest.statusCoPayment", "Zuzahlungsstatus (gebührenpflichtig oder gebührenfrei)")
		}
		if a := p.Accident; a != nil {
			if (a.Code == accident || a.Code == workAccident) && a.Date == "" {
				missing("medicationRequest.accident.unfalltag", "Unfalltag")
			}
			if a.Code == workAccident && a.Employer == "" {
				missing("medicationRequest.accident.unfallbetrieb", "Unfallbetrieb bei Arbeitsunfall")
			}
		}
		for i, m := range p.Medications() {
			missingMedication(c, i, m)
		}
	}
	if d := c.d; d != nil {
		missing := func(path, what string) {
			c.add(path, "Angabe fehlt in den Abgabedaten: %s. Bitte in der Warenwirtschaft ergänzen.", what)
		}
		if d.HandedOver.IsZero() {
			missing("dispense.whenHandedOver", "Abgabedatum")
		}
		if d.Source != "" && d.PharmacyIK == "" && d.TotalGross != 0 {
			missing("dispense.pharmacy.ik", "IK der Apotheke")
		}
		if len(d.Items) == 0 {
			missing("dispense.items", "abgegebene Arzneimittel")
		}
	}
}

// missingMedication reports the mandatory fields the prescription's i-th drug lacks.
func missingMedication(c *check, i int, m prescription.Medication) {
	missing := func(path, what string) {
		c.add(medPath(i, path), "Pflichtangabe fehlt: %s%s. Bitte von der Praxis ergänzen lassen; ohne sie droht die Retaxation.", what, c.lineOf(i))
	}
	switch m.Kind {
	case prescription.MedPZN:
		if m.PZN == "" {
			missing("medication.code.pzn", "PZN des verordneten Arzneimittels")
		}
		if m.Substitution == nil {
			missing("medicationRequest.substitution", "Aut-idem-Kennzeichen")
		}
	case prescription.MedFreeText:
		if m.Name == "" {
			missing("medication.code.text", "Text der Freitextverordnung")
		}
	case prescription.MedIngredient:
		if len(m.Ingredients) == 0 || m.Ingredients[0].Name == "" {
			missing("medication.ingredient", "Wirkstoff")
		} else if m.Ingredients[0].Strength == "" {
			missing("medication.ingredient.strength", "Wirkstärke")
		}
		if m.Form == "" {
			missing("medication.form", "Darreichungsform")
		}
	case prescription.MedCompounding:
		if len(m.Ingredients) == 0 {
			missing("medication.ingredient", "Bestandteile der Rezeptur")
		}
	case "":
		missing("medication", "verordnetes Arzneimittel")
	}
	if (m.Kind == prescription.MedPZN || m.Kind == prescription.MedIngredient) && m.Normgroesse == "" && m.PackSize == "" {
		missing("medication.amount", "Normgröße oder Packungsgröße")
	}
	if m.Quantity <= 0 && m.Kind != "" {
		missing("medicationRequest.dispenseRequest.quantity", "Anzahl der Packungen")
	}
}

// checkFieldsNotAllowed reports what a prescription type must not carry.
func checkFieldsNotAllowed(c *check) {
	if c.p == nil {
		return
	}
	for i, m := range c.p.Medications() {
		if m.Substitution != nil && m.Kind == prescription.MedIngredient {
			c.add(medPath(i, "medicationRequest.substitution"), "Eine Wirkstoffverordnung%s darf kein Aut-idem-Kennzeichen tragen: die Apotheke wählt ohnehin das Präparat. Bitte mit der Praxis klären.", c.lineOf(i))
		}
	}
	if c.p.Kind == prescription.PKV && c.p.CoPayment != "" {
		c.add("medicationRequest.statusCoPayment", "Eine Privatverordnung trägt keinen Zuzahlungsstatus. Bitte mit der Praxis klären.")
	}
}
