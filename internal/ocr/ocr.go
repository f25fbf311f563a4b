// Package ocr reads paper prescriptions (Muster 16) with Tesseract 5 and its German model:
// it finds the form on the page by its pink ground (any page size, turned or skewed),
// prepares it upright at 300 dpi, drops the red form print so that only the black print
// is read, finds how far each printer's print lies off the form, reads each field of
// muster16.Fields from where its print lies with the field's character set (checkboxes
// by their ink), and gives each value with a confidence. A field OCR is unsure of, or
// whose value fails its format, check digit or a plausibility rule, is marked for
// review, never guessed.
package ocr

import (
	"errors"
	"fmt"
	"image"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/otiai10/gosseract/v2"
	xdraw "golang.org/x/image/draw"

	"github.com/tresen/tresen/internal/imaging"
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

	// Image is the page as prepared for reading, for a person to check the values
	// against: turned upright, deskewed and cropped to the form, 148 × 105 mm at 300 dpi
	// (1748 × 1240 pixels), in colour as scanned (the red form print is still there).
	// When the form was not found (Review begins with "Formular"), it is the page scaled
	// to the form's width.
	Image image.Image `json:"-"`
	// Boxes are where each field was read, by key of muster16.Fields, in Image's pixels:
	// the field's box on the form moved by its printer's offset on this page, as much of
	// it as was read (the line of print found in it, with a margin; a checkbox's inside);
	// for a field printed on two lines (patient_name, patient_address) the rectangle
	// around both.
	Boxes map[string]image.Rectangle `json:"-"`
}

// minConfidence is the confidence below which a reading is not taken as sure; text, where
// a misread letter or digit still makes words ("5 ma" for "5 mg"), needs more even from
// two readings that agree.
const minConfidence, minTextConfidence = 0.75, 0.85

// needed is the confidence a reading of f needs.
func needed(f muster16.Field) float64 {
	if f.Kind == muster16.Text {
		return minTextConfidence
	}
	return minConfidence
}

// printedAlways are the fields the practice prints on every GKV prescription (the payer's
// IK is missing only on Arbeitsunfall ones); read empty, they were missed, not absent.
var printedAlways = []string{"payer_name", "patient_name", "birth_date", "kvnr", "status", "bsnr", "lanr", "date", "rx_line_1"}

// printedByPharmacy are the pharmacy's fields that come together: when it printed any,
// it printed these.
var printedByPharmacy = []string{"pharmacy_ik", "total_gross", "pzn_1", "factor_1", "price_1", "dispense_date"}

// Engine reads pages with one Tesseract engine per worker, each on its own thread.
type Engine struct {
	jobs    chan job
	done    chan struct{}
	workers sync.WaitGroup
	closing sync.Once
}

type job struct {
	img   image.Image
	reply chan<- result
}

type result struct {
	page Page
	err  error
}

