package rxcheck_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/retax"
	"github.com/tresen/tresen/internal/rxcheck"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
	"github.com/tresen/tresen/internal/tenant"
)

const fixtures = "../../../shared/fixtures/erezept/kbv-1.4_dav-2026-07-01"

var ctx = audit.WithActor(context.Background(), audit.Actor{UserID: "test", Source: "test"})

func files(t *testing.T, names ...string) []rxcheck.File {
	t.Helper()
	var out []rxcheck.File
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(fixtures, n))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rxcheck.File{Name: n, Data: data})
	}
	return out
}

// pharmacy makes the Rosen-Apotheke.
func pharmacy(t *testing.T, db *store.DB) tenant.Tenant {
	t.Helper()
	ph, err := db.CreateTenant(ctx, tenant.Tenant{Kind: tenant.Pharmacy, Code: "308412345", Name: "Rosen-Apotheke"})
	if err != nil {
		t.Fatal(err)
	}
	return ph
}

func TestService(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ph := pharmacy(t, db)
		now := time.Date(2026, 7, 19, 15, 0, 0, 0, time.UTC)
		s := &rxcheck.Service{Store: db, Now: func() time.Time { return now }}

		res, err := s.Add(ctx, ph.ID, append(files(t, "PZN_Nr33_VerordnungArzt.xml", "PZN_Nr31_VerordnungArzt.xml"), rxcheck.File{Name: "leer.xml"}))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Checks) != 2 || len(res.Problems) != 1 || res.Problems[0].Name != "leer.xml" {
			t.Fatalf("result: %d checks, problems %+v", len(res.Checks), res.Problems)
		}
		nr33, nr31 := res.Checks[0], res.Checks[1]
		if nr33.Light() != rxcheck.Red || nr31.Light() != rxcheck.Green {
			t.Errorf("lights %s %s", nr33.Light(), nr31.Light())
		}
		// The dispense joins its prescription; prices and the dispense day come with it.
		res, err = s.Add(ctx, ph.ID, files(t, "PZN_Nr31_eAbgabedaten.xml"))
		if err != nil || len(res.Checks) != 1 || res.Checks[0].ID != nr31.ID || len(res.Checks[0].Files) != 2 {
			t.Fatalf("joined: %+v %v", res.Checks, err)
		}
		if got := res.Checks[0].Summary; got.Total != 3804 || got.DispensedOn != "2026-07-19" || got.Payer != "AOK Nordost" {
			t.Errorf("summary %+v", got)
		}

		// Decisions: a reason for an accepted risk, only for findings that exist.
		for _, d := range []rxcheck.Decision{
			{Code: "LANR-CHECKDIGIT", Path: "practitioner.lanr", Status: "maybe"},
			{Code: "LANR-CHECKDIGIT", Path: "practitioner.lanr", Status: rxcheck.Accepted},
			{Code: "LANR-CHECKDIGIT", Path: "practitioner.lanr", Status: rxcheck.Corrected, Note: strings.Repeat("x", 501)},
		} {
			if _, err := s.Decide(ctx, ph.ID, nr33.ID, d); !errs.Is(err, errs.Invalid) {
				t.Errorf("Decide(%+v) = %v, want invalid", d.Status, err)
			}
		}
		if _, err := s.Decide(ctx, ph.ID, nr33.ID, rxcheck.Decision{Code: "EXPIRED", Path: "x", Status: rxcheck.Corrected}); !errs.Is(err, errs.NotFound) {
			t.Errorf("decision on no finding: %v", err)
		}
		c, err := s.Decide(ctx, ph.ID, nr33.ID, rxcheck.Decision{Code: "LANR-CHECKDIGIT", Path: "practitioner.lanr", Status: rxcheck.Accepted, Note: "Praxis bestätigt", UserID: "u1"})
		if err != nil {
			t.Fatal(err)
		}
		if c.Light() != rxcheck.Green || c.AtRisk() != c.Summary.Total {
			t.Errorf("accepted risk: light %s, at risk %d", c.Light(), c.AtRisk())
		}
		// Weeks later the check runs again: the prescription has expired, the decision on
		// the LANR stays, the new finding is open.
		now = now.AddDate(0, 2, 0)
		c, err = s.Recheck(ctx, ph.ID, nr33.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Decisions) != 1 || c.Light() != rxcheck.Red {
			t.Errorf("after recheck: decisions %+v light %s findings %+v", c.Decisions, c.Light(), c.Report.Findings)
		}

		all, err := s.List(ctx, ph.ID, rxcheck.Filter{})
		if err != nil || len(all) != 2 {
			t.Fatalf("list: %d %v", len(all), err)
		}
		red, _ := s.List(ctx, ph.ID, rxcheck.Filter{Light: rxcheck.Red})
		if len(red) != 1 || red[0].ID != nr33.ID {
			t.Errorf("red list: %+v", red)
		}
		sum := rxcheck.Sum(all)
		if sum.Checked != 2 || sum.Red != 1 || sum.Dispensed != 3804 || sum.Decided != 1 {
			t.Errorf("sum %+v", sum)
		}
	})
}

func TestCSV(t *testing.T) {
	checks := []rxcheck.Check{{
		PrescriptionID: "160.100.000.000.019.82",
		Summary:        rxcheck.Summary{Payer: "=HYPERLINK(\"x\")", Drug: "Ramipril 5 mg", DispensedOn: "2026-11-05", Total: 123456},
		Report:         retax.Report{Kind: "gkv", Findings: []retax.Finding{{Code: "EXPIRED", Severity: retax.Error, Path: "p"}}},
	}}
	var b bytes.Buffer
	if err := rxcheck.WriteCSV(&b, checks); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"\ufeffEingang;Rezept-ID;", "'=HYPERLINK", ";1234,56;Retaxationsrisiko;EXPIRED;;1234,56\r\n", "05.11.2026"} {
		if !strings.Contains(out, want) {
			t.Errorf("CSV lacks %q:\n%s", want, out)
		}
	}
	var pdf bytes.Buffer
	if err := rxcheck.WritePDF(&pdf, "Rosen-Apotheke", time.Time{}, time.Time{}, checks); err != nil || !bytes.HasPrefix(pdf.Bytes(), []byte("%PDF-")) {
		t.Errorf("PDF: %v", err)
	}
}
