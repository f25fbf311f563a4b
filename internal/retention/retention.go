// Package retention says how long each kind of tenant data is kept. Pharmacies keep
// prescriptions and their images exactly 90 days; practices choose for requests, transcripts
// and call audio, with privacy-friendly defaults (audio is not stored at all).
package retention

import (
	"slices"
	"time"

	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/tenant"
)

// Kind is a kind of stored tenant data that has a retention period.
type Kind string

const (
	Request           Kind = "request"            // an Anliegen taken by phone or widget
	Transcript        Kind = "transcript"         // what was said or written in a conversation
	CallAudio         Kind = "call_audio"         // recorded call audio
	Prescription      Kind = "prescription"       // a checked prescription and its findings
	PrescriptionImage Kind = "prescription_image" // a scanned prescription page
)

// Rule is the retention rule for one kind of data.
type Rule struct {
	Kind         Kind
	Label        string // German, for the settings page
	TenantKind   tenant.Kind
	DefaultDays  int
	MinDays      int
	MaxDays      int
	Configurable bool
}

// PrescriptionDays is the fixed retention of prescription data and images.
const PrescriptionDays = 90

var rules = []Rule{
	{Request, "Anliegen", tenant.Practice, 30, 1, 3650, true},
	{Transcript, "Gesprächsverläufe", tenant.Practice, 30, 1, 3650, true},
	{CallAudio, "Gesprächsaufnahmen", tenant.Practice, 0, 0, 3650, true},
	{Prescription, "Rezeptdaten und Prüfergebnisse", tenant.Pharmacy, PrescriptionDays, PrescriptionDays, PrescriptionDays, false},
	{PrescriptionImage, "Rezeptbilder", tenant.Pharmacy, PrescriptionDays, PrescriptionDays, PrescriptionDays, false},
}

// Rules returns the retention rules for a kind of tenant, in display order.
func Rules(tk tenant.Kind) []Rule {
	var out []Rule
	for _, r := range rules {
		if r.TenantKind == tk {
			out = append(out, r)
		}
	}
	return out
}

// Lookup returns the rule for a data kind.
func Lookup(k Kind) (Rule, error) {
	i := slices.IndexFunc(rules, func(r Rule) bool { return r.Kind == k })
	if i < 0 {
		return Rule{}, errs.Field("kind", "unbekannte Datenart %q", k)
	}
	return rules[i], nil
}

// Policy is a tenant's retention in days per kind of data; kinds it does not name keep
// their default.
type Policy map[Kind]int

// Days returns the retention of k under p.
func (p Policy) Days(k Kind) int {
	if d, ok := p[k]; ok {
		return d
	}
	r, _ := Lookup(k)
	return r.DefaultDays
}

// Validate checks a period chosen for kind k by a tenant of kind tk.
func Validate(tk tenant.Kind, k Kind, days int) error {
	r, err := Lookup(k)
	if err != nil {
		return err
	}
	switch {
	case r.TenantKind != tk:
		return errs.Field(string(k), "%s gibt es nur bei der Mandantenart %s", r.Label, r.TenantKind.Label())
	case !r.Configurable && days != r.DefaultDays:
		return errs.Field(string(k), "%s werden fest %d Tage aufbewahrt", r.Label, r.DefaultDays)
	case days < r.MinDays || days > r.MaxDays:
		return errs.Field(string(k), "die Aufbewahrung für %s muss zwischen %d und %d Tagen liegen", r.Label, r.MinDays, r.MaxDays)
	}
	return nil
}

// Cutoff returns the instant before which (inclusive) data kept for days is purged at now:
// data created exactly days×24h ago is due.
func Cutoff(now time.Time, days int) time.Time {
	return now.Add(-time.Duration(days) * 24 * time.Hour)
}
