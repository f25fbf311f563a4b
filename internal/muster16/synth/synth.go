// Package synth renders synthetic Muster 16 pages for the OCR tests and benchmarks: the
// red form on its pink ground, the practice's and the pharmacy's black print from a
// record of values (the ground truth, in the format of `tresen rx ocr`), and the variation
// real scans have — resolution, skew, the printer's offset, JPEG noise, a rubber stamp and
// a signature over fields, faint red print. Only synthetic, visibly fake data belongs in a
// record (Erika Mustermann).
package synth

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"os"
	"strings"

	"golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/gomonobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"github.com/tresen/tresen/internal/imaging"
	"github.com/tresen/tresen/internal/muster16"
)

// Options vary a page the way scanners and printers do.
type Options struct {
	DPI float64 // default 300
	// Skew rotates the scanned page (degrees, ±5 in real batches).
	Skew float64
	// Offset moves the practice's black print against the form (mm): printers feed the
	// pad 1–2 mm off.
	OffsetX, OffsetY float64
	// PharmacyOffset moves the pharmacy's print, which its own printer puts on the form
	// in a second pass, by its own offset (mm).
	PharmacyOffsetX, PharmacyOffsetY float64
	// JPEG re-encodes the page at this quality (0: none).
	JPEG int
	// Stamp and Signature add the practice's blue stamp and the doctor's signature.
	Stamp, Signature bool
	// FaintRed prints the form in a pale red, as worn pads and some printers do.
	FaintRed bool
	// Comma prints the pharmacy's amounts with a decimal comma instead of in cents.
	Comma bool
	// Printer fonts: Bold prints the practice's Courier bold (dot-matrix printers in NLQ
	// mode); Proportional sets the prescription lines in a proportional font (Liberation
	// Sans 10 pt) instead of Courier at 12 cpi; PharmacyCPI is the pharmacy's pitch, 10
	// (Courier 12 pt, the default) or 12 (10 pt).
	Bold, Proportional bool
	PharmacyCPI        int
	// Sheet lays the form on an A4 sheet (portrait, 210 × 297 mm), its corner at
	// (SheetX, SheetY) mm: a flatbed scan of the whole glass.
	Sheet          bool
	SheetX, SheetY float64
	// Turn turns the scan by quarter turns clockwise (a page fed on its side or upside
	// down), after the skew.
	Turn int
	// Seed makes the stamp, signature and noise repeatable.
	Seed uint64
}

// Colours of the form (spec §1) and of the prints.
var (
	pink      = color.RGBA{0xFC, 0xDD, 0xCF, 0xFF}
	red       = color.RGBA{0xE8, 0x2B, 0x25, 0xFF}
	paleRed   = color.RGBA{0xF2, 0x8C, 0x86, 0xFF}
	black     = color.RGBA{0x15, 0x15, 0x18, 0xFF}
	stampBlue = color.RGBA{0x3A, 0x3F, 0xA8, 0xFF}
	inkBlue   = color.RGBA{0x1F, 0x2A, 0x8C, 0xFF}
)

// page is a page being drawn, in millimetres.
type page struct {
	img   *image.RGBA
	scale float64   // pixels per mm
	mono  font.Face // Courier 10 cpi, the Personalienfeld's
	rx    font.Face // the prescription lines': Courier 12 cpi or proportional
	pharm font.Face // the pharmacy's: Courier 10 or 12 cpi
	pitch float64   // the pharmacy's character cell (mm)
	label font.Face
	small font.Face
}

func (p *page) px(mm float64) int { return int(math.Round(mm * p.scale)) }

