// Package retax checks a prescription and its dispense for what lets a health insurer
// refuse payment (Retaxation) before the pharmacy bills it: identifiers, mandatory fields,
// validity periods, the match of dispensed and prescribed drug (Pharma-Control),
// co-payment, Noctu fee and price. Each rule is a small named function with a stable
// code, a severity, a German message that says what to do, its legal source and the
// period it applies in; the dispensing date selects the rules.
package retax

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/tresen/tresen/internal/articles"
	"github.com/tresen/tresen/internal/berlin"
	"github.com/tresen/tresen/internal/prescription"
)

// Severity of a finding.
type Severity string

const (
	Error   Severity = "error"   // retax risk: correct before billing
	Warning Severity = "warning" // check by hand
	Info    Severity = "info"
)

// Finding is one thing a rule found.
type Finding struct {
	Code     string   `json:"code"`
	Severity Severity `json:"severity"`
	Path     string   `json:"path"`
	Message  string   `json:"message"`
	Source   string   `json:"source"`
}

// Report is the result of checking one prescription.
type Report struct {
	PrescriptionID string `json:"prescription_id"`
	Kind           string `json:"kind"`
	// CheckedAt is the dispensing moment the rules were applied for (RFC 3339, Berlin).
	CheckedAt  string    `json:"checked_at"`
	Findings   []Finding `json:"findings"`
	NotChecked []string  `json:"not_checked"`
}

// HasErrors reports whether any finding is a retax risk.
func (r Report) HasErrors() bool {
	return slices.ContainsFunc(r.Findings, func(f Finding) bool { return f.Severity == Error })
}

// Articles is the pharmacy's drug master data (Artikelstamm).
type Articles interface {
	Lookup(pzn string) (articles.Article, bool)
	Equivalent(a, b articles.Article) (bool, []string)
}

// Input is what one check looks at.
type Input struct {
	Prescription *prescription.Prescription // nil: only the dispense was given
	Dispense     *prescription.Dispense     // nil: not yet dispensed
	// Unsupported are profiles of the input files that the readers do not know.
	Unsupported []string
	// At is the dispensing moment when the dispense does not give one (or gives only the
	// day): the time of the check at the counter, or --at on the command line.
	At time.Time
	// Articles may be nil: the checks that need them are then reported as not done.
	Articles Articles
	// State is the pharmacy's Bundesland ("HB", "BY" …) for its public holidays; empty:
	// the nationwide ones only.
	State string
}

// Rule is one check.
type Rule struct {
	Code     string
	Severity Severity
	Title    string // what it checks, in German
	Source   string // the legal or contractual source
	// From and Until bound the dispensing dates the rule applies to ("YYYY-MM-DD", empty:
	// open).
	From, Until string
	Check       func(c *check)
}

// appliesOn reports whether the rule is in force on the dispensing day.
func (r Rule) appliesOn(day string) bool {
	return (r.From == "" || day >= r.From) && (r.Until == "" || day <= r.Until)
}

// check is the state of one check while the rules run.
type check struct {
	in   Input
	p    *prescription.Prescription
	d    *prescription.Dispense
	at   time.Time // dispensing moment, Berlin
	day  string    // its date
	rule *Rule
	rep  *Report
}

// add records a finding of the running rule.
func (c *check) add(path, format string, args ...any) {
	c.rep.Findings = append(c.rep.Findings, Finding{
		Code: c.rule.Code, Severity: c.rule.Severity, Path: path,
		Message: fmt.Sprintf(format, args...), Source: c.rule.Source,
	})
}

// skip records a check that could not be done, and why.
func (c *check) skip(format string, args ...any) {
	msg := c.rule.Code + ": " + fmt.Sprintf(format, args...)
	if !slices.Contains(c.rep.NotChecked, msg) {
		c.rep.NotChecked = append(c.rep.NotChecked, msg)
	}
}

// Check runs every rule in force on the dispensing day over one prescription.
func Check(in Input) Report {
	c := &check{in: in, p: in.Prescription, d: in.Dispense, rep: &Report{Findings: []Finding{}, NotChecked: []string{}}}
	c.at = dispensingMoment(in)
	c.day = c.at.Format(time.DateOnly)
	c.rep.CheckedAt = c.at.Format(time.RFC3339)
	switch {
	case c.p != nil:
		c.rep.PrescriptionID, c.rep.Kind = c.p.ID, string(c.p.Kind)
	case c.d != nil:
		c.rep.PrescriptionID, c.rep.Kind = c.d.PrescriptionID, "unknown"
	}
	for i := range rules {
		r := &rules[i]
		if !r.appliesOn(c.day) {
			continue
		}
		c.rule = r
		r.Check(c)
	}
	slices.SortStableFunc(c.rep.Findings, func(a, b Finding) int {
		return cmp.Compare(severityRank(a.Severity), severityRank(b.Severity))
	})
	return *c.rep
}

func severityRank(s Severity) int {
	switch s {
	case Error:
		return 0
	case Warning:
		return 1
	}
	return 2
}

// dispensingMoment is when the drug was handed over: the dispense's time, else the check
// time on the dispense's day, else the check time.
func dispensingMoment(in Input) time.Time {
	at := in.At.In(berlin.Location)
	if in.Dispense == nil || in.Dispense.HandedOver.IsZero() {
		return at
	}
	h := in.Dispense.HandedOver.In(berlin.Location)
	if in.Dispense.HasTime {
		return h
	}
	if h.Format(time.DateOnly) == at.Format(time.DateOnly) {
		return at
	}
	return h
}
