package rxcheck_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/retax"
	"github.com/tresen/tresen/internal/retention"
	"github.com/tresen/tresen/internal/rxcheck"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
)

// paperFields is a Muster 16 as OCR reads it: a GKV prescription of one drug, dispensed
// two days later with the Notdienst code on the second Taxzeile. Synthetic data.
func paperFields() map[string]rxcheck.PaperField {
	v := map[string]string{
		"payer_name": "Musterkasse Nord", "payer_ik": "108310400", "patient_name": "Mustermann, Erika",
		"patient_address": "Musterweg 6, D 12345 Musterhausen", "birth_date": "1964-08-12", "kvnr": "A123456780",
		"status": "1000000", "bsnr": "021234567", "lanr": "123456601", "date": "2026-11-02",
		"geb_pfl": "true", "noctu": "true", "rx_line_1": "Ibuprofen 400 mg 20 Filmtabletten N1 >>1-0-1<<",
		"pharmacy_ik": "308412345", "total_gross": "21.07", "copayment": "5.00",
		"pzn_1": "01234562", "factor_1": "1", "price_1": "18.57", "pzn_2": "02567018", "factor_2": "1", "price_2": "2.50",
		"dispense_date": "2026-11-04",
	}
	out := map[string]rxcheck.PaperField{}
	for _, l := range rxcheck.PaperLabels {
		val := v[l.Key]
		if val == "" && strings.Contains("gebuehr_frei geb_pfl noctu sonstige unfall arbeitsunfall bvg hilfsmittel impfstoff sprechstundenbedarf begruendungspflicht aut_idem_1 aut_idem_2 aut_idem_3", l.Key) {
			val = "false"
		}
		out[l.Key] = rxcheck.PaperField{Value: val, Confidence: 0.97}
	}
	return out
}

func codes(r retax.Report) []string {
	var out []string
	for _, f := range r.Findings {
		out = append(out, f.Code)
	}
	return out
}

