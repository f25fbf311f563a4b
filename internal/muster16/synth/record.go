package synth

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/tresen/tresen/internal/person"
	"github.com/tresen/tresen/internal/prescription"
	"github.com/tresen/tresen/internal/tenant"
)

// Synthetic people, payers and drugs: visibly fake, never real patients.
var (
	surnames = []string{"Mustermann", "Musterfrau", "Beispiel", "Testmann", "Probst-Muster", "Exempel", "Fiktiv", "Schablone"}
	given    = []string{"Erika", "Max", "Anna", "Jonas", "Dr. Lena", "Paul", "Prof. Dr. Johann von", "Mia"}
	streets  = []string{"Musterweg 6", "Beispielstraße 12a", "Testallee 3", "Am Probeplatz 44", "Fiktivring 7"}
	towns    = []string{"D 12345 Musterhausen", "D 28195 Bremen", "D 20095 Hamburg", "D 10115 Berlin", "D 50667 Köln"}
	payers   = []string{"AOK Bremen/Bremerh.", "Techniker Krankenkasse", "BARMER", "DAK-Gesundheit", "IKK classic", "hkk"}
	drugs    = []string{"Ramipril 5 mg 100 Tbl. N3 >>1-0-0<<", "Metformin 1000 mg 180 Tbl. N3", "Ibuprofen 600 mg 50 Tbl. N2",
		"Pantoprazol 40 mg 98 Tbl. N3 >>1-0-0<<", "Amlodipin 5 mg 100 Tbl. N3", "Simvastatin 20 mg 100 Tbl. N3 >>0-0-1<<",
		"L-Thyroxin 75 ug 100 Tbl. N3", "Salbutamol Dosieraerosol 200 Hub N1"}
	statuses = []string{"1000000", "3000000", "5000000", "5000400", "1000001"}
)

// Record is a synthetic prescription with every key of muster16.Fields, valid check
// digits and plausible values, the same for the same seed.
func Record(seed uint64) map[string]string {
	rng := rand.New(rand.NewPCG(seed, seed*0x9E3779B97F4A7C15+1))
	digits := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteByte(byte('0' + rng.IntN(10)))
		}
		return b.String()
	}
	pick := func(list []string) string { return list[rng.IntN(len(list))] }
	kvnr9 := string(rune('A'+rng.IntN(26))) + digits(8)
	issued := time.Date(2026, time.Month(1+rng.IntN(11)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC)
	born := time.Date(1935+rng.IntN(85), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC)
	// Born 1935–2019: the two-digit year tells the century against a 2026 issue date.
	v := map[string]string{
		"payer_name":      pick(payers),
		"payer_ik":        withIK("10" + digits(6)),
		"patient_name":    pick(surnames) + ", " + pick(given),
		"patient_address": pick(streets) + ", " + pick(towns),
		"birth_date":      born.Format(time.DateOnly),
		"kvnr":            kvnr9 + string(person.KVNRCheckDigit(kvnr9)),
		"status":          pick(statuses),
		"bsnr":            "0" + fmt.Sprint(1+rng.IntN(3)) + digits(7),
		"lanr":            withLANR(digits(6), digits(2)),
		"date":            issued.Format(time.DateOnly),
		"pharmacy_ik":     withIK("30" + digits(6)),
	}
	for _, k := range []string{"gebuehr_frei", "geb_pfl", "noctu", "sonstige", "unfall", "arbeitsunfall",
		"bvg", "hilfsmittel", "impfstoff", "sprechstundenbedarf", "begruendungspflicht"} {
		v[k] = fmt.Sprint(rng.IntN(5) == 0)
	}
	lines := 1 + rng.IntN(3)
	total := 0
	for i := 1; i <= 3; i++ {
		n := fmt.Sprint(i)
		v["aut_idem_"+n], v["rx_line_"+n], v["pzn_"+n], v["factor_"+n], v["price_"+n] = "false", "", "", "", ""
		if i > lines {
			continue
		}
		v["aut_idem_"+n] = fmt.Sprint(rng.IntN(4) == 0)
		v["rx_line_"+n] = pick(drugs)
		v["pzn_"+n] = withPZN(digits(7))
		v["factor_"+n] = "1"
		cents := 500 + rng.IntN(9000)
		total += cents
		v["price_"+n] = euros(cents)
	}
	v["total_gross"] = euros(total)
	v["copayment"] = euros(500 * lines)
	v["dispense_date"] = issued.AddDate(0, 0, 1+rng.IntN(5)).Format(time.DateOnly)
	return v
}

func euros(cents int) string { return fmt.Sprintf("%d.%02d", cents/100, cents%100) }

func withIK(ik8 string) string { return ik8 + string(tenant.IKCheckDigit(ik8)) }

// withLANR completes six digits with the check digit and the Fachgruppe.
func withLANR(six, group string) string {
	for d := '0'; d <= '9'; d++ {
		if s := six + string(d) + group; prescription.ValidateLANR(s) == nil {
			return s
		}
	}
	panic("no LANR check digit") // one of ten always passes
}

// withPZN completes seven digits with the check digit; a rest of 10 (never issued)
// turns the last digit so that one exists.
func withPZN(seven string) string {
	for range 10 {
		for d := '0'; d <= '9'; d++ {
			if s := seven + string(d); prescription.ValidatePZN(s) == nil {
				return s
			}
		}
		seven = seven[:6] + string('0'+(seven[6]-'0'+1)%10)
	}
	panic("no PZN check digit")
}
