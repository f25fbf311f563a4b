package ocr

import (
	"fmt"
	"strings"
	"time"
)

// implausible checks the values read against each other, where a misread shows that no
// check digit or format catches: it returns, by key, why a field must be looked at.
func implausible(f map[string]Field) map[string][]string {
	out := map[string][]string{}
	flag := func(why string, keys ...string) {
		for _, k := range keys {
			out[k] = append(out[k], why)
		}
	}
	day := func(key string) (time.Time, bool) {
		t, err := time.Parse(time.DateOnly, f[key].Value)
		return t, err == nil
	}
	issued, okIssued := day("date")
	if born, ok := day("birth_date"); ok && okIssued && born.After(issued) {
		flag("Geburtsdatum nach dem Ausstellungsdatum", "birth_date", "date")
	}
	if born, ok := day("birth_date"); ok && okIssued && issued.Sub(born) > 120*365*24*time.Hour {
		flag("älter als 120 Jahre", "birth_date")
	}
	if dispensed, ok := day("dispense_date"); ok && okIssued {
		switch {
		case dispensed.Before(issued):
			flag("Abgabedatum vor dem Ausstellungsdatum", "dispense_date", "date")
		case dispensed.Sub(issued) > 28*24*time.Hour:
			// A GKV prescription is valid 28 days: later, a misread is likelier than a
			// dispensing that the payer would not pay for; a person looks either way.
			flag("Abgabedatum mehr als 28 Tage nach dem Ausstellungsdatum", "dispense_date")
		}
	}
	for _, n := range []string{"1", "2", "3"} {
		pzn, factor, price := f["pzn_"+n].Value, f["factor_"+n].Value, f["price_"+n].Value
		if pzn == "" && factor == "" && price == "" {
			continue
		}
		// A Taxzeile has its PZN, Faktor and Taxe together.
		for _, k := range []string{"pzn_", "factor_", "price_"} {
			if f[k+n].Value == "" {
				flag("nichts gelesen, die Taxzeile hat aber andere Werte", k+n)
			}
		}
		// Most lines are one pack; a 1 is easily read as a 4 or a 7, and the Faktor
		// multiplies the money.
		if factor != "" && factor != "1" {
			flag("Faktor über 1 ist selten", "factor_"+n)
		}
	}
	if why := sums(f); why != "" {
		keys := []string{"total_gross"}
		for _, n := range []string{"1", "2", "3"} {
			if f["price_"+n].Value != "" {
				keys = append(keys, "price_"+n)
			}
		}
		flag(why, keys...)
	}
	if co, ok := cents(f["copayment"].Value); ok {
		if total, ok := cents(f["total_gross"].Value); ok && co > total {
			flag("Zuzahlung höher als das Gesamt-Brutto", "copayment", "total_gross")
		}
	}
	return out
}

// sums checks the pharmacy's Gesamt-Brutto against its Taxen: when all were read, they
// must add up; if not, one of them was misread, and no check digit tells which.
func sums(f map[string]Field) string {
	total, ok := cents(f["total_gross"].Value)
	if !ok {
		return ""
	}
	sum := 0
	for _, n := range []string{"1", "2", "3"} {
		if v := f["price_"+n].Value; v != "" {
			c, ok := cents(v)
			if !ok {
				return ""
			}
			sum += c
		}
	}
	if sum == 0 || sum == total {
		return ""
	}
	return "die Taxen ergeben nicht das Gesamt-Brutto (eine Taxe oder die Summe falsch gelesen)"
}

// cents reads "12.34" as 1234.
func cents(v string) (int, bool) {
	whole, frac, ok := strings.Cut(v, ".")
	if !ok || len(frac) != 2 {
		return 0, false
	}
	var w, c int
	if _, err := fmt.Sscanf(whole+" "+frac, "%d %d", &w, &c); err != nil {
		return 0, false
	}
	return w*100 + c, true
}
