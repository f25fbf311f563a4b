// Package ocr reads paper prescriptions (Muster 16) with Tesseract 5 and its German model:
// it drops the red form print so that only the black print is read, reads each field of
// muster16.Fields from its box with the field's character set (checkboxes by their ink),
// and gives each value with a confidence; a field OCR is unsure of, or whose value fails
// its format or check digit, is marked for review, never guessed.
//
// This first version expects the page upright and the form filling it (a scan cropped to
// the form, as scanner software writes it); finding the form on a larger page, turning and
// deskewing come with the intake.
package ocr

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"slices"
	"strings"

	"github.com/otiai10/gosseract/v2"

	"github.com/tresen/tresen/internal/muster16"
)

// Field is one value read.
type Field struct {
	Value      string  `json:"value"`
	Confidence float64 `json:"confidence"`
	Corrected  bool    `json:"corrected,omitempty"`
}

// Page is what was read from one page (the format of `tresen rx ocr --json`).
type Page struct {
	Form   string           `json:"form"`
	Fields map[string]Field `json:"fields"`
	// Review names the fields a person must check, with why, in the order of the form.
	Review []string `json:"review"`
}

// minConfidence is the confidence below which a field goes to review; text, which no
// format or check digit guards, needs more.
const minConfidence, minTextConfidence = 0.75, 0.9

// printedAlways are the fields the practice prints on every GKV prescription (the payer's
// IK is missing only on Arbeitsunfall ones); read empty, they were missed, not absent.
var printedAlways = []string{"payer_name", "patient_name", "birth_date", "kvnr", "status", "bsnr", "lanr", "date", "rx_line_1"}

// printedByPharmacy are the pharmacy's fields that come together: when it printed any,
// it printed these.
var printedByPharmacy = []string{"pharmacy_ik", "total_gross", "pzn_1", "factor_1", "price_1", "dispense_date"}

// Engine reads pages; it holds one Tesseract engine per worker, reused across pages.
type Engine struct {
	clients chan *gosseract.Client
}

// New starts workers Tesseract engines with the German model.
func New(workers int) (*Engine, error) {
	if workers < 1 {
		workers = 1
	}
	e := &Engine{clients: make(chan *gosseract.Client, workers)}
	for range workers {
		c := gosseract.NewClient()
		if err := c.SetLanguage("deu"); err != nil {
			e.Close()
			return nil, fmt.Errorf("ocr: %w", err)
		}
		e.clients <- c
	}
	return e, nil
}

// Close stops the engines.
func (e *Engine) Close() error {
	for {
		select {
		case c := <-e.clients:
			c.Close()
		default:
			return nil
		}
	}
}

