package main

import (
	"encoding/json"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/etoken"
	"github.com/tresen/tresen/internal/ocr"
	"github.com/tresen/tresen/internal/pages"
	"github.com/tresen/tresen/internal/rxcheck"
)

// scanExts are the file names a directory given to rx check or rx ocr contributes as
// scanned pages.
var scanExts = []string{".tif", ".tiff", ".pdf", ".png", ".jpg", ".jpeg"}

// ocrPage is one page of `tresen rx ocr --json`: a Muster 16's fields, an E-Rezept
// token printout's tokens, or why the page could not be read.
type ocrPage struct {
	File   string               `json:"file"`
	Page   int                  `json:"page"`
	Form   string               `json:"form,omitempty"`
	Fields map[string]ocr.Field `json:"fields,omitempty"`
	Tokens []ocrToken           `json:"tokens,omitempty"`
	Review []string             `json:"review"`
	Error  string               `json:"error,omitempty"`
}

type ocrToken struct {
	TaskID     string `json:"task_id"`
	AccessCode string `json:"access_code"`
}

// tokenForm is the form name of an E-Rezept token printout.
const tokenForm = "erezept_token"

// scanReader reads scanned pages with one OCR engine.
type scanReader struct {
	engine *ocr.Engine
}

func newScanReader() (*scanReader, error) {
	e, err := ocr.New(1)
	if err != nil {
		return nil, usagef("Texterkennung nicht verfügbar (Tesseract mit deutschem Modell installiert?): %v", err)
	}
	return &scanReader{engine: e}, nil
}

func (r *scanReader) Close() { r.engine.Close() }

// read reads every page of a scanned file; a file that cannot be opened is an error,
// a page that cannot be read carries its reason.
func (r *scanReader) read(name string, data []byte) ([]ocrPage, []ocr.Page, error) {
	ps, err := pages.Read(filepath.Base(name), data, pages.Limits{})
	if err != nil {
		return nil, nil, err
	}
	out := make([]ocrPage, len(ps))
	reads := make([]ocr.Page, len(ps))
	for i, p := range ps {
		o := ocrPage{File: name, Page: p.Number, Review: []string{}}
		switch {
		case p.Err != nil:
			o.Error = errs.Message(p.Err)
		default:
			o.Form, o.Tokens, o.Fields, o.Review, reads[i], err = r.readImage(p.Image)
			if err != nil {
				o.Error = errs.Message(err)
			}
		}
		out[i] = o
	}
	return out, reads, nil
}

func (r *scanReader) readImage(img image.Image) (form string, tokens []ocrToken, fields map[string]ocr.Field, review []string, read ocr.Page, err error) {
	if ts, err := etoken.Decode(img); err == nil && len(ts) > 0 {
		for _, t := range ts {
			tokens = append(tokens, ocrToken{TaskID: t.TaskID, AccessCode: t.AccessCode})
		}
		return tokenForm, tokens, nil, []string{}, ocr.Page{}, nil
	}
	read, err = r.engine.ReadPage(img)
	if err != nil {
		return "", nil, nil, []string{}, read, err
	}
	return read.Form, nil, read.Fields, read.Review, read, nil
}

// runRxOCR reads paper prescriptions and prints per page what was read: JSON lines with
// --json (the format of ../shared/spec/muster16.md), else a list for people. Exit status
// 1 when a field needs review, 2 when a file or page is unreadable.
func runRxOCR(args []string, stdout, stderr io.Writer) error {
	fset := newFlags("rx ocr")
	asJSON := fset.Bool("json", false, "print one JSON object per page")
	paths, err := parse(fset, args)
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		return usagef("rx ocr: kein Bild angegeben")
	}
	r, err := newScanReader()
	if err != nil {
		return err
	}
	defer r.Close()
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	bad := &unreadables{stderr: stderr}
	review := 0
	err = r.each("rx ocr", expand(paths, scanExts), bad, func(o ocrPage, _ ocr.Page) error {
		if len(o.Review) > 0 {
			review++
		}
		if *asJSON {
			return enc.Encode(o)
		}
		printOCR(stdout, o)
		return nil
	})
	switch {
	case err != nil:
		return err
	case bad.last != nil:
		return bad.last
	case review > 0:
		return findingsError{fmt.Sprintf("rx ocr: %d Seite(n) mit Feldern zum Prüfen", review)}
	}
	return nil
}

// unreadables collects the inputs a command could not read: each is said on stderr, and
// the last one is kept as the usage error that sets exit status 2.
type unreadables struct {
	stderr io.Writer
	last   error
}

func (u *unreadables) add(format string, args ...any) {
	if u.last != nil {
		fmt.Fprintln(u.stderr, "tresen:", u.last.(usageError).msg)
	}
	u.last = usagef(format, args...)
}

// each reads the scanned files and calls fn for every page, those that failed too (with
// their Error); an unreadable file or page is added to bad. It stops at fn's first error.
func (r *scanReader) each(cmd string, names []string, bad *unreadables, fn func(o ocrPage, read ocr.Page) error) error {
	for _, name := range names {
		data, err := readScanFile(name)
		if err != nil {
			bad.add("%s: %s: %s", cmd, name, fileReason(err))
			continue
		}
		out, reads, err := r.read(name, data)
		if err != nil {
			bad.add("%s: %s: %s", cmd, name, errs.Message(err))
			continue
		}
		for i, o := range out {
			if o.Error != "" {
				bad.add("%s: %s Seite %d: %s", cmd, name, o.Page, o.Error)
			}
			if err := fn(o, reads[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// expand replaces each directory by its files with one of exts, sorted.
func expand(paths, exts []string) []string {
	var names []string
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil || !info.IsDir() {
			names = append(names, p) // reading it says what is wrong
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			names = append(names, p)
			continue
		}
		for _, e := range entries { // ReadDir sorts by name
			if e.Type().IsRegular() && slices.Contains(exts, strings.ToLower(filepath.Ext(e.Name()))) {
				names = append(names, filepath.Join(p, e.Name()))
			}
		}
	}
	return names
}

// maxScanFile bounds what is read of a scanned file; package pages refuses files over
// its own, smaller bound with a clear reason.
const maxScanFile = 512 << 20

// readScanFile reads a scanned file.
func readScanFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	const limit = maxScanFile
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if len(data) > limit {
		return nil, errs.E(errs.Invalid, "Datei zu groß (höchstens %d MiB)", limit>>20)
	}
	return data, nil
}

func printOCR(w io.Writer, o ocrPage) {
	fmt.Fprintf(w, "%s  Seite %d  ", o.File, o.Page)
	switch {
	case o.Error != "":
		fmt.Fprintf(w, "NICHT LESBAR: %s\n\n", o.Error)
		return
	case o.Form == tokenForm:
		fmt.Fprintln(w, "E-Rezept-Token")
		for _, t := range o.Tokens {
			fmt.Fprintf(w, "  Rezept-ID %s\n", t.TaskID)
		}
		fmt.Fprintln(w)
		return
	}
	fmt.Fprintln(w, o.Form)
	open := map[string]bool{}
	for _, r := range o.Review {
		key, _, _ := strings.Cut(r, ":")
		open[key] = true
	}
	for _, l := range rxcheck.PaperLabels {
		f := o.Fields[l.Key]
		mark := "      "
		if open[l.Key] {
			mark = "PRÜFEN"
		}
		fmt.Fprintf(w, "  %s %-26s %-40s %3.0f %%\n", mark, l.Label, f.Value, f.Confidence*100)
	}
	for _, r := range o.Review {
		fmt.Fprintf(w, "  prüfen: %s\n", r)
	}
	fmt.Fprintln(w)
}
