package retax

import (
	"slices"
	"time"

	"github.com/tresen/tresen/internal/berlin"
	"github.com/tresen/tresen/internal/holiday"
	"github.com/tresen/tresen/internal/prescription"
)

// Validity periods, in days after the day of issue (the issue day is day 0).
const (
	daysGKV     = 28 // § 11 Abs. 4 AM-RL
	daysBtM     = 7  // § 12 Abs. 1 Nr. 1c BtMVV
	daysTRezept = 6  // § 3a Abs. 4 AMVV
	daysMVOpen  = 365
	// workdaysDischarge is the validity of an Entlassrezept: three working days
	// (Monday to Saturday, no public holidays) counting the day of issue.
	workdaysDischarge = 3
	monthsPKV         = 3 // § 2 Abs. 5 AMVV: a private prescription, three months
)

func day(iso string) (time.Time, bool) {
	t, err := time.ParseInLocation(time.DateOnly, iso, berlin.Location)
	return t, err == nil
}

// dispenseDay is the day of dispensing, as a date in Berlin.
func (c *check) dispenseDay() time.Time {
	t, _ := day(c.day)
	return t
}

func checkBeforeIssue(c *check) {
	if c.p == nil || c.d == nil {
		return
	}
	issued, ok := day(c.p.AuthoredOn)
	if ok && c.dispenseDay().Before(issued) {
		c.add("dispense.whenHandedOver", "Abgegeben am %s, vor dem Ausstellungsdatum %s. Bitte das Abgabedatum prüfen und korrigieren.",
			c.dispenseDay().Format("02.01.2006"), issued.Format("02.01.2006"))
	}
}

func checkNotYetValid(c *check) {
	if c.p == nil || c.p.Multiple == nil {
		return
	}
	start, ok := day(c.p.Multiple.Start)
	if ok && c.dispenseDay().Before(start) {
		c.add("medicationRequest.multiplePrescription.period.start", "Teil %d/%d der Mehrfachverordnung darf erst ab %s beliefert werden. Bitte nicht vorher abgeben.",
			c.p.Multiple.Index, c.p.Multiple.Total, start.Format("02.01.2006"))
	}
}

func checkExpired(c *check) {
	p := c.p
	if p == nil {
		return
	}
	issued, ok := day(p.AuthoredOn)
	if !ok {
		c.skip("ohne gültiges Ausstellungsdatum ist die Belieferungsfrist nicht prüfbar")
		return
	}
	last, what := lastValidDay(p, issued, c.calendar())
	if last.IsZero() {
		return
	}
	if c.dispenseDay().After(last) {
		c.add("dispense.whenHandedOver", "Die Belieferungsfrist (%s) endete am %s; abgegeben am %s. Die Verordnung ist abgelaufen und darf nicht mehr zulasten des Kostenträgers beliefert werden.",
			what, last.Format("02.01.2006"), c.dispenseDay().Format("02.01.2006"))
	}
}

// lastValidDay is the last day a prescription may be dispensed, and the period in words.
func lastValidDay(p *prescription.Prescription, issued time.Time, holidays holiday.Calendar) (time.Time, string) {
	if m := p.Multiple; m != nil {
		if end, ok := day(m.End); ok {
			return end, "Mehrfachverordnung, Ende des Einlösezeitraums"
		}
		return issued.AddDate(0, 0, daysMVOpen), "Mehrfachverordnung ohne Ende: 365 Tage"
	}
	switch {
	case p.LegalBasis == prescription.LegalDischarge || p.LegalBasis == prescription.LegalDischargeRepl:
		return addWorkdays(issued, workdaysDischarge, holidays), "Entlassrezept: 3 Werktage einschließlich Ausstellungstag"
	case p.Kind == prescription.BtM:
		return issued.AddDate(0, 0, daysBtM), "Betäubungsmittel: 7 Tage"
	case p.Kind == prescription.TRezept:
		return issued.AddDate(0, 0, daysTRezept), "T-Rezept: 6 Tage"
	case p.Patient.ChildbearingFemale && slices.ContainsFunc(p.Medications(), isRetinoid):
		return issued.AddDate(0, 0, daysTRezept), "Retinoid für eine Frau im gebärfähigen Alter: 6 Tage"
	case p.Kind == prescription.PKV || p.Payer.Type == prescription.PayerSEL:
		return issued.AddDate(0, monthsPKV, 0), "Privatverordnung: 3 Monate"
	}
	return issued.AddDate(0, 0, daysGKV), "Kassenrezept: 28 Tage"
}

// addWorkdays returns the n-th working day (Monday to Saturday, not a public holiday)
// counting from start itself.
func addWorkdays(start time.Time, n int, holidays holiday.Calendar) time.Time {
	d := start
	for count := 0; ; d = d.AddDate(0, 0, 1) {
		if d.Weekday() != time.Sunday && !holidays.Is(d) {
			count++
			if count == n {
				return d
			}
		}
	}
}

// calendar returns the public holidays where the pharmacy is; the nationwide ones when its
// state is not known.
func (c *check) calendar() holiday.Calendar {
	if h, ok := holiday.For(c.in.State); ok {
		return h
	}
	h, _ := holiday.For("")
	return h
}

// retinoids are the oral retinoids with the shorter validity for women of childbearing
// age (§ 3b AMVV).
var retinoids = []string{"acitretin", "alitretinoin", "isotretinoin"}

func isRetinoid(m prescription.Medication) bool {
	for _, in := range m.Ingredients {
		for _, r := range retinoids {
			if containsFold(in.Name, r) {
				return true
			}
		}
	}
	return containsAnyFold(m.Name, retinoids)
}
