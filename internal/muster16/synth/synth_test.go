package synth

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/tresen/tresen/internal/muster16"
	"github.com/tresen/tresen/internal/prescription"
)

// Erika is a synthetic prescription with every field printed.
var Erika = map[string]string{
	"payer_name": "AOK Bremen/Bremerh.", "payer_ik": "108310400",
	"patient_name": "Mustermann, Erika", "patient_address": "Musterweg 6, D 12345 Musterhausen",
	"birth_date": "1984-03-12", "kvnr": "A123456780", "status": "1000000",
	"bsnr": "021234500", "lanr": "123456601", "date": "2026-11-23",
	"gebuehr_frei": "false", "geb_pfl": "true", "noctu": "false", "sonstige": "false", "unfall": "false", "arbeitsunfall": "false",
	"bvg": "false", "hilfsmittel": "false", "impfstoff": "false", "sprechstundenbedarf": "false", "begruendungspflicht": "false",
	"aut_idem_1": "true", "aut_idem_2": "false", "aut_idem_3": "false",
	"rx_line_1": "Ramipril 5 mg 100 Tbl. N3 >>1-0-0<<", "rx_line_2": "", "rx_line_3": "",
	"pharmacy_ik": "308412345", "total_gross": "15.48", "copayment": "5.00",
	"pzn_1": "02567018", "factor_1": "1", "price_1": "15.48",
	"dispense_date": "2026-11-24",
}

// inkIn counts the dark (black print) pixels in the field's first box, with a margin.
func inkIn(img image.Image, key string, dpi float64) int {
	f, _ := muster16.FieldByKey(key)
	b := f.Boxes[0]
	s := dpi / 25.4
	n := 0
	for y := int((b.Y - 1) * s); y < int((b.Y+b.H+1)*s); y++ {
		for x := int((b.X - 1) * s); x < int((b.X+b.W+1)*s); x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r < 0x5000 && g < 0x5000 && bl < 0x5000 {
				n++
			}
		}
	}
	return n
}

func TestRender(t *testing.T) {
	img, err := Render(Erika, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 1748 || b.Dy() != 1240 {
		t.Errorf("page %v, want 1748 × 1240 at 300 dpi (spec §1)", b)
	}
	// The pink ground left of the Personalienfeld, the red frame, black print in the fields.
	if c := color.RGBAModel.Convert(img.At(100, 709)).(color.RGBA); c != pink {
		t.Errorf("ground %v, want the form's pink", c)
	}
	for _, key := range []string{"kvnr", "payer_ik", "birth_date", "pzn_1", "geb_pfl", "aut_idem_1", "total_gross", "dispense_date"} {
		if n := inkIn(img, key, 300); n < 20 {
			t.Errorf("%s: %d black pixels, want its print", key, n)
		}
	}
	for _, key := range []string{"gebuehr_frei", "noctu", "bvg", "pzn_2"} {
		if n := inkIn(img, key, 300); n > 0 {
			t.Errorf("%s: %d black pixels in a field that is not printed", key, n)
		}
	}
	if os.Getenv("TRESEN_SYNTH_OUT") != "" {
		f, _ := os.Create(filepath.Join(os.Getenv("TRESEN_SYNTH_OUT"), "erika.png"))
		png.Encode(f, img)
		f.Close()
	}
}

// TestRenderVariation: every variation renders at its size, and the same seed gives the
// same page.
func TestRenderVariation(t *testing.T) {
	o := Options{DPI: 200, Skew: 2.5, OffsetX: 1.5, OffsetY: -1, JPEG: 60, Stamp: true, Signature: true, FaintRed: true, Comma: true, Seed: 7}
	a, err := Render(Erika, o)
	if err != nil {
		t.Fatal(err)
	}
	if b := a.Bounds(); b.Dx() != 1165 || b.Dy() != 827 {
		t.Errorf("page %v at 200 dpi", b)
	}
	b, _ := Render(Erika, o)
	for y := 0; y < a.Bounds().Dy(); y += 7 {
		for x := 0; x < a.Bounds().Dx(); x += 7 {
			if a.At(x, y) != b.At(x, y) {
				t.Fatalf("the same seed gave another page at (%d, %d)", x, y)
			}
		}
	}
	if _, err := Render(Erika, Options{DPI: 20}); err == nil {
		t.Error("20 dpi accepted")
	}
	// Printer fonts, the pharmacy's own offset, an A4 sheet turned on its side.
	o = Options{DPI: 200, Skew: -3, PharmacyOffsetX: -1.5, PharmacyOffsetY: 2, Bold: true, Proportional: true, PharmacyCPI: 12,
		Sheet: true, SheetX: 40, SheetY: 150, Turn: 1, Seed: 8}
	c, err := Render(Erika, o)
	if err != nil {
		t.Fatal(err)
	}
	if b := c.Bounds(); b.Dx() != 2339 || b.Dy() != 1654 {
		t.Errorf("A4 at 200 dpi turned on its side: %v, want 2339 × 1654", b)
	}
}

// TestRecord: synthetic records carry every key, valid numbers and dates in format, and
// repeat by seed.
func TestRecord(t *testing.T) {
	for seed := range uint64(50) {
		r := Record(seed)
		for _, f := range muster16.Fields {
			if _, ok := r[f.Key]; !ok {
				t.Fatalf("seed %d: no %s", seed, f.Key)
			}
		}
		for key, check := range map[string]func(string) error{"kvnr": prescription.ValidateKVNR, "payer_ik": prescription.ValidateIK,
			"pharmacy_ik": prescription.ValidateIK, "lanr": prescription.ValidateLANR, "bsnr": prescription.ValidateBSNR, "pzn_1": prescription.ValidatePZN} {
			if err := check(r[key]); err != nil {
				t.Errorf("seed %d: %s %s: %v", seed, key, r[key], err)
			}
		}
		for _, f := range muster16.Fields {
			if f.Kind == muster16.Date && muster16.Read(f, shortDate(r[f.Key], "."), 26).Value != r[f.Key] {
				t.Errorf("seed %d: %s %s does not read back", seed, f.Key, r[f.Key])
			}
		}
	}
	if a, b := Record(7), Record(7); a["kvnr"] != b["kvnr"] || a["rx_line_1"] != b["rx_line_1"] {
		t.Error("the same seed gave another record")
	}
}
