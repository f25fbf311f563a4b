package rxcheck

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/berlin"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/muster16"
	"github.com/tresen/tresen/internal/prescription"
	"github.com/tresen/tresen/internal/retax"
	"github.com/tresen/tresen/internal/retention"
	"github.com/tresen/tresen/internal/store"
)

// Paper is a prescription read from a scanned Muster 16: the values as OCR read them or
// as a person corrected them, what still needs a person's look, and where each field sits
// on the form image kept with the check (for the review view).
type Paper struct {
	// PageID is the scanned page it was read from (a retention.PrescriptionImage record).
	PageID string                `json:"page_id"`
	Form   string                `json:"form"`
	Fields map[string]PaperField `json:"fields"`
	// Review is OCR's list of what to check, "key: why"; a correction of a field takes
	// its entries off.
	Review []string `json:"review"`
	// Boxes are the fields' boxes on the form image, x, y, width, height in pixels;
	// Size is that image's width and height.
	Boxes map[string][4]int `json:"boxes,omitempty"`
	Size  [2]int            `json:"size,omitempty"`
}

// PaperField is one value of a paper prescription.
type PaperField struct {
	Value      string  `json:"value"`
	Confidence float64 `json:"confidence"`
	// Corrected: OCR corrected a misread character by the check digit.
	Corrected bool `json:"corrected,omitempty"`
	// By is the user who set the value by hand, At when; Read is what OCR had read.
	By   string    `json:"by,omitempty"`
	At   time.Time `json:"at,omitzero"`
	Read string    `json:"read,omitempty"`
}

// PaperLabels are the fields' German names, in the order of the form.
var PaperLabels = []struct{ Key, Label string }{
	{"payer_name", "Krankenkasse"}, {"payer_ik", "Kostenträgerkennung (IK)"},
	{"patient_name", "Name, Vorname"}, {"patient_address", "Anschrift"}, {"birth_date", "Geburtsdatum"},
	{"kvnr", "Versichertennummer"}, {"status", "Status"}, {"bsnr", "Betriebsstättennummer"},
	{"lanr", "Arztnummer (LANR)"}, {"date", "Ausstellungsdatum"},
	{"gebuehr_frei", "Gebühr frei"}, {"geb_pfl", "Gebührenpflichtig"}, {"noctu", "noctu"}, {"sonstige", "Sonstige"},
	{"unfall", "Unfall"}, {"arbeitsunfall", "Arbeitsunfall"}, {"bvg", "BVG (6)"}, {"hilfsmittel", "Hilfsmittel (7)"},
	{"impfstoff", "Impfstoff (8)"}, {"sprechstundenbedarf", "Sprechstundenbedarf (9)"}, {"begruendungspflicht", "Begründungspflicht"},
	{"aut_idem_1", "aut idem 1"}, {"aut_idem_2", "aut idem 2"}, {"aut_idem_3", "aut idem 3"},
	{"rx_line_1", "Verordnung 1"}, {"rx_line_2", "Verordnung 2"}, {"rx_line_3", "Verordnung 3"},
	{"pharmacy_ik", "Apotheken-IK"}, {"total_gross", "Gesamt-Brutto"}, {"copayment", "Zuzahlung"},
	{"pzn_1", "PZN 1"}, {"factor_1", "Faktor 1"}, {"price_1", "Taxe 1"},
	{"pzn_2", "PZN 2"}, {"factor_2", "Faktor 2"}, {"price_2", "Taxe 2"},
	{"pzn_3", "PZN 3"}, {"factor_3", "Faktor 3"}, {"price_3", "Taxe 3"},
	{"dispense_date", "Abgabedatum"},
}

// PaperLabel is a field's German name.
func PaperLabel(key string) string {
	for _, l := range PaperLabels {
		if l.Key == key {
			return l.Label
		}
	}
	return key
}

