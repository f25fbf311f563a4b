// Command m16synth writes synthetic Muster 16 pages with their ground truth, for the OCR
// tests (the committed corpus in internal/ocr/testdata/corpus) and for benchmarks:
//
//	go run ./bench/m16synth -out DIR -n 12 -seed 1
//
// Page i is synth.Record(seed+i) rendered clean when i is even and degraded when odd:
// 200–600 dpi, skew up to ±5°, the practice's and the pharmacy's print each up to 2 mm
// off in any direction, JPEG noise, a stamp and a signature, faint red, amounts with a
// comma, printer fonts (Courier bold, proportional prescription lines, the pharmacy at
// 12 cpi), now and then the form on an A4 sheet or the page turned. Each page is DIR/page-NNN.jpg with
// DIR/page-NNN.json beside it: the record (the values `tresen rx ocr` should read) and
// the options. -max-kb lowers a page's JPEG quality from 90 until it fits, as scanner
// software does for a size limit (the committed corpus uses 300).
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"image/jpeg"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/tresen/tresen/internal/muster16/synth"
)

// Truth is what a page's JSON holds.
type Truth struct {
	Degraded bool              `json:"degraded"`
	Options  synth.Options     `json:"options"`
	Fields   map[string]string `json:"fields"`
}

func main() {
	out := flag.String("out", "", "directory to write the pages to")
	n := flag.Int("n", 12, "number of pages")
	seed := flag.Uint64("seed", 1, "first record's seed")
	maxKB := flag.Int("max-kb", 0, "largest JPEG per page in KiB (0: no limit, quality 90)")
	flag.Parse()
	if *out == "" {
		log.Fatal("m16synth: -out DIR is needed")
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	for i := range *n {
		s := *seed + uint64(i)
		t := Truth{Degraded: i%2 == 1, Fields: synth.Record(s), Options: synth.Options{Seed: s}}
		if t.Degraded {
			rng := rand.New(rand.NewPCG(s, 42))
			o := synth.Options{
				DPI:     []float64{200, 300, 400, 600}[rng.IntN(4)],
				Skew:    rng.Float64()*10 - 5,
				OffsetX: rng.Float64()*4 - 2, OffsetY: rng.Float64()*4 - 2,
				PharmacyOffsetX: rng.Float64()*4 - 2, PharmacyOffsetY: rng.Float64()*4 - 2,
				JPEG: 50 + rng.IntN(40), Stamp: true, Signature: true,
				FaintRed: rng.IntN(2) == 0, Comma: rng.IntN(2) == 0,
				Bold: rng.IntN(2) == 0, Proportional: rng.IntN(2) == 0, PharmacyCPI: []int{10, 12}[rng.IntN(2)],
				Seed: s,
			}
			// A flatbed scan of the whole glass now and then (not at 400 or 600 dpi,
			// where an A4 page would be hundreds of megabytes to draw).
			if o.DPI <= 300 && rng.IntN(3) == 0 {
				o.Sheet, o.SheetX, o.SheetY = true, 5+rng.Float64()*50, 5+rng.Float64()*180
			}
			if rng.IntN(4) == 0 {
				o.Turn = 1 + rng.IntN(3)
			}
			t.Options = o
		}
		img, err := synth.Render(t.Fields, t.Options)
		if err != nil {
			log.Fatal(err)
		}
		name := filepath.Join(*out, fmt.Sprintf("page-%03d", i+1))
		var buf bytes.Buffer
		for q := 90; ; q -= 5 {
			buf.Reset()
			if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
				log.Fatal(err)
			}
			if *maxKB == 0 || buf.Len() <= *maxKB<<10 || q <= 15 {
				break
			}
		}
		if err := os.WriteFile(name+".jpg", buf.Bytes(), 0o644); err != nil {
			log.Fatal(err)
		}
		b, _ := json.MarshalIndent(t, "", "  ")
		if err := os.WriteFile(name+".json", append(b, '\n'), 0o644); err != nil {
			log.Fatal(err)
		}
	}
}