// ReadPage reads the fields of the form on img.
func (e *Engine) ReadPage(img image.Image) (Page, error) {
	c := <-e.clients
	defer func() { e.clients <- c }()
	b := img.Bounds()
	if b.Dx() < 400 || b.Dy() < 280 {
		return Page{}, fmt.Errorf("ocr: the page is %d × %d pixels, too small for a Muster 16", b.Dx(), b.Dy())
	}
	img, g := locate(img)
	ink := dropRed(img, !g.found)
	// The form's black "666" reaches into the third prescription line's margin.
	blank(ink, g.rect(muster16.Box{X: 7.4, Y: 81.4, W: 9.5, H: 4.6}, 0, 0))
	p := Page{Form: "muster16", Fields: map[string]Field{}, Review: []string{}}
	if !g.found {
		p.Review = append(p.Review, "Formular: rosa Grund nicht gefunden, Seite als Formular gelesen")
	}
	raw := map[string]Field{}
	for _, f := range muster16.Fields {
		var texts []string
		conf := 1.0
		switch f.Kind {
		case muster16.Cross, muster16.Digit:
			marked, c := markIn(ink, g.rect(f.Boxes[0], -0.5, -0.5))
			raw[f.Key] = Field{Value: fmt.Sprint(marked), Confidence: c}
			continue
		}
		for _, box := range f.Boxes {
			text, c, err := readBox(c, ink, g, box, f.Kind)
			if err != nil {
				return Page{}, err
			}
			if f.Kind == muster16.Text {
				text = withoutRules(text)
			}
			if text != "" {
				texts = append(texts, text)
			}
			conf = math.Min(conf, c)
		}
		raw[f.Key] = Field{Value: strings.Join(texts, ", "), Confidence: conf}
	}
	// The issue date first: it decides the century of the birth date.
	issueYY := -1
	date, _ := muster16.FieldByKey("date")
	if r := muster16.Read(date, raw["date"].Value, 0); r.Review == "" && r.Value != "" {
		fmt.Sscanf(r.Value[2:4], "%d", &issueYY)
	}
	for _, f := range muster16.Fields {
		got := raw[f.Key]
		if f.Kind == muster16.Cross || f.Kind == muster16.Digit {
			p.Fields[f.Key] = got
			if got.Confidence < minConfidence {
				p.Review = append(p.Review, f.Key+": Markierung unklar")
			}
			continue
		}
		r := muster16.Read(f, got.Value, issueYY)
		p.Fields[f.Key] = Field{Value: r.Value, Confidence: round2(got.Confidence), Corrected: r.Corrected}
		need := minConfidence
		if f.Kind == muster16.Text {
			need = minTextConfidence
		}
		switch {
		case r.Review != "":
			p.Review = append(p.Review, f.Key+": "+r.Review)
		case r.Value != "" && got.Confidence < need:
			p.Review = append(p.Review, f.Key+": unsichere Erkennung")
		case r.Value == "" && expected(f.Key, raw):
			p.Review = append(p.Review, f.Key+": nichts gelesen, steht aber auf jedem Rezept")
		}
	}
	p.Review = append(p.Review, sums(p)...)
	return p, nil
}

// withoutRules drops what the remnants of the form's frame lines read as ("|" standing
// alone), which no name, address or prescription has.
func withoutRules(text string) string {
	words := strings.Fields(text)
	words = slices.DeleteFunc(words, func(w string) bool { return strings.Trim(w, "|!") == "" })
	return strings.Join(words, " ")
}

// sums checks the pharmacy's Gesamt-Brutto against its Taxen: when all were read, they
// must add up; if not, one of them was misread, and all go to review.
func sums(p Page) []string {
	total, ok := cents(p.Fields["total_gross"].Value)
	if !ok {
		return nil
	}
	sum := 0
	for _, n := range []string{"1", "2", "3"} {
		if v := p.Fields["price_"+n].Value; v != "" {
			c, ok := cents(v)
			if !ok {
				return nil
			}
			sum += c
		}
	}
	if sum == 0 || sum == total {
		return nil
	}
	const why = ": die Taxen ergeben nicht das Gesamt-Brutto (eine Taxe oder die Summe falsch gelesen)"
	out := []string{"total_gross" + why}
	for _, n := range []string{"1", "2", "3"} {
		if p.Fields["price_"+n].Value != "" {
			out = append(out, "price_"+n+why)
		}
	}
	return out
}

// cents reads "12.34" as 1234.
func cents(v string) (int, bool) {
	whole, frac, ok := strings.Cut(v, ".")
	if !ok || len(frac) != 2 {
		return 0, false
	}
	var w, f int
	if _, err := fmt.Sscanf(whole+" "+frac, "%d %d", &w, &f); err != nil {
		return 0, false
	}
	return w*100 + f, true
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }

// expected tells whether key must have been printed, given what else was read.
func expected(key string, raw map[string]Field) bool {
	if slices.Contains(printedAlways, key) {
		return true
	}
	if slices.Contains(printedByPharmacy, key) {
		for _, k := range printedByPharmacy {
			if raw[k].Value != "" {
				return true
			}
		}
	}
	return false
}