// Open reports the fields still to be reviewed, in the order of the form, and the
// review notes that concern no single field (the form as a whole).
func (p *Paper) Open() (fields []string, general []string) {
	for _, r := range p.Review {
		key, _, ok := strings.Cut(r, ":")
		if _, known := muster16.FieldByKey(key); ok && known {
			if !slices.Contains(fields, key) {
				fields = append(fields, key)
			}
			continue
		}
		general = append(general, r)
	}
	return fields, general
}

// Why is OCR's reason to review key, or "".
func (p *Paper) Why(key string) string {
	var why []string
	for _, r := range p.Review {
		if k, reason, ok := strings.Cut(r, ": "); ok && k == key {
			why = append(why, reason)
		}
	}
	return strings.Join(why, "; ")
}

// AddPaper checks a prescription read from a scanned page and stores it with the form
// image the review view shows (nil: none).
func (s *Service) AddPaper(ctx context.Context, tenantID string, p Paper, image []byte) (Check, error) {
	for key := range p.Fields {
		if _, ok := muster16.FieldByKey(key); !ok {
			return Check{}, errs.E(errs.Invalid, "unbekanntes Feld %q", key)
		}
	}
	set, err := s.Settings(ctx, tenantID)
	if err != nil {
		return Check{}, err
	}
	chk := Check{Paper: &p}
	if err := s.run(&chk, set); err != nil {
		return Check{}, err
	}
	data, err := json.Marshal(chk)
	if err != nil {
		return Check{}, err
	}
	rec, err := s.Store.AddRecord(ctx, tenantID, store.Record{Kind: retention.Prescription, Data: data}, image)
	chk.ID, chk.CreatedAt = rec.ID, rec.CreatedAt
	return chk, err
}

// Correct sets a field of a paper prescription by hand, takes it off the review list and
// checks again. The change is audited with the field's name, never its value.
func (s *Service) Correct(ctx context.Context, tenantID, id, key, value, userID string) (Check, error) {
	f, ok := muster16.FieldByKey(key)
	if !ok {
		return Check{}, errs.E(errs.NotFound, "Dieses Feld gibt es auf dem Muster 16 nicht.")
	}
	v, err := paperValue(f, value)
	if err != nil {
		return Check{}, err
	}
	c, err := s.paper(ctx, tenantID, id)
	if err != nil {
		return Check{}, err
	}
	if c.Paper.Fields == nil {
		c.Paper.Fields = map[string]PaperField{}
	}
	old := c.Paper.Fields[key]
	read := old.Read
	if old.By == "" {
		read = old.Value
	}
	c.Paper.Fields[key] = PaperField{Value: v, Confidence: 1, By: userID, At: s.now(), Read: read}
	c.Paper.Review = slices.DeleteFunc(c.Paper.Review, func(r string) bool { return strings.HasPrefix(r, key+":") })
	if err := s.rerun(ctx, tenantID, &c); err != nil {
		return Check{}, err
	}
	return c, s.Store.Audit(ctx, tenantID, audit.Update, "prescription_field", id, "field="+key)
}

// paper returns a check that was read from paper.
func (s *Service) paper(ctx context.Context, tenantID, id string) (Check, error) {
	c, err := s.Get(ctx, tenantID, id)
	if err != nil {
		return Check{}, err
	}
	if c.Paper == nil {
		return Check{}, errs.E(errs.Invalid, "Dieses Rezept kam nicht vom Papier.")
	}
	return c, nil
}

// maxPaperText bounds a text field typed by hand.
const maxPaperText = 200

var (
	digitsOnly = regexp.MustCompile(`^[0-9]+$`)
	kvnrFormat = regexp.MustCompile(`^[A-Z][0-9]{9}$`)
)

