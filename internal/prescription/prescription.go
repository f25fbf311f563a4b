// Package prescription is the Rezeptprüfung's model of a prescription — what the doctor
// prescribed (Verordnung), on an E-Rezept or a paper Muster 16 — and of what the pharmacy
// dispensed and bills (Abgabe), with the identifiers' check digits. Readers fill it from
// E-Rezept bundles (package erezept) or from OCR; the rules (package retax) check it.
package prescription

import (
	"time"
)

// Kind is the kind of prescription, as the rules tell them apart.
type Kind string

const (
	GKV     Kind = "gkv"      // Muster 16 / E-Rezept flow type 160 (169: direct assignment)
	PKV     Kind = "pkv"      // private, flow type 200 (209) or a blue paper form
	BtM     Kind = "btm"      // Betäubungsmittel (narcotics) prescription
	TRezept Kind = "t_rezept" // thalidomide analogues (lenalidomide, pomalidomide …)
)

// Legal bases (Statuskennzeichen) that change the rules.
const (
	LegalNormal        = "00"
	LegalDischarge     = "04" // Entlassmanagement (Entlassrezept)
	LegalReplacement   = "10" // Ersatzverordnung
	LegalDischargeRepl = "14" // Ersatzverordnung im Entlassmanagement
)

// Co-payment status (StatusCoPayment, Muster 16 "Gebühr frei" / "Geb.-pfl.").
const (
	CoPaymentDue       = "0" // zuzahlungspflichtig
	CoPaymentExempt    = "1" // gebührenfrei
	CoPaymentArtFertil = "2" // künstliche Befruchtung (§ 27a SGB V): 50 % of the price
)

// Payer types (Kostenträger).
const (
	PayerGKV = "GKV"
	PayerPKV = "PKV"
	PayerBG  = "BG"  // Berufsgenossenschaft
	PayerUK  = "UK"  // Unfallkasse
	PayerSKT = "SKT" // sonstige Kostenträger (Bundeswehr, Bundespolizei …)
	PayerSEL = "SEL" // Selbstzahler
)

// Medication kinds.
const (
	MedPZN         = "pzn"         // a finished product by PZN
	MedIngredient  = "ingredient"  // Wirkstoffverordnung
	MedFreeText    = "freetext"    // Freitextverordnung
	MedCompounding = "compounding" // Rezeptur
)

// Medication categories (KBV_CS_ERP_Medication_Category).
const (
	CategoryNormal = "00"
	CategoryBtM    = "01"
	CategoryAMVV   = "02" // § 3a AMVV: T-Rezept substances
)

// Prescription is what the doctor prescribed. Dates are "YYYY-MM-DD" (a birth date may be
// a year only, as FHIR allows); empty when not stated.
type Prescription struct {
	ID     string // Rezept-ID "160.000.764.737.300.50"; empty on paper
	Source string // what it was read from: "KBV_PR_ERP_Bundle|1.4", "Muster16"
	Kind   Kind
	Flow   string // E-Rezept flow type: "160", "169", "200", "209"

	LegalBasis  string // Statuskennzeichen, see Legal…
	Pruefnummer string // KBV test number of the prescribing software
	FormType    string // Formular-Art ("e16A")

	Patient Patient
	Payer   Payer
	Doctor  Doctor
	BSNR    string // Betriebsstättennummer of the practice

	AuthoredOn string // Ausstellungsdatum
	CoPayment  string // see CoPayment…; empty for PKV
	Noctu      bool   // Notdienstgebühr to be paid by the payer
	SER        bool   // soziales Entschädigungsrecht / BVG
	Accident   *Accident
	Multiple   *Multiple // Mehrfachverordnung part

	Medication Medication
	// More are a paper prescription's further lines: a Muster 16 orders up to three
	// drugs, each billed on its own Taxzeile. An E-Rezept orders one (Medication).
	More []Medication

	// Gaps are parts the reader found missing in the structure ("Composition.section:Coverage").
	Gaps []string
}