// New starts workers Tesseract engines with the German model; ReadPage reads that many
// pages at a time.
func New(workers int) (*Engine, error) {
	workers = max(workers, 1)
	e := &Engine{jobs: make(chan job), done: make(chan struct{})}
	ready := make(chan error, workers)
	for range workers {
		e.workers.Add(1)
		go e.work(ready)
	}
	var err error
	for range workers {
		err = errors.Join(err, <-ready)
	}
	if err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

// work runs one engine on a thread of its own (see omp.go) until Close.
func (e *Engine) work(ready chan<- error) {
	defer e.workers.Done()
	// Never unlocked: the thread's OpenMP setting ends with it when the worker does.
	runtime.LockOSThread()
	serialOpenMP()
	r, err := newReader()
	ready <- err
	if err != nil {
		return
	}
	defer r.c.Close()
	for {
		select {
		case j := <-e.jobs:
			p, err := r.readPage(j.img)
			j.reply <- result{p, err}
		case <-e.done:
			return
		}
	}
}

// Close stops the engines.
func (e *Engine) Close() error {
	e.closing.Do(func() { close(e.done) })
	e.workers.Wait()
	return nil
}

// ReadPage reads the fields of the form on img, a scan of any size that holds the form
// somewhere, in any orientation.
func (e *Engine) ReadPage(img image.Image) (Page, error) {
	reply := make(chan result, 1)
	select {
	case e.jobs <- job{img, reply}:
	case <-e.done:
		return Page{}, errors.New("ocr: the engine is closed")
	}
	r := <-reply
	return r.page, r.err
}

// reader is one worker's Tesseract engine.
type reader struct {
	c   *gosseract.Client
	pgm []byte // the image handed to Tesseract, reused
}

func newReader() (*reader, error) {
	r := &reader{c: gosseract.NewClient()}
	if err := r.c.SetLanguage("deu"); err != nil {
		r.c.Close()
		return nil, fmt.Errorf("ocr: %w", err)
	}
	// Load the model now, so that a missing one fails New and not the first page.
	white := image.NewGray(image.Rect(0, 0, 32, 32))
	for i := range white.Pix {
		white.Pix[i] = 255
	}
	if _, err := r.words(white, ""); err != nil {
		r.c.Close()
		return nil, err
	}
	return r, nil
}

// prepared is a page made ready for reading.
type prepared struct {
	img   *image.RGBA // upright, deskewed, cropped to the form at 300 dpi, as scanned
	ink   *image.Gray // its black print
	found bool        // the form's pink ground was found
	off   [2]offset   // each printer's offset (muster16.Printer)
	// boxes are each printer's text boxes, moved by its offset.
	boxes [2][]image.Rectangle
}

// prepare finds the form on src and makes it ready for reading: all that comes before
// Tesseract.
func prepare(src image.Image) prepared {
	form, found := locate(src)
	img := imaging.Warp(src, pageToMM.Then(form), formW, formH)
	ink := dropRed(img, !found)
	// The form's black "666" reaches into the third prescription line's margin.
	blank(ink, rect(muster16.Box{X: 7.4, Y: 81.4, W: 9.5, H: 4.6}, 0, 0, 0, 0))
	pp := prepared{img: img, ink: ink, found: found, off: printOffsets(ink)}
	for _, f := range muster16.Fields {
		if f.Kind != muster16.Cross && f.Kind != muster16.Digit {
			for _, box := range f.Boxes {
				pp.boxes[f.By] = append(pp.boxes[f.By], rect(box, 0, 0, pp.off[f.By].x, pp.off[f.By].y))
			}
		}
	}
	return pp
}

// readPage reads one page.
func (r *reader) readPage(src image.Image) (Page, error) {
	b := src.Bounds()
	if b.Dx() < 400 || b.Dy() < 280 {
		return Page{}, fmt.Errorf("ocr: the page is %d × %d pixels, too small for a Muster 16", b.Dx(), b.Dy())
	}
	pp := prepare(src)
	if kind := formKind(src); !pp.found && kind != "" {
		// Another form: its fields are not the Muster 16's, and guessing them would only
		// produce wrong values.
		return Page{Form: kind, Fields: map[string]Field{}, Image: pp.img, Boxes: map[string]image.Rectangle{},
			Review: []string{"Formular: " + formLabels[kind] + " erkannt, wird nicht automatisch gelesen"}}, nil
	}
	ink := pp.ink
	p := Page{Form: FormMuster16, Fields: map[string]Field{}, Review: []string{}, Image: pp.img, Boxes: map[string]image.Rectangle{}}
	var review []string
	if !pp.found {
		review = append(review, "Formular: rosa Grund nicht gefunden, Seite als Formular gelesen")
	}
	raw := map[string]Field{}
	outcomes := map[string]outcome{}
	for _, f := range muster16.Fields {
		d := pp.off[f.By]
		if f.Kind == muster16.Cross || f.Kind == muster16.Digit {
			// The box's inside, within its frame: a neighbour's print must not count.
			box := rect(f.Boxes[0], -0.5, -0.5, d.x, d.y)
			marked, c := markIn(ink, box)
			raw[f.Key] = Field{Value: fmt.Sprint(marked), Confidence: c}
			p.Boxes[f.Key] = box
			continue
		}
		var parts []*image.Gray
		for _, box := range f.Boxes {
			part, where := printIn(ink, box, f.Pitch, d, pp.boxes[1-f.By])
			parts = append(parts, part)
			p.Boxes[f.Key] = p.Boxes[f.Key].Union(where)
		}
		got, how, err := r.readField(f, parts)
		if err != nil {
			return Page{}, err
		}
		raw[f.Key] = Field{Value: got.text, Confidence: got.conf}
		outcomes[f.Key] = how
	}
	// The issue date first: it decides the century of the birth date.
	issueYY := -1
	date, _ := muster16.FieldByKey("date")
	if r := muster16.Read(date, raw["date"].Value, 0); r.Review == "" && r.Value != "" {
		fmt.Sscanf(r.Value[2:4], "%d", &issueYY)
	}
	flags := map[string][]string{}
	for _, f := range muster16.Fields {
		got := raw[f.Key]
		if f.Kind == muster16.Cross || f.Kind == muster16.Digit {
			p.Fields[f.Key] = got
			switch {
			case !pp.found:
				flags[f.Key] = append(flags[f.Key], "Formular nicht gefunden, Lage geschätzt")
			case got.Confidence < minConfidence:
				flags[f.Key] = append(flags[f.Key], "Markierung unklar")
			}
			continue
		}
		rd := muster16.Read(f, got.Value, issueYY)
		p.Fields[f.Key] = Field{Value: rd.Value, Confidence: round2(got.Confidence), Corrected: rd.Corrected}
		switch {
		case !pp.found:
			flags[f.Key] = append(flags[f.Key], "Formular nicht gefunden, Lage geschätzt")
		case rd.Review != "":
			flags[f.Key] = append(flags[f.Key], rd.Review)
		case outcomes[f.Key] == different:
			flags[f.Key] = append(flags[f.Key], "mehrmals gelesen, jedes Mal anders")
		case rd.Value != "" && outcomes[f.Key] == unsure:
			flags[f.Key] = append(flags[f.Key], "unsichere Erkennung")
		case rd.Value == "" && expected(f.Key, raw):
			flags[f.Key] = append(flags[f.Key], "nichts gelesen, steht aber auf jedem Rezept")
		}
	}
	for key, why := range implausible(p.Fields) {
		flags[key] = append(flags[key], why...)
	}
	for _, f := range muster16.Fields {
		for _, why := range flags[f.Key] {
			review = append(review, f.Key+": "+why)
		}
	}
	p.Review = append(p.Review, review...)
	return p, nil
}

// withoutRules drops what the remnants of the form's frame lines read as ("|" standing
// alone), which no name, address or prescription has.
func withoutRules(text string) string {
	words := strings.Fields(text)
	words = slices.DeleteFunc(words, func(w string) bool { return strings.Trim(w, "|!") == "" })
	return strings.Join(words, " ")
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

// scales are how much the print is shrunk for Tesseract, first to last reading. Its
// network reads glyphs about 20 pixels high best: the page's 300 dpi make Courier 12 pt
// 30 and more; shrunk to 65 % (about 200 dpi) most fields read right, and where one
// does not, another scale mostly does (on a generated corpus of 40 pages: 848, 838 and
// 848 of 856 values right at 65, 85 and 55 %, 855 by at least one of the three).
var scales = []float64{0.65, 0.85, 0.55}

// unguarded are the values no check digit or cross-check guards, where a misread digit
// is still a valid value (and all text): two readings must agree.
var unguarded = []string{"bsnr", "status", "date", "birth_date", "dispense_date", "copayment", "factor_1", "factor_2", "factor_3"}

func isUnguarded(f muster16.Field) bool {
	return f.Kind == muster16.Text || slices.Contains(unguarded, f.Key)
}

// reading is what OCR read from a field's print, with its confidence (0 to 1).
type reading struct {
	text string
	conf float64
}

// Outcomes of readField.
type outcome int

const (
	sure      outcome = iota // one reading passed, or two agreed
	unsure                   // no reading passed: OCR unsure, or format or check digit failed
	different                // an unguarded value read differently each time
)

// readField reads f's print (one part per box, nil where nothing is printed) at the first
// scale, and again at the next scales while it is not sure of it. A value a check digit or
// cross-check guards is sure when a reading passes its format and check and OCR is sure
// enough of it (needed); an unguarded value (see unguarded) only when two readings agree,
// each sure enough. When none is sure, the likeliest reading is the one to review.
func (r *reader) readField(f muster16.Field, parts []*image.Gray) (reading, outcome, error) {
	valid := func(t reading) bool { return muster16.Read(f, t.text, 99).Review == "" } // the century does not matter here
	twice := isUnguarded(f)
	var tries []reading
	for _, scale := range scales {
		t, err := r.readAt(f, parts, scale)
		if err != nil {
			return reading{}, unsure, err
		}
		switch {
		case !twice && valid(t) && (t.text == "" || t.conf >= needed(f)):
			return t, sure, nil
		case twice && valid(t):
			for _, prev := range tries {
				if c := math.Min(prev.conf, t.conf); prev.text == t.text && c >= needed(f) {
					return reading{t.text, c}, sure, nil
				}
			}
		}
		tries = append(tries, t)
	}
	best, same := tries[0], false
	for i, t := range tries {
		if t.conf > best.conf {
			best = t
		}
		for _, prev := range tries[:i] {
			same = same || prev.text == t.text
		}
	}
	if twice && !same {
		return best, different, nil
	}
	return best, unsure, nil
}

// readAt reads f's parts with Tesseract, shrunk by scale, and joins what they hold.
func (r *reader) readAt(f muster16.Field, parts []*image.Gray, scale float64) (reading, error) {
	var texts []string
	conf := 1.0
	for _, part := range parts {
		if part == nil || inkRatio(part) < 0.002 {
			continue // nothing printed
		}
		small := shrink(part, scale)
		words, err := r.words(small, f.Kind.Charset())
		if err != nil {
			return reading{}, err
		}
		// Where the print is fixed-pitch, a space is a whole empty cell: Tesseract's
		// spaces around narrow glyphs ("Probst -Muster") are not.
		join := f.Pitch * 0.7 * pxPerMM * scale
		var b strings.Builder
		last := -1
		for _, w := range words {
			t := strings.TrimSpace(w.Word)
			if t == "" {
				continue
			}
			if last >= 0 && (f.Pitch == 0 || float64(w.Box.Min.X-last) >= join) {
				b.WriteByte(' ')
			}
			b.WriteString(t)
			last = w.Box.Max.X
			conf = math.Min(conf, w.Confidence/100)
		}
		text := b.String()
		if f.Kind == muster16.Text {
			text = withoutRules(text)
		}
		if text != "" {
			texts = append(texts, text)
		}
	}
	if len(texts) == 0 {
		return reading{"", 1}, nil
	}
	return reading{strings.Join(texts, ", "), conf}, nil
}

// shrink scales g down by scale (a filter as wide as the pixels that merge, so thin
// strokes stay).
func shrink(g *image.Gray, scale float64) *image.Gray {
	b := g.Bounds()
	w, h := max(1, int(float64(b.Dx())*scale+0.5)), max(1, int(float64(b.Dy())*scale+0.5))
	out := image.NewGray(image.Rect(0, 0, w, h))
	xdraw.BiLinear.Scale(out, out.Bounds(), g, b, xdraw.Src, nil)
	return out
}

// words runs Tesseract on img as one line of text with the character set charset ("":
// any).
func (r *reader) words(img *image.Gray, charset string) ([]gosseract.BoundingBox, error) {
	r.pgm = appendPGM(r.pgm[:0], img, 10)
	if err := r.c.SetImageFromBytes(r.pgm); err != nil {
		return nil, fmt.Errorf("ocr: %w", err)
	}
	if err := r.c.SetWhitelist(charset); err != nil {
		return nil, fmt.Errorf("ocr: %w", err)
	}
	if err := r.c.SetPageSegMode(gosseract.PSM_SINGLE_LINE); err != nil {
		return nil, fmt.Errorf("ocr: %w", err)
	}
	words, err := r.c.GetBoundingBoxes(gosseract.RIL_WORD)
	if err != nil {
		return nil, fmt.Errorf("ocr: %w", err)
	}
	return words, nil
}

// appendPGM appends img as a binary PGM with a white border of pad pixels: Tesseract
// reads it without decompressing, and finds text at an image's very edge less well.
func appendPGM(buf []byte, img *image.Gray, pad int) []byte {
	b := img.Bounds()
	w, h := b.Dx()+2*pad, b.Dy()+2*pad
	buf = fmt.Appendf(buf, "P5\n%d %d\n255\n", w, h)
	white := func(n int) {
		for range n {
			buf = append(buf, 255)
		}
	}
	white(pad * w)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		white(pad)
		i := img.PixOffset(b.Min.X, y)
		buf = append(buf, img.Pix[i:i+b.Dx()]...)
		white(pad)
	}
	white(pad * w)
	return buf
}