// paperValue checks a value typed by hand against its field's format and returns it as
// `tresen rx ocr` reports it ("" clears the field). Check digits are not enforced here: a
// person types what the form says, and the rules report a wrong check digit.
func paperValue(f muster16.Field, in string) (string, error) {
	s := strings.Join(strings.Fields(in), " ")
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > maxPaperText {
		return "", errs.Field(f.Key, "Höchstens %d Zeichen.", maxPaperText)
	}
	switch f.Kind {
	case muster16.Cross, muster16.Digit:
		switch s {
		case "true", "false":
			return s, nil
		}
		return "", errs.Field(f.Key, "Bitte ankreuzen oder nicht.")
	}
	if s == "" {
		return "", nil
	}
	switch f.Kind {
	case muster16.Digits:
		s = strings.ReplaceAll(s, " ", "")
		if len(s) != f.Len || !digitsOnly.MatchString(s) {
			return "", errs.Field(f.Key, "Bitte genau %d Ziffern eingeben.", f.Len)
		}
	case muster16.KVNR:
		s = strings.ToUpper(strings.ReplaceAll(s, " ", ""))
		if !kvnrFormat.MatchString(s) {
			return "", errs.Field(f.Key, "Bitte einen Großbuchstaben und 9 Ziffern eingeben (z. B. A123456780).")
		}
	case muster16.Status:
		if len(s) != 7 || !digitsOnly.MatchString(s) {
			return "", errs.Field(f.Key, "Bitte die 7 Ziffern des Status eingeben (z. B. 1000000).")
		}
	case muster16.Factor:
		if len(s) > 5 || !digitsOnly.MatchString(s) {
			return "", errs.Field(f.Key, "Bitte den Faktor als ganze Zahl eingeben.")
		}
	case muster16.Amount:
		euros, cents, ok := strings.Cut(strings.ReplaceAll(s, ",", "."), ".")
		if !ok {
			cents = "00"
		}
		if euros == "" || len(euros) > 6 || len(cents) != 2 || !digitsOnly.MatchString(euros+cents) {
			return "", errs.Field(f.Key, "Bitte einen Betrag in Euro eingeben (z. B. 12,34).")
		}
		n, _ := strconv.Atoi(euros)
		s = fmt.Sprintf("%d.%s", n, cents)
	case muster16.Date, muster16.DispenseDate:
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			d, err = time.Parse("02.01.2006", s)
		}
		if err != nil {
			return "", errs.Field(f.Key, "Bitte ein Datum als TT.MM.JJJJ eingeben.")
		}
		s = d.Format(time.DateOnly)
	}
	return s, nil
}

// runPaper checks a paper prescription under the pharmacy's settings.
func (s *Service) runPaper(chk *Check, set Settings) {
	now := s.now()
	chk.Report, chk.Summary = CheckPaper(chk.Paper, retax.Input{At: now, Articles: s.Articles, State: set.State})
	chk.CheckedAt = now
}

// CheckPaper runs the rules over a paper prescription: the form's values become the
// prescription and, when the pharmacy printed its part, the dispense. in gives the
// moment, the Artikelstamm and the Bundesland; its prescription and dispense are ignored.
func CheckPaper(paper *Paper, in retax.Input) (retax.Report, Summary) {
	p, d := paperInput(paper.Fields)
	in.Prescription, in.Dispense, in.Unsupported = &p, d, nil
	rep := retax.Check(in)
	// What OCR does not read from the paper is not missing: the accident's day and
	// employer stand in the boxes below the form.
	if p.Accident != nil {
		rep.Findings = slices.DeleteFunc(rep.Findings, func(f retax.Finding) bool {
			return strings.HasPrefix(f.Path, "medicationRequest.accident.")
		})
		rep.NotChecked = append(rep.NotChecked, "Unfalltag und Unfallbetrieb: auf dem Papierrezept bitte selbst prüfen")
	}
	if open, general := paper.Open(); len(open) > 0 || len(general) > 0 {
		labels := make([]string, len(open))
		for i, k := range open {
			labels[i] = PaperLabel(k)
		}
		if len(general) > 0 {
			labels = append(labels, "Formular")
		}
		rep.NotChecked = append(rep.NotChecked, "Erkennung noch zu prüfen: "+strings.Join(labels, ", "))
	}
	sum := Summary{Payer: p.Payer.Name, Drug: paperDrugs(paper.Fields)}
	if d != nil {
		sum.Total = d.TotalGross
		if !d.HandedOver.IsZero() {
			sum.DispensedOn = d.HandedOver.Format(time.DateOnly)
		}
	}
	return rep, sum
}