// Render draws the page for values (keys and formats of muster16.Fields; missing keys are
// not printed).
func Render(values map[string]string, o Options) (image.Image, error) {
	if o.DPI == 0 {
		o.DPI = 300
	}
	if o.DPI < 100 || o.DPI > 1200 {
		return nil, fmt.Errorf("synth: %v dpi is no scanner's resolution", o.DPI)
	}
	p := &page{scale: o.DPI / 25.4}
	p.img = image.NewRGBA(image.Rect(0, 0, p.px(muster16.WidthMM), p.px(muster16.HeightMM)))
	var err error
	// Courier 12 pt at 10 characters per inch (spec §3.1): Liberation Mono, metric
	// compatible with Courier New (an advance of 0.6 em).
	practiceFont := courier(o.Bold)
	if p.mono, err = face(practiceFont, 12, o.DPI); err != nil {
		return nil, err
	}
	// The prescription lines are commonly set at 12 cpi (10 pt) or in a proportional
	// font (spec §3.3).
	rxFont := practiceFont
	if o.Proportional {
		rxFont = fontFile(sansFont, goregular.TTF)
	}
	if p.rx, err = face(rxFont, 10, o.DPI); err != nil {
		return nil, err
	}
	// The pharmacy prints at 10 or 12 cpi (spec §3.4): Courier 12 or 10 pt.
	size := 12.0
	p.pitch = 2.54
	if o.PharmacyCPI == 12 {
		size, p.pitch = 10, 25.4/12
	}
	if p.pharm, err = face(courier(false), size, o.DPI); err != nil {
		return nil, err
	}
	if p.label, err = face(goregular.TTF, 6, o.DPI); err != nil {
		return nil, err
	}
	if p.small, err = face(goregular.TTF, 9, o.DPI); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(o.Seed, o.Seed^0x9E3779B97F4A7C15))

	draw.Draw(p.img, p.img.Bounds(), image.White, image.Point{}, draw.Src)
	formRed := red
	if o.FaintRed {
		formRed = paleRed
	}
	p.form(formRed)
	p.practicePrint(values, o.OffsetX, o.OffsetY)
	p.pharmacyPrint(values, o.PharmacyOffsetX, o.PharmacyOffsetY, o.Comma)
	if o.Stamp {
		p.stamp(rng)
	}
	if o.Signature {
		p.signature(rng)
	}
	var out image.Image = p.img
	switch {
	case o.Sheet:
		// The form skewed on the glass of an A4 scan, none of it cut off: turned with a
		// white margin, then laid onto the sheet.
		const margin = 10.0
		card := image.NewRGBA(image.Rect(0, 0, p.px(muster16.WidthMM+2*margin), p.px(muster16.HeightMM+2*margin)))
		draw.Draw(card, card.Bounds(), image.White, image.Point{}, draw.Src)
		draw.Draw(card, p.img.Bounds().Add(image.Pt(p.px(margin), p.px(margin))), p.img, image.Point{}, draw.Src)
		sheet := image.NewRGBA(image.Rect(0, 0, p.px(210), p.px(297)))
		draw.Draw(sheet, sheet.Bounds(), image.White, image.Point{}, draw.Src)
		at := image.Pt(p.px(o.SheetX-margin), p.px(o.SheetY-margin))
		draw.Draw(sheet, card.Bounds().Add(at), imaging.Rotate(card, o.Skew), image.Point{}, draw.Src)
		out = sheet
	case o.Skew != 0:
		out = imaging.Rotate(p.img, o.Skew)
	}
	if o.Turn%4 != 0 {
		out = imaging.Turn(out, o.Turn)
	}
	if o.JPEG > 0 {
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, out, &jpeg.Options{Quality: o.JPEG}); err != nil {
			return nil, err
		}
		if out, err = jpeg.Decode(&buf); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// CourierFont is Debian's Liberation Mono (package fonts-liberation), metric compatible
// with Courier New, which practice software prints with; boldFont its bold, sansFont the
// proportional Liberation Sans.
const (
	CourierFont = "/usr/share/fonts/truetype/liberation/LiberationMono-Regular.ttf"
	boldFont    = "/usr/share/fonts/truetype/liberation/LiberationMono-Bold.ttf"
	sansFont    = "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"
)

