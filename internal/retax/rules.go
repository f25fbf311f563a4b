package retax

import (
	"slices"
	"strconv"
	"strings"

	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/prescription"
)

// Sources cited by the rules.
const (
	srcTA1         = "Technische Anlage 1 zur Arzneimittelabrechnungsvereinbarung nach § 300 SGB V"
	srcTAeRezept   = "KBV Technische Anlage eRezept (KBV_PR_ERP_Bundle), gemSpec_FD_eRp"
	srcAMVV        = "§ 2 AMVV (Angaben der Verschreibung)"
	srcRahmen      = "Rahmenvertrag über die Arzneimittelversorgung nach § 129 Abs. 2 SGB V"
	srcValidity    = "§ 11 Abs. 4 Arzneimittel-Richtlinie (28 Tage); § 2 Abs. 5 AMVV (3 Monate); § 12 Abs. 1 Nr. 1c BtMVV (7 Tage); § 3a Abs. 4 AMVV (T-Rezept, 6 Tage); § 3b AMVV (Retinoide); § 39 Abs. 1a SGB V mit Rahmenvertrag Entlassmanagement (3 Werktage); § 4 Abs. 3 AMVV (Mehrfachverordnung)"
	srcProfiles    = "gematik, Übergang der FHIR-Versionen des E-Rezepts (erp_fhirversion_change_2026-07-01)"
	srcZuzahlung   = "§ 61 Satz 1, § 31 Abs. 3, § 62 SGB V; § 27a Abs. 3 SGB V"
	srcNoctu       = "§ 6 AMPreisV (Notdienstgebühr)"
	srcAMPreisV    = "§§ 2, 3 AMPreisV"
	srcAutIdem     = "§ 129 Abs. 1 SGB V; Rahmenvertrag § 9 (Austausch) und § 11 (Lieferengpass)"
	srcSpecialCode = "Technische Anlage 1, Anhang 1 (Sonderkennzeichen)"
)

// rules lists every rule; Check runs those in force on the dispensing day in this order.
var rules = []Rule{
	{Code: "PROFILE-UNSUPPORTED", Severity: Error, Title: "Profil bekannt", Source: srcProfiles, Check: checkProfileSupported},
	{Code: "PROFILE-NOT-IN-FORCE", Severity: Error, Title: "Profilversion zum Ausstellungsdatum gültig", Source: srcProfiles, Check: checkProfileInForce},
	{Code: "PRESCRIPTION-ID-CHECKDIGIT", Severity: Error, Title: "Prüfziffer der Rezept-ID", Source: srcTAeRezept, Check: checkPrescriptionID},
	{Code: "KVNR-CHECKDIGIT", Severity: Error, Title: "Prüfziffer der Versichertennummer", Source: srcTAeRezept, Check: checkKVNR},
	{Code: "LANR-CHECKDIGIT", Severity: Error, Title: "Prüfziffer der Arztnummer", Source: srcTAeRezept, Check: checkLANR},
	{Code: "BSNR-FORMAT", Severity: Error, Title: "Format der Betriebsstättennummer", Source: srcTAeRezept, Check: checkBSNR},
	{Code: "IK-CHECKDIGIT", Severity: Error, Title: "Prüfziffer der Institutionskennzeichen", Source: srcTA1, Check: checkIK},
	{Code: "PZN-CHECKDIGIT", Severity: Error, Title: "Prüfziffer der PZN und Sonderkennzeichen", Source: srcTA1, Check: checkPZN},
	{Code: "FIELD-MISSING", Severity: Error, Title: "Pflichtangaben vorhanden", Source: srcAMVV + "; " + srcTAeRezept, Check: checkFieldsMissing},
	{Code: "FIELD-NOT-ALLOWED", Severity: Error, Title: "Keine unzulässigen Angaben", Source: srcTAeRezept, Check: checkFieldsNotAllowed},
	{Code: "DISPENSED-BEFORE-ISSUE", Severity: Error, Title: "Abgabe nicht vor Ausstellung", Source: srcValidity, Check: checkBeforeIssue},
	{Code: "NOT-YET-VALID", Severity: Error, Title: "Teil einer Mehrfachverordnung eingelöst vor Beginn", Source: srcValidity, Check: checkNotYetValid},
	{Code: "EXPIRED", Severity: Error, Title: "Belieferungsfrist eingehalten", Source: srcValidity, Check: checkExpired},
	{Code: "KVNR-MISMATCH", Severity: Error, Title: "Versicherter der Abgabe wie verordnet", Source: srcTAeRezept, Check: checkKVNRMismatch},
	{Code: "PZN-MISMATCH", Severity: Error, Title: "Abgabe der verordneten PZN ohne Austausch", Source: srcAutIdem, Check: checkPZNMismatch},
	{Code: "SUBSTITUTION-INVALID", Severity: Error, Title: "Austausch nur gegen ein gleichwertiges Arzneimittel", Source: srcAutIdem, Check: checkSubstitution},
	{Code: "QUANTITY-EXCEEDED", Severity: Error, Title: "Abgabemenge nicht über der Verordnung", Source: srcRahmen, Check: checkQuantity},
	{Code: "PACKSIZE-MISMATCH", Severity: Error, Title: "Normgröße wie verordnet (Wirkstoffverordnung)", Source: srcRahmen, Check: checkPackSize},
	{Code: "ZUZAHLUNG-WRONG", Severity: Error, Title: "Zuzahlung richtig berechnet", Source: srcZuzahlung, Check: checkCoPayment},
	{Code: "NOCTU-INVALID", Severity: Error, Title: "Notdienstgebühr nur im Notdienst und mit noctu", Source: srcNoctu, Check: checkNoctu},
	{Code: "PRICE-MISMATCH", Severity: Error, Title: "Preis nach Arzneimittelpreisverordnung", Source: srcAMPreisV, From: "2023-07-27", Check: checkPrice},
	{Code: "SPECIAL-CODE-UNKNOWN", Severity: Warning, Title: "Sonderkennzeichen bekannt", Source: srcSpecialCode, Check: checkSpecialCodes},
}

