package ocr

import (
	"encoding/json"
	"image"
	"image/color"
	"image/draw"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/tresen/tresen/internal/imaging"
	"github.com/tresen/tresen/internal/muster16"
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

// compare counts the fields read right; a field read wrong must be marked for review.
func compare(t *testing.T, p Page, truth map[string]string) int {
	t.Helper()
	right := 0
	for key, want := range truth {
		got := p.Fields[key]
		if got.Value == want {
			right++
			continue
		}
		flagged := false
		for _, r := range p.Review {
			flagged = flagged || strings.HasPrefix(r, key+":")
		}
		if !flagged {
			t.Errorf("%s: %q (confidence %.2f), want %q, and it is not marked for review", key, got.Value, got.Confidence, want)
		}
	}
	return right
}

// TestReadPages reads synthetic pages, clean and degraded the ways scans are: every field
// is read right or marked for review, and most are read right.
func TestReadPages(t *testing.T) {
	e, err := New(1)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for _, tc := range []struct {
		name string
		o    synth.Options
		want int // percent of fields read right at least
	}{
		{"clean 300 dpi", synth.Options{}, 98},
		{"skewed 2.5°, printers off each their way", synth.Options{Skew: 2.5, OffsetX: 1.0, OffsetY: 1.8, PharmacyOffsetX: -1.6, PharmacyOffsetY: -1.2, Seed: 1}, 95},
		{"skewed −4°, 200 dpi, JPEG", synth.Options{DPI: 200, Skew: -4, JPEG: 70, Seed: 2}, 95},
		{"stamp, signature, faint red, comma amounts", synth.Options{Stamp: true, Signature: true, FaintRed: true, Comma: true, Seed: 3}, 95},
		{"Courier bold, proportional prescription, pharmacy at 12 cpi, 600 dpi", synth.Options{DPI: 600, Bold: true, Proportional: true, PharmacyCPI: 12, Seed: 4}, 95},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img, err := synth.Render(erika, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			p, err := e.ReadPage(img)
			if err != nil {
				t.Fatal(err)
			}
			right := compare(t, p, erika)
			t.Logf("%d of %d fields right; review: %v", right, len(erika), p.Review)
			if right*100 < len(erika)*tc.want {
				t.Errorf("%d of %d fields right, want ≥ %d %%", right, len(erika), tc.want)
			}
		})
	}
}

// TestReadGreyScan: a scan without colour has no pink ground to find; the page is read
// as the form, the review says so, and marks every field.
func TestReadGreyScan(t *testing.T) {
	img, err := synth.Render(erika, synth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	grey := image.NewGray(img.Bounds())
	draw.Draw(grey, grey.Bounds(), img, image.Point{}, draw.Src)
	e, err := New(1)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	p, err := e.ReadPage(grey)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Review) == 0 || !strings.HasPrefix(p.Review[0], "Formular") {
		t.Errorf("review %v, want the form not found first", p.Review)
	}
	// Where each field lies is a guess: every one is marked, right or not.
	right := compare(t, p, erika)
	t.Logf("%d of %d fields right; review: %v", right, len(erika), p.Review)
	for key := range erika {
		if !slices.ContainsFunc(p.Review, func(r string) bool { return strings.HasPrefix(r, key+":") }) {
			t.Errorf("%s not marked for review on a page without the form's ground", key)
		}
	}
	if _, err := e.ReadPage(image.NewGray(image.Rect(0, 0, 100, 70))); err == nil {
		t.Error("a 100 × 70 pixel page was read")
	}
}

// TestReadChecksSums: Taxen that do not add up to the Gesamt-Brutto send the amounts to
// review (one of them was misread, and no check digit tells which); a page whose text is
// not on it where every prescription has some is flagged, not taken as empty.
func TestReadChecksSums(t *testing.T) {
	e, err := New(1)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	wrong := map[string]string{}
	for k, v := range erika {
		wrong[k] = v
	}
	wrong["total_gross"] = "16.48"
	wrong["kvnr"] = ""
	img, err := synth.Render(wrong, synth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.ReadPage(img)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"total_gross", "price_1", "kvnr"} {
		if !slices.ContainsFunc(p.Review, func(r string) bool { return strings.HasPrefix(r, key+":") }) {
			t.Errorf("%s not marked for review: %v", key, p.Review)
		}
	}
}

// TestReadTurnedPages: pages scanned on their side or upside down are turned upright.
func TestReadTurnedPages(t *testing.T) {
	img, err := synth.Render(erika, synth.Options{Skew: 1.5})
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(1)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for _, q := range []int{1, 2, 3} {
		p, err := e.ReadPage(imaging.Turn(img, q))
		if err != nil {
			t.Fatal(err)
		}
		right := compare(t, p, erika)
		if right*100 < len(erika)*95 {
			t.Errorf("turned %d°: %d of %d fields right", 90*q, right, len(erika))
		}
	}
}

