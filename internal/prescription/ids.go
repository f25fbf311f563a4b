package prescription

import (
	"unicode/utf8"

	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/person"
	"github.com/tresen/tresen/internal/tenant"
)

// The validators below check the identifiers a prescription carries. Each returns nil or an
// errs.Invalid error naming the field, with a German message that says what is wrong and what
// is expected. Messages repeat institution and product numbers (BSNR, PZN, Rezept-ID) but
// never a number that identifies a person (KVNR, LANR, ZANR).

// prescriptionIDFormat is the layout of a Rezept-ID: Flowtype, twelve-digit serial number and
// two check digits (gemSpec_FD_eRp A_19217-01).
const prescriptionIDFormat = "NNN.NNN.NNN.NNN.NNN.NN"

// ValidatePrescriptionID checks the Rezept-ID (prescription id) of an E-Rezept, such as
// 160.000.764.737.300.50. Its two check digits follow ISO 7064 MOD 97-10 (gemSpec_FD_eRp
// A_19217-01, A_19218): read as one number, all 17 digits leave 1 modulo 97, as with an
// IBAN. Any three digits are accepted as Flowtype, so that a new one is not refused here.
func ValidatePrescriptionID(id string) error {
	if id == "" {
		return errs.Field("prescription_id", "die Rezept-ID fehlt")
	}
	n, ok := prescriptionIDDigits(id)
	if !ok {
		return errs.Field("prescription_id", "die Rezept-ID muss das Format %s haben (N = Ziffer)", prescriptionIDFormat)
	}
	if n%97 != 1 {
		// ISO 7064 MOD 97-10 check digits: 98 minus the rest of the number with the check
		// digits set to 00.
		want := 98 - (n-n%100)%97
		return errs.Field("prescription_id", "die Rezept-ID %s hat eine falsche Prüfziffer (erwartet %02d, angegeben %s)", id, want, id[len(id)-2:])
	}
	return nil
}