// Rules returns the rules, for documentation and the user interface.
func Rules() []Rule { return slices.Clone(rules) }

// gkvLike reports whether the payer bills under the GKV's rules: statutory insurers and
// the other bodies that use the pink form (accident insurers, Berufsgenossenschaften,
// others such as the Bundeswehr).
func (c *check) gkvLike() bool {
	if c.p == nil {
		return false
	}
	switch c.p.Payer.Type {
	case prescription.PayerGKV, prescription.PayerBG, prescription.PayerUK, prescription.PayerSKT:
		return true
	case "":
		return c.p.Kind != prescription.PKV
	}
	return false
}

// message returns the German text of a validation error.
func message(err error) string { return errs.Message(err) }

func checkProfileSupported(c *check) {
	for _, p := range c.in.Unsupported {
		if p == "" {
			p = "(ohne Profilangabe)"
		}
		c.add("meta.profile", "Das Profil %s wird nicht unterstützt; die Datei wurde nur teilweise gelesen. Bitte mit der Abrechnungsstelle klären, ob diese Version noch angenommen wird.", p)
	}
}

// kbvInForce are the periods the KBV prescription profiles are in force, by the day the
// prescription was issued.
var kbvInForce = []struct{ version, from, until string }{
	{"1.3", "", "2027-01-14"},
	{"1.4", "2026-07-01", ""},
}

func checkProfileInForce(c *check) {
	if c.p == nil || c.p.AuthoredOn == "" {
		return
	}
	version, ok := strings.CutPrefix(c.p.Source, "KBV_PR_ERP_Bundle|")
	if !ok {
		return
	}
	for _, v := range kbvInForce {
		if !strings.HasPrefix(version+".", v.version+".") {
			continue
		}
		if c.p.AuthoredOn < v.from || v.until != "" && c.p.AuthoredOn > v.until {
			c.add("meta.profile", "Die Verordnung vom %s nutzt das Profil KBV_PR_ERP_Bundle %s, das an diesem Tag nicht gültig war. Die Praxis muss neu verordnen.", germanDate(c.p.AuthoredOn), version)
		}
	}
}

func checkPrescriptionID(c *check) {
	if c.p != nil && c.p.ID != "" {
		if err := prescription.ValidatePrescriptionID(c.p.ID); err != nil {
			c.add("prescription.id", "%s. Die Verordnung ist so nicht abrechenbar; bitte die Praxis um eine neue Verordnung.", capital(message(err)))
		}
	}
	if c.d != nil && c.d.PrescriptionID != "" && (c.p == nil || c.d.PrescriptionID != c.p.ID) {
		if err := prescription.ValidatePrescriptionID(c.d.PrescriptionID); err != nil {
			c.add("dispense.prescription_id", "%s. Bitte die Rezept-ID in den Abgabedaten korrigieren.", capital(message(err)))
		}
	}
}

