package muster16

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tresen/tresen/internal/prescription"
)

// Reading is a field's value as read from its printed text.
type Reading struct {
	// Value in the format of the spec (§2): "" when nothing is printed.
	Value string
	// Corrected: a character OCR misread was put right because exactly one candidate
	// passed the number's check digit, or a package size's 1 read as a letter.
	Corrected bool
	// Review says why a person must look at the field ("" when the value is sure as far
	// as its format and check digit go). A value under review is never guessed: it is
	// what was read, for the reviewer to correct.
	Review string
}

// Read turns the printed text OCR found for f into its value. issueYY is the two-digit
// year of the prescription's date (for the century of the birth date); -1 when unknown.
func Read(f Field, printed string, issueYY int) Reading {
	s := strings.Join(strings.Fields(printed), " ")
	switch f.Kind {
	case Text:
		if strings.HasPrefix(f.Key, "rx_line_") {
			return readPrescriptionLine(s)
		}
		return Reading{Value: s}
	case Digits:
		return readNumber(s, f.Len, checkFor(f.Key))
	case KVNR:
		return readKVNR(s)
	case Status:
		return readStatus(s)
	case Factor:
		return readFactor(s)
	case Date:
		if f.Key == "date" {
			return readDate(s, 99, false)
		}
		return readDate(s, issueYY, true)
	case DispenseDate:
		return readDispenseDate(s)
	case Amount:
		return readAmount(s)
	}
	return Reading{Value: s}
}

// checkFor is the check digit rule of a Digits field, nil where it has none (BSNR).
func checkFor(key string) func(string) error {
	switch {
	case key == "payer_ik" || key == "pharmacy_ik":
		return prescription.ValidateIK
	case key == "lanr":
		return prescription.ValidateLANR
	case strings.HasPrefix(key, "pzn_"):
		return prescription.ValidatePZN
	}
	return nil
}

// readPrescriptionLine puts right a package size (Normgröße N1, N2, N3) whose 1 OCR read
// as a letter ("Ni", "Nl", "NI"): no drug name or dosage is such a word of its own.
func readPrescriptionLine(s string) Reading {
	words := strings.Split(s, " ")
	corrected := false
	for i, w := range words {
		if len(w) == 2 && w[0] == 'N' && strings.ContainsRune("ilI|!", rune(w[1])) {
			words[i], corrected = "N1", true
		}
	}
	return Reading{Value: strings.Join(words, " "), Corrected: corrected}
}

func readKVNR(s string) Reading {
	s = strings.ReplaceAll(s, " ", "")
	if s == "" {
		return Reading{}
	}
	if len(s) != 10 {
		return Reading{Value: s, Review: fmt.Sprintf("Versichertennummer mit %d statt 10 Zeichen", len([]rune(s)))}
	}
	return correct(s, kvnrPositions, prescription.ValidateKVNR, "Versichertennummer")
}

func readNumber(s string, n int, check func(string) error) Reading {
	s = strings.ReplaceAll(s, " ", "")
	if s == "" {
		return Reading{}
	}
	if len([]rune(s)) != n {
		return Reading{Value: s, Review: fmt.Sprintf("%d statt %d Ziffern gelesen", len([]rune(s)), n)}
	}
	pos := make([]position, n)
	for i := range pos {
		pos[i] = digitPosition
	}
	if check == nil {
		// No check digit (BSNR): a letter read for a digit cannot be put right safely.
		if strings.Trim(s, "0123456789") != "" {
			return Reading{Value: s, Review: "keine Ziffer an jeder Stelle"}
		}
		return Reading{Value: s}
	}
	return correct(s, pos, check, "Nummer")
}

func readStatus(s string) Reading {
	s = strings.ReplaceAll(s, " ", "")
	switch {
	case s == "":
		return Reading{}
	case len(s) != 7 || strings.Trim(s, "0123456789") != "":
		return Reading{Value: s, Review: "Status ist nicht siebenstellig"}
	case s[0] != '1' && s[0] != '3' && s[0] != '5':
		return Reading{Value: s, Review: "Versichertenart (1. Stelle des Status) ist nicht 1, 3 oder 5"}
	case !slices.Contains(legalBases, s[5:]):
		return Reading{Value: s, Review: "Kennzeichen Rechtsgrundlage (6. und 7. Stelle des Status) unbekannt"}
	}
	return Reading{Value: s}
}