// courier returns Liberation Mono, or Go Mono where it is missing (Go Mono's slashed zero
// is not what printers print: install fonts-liberation).
func courier(bold bool) []byte {
	if bold {
		return fontFile(boldFont, gomonobold.TTF)
	}
	return fontFile(CourierFont, gomono.TTF)
}

// fontFile reads the font file at path, or gives fallback where it is missing.
func fontFile(path string, fallback []byte) []byte {
	if b, err := os.ReadFile(path); err == nil {
		return b
	}
	return fallback
}

func face(ttf []byte, size, dpi float64) (font.Face, error) {
	f, err := opentype.Parse(ttf)
	if err != nil {
		return nil, err
	}
	return opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: dpi, Hinting: font.HintingNone})
}

// form draws the red form on its pink ground: frames, boxes and labels (spec §1, §3).
func (p *page) form(c color.RGBA) {
	p.fill(muster16.Box{X: 2.0, Y: 2.0, W: 144.0, H: 86.75}, pink)
	p.fill(muster16.Box{X: 2.0, Y: 87.75, W: 69.89, H: 15.25}, pink)
	// The fields are white.
	p.fill(muster16.Box{X: 9.0, Y: 5.08, W: 80.0, H: 46.85}, color.RGBA{0xFF, 0xFF, 0xFF, 0xFF})
	p.fill(muster16.Box{X: 9.0, Y: 55.0, W: 92.0, H: 28.0}, color.RGBA{0xFF, 0xFF, 0xFF, 0xFF})
	p.rect(muster16.Box{X: 9.0, Y: 5.08, W: 80.0, H: 46.85}, 0.3, c)
	for _, y := range []float64{15.0, 35.0, 43.5} {
		p.hline(9.0, 89.0, y, 0.2, c)
	}
	p.hline(72.0, 146.0, 88.75, 0.6, c)
	p.vline(71.89, 88.56, 103.0, 0.6, c)
	p.hline(2.0, 72.0, 102.81, 0.6, c)
	labels := map[string]string{"gebuehr_frei": "Gebühr frei", "geb_pfl": "Geb.-pfl.", "noctu": "noctu", "sonstige": "Sonstige",
		"unfall": "Unfall", "arbeitsunfall": "Arbeits-unfall", "aut_idem_1": "aut idem", "aut_idem_2": "aut idem", "aut_idem_3": "aut idem",
		"bvg": "6", "hilfsmittel": "7", "impfstoff": "8", "sprechstundenbedarf": "9", "begruendungspflicht": "Begr.-Pflicht"}
	for _, f := range muster16.Fields {
		b := f.Boxes[0]
		switch f.Kind {
		case muster16.Cross, muster16.Digit:
			p.fill(b, color.RGBA{0xFF, 0xFF, 0xFF, 0xFF})
			p.rect(b, 0.25, c)
			p.text(p.label, b.X+0.3, b.Y+1.8, labels[f.Key], c)
		case muster16.Amount, muster16.DispenseDate:
			p.fill(b, color.RGBA{0xFF, 0xFF, 0xFF, 0xFF})
			p.rect(b, 0.25, c)
		}
		if f.Key == "pharmacy_ik" {
			p.fill(b, color.RGBA{0xFF, 0xFF, 0xFF, 0xFF})
			p.rect(b, 0.25, c)
		}
	}
	for i, y := range []float64{28.32, 35.33, 43.82} {
		b := muster16.Box{X: 91.07, Y: y, W: 52.85, H: []float64{6.35, 7.85, 8.11}[i]}
		p.fill(b, color.RGBA{0xFF, 0xFF, 0xFF, 0xFF})
		p.rect(b, 0.25, c)
		p.text(p.label, b.X+0.4, b.Y+1.9, fmt.Sprintf("%d. Verordnung", i+1), c)
	}
	p.text(p.label, 11.0, 8.2, "Krankenkasse bzw. Kostenträger", c)
	p.text(p.label, 11.0, 37.4, "Kostenträgerkennung", c)
	p.text(p.label, 38.0, 37.4, "Versicherten-Nr.", c)
	p.text(p.label, 71.0, 37.4, "Status", c)
	p.text(p.label, 11.0, 45.9, "Betriebsstätten-Nr.", c)
	p.text(p.label, 38.0, 45.9, "Arzt-Nr.", c)
	p.text(p.label, 66.0, 45.9, "Datum", c)
	p.text(p.small, 11.85, 58.0, "Rp.", c)
	p.text(p.label, 125.0, 55.3, "Vertragsarztstempel", c)
	p.text(p.label, 122.4, 86.3, "Unterschrift des Arztes", c)
	p.text(p.label, 124.9, 87.0, "Muster 16 (10.2014)", c)
	p.text(p.label, 30.5, 81.5, "Abgabedatum in der Apotheke", c)
	// The form identifier, black, which the PVS must not overprint (KP7-60).
	p.text(p.small, 7.9, 85.1, "666", black)
}

