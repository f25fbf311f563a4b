package ocr

import (
	"strings"
	"testing"

	"github.com/tresen/tresen/internal/muster16/synth"
)

// erika is a synthetic prescription with every field the pharmacy and the practice print.
var erika = map[string]string{
	"payer_name": "AOK Bremen/Bremerh.", "payer_ik": "108310400",
	"patient_name": "Mustermann, Erika", "patient_address": "Musterweg 6, D 12345 Musterhausen",
	"birth_date": "1984-03-12", "kvnr": "A123456780", "status": "1000000",
	"bsnr": "021234500", "lanr": "123456601", "date": "2026-11-23",
	"gebuehr_frei": "false", "geb_pfl": "true", "noctu": "false", "sonstige": "false", "unfall": "false", "arbeitsunfall": "false",
	"bvg": "false", "hilfsmittel": "true", "impfstoff": "false", "sprechstundenbedarf": "false", "begruendungspflicht": "false",
	"aut_idem_1": "true", "aut_idem_2": "false", "aut_idem_3": "false",
	"rx_line_1": "Ramipril 5 mg 100 Tbl. N3 >>1-0-0<<", "rx_line_2": "", "rx_line_3": "",
	"pharmacy_ik": "308412345", "total_gross": "15.48", "copayment": "5.00",
	"pzn_1": "02567018", "factor_1": "1", "price_1": "15.48",
	"pzn_2": "", "factor_2": "", "price_2": "", "pzn_3": "", "factor_3": "", "price_3": "",
	"dispense_date": "2026-11-24",
}

// TestReadCleanPage reads a clean synthetic page at 300 dpi: every field as printed.
func TestReadCleanPage(t *testing.T) {
	img, err := synth.Render(erika, synth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(1)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	p, err := e.ReadPage(img)
	if err != nil {
		t.Fatal(err)
	}
	right := 0
	for key, want := range erika {
		got := p.Fields[key]
		if got.Value == want {
			right++
			continue
		}
		// A field read wrong must be marked for review.
		flagged := false
		for _, r := range p.Review {
			flagged = flagged || strings.HasPrefix(r, key+":")
		}
		if !flagged {
			t.Errorf("%s: %q (confidence %.2f), want %q, and it is not marked for review", key, got.Value, got.Confidence, want)
		}
	}
	t.Logf("%d of %d fields right; review: %v", right, len(erika), p.Review)
	if right < len(erika)*95/100 {
		t.Errorf("%d of %d fields right on a clean page, want ≥ 95 %%", right, len(erika))
	}
}