func paperDrugs(f map[string]PaperField) string {
	var lines []string
	for _, k := range []string{"rx_line_1", "rx_line_2", "rx_line_3"} {
		if v := f[k].Value; v != "" {
			lines = append(lines, v)
		}
	}
	return strings.Join(lines, " + ")
}

var (
	postalCode = regexp.MustCompile(`\b(?:D[ -]?)?([0-9]{5})\b`)
	normSize   = regexp.MustCompile(`\b(N[123])\b`)
	packCount  = regexp.MustCompile(`^([1-9])\s*[xX×]\s`)
	linePZN    = regexp.MustCompile(`PZN:?\s*([0-9]{8})\b`)
)

// paperInput is the prescription and (when the pharmacy printed its part) the dispense
// a Muster 16's values say: each prescription line is a drug ordered.
func paperInput(f map[string]PaperField) (prescription.Prescription, *prescription.Dispense) {
	v := func(k string) string { return f[k].Value }
	marked := func(k string) bool { return f[k].Value == "true" }
	p := prescription.Prescription{
		Source:     "Muster16",
		Kind:       prescription.GKV,
		Payer:      prescription.Payer{Type: prescription.PayerGKV, IK: v("payer_ik"), Name: v("payer_name")},
		Patient:    prescription.Patient{Name: v("patient_name"), BirthDate: v("birth_date"), KVNR: v("kvnr")},
		Doctor:     prescription.Doctor{LANR: v("lanr")},
		BSNR:       v("bsnr"),
		AuthoredOn: v("date"),
		Noctu:      marked("noctu"),
		SER:        marked("bvg"),
	}
	if m := postalCode.FindStringSubmatch(v("patient_address")); m != nil {
		p.Patient.PostalCode = m[1]
	}
	if st := v("status"); len(st) == 7 {
		p.Patient.PersonGroup, p.Patient.DMP, p.LegalBasis = st[1:3], st[3:5], st[5:7]
	}
	switch {
	case marked("gebuehr_frei"):
		p.CoPayment = prescription.CoPaymentExempt
	case marked("geb_pfl"):
		p.CoPayment = prescription.CoPaymentDue
	}
	switch {
	case marked("arbeitsunfall"):
		p.Accident = &prescription.Accident{Code: "2"}
		if p.Payer.IK == "" { // Arbeitsunfall prescriptions name the accident insurer
			p.Payer.Type = prescription.PayerBG
		}
	case marked("unfall"):
		p.Accident = &prescription.Accident{Code: "1"}
	}
	for _, n := range []string{"1", "2", "3"} {
		line := v("rx_line_" + n)
		if line == "" {
			continue
		}
		m := paperMedication(line, marked("aut_idem_"+n), marked("impfstoff"))
		if p.Medication.Kind == "" {
			p.Medication = m
		} else {
			p.More = append(p.More, m)
		}
	}
	var d prescription.Dispense
	d.Source, d.PharmacyIK = "Muster16", v("pharmacy_ik")
	if day, err := time.ParseInLocation(time.DateOnly, v("dispense_date"), berlin.Location); err == nil {
		d.HandedOver = day
	}
	d.TotalGross, _ = euroCents(v("total_gross"))
	d.CoPayment, _ = euroCents(v("copayment"))
	for _, n := range []string{"1", "2", "3"} {
		code := v("pzn_" + n)
		if code == "" {
			continue
		}
		it := prescription.Item{PZN: code, Factor: v("factor_" + n)}
		if retax.IsSpecialCode(code) {
			it.PZN, it.Special = "", code
		}
		it.Price, _ = euroCents(v("price_" + n))
		d.Items = append(d.Items, it)
	}
	if d.PharmacyIK == "" && d.HandedOver.IsZero() && len(d.Items) == 0 && d.TotalGross == 0 {
		return p, nil // not yet dispensed: the pharmacy's part is empty
	}
	return p, &d
}