// Patient is who the prescription is for.
type Patient struct {
	Name       string
	BirthDate  string
	KVNR       string // Krankenversichertennummer (GKV) or PKV id
	PostalCode string
	// PersonGroup is the besondere Personengruppe ("00" none, "04" BSHG, "06" BVG …).
	PersonGroup string
	DMP         string
	// ChildbearingFemale is set when the patient is a woman of childbearing age, which
	// matters for retinoids and T-Rezept substances (shorter validity). Readers set it only
	// when the data says so.
	ChildbearingFemale bool
}

// Payer is the insurer or other body that pays (Kostenträger).
type Payer struct {
	Type  string // see Payer…
	IK    string
	AltIK string // alternative IK (e.g. of an accident insurer)
	Name  string
}

// Doctor is who prescribed.
type Doctor struct {
	LANR          string
	ZANR          string // dentists
	Qualification string // KBV_CS_FOR_Qualification_Type ("00" Arzt, "03" Arzt in Weiterbildung …)
	Name          string
}

// Accident data (Unfallkennzeichen 1 Unfall, 2 Arbeitsunfall, 4 Berufskrankheit …).
type Accident struct {
	Code     string
	Date     string
	Employer string // Unfallbetrieb
}

// Multiple is one part of a Mehrfachverordnung (repeat prescription).
type Multiple struct {
	Index, Total int
	ID           string
	Start, End   string // validity of this part; End empty: 365 days after issue
}

// Medication is what is prescribed on one line.
type Medication struct {
	Kind        string // see Med…
	Category    string // see Category…
	PZN         string
	Name        string // product name or free text
	Ingredients []Ingredient
	Form        string // KBV Darreichungsform code ("TAB") or text
	Normgroesse string // "N1", "N2", "N3", "KTP"
	PackSize    string // amount in the pack as stated ("12")
	PackUnit    string
	Quantity    int    // packs prescribed (dispenseRequest.quantity)
	Dosage      string // as prescribed, when stated
	DosageFlag  bool   // the doctor stated a dosage (or "Dj")
	// Substitution is whether aut idem substitution is allowed; nil when not stated
	// (required for a PZN, forbidden for an ingredient prescription).
	Substitution *bool
	Vaccine      bool
}

// Medications are the drugs ordered, in the order of the prescription's lines.
func (p *Prescription) Medications() []Medication {
	return append([]Medication{p.Medication}, p.More...)
}

// Ingredient is an active ingredient with its strength.
type Ingredient struct {
	Name     string
	ASK      string // Arzneistoffkatalog number
	Strength string // "100 mg", as stated
}

// Dispense is what the pharmacy handed over and bills for one prescription: the DAV
// Abgabedaten and/or gematik's MedicationDispense.
type Dispense struct {
	PrescriptionID string
	Source         string
	PharmacyIK     string
	// HandedOver is when the patient got the drug; HasTime tells whether the data gave a
	// clock time (otherwise the time is midnight in Berlin).
	HandedOver time.Time
	HasTime    bool
	KVNR       string // from the MedicationDispense's subject, when present
	Items      []Item
	TotalGross int64 // euro cents
	CoPayment  int64 // total co-payment, euro cents
	// Substituted is the MedicationDispense's wasSubstituted; nil when not stated.
	Substituted *bool
	// Changes are Rezeptänderung codes (Zusatzattribut Gruppe 10 "Rezeptänderung").
	Changes []string
}

// Item is one billed line: a product by PZN or a special code (Sonderkennzeichen).
type Item struct {
	PZN       string // product
	Special   string // TA1 Sonderkennzeichen ("02567018" Notdienstgebühr)
	Factor    string // as written ("1", "1000")
	Quantity  int    // packs, from MedicationDispense
	Price     int64  // amount, euro cents, gross
	CoPayment int64  // euro cents
	VAT       string // rate in percent, "19.00"
	// Attributes are the Zusatzattribut groups of the line ("11" Noctu, "16" Teilmenge …).
	Attributes []string
	// NoctuAt is the Zusatzattribut AbgabeNoctu time, when billed with one.
	NoctuAt time.Time
	Batch   string
}

// Code is the PZN or the special code of an item.
func (it Item) Code() string {
	if it.Special != "" {
		return it.Special
	}
	return it.PZN
}
