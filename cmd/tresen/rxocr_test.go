package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tresen/tresen/internal/muster16"
	"github.com/tresen/tresen/internal/retax"
)

// TestRxOCR reads a scanned Muster 16 on the command line: one JSON line per page with
// every field of the spec; an unreadable file is named with exit status 2.
func TestRxOCR(t *testing.T) {
	dir := t.TempDir()
	page, truth := synthJPEG(t, 21)
	good := filepath.Join(dir, "rezept.jpg")
	if err := os.WriteFile(good, page, 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"rx", "ocr", "--json", good}, strings.NewReader(""), &out, &errOut)
	if code != 0 && code != 1 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if strings.Count(out.String(), "\n") != 1 {
		t.Fatalf("want one JSON line:\n%s", out.String())
	}
	var got struct {
		File   string                     `json:"file"`
		Page   int                        `json:"page"`
		Form   string                     `json:"form"`
		Fields map[string]json.RawMessage `json:"fields"`
		Review []string                   `json:"review"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.File != good || got.Page != 1 || got.Form != "muster16" || got.Review == nil || len(got.Fields) != len(muster16.Fields) {
		t.Errorf("page %+v", got)
	}
	var kvnr struct {
		Value      string  `json:"value"`
		Confidence float64 `json:"confidence"`
	}
	if err := json.Unmarshal(got.Fields["kvnr"], &kvnr); err != nil || kvnr.Value != truth["kvnr"] || kvnr.Confidence <= 0 {
		t.Errorf("kvnr %s: %v", got.Fields["kvnr"], err)
	}
	if (code == 1) != (len(got.Review) > 0) {
		t.Errorf("exit %d with review %q", code, got.Review)
	}

	// A file that is no image: exit 2, named.
	bad := filepath.Join(dir, "notiz.png")
	os.WriteFile(bad, []byte("\x89PNG kaputt"), 0o600)
	out.Reset()
	errOut.Reset()
	if code := run(context.Background(), []string{"rx", "ocr", bad}, strings.NewReader(""), &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "notiz.png") {
		t.Errorf("broken file: exit %d, %q", code, errOut.String())
	}

	// rx check takes the scan too and checks what was read, as of its dispense day.
	code, o, e := rx(t, "--json", "--at", truth["dispense_date"], good)
	var rep retax.Report
	if err := json.Unmarshal([]byte(o), &rep); err != nil || code == 2 {
		t.Fatalf("rx check of a scan: exit %d %v\n%s%s", code, err, o, e)
	}
	if rep.Kind != "gkv" || rep.PrescriptionID != "" {
		t.Errorf("report %+v", rep)
	}
}

// TestRxOCRBlankPage: a page without a form is reported, not invented.
func TestRxOCRBlankPage(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 1748, 1240))
	for i := range img.Pix {
		img.Pix[i] = 250
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	path := filepath.Join(t.TempDir(), "leer.png")
	os.WriteFile(path, b.Bytes(), 0o600)
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"rx", "ocr", "--json", path}, strings.NewReader(""), &out, &errOut)
	if code == 0 || !strings.Contains(out.String(), `"review":["`) {
		t.Errorf("blank page: exit %d\n%s%s", code, out.String(), errOut.String())
	}
}