func TestPaper(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ph := pharmacy(t, db)
		now := time.Date(2026, 11, 4, 15, 0, 0, 0, time.UTC)
		s := &rxcheck.Service{Store: db, Now: func() time.Time { return now }}

		// OCR was unsure of the KVNR: the check waits for a person (yellow), whatever
		// the rules say of the rest.
		fields := paperFields()
		p := rxcheck.Paper{PageID: "page-1", Form: "muster16", Fields: fields,
			Review: []string{"kvnr: unsichere Erkennung", "Formular: rosa Grund nicht gefunden, Seite als Formular gelesen"}}
		c, err := s.AddPaper(ctx, ph.ID, p, []byte("form image"))
		if err != nil {
			t.Fatal(err)
		}
		if c.Light() != rxcheck.Yellow || len(c.Report.Findings) != 0 {
			t.Errorf("light %s, findings %+v", c.Light(), c.Report.Findings)
		}
		if want := "Erkennung noch zu prüfen: Versichertennummer, Formular"; !slices.Contains(c.Report.NotChecked, want) {
			t.Errorf("not checked %q, want %q", c.Report.NotChecked, want)
		}
		if c.Summary.Total != 2107 || c.Summary.DispensedOn != "2026-11-04" || c.Summary.Payer != "Musterkasse Nord" || !strings.HasPrefix(c.Summary.Drug, "Ibuprofen") {
			t.Errorf("summary %+v", c.Summary)
		}
		if img, err := db.RecordFile(ctx, ph.ID, c.ID); err != nil || string(img) != "form image" {
			t.Errorf("form image %q %v", img, err)
		}

		// The pharmacist types the KVNR as the form shows it: a wrong check digit is the
		// rules' finding, not a refused input.
		c, err = s.Correct(ctx, ph.ID, c.ID, "kvnr", "a123456781", "u1")
		if err != nil {
			t.Fatal(err)
		}
		if got := codes(c.Report); !slices.Equal(got, []string{"KVNR-CHECKDIGIT"}) || c.Light() != rxcheck.Red {
			t.Errorf("after wrong KVNR: findings %v light %s", got, c.Light())
		}
		f := c.Paper.Fields["kvnr"]
		if f.Value != "A123456781" || f.By != "u1" || f.Read != "A123456780" || f.Confidence != 1 {
			t.Errorf("corrected field %+v", f)
		}
		c, err = s.Correct(ctx, ph.ID, c.ID, "kvnr", "A123456780", "u1")
		if err != nil {
			t.Fatal(err)
		}
		if c.Paper.Fields["kvnr"].Read != "A123456780" || len(c.Report.Findings) != 0 {
			t.Errorf("second correction: %+v %v", c.Paper.Fields["kvnr"], codes(c.Report))
		}
		// The form note stays until the page is looked at as a whole; the field is done.
		if open, general := c.Paper.Open(); len(open) != 0 || len(general) != 1 {
			t.Errorf("open %v %v", open, general)
		}

		// Dates and amounts typed the German way come out in the spec's format.
		c, err = s.Correct(ctx, ph.ID, c.ID, "date", "01.09.2026", "u1")
		if err != nil {
			t.Fatal(err)
		}
		if c.Paper.Fields["date"].Value != "2026-09-01" || !slices.Contains(codes(c.Report), "EXPIRED") {
			t.Errorf("date corrected: %q findings %v", c.Paper.Fields["date"].Value, codes(c.Report))
		}
		c, err = s.Correct(ctx, ph.ID, c.ID, "total_gross", "21,07", "u1")
		if err != nil || c.Paper.Fields["total_gross"].Value != "21.07" {
			t.Errorf("amount: %q %v", c.Paper.Fields["total_gross"].Value, err)
		}

		for _, bad := range []struct{ key, value string }{
			{"kvnr", "1234567890"}, {"payer_ik", "12345"}, {"date", "31.02.2026"}, {"total_gross", "12,3"},
			{"noctu", "ja"}, {"status", "10000"}, {"rx_line_1", strings.Repeat("x", 201)},
		} {
			if _, err := s.Correct(ctx, ph.ID, c.ID, bad.key, bad.value, "u1"); !errs.Is(err, errs.Invalid) {
				t.Errorf("Correct(%s, %q) = %v, want invalid", bad.key, bad.value, err)
			}
		}
		if _, err := s.Correct(ctx, ph.ID, c.ID, "signature", "x", "u1"); !errs.Is(err, errs.NotFound) {
			t.Errorf("unknown field: %v", err)
		}

		// Corrections are audited by field name only, never the value.
		events, err := db.ListAudit(ctx, ph.ID, store.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range events {
			if e.ObjectType == "prescription_field" && e.Action == audit.Update {
				n++
				if strings.Contains(e.Detail, "A1234") || !strings.HasPrefix(e.Detail, "field=") {
					t.Errorf("audit detail %q", e.Detail)
				}
			}
		}
		if n != 4 {
			t.Errorf("%d field corrections audited, want 4", n)
		}
		kind := retention.Prescription
		if recs, err := db.ListRecords(ctx, ph.ID, store.RecordFilter{Kind: &kind}); err != nil || len(recs) != 1 {
			t.Errorf("records %d %v", len(recs), err)
		}
	})
}

// TestPaperAccident: the accident's day and employer are not read from the paper; the
// check says so instead of reporting them missing.
func TestPaperAccident(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ph := pharmacy(t, db)
		s := &rxcheck.Service{Store: db, Now: func() time.Time { return time.Date(2026, 11, 4, 15, 0, 0, 0, time.UTC) }}
		fields := paperFields()
		fields["arbeitsunfall"] = rxcheck.PaperField{Value: "true", Confidence: 1}
		c, err := s.AddPaper(ctx, ph.ID, rxcheck.Paper{Form: "muster16", Fields: fields}, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range c.Report.Findings {
			if strings.Contains(f.Path, "accident") {
				t.Errorf("accident finding %+v", f)
			}
		}
		if !slices.ContainsFunc(c.Report.NotChecked, func(s string) bool { return strings.HasPrefix(s, "Unfalltag") }) {
			t.Errorf("not checked %q", c.Report.NotChecked)
		}
	})
}

