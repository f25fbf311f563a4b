package rxcheck

import (
	"cmp"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"

	"github.com/tresen/tresen/internal/berlin"
	"github.com/tresen/tresen/internal/retax"
)

// Totals are the sums over a period ("Listen, Summen und Auswertungen").
type Totals struct {
	Checked   int
	Red       int // with an open retax risk
	Yellow    int
	Green     int
	Decided   int   // findings the pharmacy decided on
	AtRisk    int64 // euro cents
	Dispensed int64 // euro cents, all checked prescriptions
	ByCode    []CodeCount
}

// CodeCount is how often a rule found something, and the amount behind it.
type CodeCount struct {
	Code          string
	Title         string
	Prescriptions int
	AtRisk        int64
}

// Sum adds up checks.
func Sum(checks []Check) Totals {
	var t Totals
	titles := map[string]string{}
	for _, r := range retax.Rules() {
		titles[r.Code] = r.Title
	}
	by := map[string]*CodeCount{}
	for i := range checks {
		c := &checks[i]
		t.Checked++
		switch c.Light() {
		case Red:
			t.Red++
		case Yellow:
			t.Yellow++
		default:
			t.Green++
		}
		t.Decided += len(c.Decisions)
		t.AtRisk += c.AtRisk()
		t.Dispensed += c.Summary.Total
		seen := map[string]bool{}
		for _, f := range c.Report.Findings {
			if seen[f.Code] {
				continue
			}
			seen[f.Code] = true
			cc := by[f.Code]
			if cc == nil {
				cc = &CodeCount{Code: f.Code, Title: titles[f.Code]}
				by[f.Code] = cc
			}
			cc.Prescriptions++
			if f.Severity == retax.Error {
				cc.AtRisk += c.AtRisk()
			}
		}
	}
	for _, cc := range by {
		t.ByCode = append(t.ByCode, *cc)
	}
	slices.SortFunc(t.ByCode, func(a, b CodeCount) int {
		return cmp.Or(cmp.Compare(b.Prescriptions, a.Prescriptions), cmp.Compare(a.Code, b.Code))
	})
	return t
}

// LightLabel names a traffic light in German.
func LightLabel(light string) string {
	switch light {
	case Red:
		return "Retaxationsrisiko"
	case Yellow:
		return "prüfen"
	}
	return "in Ordnung"
}

// WriteCSV writes the list of checked prescriptions for a spreadsheet: semicolons and a
// byte order mark, as German Excel expects, one line per prescription.
func WriteCSV(w io.Writer, checks []Check) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.Comma = ';'
	cw.UseCRLF = true
	_ = cw.Write([]string{"Eingang", "Rezept-ID", "Art", "Abgabe", "Kostenträger", "Arzneimittel", "Betrag", "Status", "Befunde", "Entscheidungen", "Betrag im Risiko"})
	for i := range checks {
		c := &checks[i]
		var codes, decisions []string
		for _, f := range c.Report.Findings {
			codes = append(codes, f.Code)
			if d, ok := c.Decision(f); ok {
				decisions = append(decisions, f.Code+": "+decisionLabel(d.Status))
			}
		}
		_ = cw.Write([]string{
			c.CreatedAt.In(berlin.Location).Format("02.01.2006 15:04"), c.PrescriptionID, c.Report.Kind, germanDay(c.Summary.DispensedOn),
			safe(c.Summary.Payer), safe(c.Summary.Drug), amount(c.Summary.Total), LightLabel(c.Light()),
			strings.Join(codes, ", "), strings.Join(decisions, ", "), amount(c.AtRisk()),
		})
	}
	cw.Flush()
	return cw.Error()
}

// safe keeps a cell from being read as a formula by a spreadsheet.
func safe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// amount is a plain decimal for spreadsheets: "1234,56".
func amount(cents int64) string {
	return strings.TrimSuffix(strings.ReplaceAll(retax.Euro(cents), ".", ""), " €")
}

func germanDay(iso string) string {
	if t, err := time.Parse(time.DateOnly, iso); err == nil {
		return t.Format("02.01.2006")
	}
	return ""
}

func decisionLabel(status string) string {
	if status == Accepted {
		return "Risiko akzeptiert"
	}
	return "korrigiert"
}

