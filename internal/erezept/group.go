package erezept

import (
	"github.com/tresen/tresen/internal/prescription"
)

// Case is everything read about one prescription: the doctor's prescription and the
// pharmacy's dispense, merged from the Abgabedaten and the MedicationDispense.
type Case struct {
	ID           string
	Files        []string // names, in the order given
	Prescription *prescription.Prescription
	Dispense     *prescription.Dispense
	// Profiles are the profiles of the files; Unsupported those the readers do not know.
	Profiles    []string
	Unsupported []string
}

// Group matches files by Rezept-ID, in the order their IDs first appear. A file without
// an ID is a case of its own.
func Group(files []File) []Case {
	var cases []*Case
	byID := map[string]*Case{}
	for _, f := range files {
		c := byID[f.PrescriptionID]
		if c == nil || f.PrescriptionID == "" {
			c = &Case{ID: f.PrescriptionID}
			cases = append(cases, c)
			if f.PrescriptionID != "" {
				byID[f.PrescriptionID] = c
			}
		}
		c.Files = append(c.Files, f.Name)
		c.Profiles = append(c.Profiles, f.Profile)
		if !f.Supported {
			c.Unsupported = append(c.Unsupported, f.Profile)
		}
		switch {
		case f.Prescription != nil && c.Prescription == nil:
			c.Prescription = f.Prescription
		case f.Dispense != nil:
			c.Dispense = mergeDispense(c.Dispense, f.Dispense)
		}
	}
	out := make([]Case, len(cases))
	for i, c := range cases {
		out[i] = *c
	}
	return out
}

// mergeDispense joins what the Abgabedaten (prices, pharmacy, special codes) and the
// MedicationDispense (patient, packs, substitution) say about one dispense.
func mergeDispense(a, b *prescription.Dispense) *prescription.Dispense {
	if a == nil {
		return b
	}
	billing, workflow := a, b
	if len(b.Items) > 0 && b.Items[0].Price != 0 || b.PharmacyIK != "" && a.PharmacyIK == "" {
		billing, workflow = b, a
	}
	m := *billing
	m.Items = append([]prescription.Item(nil), billing.Items...)
	m.Source = billing.Source + " + " + workflow.Source
	if m.KVNR == "" {
		m.KVNR = workflow.KVNR
	}
	if m.Substituted == nil {
		m.Substituted = workflow.Substituted
	}
	if m.HandedOver.IsZero() || workflow.HasTime && !m.HasTime {
		m.HandedOver, m.HasTime = workflow.HandedOver, workflow.HasTime
	}
	// Packs per PZN come from the workflow; lines it names that billing lacks are kept.
	for _, w := range workflow.Items {
		found := false
		for i := range m.Items {
			if m.Items[i].PZN != "" && m.Items[i].PZN == w.PZN {
				found = true
				if m.Items[i].Quantity == 0 {
					m.Items[i].Quantity = w.Quantity
				}
				if m.Items[i].Batch == "" {
					m.Items[i].Batch = w.Batch
				}
			}
		}
		if !found && len(billing.Items) == 0 {
			m.Items = append(m.Items, w)
		}
	}
	return &m
}
