package retax

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tresen/tresen/internal/prescription"
)

// Fees are the surcharges of the Arzneimittelpreisverordnung in force over a period:
// data, not code, since they change by regulation. Percentages are in thousandths of a
// percent (3150 = 3.15 %), amounts in euro cents.
type Fees struct {
	ValidFrom           string `json:"valid_from"`
	ValidUntil          string `json:"valid_until"`
	WholesalePercent    int64  `json:"wholesale_percent_milli"` // § 2 Abs. 1: at most, on the ApU
	WholesaleMax        int64  `json:"wholesale_max_cents"`
	WholesaleFixed      int64  `json:"wholesale_fixed_cents"`
	PharmacyPercent     int64  `json:"pharmacy_percent_milli"` // § 3 Abs. 1, on the AEK
	PharmacyFixed       int64  `json:"pharmacy_fixed_cents"`
	EmergencyFund       int64  `json:"emergency_fund_cents"` // Notdienstfonds
	PharmaceuticalServs int64  `json:"services_cents"`       // pharmazeutische Dienstleistungen
	VATPercent          int64  `json:"vat_percent_milli"`
	NoctuFee            int64  `json:"noctu_fee_cents"` // § 6 AMPreisV
}

//go:embed data/fees.json
var feesJSON []byte

// feeTable is read once from the embedded data; a broken file stops the program at start.
var feeTable = func() []Fees {
	var f struct {
		Fees []Fees `json:"fees"`
	}
	if err := json.Unmarshal(feesJSON, &f); err != nil || len(f.Fees) == 0 {
		panic(fmt.Sprintf("retax: data/fees.json: %v", err))
	}
	return f.Fees
}()

// FeesOn returns the fees in force on a day.
func FeesOn(day string) (Fees, bool) {
	for _, f := range feeTable {
		if day >= f.ValidFrom && (f.ValidUntil == "" || day <= f.ValidUntil) {
			return f, true
		}
	}
	return Fees{}, false
}

// percent returns p thousandths of a percent of cents, rounded half up.
func percent(cents, milli int64) int64 {
	return (cents*milli + 50_000) / 100_000
}

// PharmacyPrice is the price of a prescription-only finished drug under the AMPreisV,
// from the manufacturer's price (ApU), with the wholesale surcharge at its maximum.
func (f Fees) PharmacyPrice(apu int64) int64 {
	aek := apu + min(percent(apu, f.WholesalePercent), f.WholesaleMax) + f.WholesaleFixed
	// The pharmacy's surcharges and the VAT are rounded once, at the end: in units of
	// 1/100000 cent, net is exact, and so is gross in units of 1/10^10 cent.
	const unit = 100_000
	net := aek*(unit+f.PharmacyPercent) + (f.PharmacyFixed+f.EmergencyFund+f.PharmaceuticalServs)*unit
	gross := net * (unit + f.VATPercent)
	return (gross + unit*unit/2) / (unit * unit)
}

// CoPaymentPerPack is § 61 Satz 1 SGB V: 10 % of the price, at least 5 and at most 10
// euros, never more than the price.
func CoPaymentPerPack(price int64) int64 {
	return min(max(percent(price, 10_000), 500), 1000, price)
}

// exemption returns why no co-payment is due, or "".
func (c *check) exemption() string {
	p := c.p
	switch {
	case p.CoPayment == prescription.CoPaymentExempt:
		return "gebührenfrei verordnet"
	case p.SER:
		return "soziales Entschädigungsrecht (BVG)"
	case p.Payer.Type == prescription.PayerBG || p.Payer.Type == prescription.PayerUK:
		return "Unfallversicherung"
	}
	if under18(p.Patient.BirthDate, c.dispenseDay()) {
		return "unter 18 Jahren"
	}
	return ""
}

// under18 reports whether someone born on birth (YYYY-MM-DD, or only YYYY) is younger
// than 18 on day. A birth year alone counts from its last day, which never wrongly
// exempts anyone.
func under18(birth string, day time.Time) bool {
	if len(birth) == 4 {
		birth += "-12-31"
	}
	b, err := time.Parse(time.DateOnly, birth)
	if err != nil {
		return false
	}
	adult := b.AddDate(18, 0, 0).Format(time.DateOnly)
	return day.Format(time.DateOnly) < adult
}