// practicePrint is what the practice software prints (spec §3.1, §3.2, §3.3): Courier
// 10 cpi in the Personalienfeld, marks in the boxes, the prescription lines.
func (p *page) practicePrint(v map[string]string, dx, dy float64) {
	cell := func(n int) float64 { return 12.6 + float64(n-1)*2.54 + dx }
	line := func(y float64, from int, s string) {
		if s != "" {
			p.text(p.mono, cell(from), y+dy, s, black)
		}
	}
	surname, given, _ := strings.Cut(v["patient_name"], ", ")
	street, town, _ := strings.Cut(v["patient_address"], ", ")
	line(13.0, 1, v["payer_name"])
	line(20.7, 1, surname)
	line(24.95, 1, given)
	line(24.95, 23, shortDate(v["birth_date"], "."))
	line(29.2, 1, street)
	line(33.4, 1, town)
	line(41.5, 1, v["payer_ik"])
	line(41.5, 11, v["kvnr"])
	line(41.5, 24, v["status"])
	line(50.0, 1, v["bsnr"])
	line(50.0, 11, v["lanr"])
	line(50.0, 22, shortDate(v["date"], "."))
	for _, f := range muster16.Fields {
		b := f.Boxes[0]
		switch {
		case f.Kind == muster16.Cross && v[f.Key] == "true":
			p.text(p.mono, b.X+b.W/2-0.9+dx, b.Y+b.H/2+1.2+dy, "X", black)
		case f.Kind == muster16.Digit && v[f.Key] == "true":
			p.text(p.mono, b.X+b.W/2-0.9+dx, b.Y+b.H/2+1.2+dy, string(f.Mark), black)
		case strings.HasPrefix(f.Key, "rx_line_") && v[f.Key] != "":
			p.text(p.rx, 12.0+dx, b.Y+4.2+dy, v[f.Key], black)
		}
	}
}

// pharmacyPrint is what the pharmacy prints (spec §3.4): its IK, the amounts, the
// Taxzeilen and the dispensing date.
func (p *page) pharmacyPrint(v map[string]string, dx, dy float64, comma bool) {
	put := func(x, y float64, s string) {
		if s != "" {
			p.text(p.pharm, x+dx, y+dy, s, black)
		}
	}
	amount := func(s string) string {
		if comma {
			return strings.Replace(s, ".", ",", 1)
		}
		return strings.TrimLeft(strings.Replace(s, ".", "", 1), "0")
	}
	// Right-aligned to the box's end.
	right := func(b muster16.Box, y float64, s string) {
		if s != "" {
			put(b.X+b.W-0.6-float64(len(s))*p.pitch, y, s)
		}
	}
	put(120.6, 13.5, v["pharmacy_ik"])
	if s := v["copayment"]; s != "" {
		right(muster16.Box{X: 91.19, W: 19.08}, 23.4, amount0(amount(s)))
	}
	right(muster16.Box{X: 110.27, W: 33.54}, 23.4, amount(v["total_gross"]))
	for i, y := range []float64{33.6, 41.7, 50.2} {
		n := fmt.Sprint(i + 1)
		put(91.4, y, v["pzn_"+n])
		put(124.0, y, v["factor_"+n])
		right(muster16.Box{X: 129.0, W: 14.92}, y, amount(v["price_"+n]))
	}
	if d := shortDate(v["dispense_date"], ""); d != "" {
		for i, c := range d {
			put(30.02+float64(i)*4.5+1.0, 86.5, string(c))
		}
	}
}

