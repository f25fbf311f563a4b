// Package rxcheck keeps a pharmacy's checked prescriptions: E-Rezept files come in, are
// matched by Rezept-ID with what arrived before, checked by package retax and stored,
// with the pharmacist's decisions on each finding, for the fixed 90 days; it lists and
// sums them per period.
package rxcheck

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/erezept"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/retax"
	"github.com/tresen/tresen/internal/retention"
	"github.com/tresen/tresen/internal/store"
)

// Store is what the service needs of the store.
type Store interface {
	AddRecord(ctx context.Context, tenantID string, r store.Record, file []byte) (store.Record, error)
	UpdateRecord(ctx context.Context, tenantID, id string, data json.RawMessage) error
	FindRecordByID(ctx context.Context, tenantID, id string) (store.Record, error)
	ListRecords(ctx context.Context, tenantID string, f store.RecordFilter) ([]store.Record, error)
	Audit(ctx context.Context, tenantID string, action audit.Action, objectType, objectID, detail string) error
	Setting(ctx context.Context, tenantID, name string, v any) error
	SetSetting(ctx context.Context, tenantID, name string, v any) error
}

// Service checks and keeps prescriptions for every pharmacy.
type Service struct {
	Store Store
	// Articles is the Artikelstamm for Pharma-Control and prices; nil: those checks are
	// reported as not done.
	Articles retax.Articles
	Now      func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// File is one file of a prescription as it came in.
type File struct {
	Name    string `json:"name"`
	Profile string `json:"profile,omitempty"`
	Data    []byte `json:"data"`
}

// Decisions on a finding.
const (
	Corrected = "corrected" // the pharmacy corrected it before billing
	Accepted  = "accepted"  // the pharmacy bills it as it is and bears the risk
)

// Decision is what the pharmacy decided about one finding.
type Decision struct {
	Code   string    `json:"code"`
	Path   string    `json:"path"`
	Status string    `json:"status"`
	Note   string    `json:"note,omitempty"`
	UserID string    `json:"user_id"`
	At     time.Time `json:"at"`
}

// Summary is what the lists show of a prescription.
type Summary struct {
	Payer       string `json:"payer,omitempty"`
	Drug        string `json:"drug,omitempty"`
	DispensedOn string `json:"dispensed_on,omitempty"` // YYYY-MM-DD
	Total       int64  `json:"total"`                  // gross, euro cents
}

// Check is one checked prescription as stored.
type Check struct {
	ID             string    `json:"-"` // the record's id
	CreatedAt      time.Time `json:"-"`
	PrescriptionID string    `json:"prescription_id"`
	Files          []File    `json:"files"`
	// Paper is set when the prescription was read from a scanned Muster 16.
	Paper *Paper `json:"paper,omitempty"`
	// Token is set when an E-Rezept token printout was scanned for it.
	Token     *Token       `json:"token,omitempty"`
	Report    retax.Report `json:"report"`
	Summary   Summary      `json:"summary"`
	Decisions []Decision   `json:"decisions,omitempty"`
	CheckedAt time.Time    `json:"checked_at"`
}

// Traffic lights.
const (
	Red    = "red"    // a retax risk not yet decided
	Yellow = "yellow" // a warning not yet decided, or checks that could not be done
	Green  = "green"
)

// Decision returns the decision on a finding, if any.
func (c Check) Decision(f retax.Finding) (Decision, bool) {
	for _, d := range c.Decisions {
		if d.Code == f.Code && d.Path == f.Path {
			return d, true
		}
	}
	return Decision{}, false
}

// Light is the check's traffic light.
func (c Check) Light() string {
	light := Green
	if len(c.Report.NotChecked) > 0 {
		light = Yellow
	}
	for _, f := range c.Report.Findings {
		if _, decided := c.Decision(f); decided {
			continue
		}
		switch f.Severity {
		case retax.Error:
			return Red
		case retax.Warning:
			light = Yellow
		}
	}
	return light
}

// AtRisk is the amount the insurer may refuse: the prescription's total while an error
// finding is open or accepted as a risk.
func (c Check) AtRisk() int64 {
	for _, f := range c.Report.Findings {
		if f.Severity != retax.Error {
			continue
		}
		if d, ok := c.Decision(f); !ok || d.Status == Accepted {
			return c.Summary.Total
		}
	}
	return 0
}

// Problem is a file that could not be read.
type Problem struct {
	Name   string
	Reason string
}

// Result is what an upload did.
type Result struct {
	Checks   []Check
	Problems []Problem
}

// maxFiles bounds the files of one prescription.
const maxFiles = 10

// Add reads E-Rezept files, joins each prescription with the files stored for it before,
// checks it and stores the result. Unreadable files are reported, never silently dropped.
func (s *Service) Add(ctx context.Context, tenantID string, files []File) (Result, error) {
	var res Result
	set, err := s.Settings(ctx, tenantID)
	if err != nil {
		return res, err
	}
	var read []erezept.File
	byName := map[string]File{}
	for _, f := range files {
		ef, err := erezept.Read(f.Name, f.Data)
		if err != nil {
			res.Problems = append(res.Problems, Problem{Name: f.Name, Reason: errs.Message(err)})
			continue
		}
		f.Profile = ef.Profile
		read = append(read, ef)
		byName[f.Name] = f
	}
	for _, c := range erezept.Group(read) {
		if c.Prescription == nil && c.Dispense == nil && len(c.Unsupported) == 0 {
			for _, name := range c.Files {
				res.Problems = append(res.Problems, Problem{Name: name, Reason: "weder Verordnung noch Abgabedaten (Quittung oder Abrechnung): nicht geprüft"})
			}
			continue
		}
		var in []File
		for _, name := range c.Files {
			in = append(in, byName[name])
		}
		chk, err := s.save(ctx, tenantID, c.ID, in, set)
		if err != nil {
			return res, err
		}
		res.Checks = append(res.Checks, chk)
	}
	return res, nil
}

// save checks the files of one prescription together with those stored for it before,
// under the pharmacy's settings, and saves the check.
func (s *Service) save(ctx context.Context, tenantID, rxID string, files []File, set Settings) (Check, error) {
	var prev *Check
	if rxID != "" {
		kind := retention.Prescription
		recs, err := s.Store.ListRecords(ctx, tenantID, store.RecordFilter{Kind: &kind, Lookup: &rxID, Limit: 1})
		if err != nil {
			return Check{}, err
		}
		if len(recs) > 0 {
			c, err := decode(recs[0])
			if err != nil {
				return Check{}, err
			}
			prev = &c
		}
	}
	chk := Check{PrescriptionID: rxID}
	if prev != nil {
		chk = *prev
		for _, f := range files { // a file sent again replaces the one of the same name
			chk.Files = slices.DeleteFunc(chk.Files, func(o File) bool { return o.Name == f.Name })
		}
	}
	chk.Files = append(chk.Files, files...)
	if len(chk.Files) > maxFiles {
		return Check{}, errs.E(errs.Invalid, "zu viele Dateien für die Verordnung %s (höchstens %d)", rxID, maxFiles)
	}
	if err := s.run(&chk, set); err != nil {
		return Check{}, err
	}
	data, err := json.Marshal(chk)
	if err != nil {
		return Check{}, err
	}
	if prev != nil {
		return chk, s.Store.UpdateRecord(ctx, tenantID, chk.ID, data)
	}
	rec, err := s.Store.AddRecord(ctx, tenantID, store.Record{Kind: retention.Prescription, Lookup: rxID, Data: data}, nil)
	chk.ID, chk.CreatedAt = rec.ID, rec.CreatedAt
	return chk, err
}

// run reads a check's files and runs the rules under the pharmacy's settings; decisions
// on findings that are gone are dropped.
func (s *Service) run(chk *Check, set Settings) error {
	defer func() {
		chk.Decisions = slices.DeleteFunc(chk.Decisions, func(d Decision) bool {
			return !slices.ContainsFunc(chk.Report.Findings, func(f retax.Finding) bool { return f.Code == d.Code && f.Path == d.Path })
		})
	}()
	if chk.Paper != nil {
		s.runPaper(chk, set)
		return nil
	}
	if len(chk.Files) == 0 && chk.Token != nil {
		now := s.now()
		chk.Report = retax.Report{PrescriptionID: chk.PrescriptionID, CheckedAt: now.Format(time.RFC3339), Findings: []retax.Finding{},
			NotChecked: []string{"Nur der Token wurde gescannt: die Verordnung prüft Tresen, sobald ihre E-Rezept-Daten da sind."}}
		chk.CheckedAt = now
		return nil
	}
	var read []erezept.File
	for _, f := range chk.Files {
		ef, err := erezept.Read(f.Name, f.Data)
		if err != nil {
			return fmt.Errorf("stored file %s: %w", f.Name, err)
		}
		read = append(read, ef)
	}
	cases := erezept.Group(read)
	if len(cases) != 1 {
		return errs.E(errs.Internal, "die Dateien gehören zu %d Verordnungen", len(cases))
	}
	c := cases[0]
	now := s.now()
	chk.Report = retax.Check(retax.Input{Prescription: c.Prescription, Dispense: c.Dispense, Unsupported: c.Unsupported, At: now, Articles: s.Articles, State: set.State})
	chk.CheckedAt = now
	chk.Summary = summarize(c)
	return nil
}

func summarize(c erezept.Case) Summary {
	var s Summary
	if p := c.Prescription; p != nil {
		s.Payer = p.Payer.Name
		s.Drug = p.Medication.Name
		if s.Drug == "" && len(p.Medication.Ingredients) > 0 {
			parts := make([]string, len(p.Medication.Ingredients))
			for i, in := range p.Medication.Ingredients {
				parts[i] = strings.TrimSpace(in.Name + " " + in.Strength)
			}
			s.Drug = strings.Join(parts, " + ")
		}
	}
	if d := c.Dispense; d != nil {
		if !d.HandedOver.IsZero() {
			s.DispensedOn = d.HandedOver.Format(time.DateOnly)
		}
		s.Total = d.TotalGross
		if s.Total == 0 {
			for _, it := range d.Items {
				s.Total += it.Price
			}
		}
	}
	return s
}

func decode(r store.Record) (Check, error) {
	var c Check
	if r.Kind != retention.Prescription {
		return c, errs.E(errs.NotFound, "kein geprüftes Rezept")
	}
	if err := json.Unmarshal(r.Data, &c); err != nil {
		return c, fmt.Errorf("prescription check %s: %w", r.ID, err)
	}
	c.ID, c.CreatedAt = r.ID, r.CreatedAt
	return c, nil
}

// Get returns one check.
func (s *Service) Get(ctx context.Context, tenantID, id string) (Check, error) {
	r, err := s.Store.FindRecordByID(ctx, tenantID, id)
	if err != nil {
		return Check{}, err
	}
	return decode(r)
}

// Filter selects checks by the day they came in: From <= day < To (zero: open).
type Filter struct {
	From, To time.Time
	Light    string // "" for all
}

// List returns the checks that came in over a period, newest first.
func (s *Service) List(ctx context.Context, tenantID string, f Filter) ([]Check, error) {
	kind := retention.Prescription
	rf := store.RecordFilter{Kind: &kind, Limit: store.MaxRecordList}
	if !f.From.IsZero() {
		rf.Since = &f.From
	}
	if !f.To.IsZero() {
		rf.Until = &f.To
	}
	recs, err := s.Store.ListRecords(ctx, tenantID, rf)
	if err != nil {
		return nil, err
	}
	out := make([]Check, 0, len(recs))
	for _, r := range recs {
		c, err := decode(r)
		if err != nil {
			return nil, err
		}
		if f.Light == "" || c.Light() == f.Light {
			out = append(out, c)
		}
	}
	return out, nil
}

// maxNote bounds a decision's note.
const maxNote = 500

// Decide records the pharmacy's decision on one finding; the change is audited.
func (s *Service) Decide(ctx context.Context, tenantID, id string, d Decision) (Check, error) {
	if d.Status != Corrected && d.Status != Accepted {
		return Check{}, errs.Field("status", "Bitte „korrigiert“ oder „Risiko akzeptiert“ wählen.")
	}
	d.Note = strings.TrimSpace(d.Note)
	if !utf8.ValidString(d.Note) || utf8.RuneCountInString(d.Note) > maxNote {
		return Check{}, errs.Field("note", "Die Notiz darf höchstens %d Zeichen lang sein.", maxNote)
	}
	if d.Status == Accepted && d.Note == "" {
		return Check{}, errs.Field("note", "Bitte begründen, warum das Risiko akzeptiert wird.")
	}
	c, err := s.Get(ctx, tenantID, id)
	if err != nil {
		return Check{}, err
	}
	if !slices.ContainsFunc(c.Report.Findings, func(f retax.Finding) bool { return f.Code == d.Code && f.Path == d.Path }) {
		return Check{}, errs.E(errs.NotFound, "Diesen Befund gibt es bei diesem Rezept nicht (mehr).")
	}
	d.At = s.now()
	c.Decisions = slices.DeleteFunc(c.Decisions, func(o Decision) bool { return o.Code == d.Code && o.Path == d.Path })
	c.Decisions = append(c.Decisions, d)
	data, err := json.Marshal(c)
	if err != nil {
		return Check{}, err
	}
	if err := s.Store.UpdateRecord(ctx, tenantID, id, data); err != nil {
		return Check{}, err
	}
	return c, s.Store.Audit(ctx, tenantID, audit.Update, "prescription_finding", id, "code="+d.Code+" decision="+d.Status)
}

// Recheck runs the rules again over the stored files, as of now (a new Artikelstamm, a
// corrected file).
func (s *Service) Recheck(ctx context.Context, tenantID, id string) (Check, error) {
	c, err := s.Get(ctx, tenantID, id)
	if err != nil {
		return Check{}, err
	}
	return c, s.rerun(ctx, tenantID, &c)
}

// rerun runs the rules over a stored check again, under the pharmacy's settings as they
// are now, and stores the result.
func (s *Service) rerun(ctx context.Context, tenantID string, c *Check) error {
	set, err := s.Settings(ctx, tenantID)
	if err != nil {
		return err
	}
	if err := s.run(c, set); err != nil {
		return err
	}
	data, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return s.Store.UpdateRecord(ctx, tenantID, c.ID, data)
}
