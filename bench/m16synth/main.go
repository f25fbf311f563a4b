// Command m16synth writes synthetic Muster 16 pages with their ground truth, for the OCR
// tests (the committed corpus in internal/ocr/testdata/corpus) and for benchmarks:
//
//	go run ./bench/m16synth -out DIR -n 12 -seed 1
//
// Page i is synth.Record(seed+i) rendered clean when i is even and degraded when odd
// (200–600 dpi, skew up to ±5°, the printer 1–2 mm off, JPEG noise, a stamp and a
// signature, faint red, amounts with a comma). Each page is DIR/page-NNN.jpg with
// DIR/page-NNN.json beside it: the record (the values `tresen rx ocr` should read) and
// the options.
package main

import (
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
			t.Options = synth.Options{
				DPI:     []float64{200, 300, 400, 600}[rng.IntN(4)],
				Skew:    rng.Float64()*10 - 5,
				OffsetX: rng.Float64()*4 - 2, OffsetY: rng.Float64()*2 - 1,
				JPEG: 50 + rng.IntN(40), Stamp: true, Signature: true,
				FaintRed: rng.IntN(2) == 0, Comma: rng.IntN(2) == 0, Seed: s,
			}
		}
		img, err := synth.Render(t.Fields, t.Options)
		if err != nil {
			log.Fatal(err)
		}
		name := filepath.Join(*out, fmt.Sprintf("page-%03d", i+1))
		f, err := os.Create(name + ".jpg")
		if err != nil {
			log.Fatal(err)
		}
		if err := jpeg.Encode(f, img, &jpeg.Options{Quality: 90}); err != nil {
			log.Fatal(err)
		}
		if err := f.Close(); err != nil {
			log.Fatal(err)
		}
		b, _ := json.MarshalIndent(t, "", "  ")
		if err := os.WriteFile(name+".json", append(b, '\n'), 0o644); err != nil {
			log.Fatal(err)
		}
	}
}