// greyPaper is, in a grey scan, the darkest grey that is still not black print: black is
// darker (about 20–60), the red form print lighter (about 100).
const greyPaper = 85

// dropRed keeps only what is printed in black: a pixel's value is its brightest channel,
// so the red form print, the pink ground and a blue stamp turn light. In a grey scan
// (grey set) the red print is only lighter than black: what is lighter than greyPaper
// becomes paper.
func dropRed(img image.Image, grey bool) *image.Gray {
	b := img.Bounds()
	out := image.NewGray(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			v := uint8(max(r, g, bl) >> 8)
			if grey && v > greyPaper {
				v = 255
			}
			out.SetGray(x, y, color.Gray{Y: v})
		}
	}
	return out
}

// Margins around each box: the black print is often 1–2 mm off the red form (spec §1).
// Less above and below, where the lines of the Personalienfeld follow closely, and less
// between the columns of a Taxzeile, which touch.
const marginX, marginY, columnMargin = 1.2, 0.0, 0.3

// crop cuts r out of the page, clipped to it.
func crop(ink *image.Gray, r image.Rectangle) *image.Gray {
	return ink.SubImage(r.Intersect(ink.Bounds())).(*image.Gray)
}

// readBox reads the text of one box as a single line with the kind's character set.
func readBox(c *gosseract.Client, ink *image.Gray, g geometry, box muster16.Box, kind muster16.Kind) (string, float64, error) {
	mx := marginX
	if box.X >= 91 && box.Y >= 28 && box.Y < 52 { // a Taxzeile
		mx = columnMargin
	}
	part := crop(ink, g.rect(box, mx, marginY))
	if inkRatio(part) < 0.002 {
		return "", 1, nil // nothing printed
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, part); err != nil {
		return "", 0, err
	}
	if err := c.SetImageFromBytes(buf.Bytes()); err != nil {
		return "", 0, fmt.Errorf("ocr: %w", err)
	}
	if err := c.SetWhitelist(kind.Charset()); err != nil {
		return "", 0, fmt.Errorf("ocr: %w", err)
	}
	if err := c.SetPageSegMode(gosseract.PSM_SINGLE_LINE); err != nil {
		return "", 0, fmt.Errorf("ocr: %w", err)
	}
	words, err := c.GetBoundingBoxes(gosseract.RIL_WORD)
	if err != nil {
		return "", 0, fmt.Errorf("ocr: %w", err)
	}
	var parts []string
	conf := 1.0
	for _, w := range words {
		if t := strings.TrimSpace(w.Word); t != "" {
			parts = append(parts, t)
			conf = math.Min(conf, w.Confidence/100)
		}
	}
	if len(parts) == 0 {
		return "", 0, nil
	}
	return strings.Join(parts, " "), conf, nil
}

// blank whitens a part of the page.
func blank(ink *image.Gray, r image.Rectangle) {
	b := r.Intersect(ink.Bounds())
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			ink.SetGray(x, y, color.Gray{Y: 255})
		}
	}
}

// inkRatio is the share of dark pixels.
func inkRatio(g *image.Gray) float64 {
	b := g.Bounds()
	if b.Empty() {
		return 0
	}
	dark := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if g.GrayAt(x, y).Y < 110 {
				dark++
			}
		}
	}
	return float64(dark) / float64(b.Dx()*b.Dy())
}

// markIn tells whether a checkbox holds a black mark (an X, or its digit 6–9: the
// pre-printed red digit is gone after dropRed), and how sure that is: a box clearly empty
// or clearly marked is sure, ink in between is not.
// r is the box's inside, within its frame: a neighbour's print must not count.
func markIn(ink *image.Gray, r image.Rectangle) (bool, float64) {
	ratio := inkRatio(crop(ink, r))
	const empty, marked = 0.01, 0.04
	switch {
	case ratio <= empty:
		return false, 1
	case ratio >= marked:
		return true, 1
	}
	return ratio > (empty+marked)/2, 0.5
}