func checkKVNR(c *check) {
	if c.p != nil && c.p.Patient.KVNR != "" && c.gkvLike() {
		if err := prescription.ValidateKVNR(c.p.Patient.KVNR); err != nil {
			c.add("patient.kvnr", "Die Versichertennummer der Verordnung ist ungültig (%s). Bitte mit der Praxis klären und neu verordnen lassen.", message(err))
		}
	}
	if c.d != nil && c.d.KVNR != "" {
		if err := prescription.ValidateKVNR(c.d.KVNR); err != nil {
			c.add("dispense.kvnr", "Die Versichertennummer in der Abgabe ist ungültig (%s). Bitte die Abgabedaten korrigieren.", message(err))
		}
	}
}

func checkLANR(c *check) {
	if c.p == nil || c.p.Doctor.LANR == "" {
		return
	}
	if err := prescription.ValidateLANR(c.p.Doctor.LANR); err != nil {
		c.add("practitioner.lanr", "Die Arztnummer (LANR) ist ungültig (%s). Bitte die Praxis um eine korrigierte Verordnung.", message(err))
	}
}

func checkBSNR(c *check) {
	if c.p == nil || c.p.BSNR == "" || c.p.Doctor.ZANR != "" {
		return
	}
	if err := prescription.ValidateBSNR(c.p.BSNR); err != nil {
		c.add("organization.bsnr", "Die Betriebsstättennummer ist ungültig (%s). Bitte die Praxis um eine korrigierte Verordnung.", message(err))
	}
}

func checkIK(c *check) {
	if c.p != nil {
		for _, f := range []struct{ path, ik, what string }{
			{"coverage.payor.ik", c.p.Payer.IK, "Das IK des Kostenträgers"},
			{"coverage.payor.alternative_ik", c.p.Payer.AltIK, "Das alternative IK des Kostenträgers"},
		} {
			if f.ik == "" {
				continue
			}
			if err := prescription.ValidateIK(f.ik); err != nil {
				c.add(f.path, "%s ist ungültig (%s). Bitte mit der Praxis klären.", f.what, message(err))
			}
		}
	}
	if c.d != nil && c.d.PharmacyIK != "" {
		if err := prescription.ValidateIK(c.d.PharmacyIK); err != nil {
			c.add("dispense.pharmacy.ik", "Das IK der Apotheke ist ungültig (%s). Bitte das IK in der Warenwirtschaft korrigieren.", message(err))
		}
	}
}

func checkPZN(c *check) {
	if c.p != nil {
		for i, m := range c.p.Medications() {
			if m.PZN == "" {
				continue
			}
			if err := prescription.ValidatePZN(m.PZN); err != nil {
				c.add(medPath(i, "medication.pzn"), "Die verordnete PZN%s ist ungültig (%s). Bitte mit der Praxis klären.", c.lineOf(i), message(err))
			}
		}
	}
	if c.d == nil {
		return
	}
	for i, it := range c.d.Items {
		for _, f := range []struct{ path, code, what string }{
			{"pzn", it.PZN, "Die abgegebene PZN"},
			{"special_code", it.Special, "Das Sonderkennzeichen"},
		} {
			if f.code == "" {
				continue
			}
			if err := prescription.ValidatePZN(f.code); err != nil {
				c.add(itemPath(i, f.path), "%s in Zeile %d ist ungültig (%s). Bitte die Abgabedaten korrigieren.", f.what, i+1, message(err))
			}
		}
	}
}

func itemPath(i int, field string) string {
	return "dispense.items[" + strconv.Itoa(i) + "]." + field
}

// medPath is path for the i-th drug of a prescription: as given for the first (the only
// one of an E-Rezept), with the line's index after the first name for the others
// ("medication[1].pzn").
func medPath(i int, path string) string {
	if i == 0 {
		return path
	}
	first, rest, _ := strings.Cut(path, ".")
	if rest != "" {
		rest = "." + rest
	}
	return first + "[" + strconv.Itoa(i) + "]" + rest
}

// lineOf names the i-th drug's line when the prescription orders several:
// " (Verordnungszeile 2)"; "" otherwise.
func (c *check) lineOf(i int) string {
	if len(c.p.More) == 0 {
		return ""
	}
	return " (Verordnungszeile " + strconv.Itoa(i+1) + ")"
}

func capital(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	return strings.ToUpper(string(r[0])) + string(r[1:])
}

func germanDate(iso string) string {
	if len(iso) != 10 {
		return iso
	}
	return iso[8:10] + "." + iso[5:7] + "." + iso[0:4]
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), sub)
}

func containsAnyFold(s string, subs []string) bool {
	for _, sub := range subs {
		if containsFold(s, sub) {
			return true
		}
	}
	return false
}