// TestPageImageAndBoxes: the page comes back prepared for the review — upright, deskewed,
// cropped to the form at 300 dpi, in colour — with each field's box on it where its
// print is; the JSON stays {"form", "fields", "review"}.
func TestPageImageAndBoxes(t *testing.T) {
	img, err := synth.Render(erika, synth.Options{Skew: -3, OffsetX: 1.5, OffsetY: -0.8, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(1)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	p, err := e.ReadPage(imaging.Turn(img, 2))
	if err != nil {
		t.Fatal(err)
	}
	if b := p.Image.Bounds(); b != image.Rect(0, 0, 1748, 1240) {
		t.Fatalf("image %v, want the form at 300 dpi, 1748 × 1240", b)
	}
	// The pink ground left of the prescription lines (5, 55 mm), in colour as scanned.
	if r, g, b, _ := p.Image.At(59, 650).RGBA(); r>>8 < 240 || g>>8 > 235 || b>>8 > 225 {
		t.Errorf("ground at (59, 650) is %d %d %d, want the form's pink", r>>8, g>>8, b>>8)
	}
	black := func(r image.Rectangle) int {
		n := 0
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				if r, g, b, _ := p.Image.At(x, y).RGBA(); max(r, g, b)>>8 < 90 {
					n++
				}
			}
		}
		return n
	}
	for _, f := range muster16.Fields {
		box, ok := p.Boxes[f.Key]
		if !ok || !box.In(p.Image.Bounds()) {
			t.Errorf("%s: box %v, want one on the image", f.Key, box)
			continue
		}
		// Every printed value's print lies in its box; the boxes of what is not printed
		// are empty.
		if n := black(box); (erika[f.Key] != "" && erika[f.Key] != "false") != (n > 30) {
			t.Errorf("%s (%q): %d black pixels in its box %v", f.Key, erika[f.Key], n, box)
		}
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(b, &keys); err != nil || len(keys) != 3 || keys["form"] == nil || keys["fields"] == nil || keys["review"] == nil {
		t.Errorf("JSON %s, want form, fields and review only", b)
	}
}

// TestReadLargerPage: the form in a corner of an A4 scan, skewed on the glass, the page
// fed upright or on its side, is found and read.
func TestReadLargerPage(t *testing.T) {
	e, err := New(1)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for _, o := range []synth.Options{
		{Sheet: true, SheetX: 8, SheetY: 180, Seed: 5},
		{Sheet: true, SheetX: 50, SheetY: 12, Skew: 2, Turn: 1, Seed: 6},
	} {
		img, err := synth.Render(erika, o)
		if err != nil {
			t.Fatal(err)
		}
		p, err := e.ReadPage(img)
		if err != nil {
			t.Fatal(err)
		}
		right := compare(t, p, erika)
		if right*100 < len(erika)*95 || len(p.Review) > 0 && strings.HasPrefix(p.Review[0], "Formular") {
			t.Errorf("%+v: %d of %d fields right; review %v", o, right, len(erika), p.Review)
		}
	}
}

// TestReadNoForm: pages that are no form — all pink, noise, white, a pink stripe or patch
// on an A4 sheet — are read without failing, and the review says the form was not found
// and marks every field.
func TestReadNoForm(t *testing.T) {
	e, err := New(1)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	pink := color.RGBA{0xFC, 0xDD, 0xCF, 0xFF}
	page := func(w, h int, c color.Color) *image.RGBA {
		m := image.NewRGBA(image.Rect(0, 0, w, h))
		draw.Draw(m, m.Bounds(), image.NewUniform(c), image.Point{}, draw.Src)
		return m
	}
	noise := page(600, 420, color.White)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range noise.Pix {
		noise.Pix[i] = uint8(rng.IntN(256))
	}
	stripe, patch := page(2480, 3508, color.White), page(2480, 3508, color.White)
	draw.Draw(stripe, image.Rect(0, 1000, 2480, 1100), image.NewUniform(pink), image.Point{}, draw.Src)
	draw.Draw(patch, image.Rect(100, 100, 1848, 1340), image.NewUniform(pink), image.Point{}, draw.Src)
	for name, img := range map[string]image.Image{"pink": page(1748, 1240, pink), "noise": noise, "white": page(1748, 1240, color.White),
		"stripe": stripe, "patch the form's size": patch} {
		p, err := e.ReadPage(img)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(p.Review) == 0 || !strings.HasPrefix(p.Review[0], "Formular") {
			t.Errorf("%s: review %v, want the form not found first", name, p.Review)
		}
		for _, f := range muster16.Fields {
			if !slices.ContainsFunc(p.Review, func(r string) bool { return strings.HasPrefix(r, f.Key+":") }) {
				t.Errorf("%s: %s not marked for review", name, f.Key)
			}
		}
	}
}

// TestReadFormKind: a blue private prescription and a yellow BtM form are named by their
// paper and not read as a Muster 16 (their fields sit elsewhere).
func TestReadFormKind(t *testing.T) {
	e, err := New(1)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	img, err := synth.Render(erika, synth.Options{Skew: 1})
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	// The same page on other paper: red and pink turn blue with red and blue swapped, and
	// yellow with green raised to red.
	recolour := func(f func(r, g, b uint8) (uint8, uint8, uint8)) *image.RGBA {
		m := image.NewRGBA(b)
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
				c.R, c.G, c.B = f(c.R, c.G, c.B)
				m.SetRGBA(x, y, c)
			}
		}
		return m
	}
	for _, tc := range []struct {
		want string
		img  image.Image
	}{
		{FormPrivate, recolour(func(r, g, b uint8) (uint8, uint8, uint8) { return b, g, r })},
		{FormBtM, recolour(func(r, g, b uint8) (uint8, uint8, uint8) { return r, r, b })},
		{FormMuster16, img},
	} {
		p, err := e.ReadPage(tc.img)
		if err != nil {
			t.Fatal(err)
		}
		if p.Form != tc.want {
			t.Errorf("form %q, want %q (review %q)", p.Form, tc.want, p.Review)
			continue
		}
		if tc.want != FormMuster16 && (len(p.Fields) != 0 || len(p.Review) != 1 || !strings.HasPrefix(p.Review[0], "Formular: ")) {
			t.Errorf("%s: fields %v, review %q", tc.want, p.Fields, p.Review)
		}
	}
}
