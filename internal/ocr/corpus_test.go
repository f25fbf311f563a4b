package ocr

import (
	"encoding/json"
	"fmt"
	"image/jpeg"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tresen/tresen/internal/muster16"
)

// corpusPage is a page of a corpus written by bench/m16synth.
type corpusPage struct {
	path     string
	Degraded bool              `json:"degraded"`
	Fields   map[string]string `json:"fields"`
}

// loadCorpus lists the pages of dir with their ground truth.
func loadCorpus(tb testing.TB, dir string) []corpusPage {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "page-*.jpg"))
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no corpus in %s: %v", dir, err)
	}
	var pages []corpusPage
	for _, path := range paths {
		b, err := os.ReadFile(strings.TrimSuffix(path, ".jpg") + ".json")
		if err != nil {
			tb.Fatal(err)
		}
		p := corpusPage{path: path}
		if err := json.Unmarshal(b, &p); err != nil {
			tb.Fatalf("%s: %v", path, err)
		}
		pages = append(pages, p)
	}
	return pages
}

// TestCorpus reads the committed synthetic corpus (testdata/corpus, written by
// `go run ./bench/m16synth -out internal/ocr/testdata/corpus -n 12 -seed 1`: even pages
// clean, odd pages degraded) and holds the targets: fields ≥ 98 % right on clean
// pages and ≥ 95 % on degraded ones, checkboxes ≥ 99 %, and no field wrong without
// review. TRESEN_OCR_CORPUS points it at another directory (a larger generated corpus).
func TestCorpus(t *testing.T) {
	dir := os.Getenv("TRESEN_OCR_CORPUS")
	if dir == "" {
		dir = filepath.Join("testdata", "corpus")
	}
	pages := loadCorpus(t, dir)
	e, err := New(1)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	// flaggedRight counts the review's false alarms: fields read right and still marked.
	type tally struct{ right, all, boxRight, boxAll, unflagged, flaggedRight int }
	var clean, degraded tally
	for _, pg := range pages {
		f, err := os.Open(pg.path)
		if err != nil {
			t.Fatal(err)
		}
		img, err := jpeg.Decode(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		p, err := e.ReadPage(img)
		if err != nil {
			t.Fatal(err)
		}
		tl := &clean
		if pg.Degraded {
			tl = &degraded
		}
		right := 0
		var misses []string
		for _, fl := range muster16.Fields {
			want, got := pg.Fields[fl.Key], p.Fields[fl.Key]
			box := fl.Kind == muster16.Cross || fl.Kind == muster16.Digit
			tl.all++
			if box {
				tl.boxAll++
			}
			flagged := slices.ContainsFunc(p.Review, func(r string) bool { return strings.HasPrefix(r, fl.Key+":") })
			if got.Value == want {
				right++
				if box {
					tl.boxRight++
				}
				if flagged {
					tl.flaggedRight++
				}
				continue
			}
			note := "marked for review"
			if !flagged {
				note = "NOT marked for review"
				tl.unflagged++
				t.Errorf("%s: %s read %q (confidence %.2f), want %q, and it is not marked for review",
					filepath.Base(pg.path), fl.Key, got.Value, got.Confidence, want)
			}
			misses = append(misses, fmt.Sprintf("%s %q for %q (%s)", fl.Key, got.Value, want, note))
		}
		tl.right += right
		t.Logf("%s (degraded %v): %d of %d right; wrong: %s", filepath.Base(pg.path), pg.Degraded, right, len(muster16.Fields), strings.Join(misses, "; "))
	}
	for _, c := range []struct {
		name string
		tl   tally
		want float64
	}{{"clean", clean, 0.98}, {"degraded", degraded, 0.95}} {
		if c.tl.all == 0 {
			continue
		}
		acc, boxes := float64(c.tl.right)/float64(c.tl.all), float64(c.tl.boxRight)/float64(c.tl.boxAll)
		t.Logf("%s pages: fields %.1f %% (%d of %d), checkboxes %.1f %% (%d of %d), wrong without review %d, right but marked for review %d",
			c.name, 100*acc, c.tl.right, c.tl.all, 100*boxes, c.tl.boxRight, c.tl.boxAll, c.tl.unflagged, c.tl.flaggedRight)
		if acc < c.want {
			t.Errorf("%s pages: %.1f %% of the fields right, want ≥ %.0f %%", c.name, 100*acc, 100*c.want)
		}
		if boxes < 0.99 {
			t.Errorf("%s pages: %.1f %% of the checkboxes right, want ≥ 99 %%", c.name, 100*boxes)
		}
	}
}