// amount0 prints a zero co-payment as "0" rather than nothing.
func amount0(s string) string {
	if s == "" {
		return "0"
	}
	return s
}

// shortDate turns YYYY-MM-DD into TT.MM.JJ (sep ".") or TTMMJJ (sep "").
func shortDate(iso, sep string) string {
	if len(iso) != 10 {
		return ""
	}
	return iso[8:10] + sep + iso[5:7] + sep + iso[2:4]
}

// stamp is the practice's blue rubber stamp, partly over the Taxzeilen as it often is.
func (p *page) stamp(rng *rand.Rand) {
	x, y := 96.0+rng.Float64()*8, 58.0+rng.Float64()*6
	c := stampBlue
	c.A = 0xC0
	for i, s := range []string{"Praxis Dr. med. Max Mustermann", "Allgemeinmedizin", "Musterweg 1, 12345 Musterstadt", "BSNR 021234500"} {
		p.text(p.small, x, y+float64(i)*4.2, s, c)
	}
	p.rect(muster16.Box{X: x - 2, Y: y - 4.5, W: 50, H: 19}, 0.4, c)
}

// signature is a scrawl in blue ballpoint over the signature area.
func (p *page) signature(rng *rand.Rand) {
	x, y := 108.0+rng.Float64()*8, 78.0+rng.Float64()*3
	for t := 0.0; t < 30; t += 0.02 {
		px := x + t + 1.5*math.Sin(t*1.7+rng.Float64()*0.2)
		py := y + 2.2*math.Sin(t*2.3) + 0.8*math.Cos(t*5.1)
		p.dot(px, py, 0.25, inkBlue)
	}
}

func (p *page) fill(b muster16.Box, c color.Color) {
	r := image.Rect(p.px(b.X), p.px(b.Y), p.px(b.X+b.W), p.px(b.Y+b.H))
	draw.Draw(p.img, r, image.NewUniform(c), image.Point{}, draw.Over)
}

func (p *page) rect(b muster16.Box, w float64, c color.Color) {
	p.hline(b.X, b.X+b.W, b.Y, w, c)
	p.hline(b.X, b.X+b.W, b.Y+b.H, w, c)
	p.vline(b.X, b.Y, b.Y+b.H, w, c)
	p.vline(b.X+b.W, b.Y, b.Y+b.H, w, c)
}

func (p *page) hline(x0, x1, y, w float64, c color.Color) {
	p.fill(muster16.Box{X: x0, Y: y - w/2, W: x1 - x0, H: w}, c)
}

func (p *page) vline(x, y0, y1, w float64, c color.Color) {
	p.fill(muster16.Box{X: x - w/2, Y: y0, W: w, H: y1 - y0}, c)
}

func (p *page) dot(x, y, r float64, c color.Color) {
	p.fill(muster16.Box{X: x - r, Y: y - r, W: 2 * r, H: 2 * r}, c)
}

// text draws s with its baseline at (x, y) mm.
func (p *page) text(f font.Face, x, y float64, s string, c color.Color) {
	d := font.Drawer{Dst: p.img, Src: image.NewUniform(c), Face: f,
		Dot: fixed.Point26_6{X: fixed.Int26_6(x * p.scale * 64), Y: fixed.Int26_6(y * p.scale * 64)}}
	d.DrawString(s)
}

// Scan renders values as Render does and encodes the page as a scanner's JPEG of the
// given quality (1–100).
func Scan(values map[string]string, o Options, quality int) ([]byte, error) {
	img, err := Render(values, o)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