// paperMedication is the drug a prescription line orders: a product when the line names
// its PZN (aut idem crossed out or not), free text otherwise, with the Normgröße and
// the count of packs ("2 x …") when the line states them.
func paperMedication(line string, autIdem, vaccine bool) prescription.Medication {
	m := prescription.Medication{Kind: prescription.MedFreeText, Name: line, Quantity: 1, Vaccine: vaccine}
	if pzn := linePZN.FindStringSubmatch(line); pzn != nil {
		m.Kind, m.PZN = prescription.MedPZN, pzn[1]
		substitution := !autIdem
		m.Substitution = &substitution
	}
	if n := normSize.FindStringSubmatch(line); n != nil {
		m.Normgroesse = n[1]
	}
	if n := packCount.FindStringSubmatch(line); n != nil {
		m.Quantity, _ = strconv.Atoi(n[1])
	}
	return m
}

// euroCents reads "12.34" as 1234.
func euroCents(s string) (int64, bool) {
	euros, cents, ok := strings.Cut(s, ".")
	if !ok || len(cents) != 2 {
		return 0, false
	}
	e, err1 := strconv.ParseInt(euros, 10, 64)
	c, err2 := strconv.ParseInt(cents, 10, 64)
	if err1 != nil || err2 != nil || e < 0 || c < 0 {
		return 0, false
	}
	return e*100 + c, true
}

// Token is an E-Rezept token as scanned from the patient's printout: the access code
// the pharmacy needs to retrieve the prescription from the E-Rezept-Fachdienst.
type Token struct {
	AccessCode string `json:"access_code"`
	PageID     string `json:"page_id"`
}

// AddToken keeps a scanned E-Rezept token under its Rezept-ID: the check waits for the
// prescription's data, which join it by that ID when they arrive (or joins the check
// they already made).
func (s *Service) AddToken(ctx context.Context, tenantID, rxID string, t Token) (Check, error) {
	if err := prescription.ValidatePrescriptionID(rxID); err != nil {
		return Check{}, errs.E(errs.Invalid, "%s", errs.Message(err))
	}
	kind := retention.Prescription
	recs, err := s.Store.ListRecords(ctx, tenantID, store.RecordFilter{Kind: &kind, Lookup: &rxID, Limit: 1})
	if err != nil {
		return Check{}, err
	}
	chk := Check{PrescriptionID: rxID}
	if len(recs) > 0 {
		if chk, err = decode(recs[0]); err != nil {
			return Check{}, err
		}
	}
	chk.Token = &t
	set, err := s.Settings(ctx, tenantID)
	if err != nil {
		return Check{}, err
	}
	if err := s.run(&chk, set); err != nil {
		return Check{}, err
	}
	data, err := json.Marshal(chk)
	if err != nil {
		return Check{}, err
	}
	if len(recs) > 0 {
		return chk, s.Store.UpdateRecord(ctx, tenantID, chk.ID, data)
	}
	rec, err := s.Store.AddRecord(ctx, tenantID, store.Record{Kind: retention.Prescription, Lookup: rxID, Data: data}, nil)
	chk.ID, chk.CreatedAt = rec.ID, rec.CreatedAt
	return chk, err
}

// Confirm takes what is left to review off a paper prescription: a person compared every
// value shown with the page and found them right. Audited.
func (s *Service) Confirm(ctx context.Context, tenantID, id, userID string) (Check, error) {
	c, err := s.paper(ctx, tenantID, id)
	if err != nil {
		return Check{}, err
	}
	c.Paper.Review = []string{}
	if err := s.rerun(ctx, tenantID, &c); err != nil {
		return Check{}, err
	}
	return c, s.Store.Audit(ctx, tenantID, audit.Update, "prescription_review", id, "confirmed by="+userID)
}
