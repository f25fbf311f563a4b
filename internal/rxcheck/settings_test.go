package rxcheck_test

import (
	"bytes"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/berlin"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/rxcheck"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
	"github.com/tresen/tresen/internal/tenant"
)

func TestSettingsValidate(t *testing.T) {
	for _, tc := range []struct {
		state string
		ok    bool
	}{
		{"", true}, {"BY", true}, {"NW", true}, {"TH", true},
		{"XX", false}, {"by", false}, {"Bayern", false}, {" BY", false},
	} {
		err := rxcheck.Settings{State: tc.state}.Validate()
		if tc.ok != (err == nil) {
			t.Errorf("Validate(%q) = %v, want ok %t", tc.state, err, tc.ok)
		}
		var e *errs.Error
		if err != nil && (!errors.As(err, &e) || e.Kind != errs.Invalid || e.Field != "state") {
			t.Errorf("Validate(%q) = %v, want an invalid state field", tc.state, err)
		}
	}
}

// noctuOnFronleichnam is the Noctu example moved to Fronleichnam 2027 (Thursday, 27 May;
// its KBV profile is in force then), a public holiday in Bayern but not nationwide, with
// the Notdienstgebühr billed for a dispense at 12:00.
func noctuOnFronleichnam(t *testing.T) []rxcheck.File {
	t.Helper()
	fs := files(t, "PZN_Noctu_VerordnungArzt.xml", "PZN_Noctu_eAbgabedaten.xml")
	for i := range fs {
		d := bytes.ReplaceAll(fs[i].Data, []byte("2026-07-27"), []byte("2027-05-27"))
		fs[i].Data = bytes.ReplaceAll(d, []byte("T22:10:00.0Z"), []byte("T10:00:00.0Z")) // 12:00 in Berlin
	}
	return fs
}

// entlassrezept is a paper Entlassrezept issued on Tuesday, 2 June 2026 and dispensed on
// Friday: its third working day is Thursday (Fronleichnam) nationwide, Friday in Bayern.
func entlassrezept() rxcheck.Paper {
	fields := paperFields()
	set := func(k, v string) { fields[k] = rxcheck.PaperField{Value: v, Confidence: 1} }
	set("status", "1000004") // Rechtsgrundlage 04: Entlassmanagement
	set("date", "2026-06-02")
	set("dispense_date", "2026-06-05")
	return rxcheck.Paper{Form: "muster16", Fields: fields}
}

func has(c rxcheck.Check, code string) bool { return slices.Contains(codes(c.Report), code) }

// TestSettingsHolidays: a pharmacy's Bundesland decides which public holidays the checks
// count, in every way a check is made; without it, only the nationwide ones.
func TestSettingsHolidays(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		nw, err := db.CreateTenant(ctx, tenant.Tenant{Kind: tenant.Pharmacy, Code: "308412345", Name: "Rosen-Apotheke"})
		if err != nil {
			t.Fatal(err)
		}
		by, err := db.CreateTenant(ctx, tenant.Tenant{Kind: tenant.Pharmacy, Code: "308412356", Name: "Enzian-Apotheke"})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Date(2027, 5, 27, 12, 0, 0, 0, berlin.Location)
		s := &rxcheck.Service{Store: db, Now: func() time.Time { return now }}

		if set, err := s.Settings(ctx, by.ID); err != nil || set != (rxcheck.Settings{}) {
			t.Fatalf("settings before any were set: %+v %v", set, err)
		}
		if err := s.SetSettings(ctx, by.ID, rxcheck.Settings{State: "Bayern"}); !errs.Is(err, errs.Invalid) {
			t.Errorf("SetSettings(Bayern) = %v, want invalid", err)
		}
		if err := s.SetSettings(ctx, by.ID, rxcheck.Settings{State: "BY"}); err != nil {
			t.Fatal(err)
		}
		if set, err := s.Settings(ctx, by.ID); err != nil || set.State != "BY" {
			t.Fatalf("settings: %+v %v", set, err)
		}
		if set, err := s.Settings(ctx, nw.ID); err != nil || set.State != "" {
			t.Errorf("the other pharmacy's settings: %+v %v", set, err)
		}
		entries, err := db.ListAudit(ctx, by.ID, store.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(entries, func(e audit.Entry) bool {
			return e.Action == audit.Update && e.ObjectType == "setting" && e.ObjectID == store.SettingRx
		}) {
			t.Errorf("the change of the settings is not audited: %+v", entries)
		}

		// E-Rezept: the Notdienstgebühr at noon on Fronleichnam.
		res, err := s.Add(ctx, nw.ID, noctuOnFronleichnam(t))
		if err != nil || len(res.Checks) != 1 {
			t.Fatalf("add without a state: %+v %v", res, err)
		}
		if c := res.Checks[0]; !slices.Equal(codes(c.Report), []string{"NOCTU-INVALID"}) {
			t.Errorf("without a state, noon on Fronleichnam is no Notdienst: want NOCTU-INVALID, findings %+v", c.Report.Findings)
		}
		res, err = s.Add(ctx, by.ID, noctuOnFronleichnam(t))
		if err != nil || len(res.Checks) != 1 {
			t.Fatalf("add in Bayern: %+v %v", res, err)
		}
		if c := res.Checks[0]; len(c.Report.Findings) != 0 {
			t.Errorf("in Bayern, Fronleichnam is a public holiday: findings %+v", c.Report.Findings)
		}

		// Paper: the Entlassrezept's 3 working days.
		paperNW, err := s.AddPaper(ctx, nw.ID, entlassrezept(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if !has(paperNW, "EXPIRED") {
			t.Errorf("without a state, Fronleichnam is a working day: want EXPIRED, findings %+v", paperNW.Report.Findings)
		}
		paperBY, err := s.AddPaper(ctx, by.ID, entlassrezept(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if has(paperBY, "EXPIRED") {
			t.Errorf("in Bayern, the third working day is Friday: findings %+v", paperBY.Report.Findings)
		}

		// The first pharmacy sets its Bundesland (Fronleichnam is a holiday in
		// Nordrhein-Westfalen too): checked again, both findings are gone; a correction
		// checks again under the setting as well.
		if err := s.SetSettings(ctx, nw.ID, rxcheck.Settings{State: "NW"}); err != nil {
			t.Fatal(err)
		}
		list, err := s.List(ctx, nw.ID, rxcheck.Filter{})
		if err != nil || len(list) != 2 {
			t.Fatalf("list: %d %v", len(list), err)
		}
		for _, old := range list {
			var c rxcheck.Check
			if old.Paper != nil {
				c, err = s.Correct(ctx, nw.ID, old.ID, "dispense_date", "05.06.2026", "u1")
			} else {
				c, err = s.Recheck(ctx, nw.ID, old.ID)
			}
			if err != nil {
				t.Fatal(err)
			}
			if has(c, "NOCTU-INVALID") || has(c, "EXPIRED") {
				t.Errorf("checked again in Nordrhein-Westfalen: findings %+v", c.Report.Findings)
			}
		}
	})
}