// WritePDF writes the period's sums and the prescriptions with open risks as a PDF for
// the pharmacy's files.
func WritePDF(w io.Writer, pharmacy string, from, to time.Time, checks []Check) error {
	t := Sum(checks)
	pdf := fpdf.New("P", "mm", "A4", "")
	tr := pdf.UnicodeTranslatorFromDescriptor("") // UTF-8 to the core fonts' cp1252
	pdf.SetTitle(tr("Rezeptprüfung "+pharmacy), false)
	pdf.SetCreator("Tresen", false)
	pdf.SetFooterFunc(func() {
		pdf.SetY(-12)
		pdf.SetFont("Helvetica", "", 8)
		pdf.CellFormat(0, 8, tr(fmt.Sprintf("Seite %d", pdf.PageNo())), "", 0, "R", false, 0, "")
	})
	pdf.AddPage()
	pdf.SetFont("Helvetica", "B", 15)
	pdf.CellFormat(0, 9, tr("Rezeptprüfung: Listen und Summen"), "", 1, "", false, 0, "")
	pdf.SetFont("Helvetica", "", 10)
	pdf.CellFormat(0, 6, tr(pharmacy), "", 1, "", false, 0, "")
	pdf.CellFormat(0, 6, tr("Zeitraum: "+period(from, to)), "", 1, "", false, 0, "")
	pdf.Ln(4)
	row := func(label, value string) {
		pdf.CellFormat(80, 6, tr(label), "", 0, "", false, 0, "")
		pdf.CellFormat(0, 6, tr(value), "", 1, "R", false, 0, "")
	}
	row("Geprüfte Rezepte", fmt.Sprint(t.Checked))
	row("mit offenem Retaxationsrisiko", fmt.Sprint(t.Red))
	row("zu prüfen", fmt.Sprint(t.Yellow))
	row("in Ordnung", fmt.Sprint(t.Green))
	row("Entscheidungen zu Befunden", fmt.Sprint(t.Decided))
	row("Abgerechneter Betrag", retax.Euro(t.Dispensed))
	row("Betrag im Risiko", retax.Euro(t.AtRisk))
	pdf.Ln(4)
	pdf.SetFont("Helvetica", "B", 11)
	pdf.CellFormat(0, 7, tr("Befunde nach Regel"), "", 1, "", false, 0, "")
	pdf.SetFont("Helvetica", "", 9)
	for _, cc := range t.ByCode {
		pdf.CellFormat(60, 5, tr(cc.Code), "", 0, "", false, 0, "")
		pdf.CellFormat(80, 5, tr(cc.Title), "", 0, "", false, 0, "")
		pdf.CellFormat(15, 5, fmt.Sprint(cc.Prescriptions), "", 0, "R", false, 0, "")
		pdf.CellFormat(0, 5, tr(retax.Euro(cc.AtRisk)), "", 1, "R", false, 0, "")
	}
	pdf.Ln(4)
	pdf.SetFont("Helvetica", "B", 11)
	pdf.CellFormat(0, 7, tr("Rezepte mit offenem Retaxationsrisiko"), "", 1, "", false, 0, "")
	pdf.SetFont("Helvetica", "", 9)
	open := 0
	for i := range checks {
		c := &checks[i]
		if c.Light() != Red {
			continue
		}
		open++
		var codes []string
		for _, f := range c.Report.Findings {
			if _, ok := c.Decision(f); !ok && f.Severity == retax.Error {
				codes = append(codes, f.Code)
			}
		}
		pdf.CellFormat(45, 5, c.PrescriptionID, "", 0, "", false, 0, "")
		pdf.CellFormat(22, 5, germanDay(c.Summary.DispensedOn), "", 0, "", false, 0, "")
		pdf.CellFormat(25, 5, tr(retax.Euro(c.Summary.Total)), "", 0, "R", false, 0, "")
		pdf.CellFormat(0, 5, tr("  "+strings.Join(codes, ", ")), "", 1, "", false, 0, "")
	}
	if open == 0 {
		pdf.CellFormat(0, 5, tr("keine"), "", 1, "", false, 0, "")
	}
	return pdf.Output(w)
}

func period(from, to time.Time) string {
	if from.IsZero() && to.IsZero() {
		return "alle gespeicherten Rezepte (90 Tage)"
	}
	end := to.AddDate(0, 0, -1)
	return from.In(berlin.Location).Format("02.01.2006") + " bis " + end.In(berlin.Location).Format("02.01.2006")
}