func checkCoPayment(c *check) {
	if c.p == nil || c.d == nil || c.p.Payer.Type != prescription.PayerGKV {
		return
	}
	billed, lines := c.d.CoPayment, int64(0)
	for _, it := range c.d.Items {
		lines += it.CoPayment
	}
	// A paper prescription carries only the total co-payment, no line's share.
	if billed != lines && billed != 0 && c.d.Source != "Muster16" {
		c.add("dispense.totalGross.gesamtzuzahlung", "Die Gesamtzuzahlung (%s) ist nicht die Summe der Zuzahlungen der Zeilen (%s). Bitte korrigieren.", Euro(billed), Euro(lines))
	}
	if billed == 0 {
		billed = lines
	}
	if why := c.exemption(); why != "" {
		if billed != 0 {
			c.add("dispense.zuzahlung", "Zuzahlung %s erhoben, obwohl keine fällig ist (%s). Bitte die Zuzahlung auf 0,00 € setzen und erstatten.", Euro(billed), why)
		}
		return
	}
	var want int64
	switch {
	case c.p.CoPayment == prescription.CoPaymentArtFertil:
		for _, it := range c.d.Items {
			want += percent(it.Price, 50_000)
		}
	default:
		// Several packs for one prescribed amount: one co-payment on their sum.
		counted := map[int]bool{}
		orders, _ := c.orders()
		for _, o := range orders {
			if len(o.items) == 0 || !c.split(o) {
				continue
			}
			var sum int64
			for _, i := range o.items {
				sum += c.d.Items[i].Price
				counted[i] = true
			}
			want += CoPaymentPerPack(sum)
		}
		for i, it := range c.d.Items {
			if counted[i] || it.Special != "" && !strings.HasPrefix(it.Special, compoundingCodes) {
				continue // fees and surcharges carry no co-payment of their own
			}
			n := int64(packs(it))
			if it.Special != "" {
				n = 1
			}
			want += n * CoPaymentPerPack(it.Price/n)
		}
	}
	switch {
	case billed == want:
	case billed == 0:
		c.skip("Zuzahlung 0,00 € statt %s: eine Befreiung durch Rabattvertrag oder Festbetragsunterschreitung ist ohne Daten der Krankenkassen nicht prüfbar", Euro(want))
	default:
		c.add("dispense.zuzahlung", "Zuzahlung %s erhoben, richtig sind %s (10 %% des Preises, mindestens 5 €, höchstens 10 € je Packung, nie mehr als der Preis). Bitte korrigieren.", Euro(billed), Euro(want))
	}
}

func checkNoctu(c *check) {
	if c.d == nil {
		return
	}
	for i, it := range c.d.Items {
		if it.Special != codeNoctu {
			continue
		}
		if c.p != nil && !c.p.Noctu {
			c.add(itemPath(i, "special_code"), "Notdienstgebühr abgerechnet, aber die Verordnung trägt kein noctu-Kennzeichen: die Gebühr zahlt dann die Patientin oder der Patient. Bitte die Zeile aus der Abrechnung nehmen.")
		}
		at := it.NoctuAt
		if at.IsZero() && c.d.HasTime {
			at = c.d.HandedOver
		}
		if at.IsZero() {
			// A paper prescription gives the day only; a Sunday or public holiday is
			// emergency hours all day.
			if day := c.dispenseDay(); day.Weekday() == time.Sunday || c.calendar().Is(day) {
				continue
			}
			c.skip("die Uhrzeit der Abgabe fehlt; ob sie im Notdienst lag, ist nicht prüfbar")
			continue
		}
		if !emergencyHours(at, c) {
			c.add(itemPath(i, "special_code"), "Notdienstgebühr abgerechnet für eine Abgabe am %s um %s Uhr, außerhalb des Notdienstes (20 bis 6 Uhr, Sonn- und Feiertage, 24.12. ab 14 Uhr). Bitte die Zeile entfernen.",
				at.Format("02.01.2006"), at.Format("15:04"))
		}
	}
}

// emergencyHours reports whether t lies in the hours of § 6 AMPreisV.
func emergencyHours(t time.Time, c *check) bool {
	h := t.Hour()
	switch {
	case h >= 20 || h < 6:
		return true
	case t.Weekday() == time.Sunday:
		return true
	case c.calendar().Is(t):
		return true
	case t.Month() == time.December && t.Day() == 24 && h >= 14:
		return true
	}
	return false
}

func checkPrice(c *check) {
	if c.d == nil || len(c.products()) == 0 {
		return
	}
	fees, ok := FeesOn(c.day)
	if !ok {
		c.skip("keine Preisdaten der AMPreisV für den %s", germanDate(c.day))
		return
	}
	if !c.haveArticles() {
		return
	}
	for i, it := range c.d.Items {
		if it.PZN == "" || it.Special != "" || it.Price == 0 || slices.Contains(it.Attributes, attrPartialPack) {
			continue
		}
		a, ok := c.dispensed(it)
		if !ok {
			continue
		}
		if !a.RxOnly {
			continue // prices of OTC drugs are free, also on prescription
		}
		want := a.AVP
		if a.ApU > 0 {
			want = fees.PharmacyPrice(a.ApU)
		}
		if want == 0 {
			c.skip("für die PZN %s fehlt der Preis im Artikelstamm", it.PZN)
			continue
		}
		n := int64(packs(it))
		if got := it.Price; abs(got-want*n) > n {
			c.add(itemPath(i, "price"), "Abgerechnet %s für %d Packung(en) PZN %s, nach AMPreisV sind es %s. Bitte den Preis korrigieren.",
				Euro(got), n, it.PZN, Euro(want*n))
		}
	}
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// Euro writes cents as a German amount: "1.234,56 €".
func Euro(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	whole := strconv.FormatInt(cents/100, 10)
	for i := len(whole) - 3; i > 0; i -= 3 {
		whole = whole[:i] + "." + whole[i:]
	}
	return fmt.Sprintf("%s%s,%02d €", sign, whole, cents%100)
}