// prescriptionIDDigits returns the 17 digits of id as one number, and whether id has the
// layout of a Rezept-ID. 17 digits fit in a uint64.
func prescriptionIDDigits(id string) (uint64, bool) {
	if len(id) != len(prescriptionIDFormat) {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(id); i++ {
		c := id[i]
		if prescriptionIDFormat[i] == '.' {
			if c != '.' {
				return 0, false
			}
			continue
		}
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

// FlowType returns the Flowtype of a Rezept-ID: its first three digits, which say what kind
// of prescription it is (160 Arzneimittel, 162 DiGA, 169 Arzneimittel mit Direktzuweisung,
// 200 PKV, 209 PKV mit Direktzuweisung). It returns "" when id does not start with three
// digits.
func FlowType(id string) string {
	if len(id) < 3 {
		return ""
	}
	for i := 0; i < 3; i++ {
		if id[i] < '0' || id[i] > '9' {
			return ""
		}
	}
	return id[:3]
}

// ValidateKVNR checks a Krankenversichertennummer (health insurance number). It is
// person.ValidateKVNR, whose messages never repeat the number: it is personal data.
func ValidateKVNR(s string) error {
	return person.ValidateKVNR(s)
}

// ValidateLANR checks a lebenslange Arztnummer (lifelong physician number): six digits that
// name the doctor, a check digit and two digits for the Fachgruppe (specialty). The check
// digit is set by the KBV Arztnummern-Richtlinie (Richtlinie nach § 75 Abs. 7 SGB V; KVDT
// Regel 050): digits 1 to 6 weighted 4-9-4-9-4-9 and summed; the check digit makes the sum
// up to the next multiple of ten.
//
// The Pseudo-LANR 555555nff of hospital doctors in ASV (ambulante spezialfachärztliche
// Versorgung) carries a serial number where the check digit would be (KVDT Regel 063), so it
// is accepted without one, as the E-Rezept-Fachdienst does (A_23891). The other pseudo
// numbers need no exception, as their seventh digit is a correct check digit: 4444444ff for
// hospital doctors in Entlassmanagement without a LANR (Rahmenvertrag Entlassmanagement),
// 999999900 for dentists, midwives and Bundeswehr doctors, and the dentists' dummy 999999991.
func ValidateLANR(s string) error {
	if err := digits("lanr", "LANR", 9, s); err != nil {
		return err
	}
	if s[:6] == "555555" {
		return nil
	}
	sum := 0
	for i := 0; i < 6; i++ {
		weight := 4
		if i%2 == 1 {
			weight = 9
		}
		sum += int(s[i]-'0') * weight
	}
	if want := byte('0' + (10-sum%10)%10); s[6] != want {
		return errs.Field("lanr", "die Prüfziffer der LANR (7. Stelle) stimmt nicht (erwartet %c, angegeben %c)", want, s[6])
	}
	return nil
}

// ValidateZANR checks a Zahnarztnummer (dentist number) for its format only: nine digits. The
// E-Rezept-Fachdienst applies the LANR check digit to it as well (A_23891), but rejects a
// mismatch or merely warns depending on its configuration (A_24032, A_24033), so a
// prescription it let through must not be refused here.
func ValidateZANR(s string) error {
	return digits("zanr", "ZANR", 9, s)
}

// ValidateBSNR checks a Betriebsstättennummer (practice site number): nine digits, of which
// the first two are a KV-Landes- oder Bezirksstellenschlüssel (KBV Richtlinie nach § 75 Abs. 7
// SGB V, Anlage 1), as listed in KVDT Regel 162. Three prefixes mark a site outside the usual
// practices and are followed by such a KV code in digits 3 and 4:
//
//   - 35kknnnnn: hospitals serving the Terminservicestellen under § 75 Abs. 1a SGB V (KVDT Regel 061);
//   - 74kknnn63: SAPV teams, specialised outpatient palliative care (KVDT Regel 062);
//   - 75kknnnnn: hospitals and rehabilitation clinics in Entlassmanagement under § 39 Abs. 1a
//     SGB V (KV Bayerns, "Entlassmanagement": "Die BSNR … beginnt mit 75").
//
// Sources: KBV, Datensatzbeschreibung KVDT 6.02 (9 March 2026), Regeltabelle.
func ValidateBSNR(s string) error {
	if err := tenant.ValidateBSNR(s); err != nil {
		return err
	}
	switch s[:2] {
	case "35", "74", "75":
		if !isKVCode(s[2:4]) {
			return errs.Field("bsnr", "die BSNR %s beginnt mit %s; die 3. und 4. Ziffer müssen dann einen KV-Bereich nennen, nicht %s", s, s[:2], s[2:4])
		}
		if s[:2] == "74" && s[7:] != "63" {
			return errs.Field("bsnr", "die BSNR %s einer SAPV (beginnt mit 74) muss auf 63 enden", s)
		}
	default:
		if !isKVCode(s[:2]) {
			return errs.Field("bsnr", "die BSNR %s beginnt mit %s; die ersten zwei Ziffern müssen einen KV-Bereich nennen", s, s[:2])
		}
	}
	return nil
}

// isKVCode reports whether the two digits kk are a KV-Landes- oder Bezirksstellenschlüssel
// allowed in a BSNR: 01-03, 06-21, 24, 25, 27, 28, 31, 37-73, 78-81, 83, 85-88, 93-96, 98, 99
// (KVDT Regel 162). The list holds the merged former Bezirksstellen too, which old numbers
// still carry.
func isKVCode(kk string) bool {
	n := int(kk[0]-'0')*10 + int(kk[1]-'0')
	switch {
	case 1 <= n && n <= 3, 6 <= n && n <= 21, n == 24, n == 25, n == 27, n == 28, n == 31,
		37 <= n && n <= 73, 78 <= n && n <= 81, n == 83, 85 <= n && n <= 88, 93 <= n && n <= 96,
		n == 98, n == 99:
		return true
	}
	return false
}

// ValidateIK checks an Institutionskennzeichen (institution code of a health insurer,
// pharmacy or hospital) with its check digit. It is tenant.ValidateIK, which holds the
// algorithm of the ARGE IK (Gemeinsames Rundschreiben Institutionskennzeichen): digits 3 to
// 8 weighted 2-1-2-1-2-1, the digit sums of the products added, the sum modulo 10.
func ValidateIK(s string) error {
	return tenant.ValidateIK(s)
}

// ValidatePZN checks a Pharmazentralnummer (pharmaceutical product number) of eight digits,
// as the E-Rezept carries it; a PZN-7 from before 2013 became a PZN-8 by a leading 0, which
// keeps its check digit. The check digit follows the IFA PZN-Codierregeln (Informationsstelle
// für Arzneispezialitäten): digits 1 to 7 weighted 1 to 7, summed, modulo 11. The IFA never
// issues a number whose rest is 10. Sonderkennzeichen of Technische Anlage 1 zur
// Arzneimittelabrechnungsvereinbarung nach § 300 SGB V (such as 02567018, Notdienst) are built
// the same way and pass too.
func ValidatePZN(s string) error {
	if len(s) == 7 && digits("pzn", "PZN", 7, s) == nil {
		return errs.Field("pzn", "die PZN muss genau 8 Ziffern haben; eine siebenstellige PZN wird mit einer führenden 0 geschrieben (0%s)", s)
	}
	if err := digits("pzn", "PZN", 8, s); err != nil {
		return err
	}
	sum := 0
	for i := 0; i < 7; i++ {
		sum += int(s[i]-'0') * (i + 1)
	}
	switch want := sum % 11; {
	case want == 10:
		return errs.Field("pzn", "die PZN %s gibt es nicht: ihre Prüfziffer wäre 10, solche Nummern vergibt die IFA nicht", s)
	case int(s[7]-'0') != want:
		return errs.Field("pzn", "die PZN %s hat eine falsche Prüfziffer (erwartet %d, angegeben %c)", s, want, s[7])
	}
	return nil
}

// digits checks that s is exactly n ASCII digits, in the words tenant uses for BSNR and IK.
func digits(field, label string, n int, s string) error {
	if s == "" {
		return errs.Field(field, "die %s fehlt", label)
	}
	if count := utf8.RuneCountInString(s); count != n {
		return errs.Field(field, "die %s muss genau %d Ziffern haben, nicht %d Zeichen", label, n, count)
	}
	pos := 0
	for _, r := range s {
		pos++
		if r < '0' || r > '9' {
			return errs.Field(field, "die %s darf nur Ziffern enthalten (Stelle %d)", label, pos)
		}
	}
	return nil
}