// legalBases are the Kennzeichen Rechtsgrundlage a status ends with (spec §2): 00, 01
// ASV, 04 Entlassmanagement, 06 tagesstationär, 07 TSS, 10, 11, 14, 17 with
// Ersatzverordnung.
var legalBases = []string{"00", "01", "04", "06", "07", "10", "11", "14", "17"}

func readFactor(s string) Reading {
	s = strings.ReplaceAll(s, " ", "")
	if s == "" {
		return Reading{}
	}
	if n, err := strconv.Atoi(s); err != nil || n < 1 || n > 99 || s[0] == '0' {
		return Reading{Value: s, Review: "Faktor ist keine Zahl von 1 bis 99"}
	}
	return Reading{Value: s}
}

// readDate reads TT.MM.JJ. With birth set, JJ up to issueYY is 20JJ, above it 19JJ
// (spec §2); the issue date itself is always 20JJ. Partly known dates (00.MM.JJ,
// 00.00.JJ, KP7-95) and impossible ones go to review.
func readDate(s string, issueYY int, birth bool) Reading {
	s = strings.ReplaceAll(s, " ", "")
	if s == "" {
		return Reading{}
	}
	d, m, y, ok := splitDate(s)
	if !ok {
		return Reading{Value: s, Review: "Datum nicht im Format TT.MM.JJ"}
	}
	if d == 0 || m == 0 {
		return Reading{Value: s, Review: "Datum nur teilweise bekannt (00 für Tag oder Monat)"}
	}
	year := 2000 + y
	if birth {
		if issueYY < 0 {
			return Reading{Value: s, Review: "Jahrhundert des Geburtsdatums unklar (Ausstellungsdatum nicht gelesen)"}
		}
		if y > issueYY {
			year = 1900 + y
		}
	}
	t := time.Date(year, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d || int(t.Month()) != m {
		return Reading{Value: s, Review: "dieses Datum gibt es nicht"}
	}
	return Reading{Value: t.Format(time.DateOnly)}
}

// splitDate splits "TT.MM.JJ" into its numbers; a dot OCR missed ("TTMM.JJ", "TT.MMJJ")
// leaves the six digits where they were.
func splitDate(s string) (d, m, y int, ok bool) {
	if digits := strings.ReplaceAll(s, ".", ""); len(digits) == 6 {
		for _, form := range []string{"%s.%s.%s", "%s%s.%s", "%s.%s%s"} {
			if s == fmt.Sprintf(form, digits[:2], digits[2:4], digits[4:]) {
				s = digits[:2] + "." + digits[2:4] + "." + digits[4:]
				break
			}
		}
	}
	parts := strings.Split(s, ".")
	if len(parts) != 3 || len(parts[0]) != 2 || len(parts[1]) != 2 || len(parts[2]) != 2 {
		return 0, 0, 0, false
	}
	var err error
	var n [3]int
	for i, p := range parts {
		if strings.Trim(p, "0123456789") != "" {
			return 0, 0, 0, false
		}
		if n[i], err = strconv.Atoi(p); err != nil {
			return 0, 0, 0, false
		}
	}
	return n[0], n[1], n[2], true
}

// readDispenseDate reads the pharmacy's Abgabedatum: six digits TTMMJJ, one per cell, or
// TT.MM.JJ.
func readDispenseDate(s string) Reading {
	compact := strings.ReplaceAll(s, " ", "")
	if len(compact) == 6 && strings.Trim(compact, "0123456789") == "" {
		compact = compact[:2] + "." + compact[2:4] + "." + compact[4:]
	}
	return readDate(compact, 99, false)
}

// readAmount reads euros printed in cents ("1234", "500") or with a decimal comma or point
// ("12,34", "5,00") as "12.34".
func readAmount(s string) Reading {
	s = strings.ReplaceAll(s, " ", "")
	if s == "" {
		return Reading{}
	}
	whole, cents, sep := s, "", false
	if i := strings.LastIndexAny(s, ",."); i >= 0 {
		whole, cents, sep = s[:i], s[i+1:], true
	}
	if sep && len(cents) != 2 || strings.Trim(whole+cents, "0123456789") != "" || len(whole+cents) > 9 {
		return Reading{Value: s, Review: "Betrag nicht lesbar"}
	}
	if !sep {
		// In cents, right-aligned to the cells.
		if len(s) < 3 {
			s = strings.Repeat("0", 3-len(s)) + s
		}
		whole, cents = s[:len(s)-2], s[len(s)-2:]
	}
	whole = strings.TrimLeft(whole, "0")
	if whole == "" {
		whole = "0"
	}
	return Reading{Value: whole + "." + cents}
}