// TestToken: a scanned token waits for its prescription's data, which join it by the
// Rezept-ID.
func TestToken(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ph := pharmacy(t, db)
		s := &rxcheck.Service{Store: db, Now: func() time.Time { return time.Date(2026, 7, 19, 15, 0, 0, 0, time.UTC) }}
		if _, err := s.AddToken(ctx, ph.ID, "160.115.468.135.035.51", rxcheck.Token{AccessCode: "ab"}); !errs.Is(err, errs.Invalid) {
			t.Errorf("wrong check digit: %v", err)
		}
		tok := rxcheck.Token{AccessCode: strings.Repeat("7a", 32), PageID: "page-1"}
		c, err := s.AddToken(ctx, ph.ID, "160.115.468.135.035.50", tok)
		if err != nil {
			t.Fatal(err)
		}
		if c.Light() != rxcheck.Yellow || len(c.Report.NotChecked) != 1 {
			t.Errorf("token only: light %s, not checked %q", c.Light(), c.Report.NotChecked)
		}
		res, err := s.Add(ctx, ph.ID, files(t, "PZN_Nr31_VerordnungArzt.xml"))
		if err != nil || len(res.Checks) != 1 {
			t.Fatalf("add: %+v %v", res, err)
		}
		got := res.Checks[0]
		if got.ID != c.ID || got.Token == nil || got.Token.AccessCode != tok.AccessCode || got.Light() != rxcheck.Green {
			t.Errorf("joined: id %s/%s token %+v light %s", got.ID, c.ID, got.Token, got.Light())
		}
		// Scanned again after the data came: still one check.
		again, err := s.AddToken(ctx, ph.ID, "160.115.468.135.035.50", tok)
		if err != nil || again.ID != c.ID || len(again.Files) != 1 {
			t.Errorf("token again: %s %d %v", again.ID, len(again.Files), err)
		}
	})
}

// TestCheckPaperLines: two prescription lines on one form, each billed on its own
// Taxzeile, owe a co-payment per pack, not one on their sum.
func TestCheckPaperLines(t *testing.T) {
	fields := paperFields()
	set := func(k, v string) { fields[k] = rxcheck.PaperField{Value: v, Confidence: 1} }
	set("noctu", "false")
	set("rx_line_2", "Pantoprazol 40 mg 98 Tbl. N3 >>1-0-0<<")
	set("pzn_2", "01234562")
	set("price_2", "91.03")
	set("total_gross", "109.60")
	set("copayment", "14.10") // 5,00 € for 18,57 €, 9,10 € for 91,03 €
	rep, sum := rxcheck.CheckPaper(&rxcheck.Paper{Form: "muster16", Fields: fields}, retax.Input{At: time.Date(2026, 11, 4, 15, 0, 0, 0, time.UTC)})
	if got := codes(rep); len(got) != 0 {
		t.Errorf("findings %v: %+v", got, rep.Findings)
	}
	if sum.Total != 10960 || !strings.Contains(sum.Drug, " + Pantoprazol") {
		t.Errorf("summary %+v", sum)
	}
	set("copayment", "10.00") // one co-payment on the sum: wrong for two drugs
	rep, _ = rxcheck.CheckPaper(&rxcheck.Paper{Form: "muster16", Fields: fields}, retax.Input{At: time.Date(2026, 11, 4, 15, 0, 0, 0, time.UTC)})
	if got := codes(rep); !slices.Equal(got, []string{"ZUZAHLUNG-WRONG"}) {
		t.Errorf("one co-payment for two drugs: findings %v", got)
	}

	// Line 2 names its product and crosses out aut idem; line 1 allows a substitute.
	set("copayment", "14.10")
	set("rx_line_2", "Pantoprazol 40 mg 98 Tbl. N3 PZN 07654325")
	set("aut_idem_2", "true")
	set("pzn_1", "04567896")
	set("pzn_2", "07654325")
	rep, _ = rxcheck.CheckPaper(&rxcheck.Paper{Form: "muster16", Fields: fields}, retax.Input{At: time.Date(2026, 11, 4, 15, 0, 0, 0, time.UTC)})
	if got := codes(rep); len(got) != 0 {
		t.Errorf("line 2 dispensed as prescribed, line 1 substituted: findings %+v", rep.Findings)
	}
	set("pzn_2", "01234562")
	rep, _ = rxcheck.CheckPaper(&rxcheck.Paper{Form: "muster16", Fields: fields}, retax.Input{At: time.Date(2026, 11, 4, 15, 0, 0, 0, time.UTC)})
	if got := codes(rep); !slices.Equal(got, []string{"PZN-MISMATCH"}) || rep.Findings[0].Path != "dispense.items[1].pzn" {
		t.Errorf("line 2 swapped despite aut idem: findings %+v", rep.Findings)
	}
}
