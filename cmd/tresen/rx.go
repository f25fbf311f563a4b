package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tresen/tresen/internal/articles"
	"github.com/tresen/tresen/internal/berlin"
	"github.com/tresen/tresen/internal/erezept"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/fhir"
	"github.com/tresen/tresen/internal/intake"
	"github.com/tresen/tresen/internal/ocr"
	"github.com/tresen/tresen/internal/pages"
	"github.com/tresen/tresen/internal/retax"
	"github.com/tresen/tresen/internal/rxcheck"
)

// runRx dispatches the prescription commands.
func runRx(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "check":
			return runRxCheck(args[1:], stdout, stderr)
		case "ocr":
			return runRxOCR(args[1:], stdout, stderr)
		}
	}
	return usagef("rx: Unterbefehl check oder ocr erwartet")
}

// runRxCheck reads E-Rezept files and scanned paper prescriptions (and directories of
// them), groups the E-Rezept files by Rezept-ID, reads the paper ones by OCR and prints
// the findings per prescription: JSON lines with --json, else a report for people. Exit
// status 1 when any finding is an error, 2 when a file is unreadable.
func runRxCheck(args []string, stdout, stderr io.Writer) error {
	fset := newFlags("rx check")
	atFlag := fset.String("at", "", "dispensing time when the data gives none: YYYY-MM-DD or YYYY-MM-DDTHH:MM (Berlin; default now)")
	articlesFlag := fset.String("articles", "", "Artikelstamm (CSV or JSON, see docs/artikelstamm.md) for Pharma-Control and prices")
	state := fset.String("state", "", "the pharmacy's Bundesland (BY, NW …) for its public holidays")
	asJSON := fset.Bool("json", false, "print one JSON object per prescription")
	paths, err := parse(fset, args)
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		return usagef("rx check: keine Datei angegeben")
	}
	at := time.Now().In(berlin.Location)
	if *atFlag != "" {
		if at, err = parseAt(*atFlag); err != nil {
			return err
		}
	}
	in := retax.Input{At: at, State: strings.ToUpper(*state)}
	if *articlesFlag != "" {
		cat, err := articles.LoadFile(*articlesFlag)
		if err != nil {
			return usagef("rx check: %s: %s", *articlesFlag, errs.Message(err))
		}
		in.Articles = cat
	}

	bad := &unreadables{stderr: stderr}
	files, scans := readRxFiles(paths, bad)
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	errorsFound := 0
	for _, c := range erezept.Group(files) {
		if c.Prescription == nil && c.Dispense == nil && len(c.Unsupported) == 0 {
			continue // receipts and billing bundles: read, nothing to check
		}
		in.Prescription, in.Dispense, in.Unsupported = c.Prescription, c.Dispense, c.Unsupported
		rep := retax.Check(in)
		if rep.HasErrors() {
			errorsFound++
		}
		if *asJSON {
			if err := enc.Encode(rep); err != nil {
				return err
			}
			continue
		}
		printReport(stdout, rep, c.Files)
	}
	if len(scans) > 0 {
		n, err := checkScans(scans, in, *asJSON, stdout, stderr, bad)
		errorsFound += n
		if err != nil {
			return err
		}
	}
	switch {
	case bad.last != nil:
		return bad.last
	case errorsFound > 0:
		return findingsError{fmt.Sprintf("rx check: %d Verordnung(en) mit Retaxationsrisiko", errorsFound)}
	}
	return nil
}

// parseAt reads --at as a day or a day and time in Berlin.
func parseAt(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.DateOnly} {
		if t, err := time.ParseInLocation(layout, s, berlin.Location); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usagef("rx check: --at %q ist kein Datum (JJJJ-MM-TT oder JJJJ-MM-TTTHH:MM)", s)
}

// readRxFiles reads every file named, and the .xml and .json files of every directory
// named, and returns the scanned ones apart; unreadable files are added to bad.
func readRxFiles(paths []string, bad *unreadables) ([]erezept.File, []string) {
	names := expand(paths, append([]string{".xml", ".json"}, scanExts...))
	var files []erezept.File
	var scans []string
	for _, name := range names {
		if scanned(name) {
			scans = append(scans, name)
			continue
		}
		data, err := readLimited(name)
		if err != nil {
			bad.add("rx check: %s: %s", name, fileReason(err))
			continue
		}
		f, err := erezept.Read(filepath.Base(name), data)
		if err != nil {
			bad.add("rx check: %s: %s", name, errs.Message(err))
			continue
		}
		files = append(files, f)
	}
	return files, scans
}

// scanned tells whether a file holds scanned pages, by its first bytes.
func scanned(name string) bool {
	f, err := os.Open(name)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 1024) // a PDF may start after some junk
	n, _ := io.ReadFull(f, head)
	_, ok := pages.Sniff(head[:n])
	return ok
}

// checkScans reads scanned paper prescriptions and checks each Muster 16 page (token
// printouts carry no prescription data to check) and returns how many have retax risks;
// unreadable files and pages are added to bad.
func checkScans(names []string, in retax.Input, asJSON bool, stdout, stderr io.Writer, bad *unreadables) (int, error) {
	r, err := newScanReader()
	if err != nil {
		return 0, err
	}
	defer r.Close()
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	risky := 0
	err = r.each("rx check", names, bad, func(o ocrPage, read ocr.Page) error {
		switch {
		case o.Error != "":
			return nil
		case o.Form == tokenForm:
			for _, t := range o.Tokens {
				fmt.Fprintf(stderr, "tresen: %s Seite %d: E-Rezept-Token %s; die Verordnung prüft rx check mit ihren E-Rezept-Daten\n", o.File, o.Page, t.TaskID)
			}
			return nil
		case o.Form != ocr.FormMuster16:
			fmt.Fprintf(stderr, "tresen: %s Seite %d: %s\n", o.File, o.Page, strings.Join(o.Review, "; "))
			return nil
		}
		paper := intake.Paper(read)
		rep, _ := rxcheck.CheckPaper(&paper, in)
		if rep.HasErrors() {
			risky++
		}
		if asJSON {
			return enc.Encode(rep)
		}
		printReport(stdout, rep, []string{fmt.Sprintf("%s Seite %d", o.File, o.Page)})
		return nil
	})
	return risky, err
}

// readLimited reads a file of at most fhir.MaxSize bytes.
func readLimited(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, fhir.MaxSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > fhir.MaxSize {
		return nil, errs.E(errs.Invalid, "Datei zu groß (höchstens %d MiB)", fhir.MaxSize>>20)
	}
	return data, nil
}

func fileReason(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "Datei nicht gefunden"
	case errors.Is(err, fs.ErrPermission):
		return "keine Leseberechtigung"
	case errs.Is(err, errs.Invalid):
		return errs.Message(err)
	}
	return "nicht lesbar"
}

var severityLabel = map[retax.Severity]string{retax.Error: "FEHLER ", retax.Warning: "WARNUNG", retax.Info: "HINWEIS"}

// printReport writes one prescription's result for people.
func printReport(w io.Writer, r retax.Report, files []string) {
	id := r.PrescriptionID
	if id == "" {
		id = "(ohne Rezept-ID)"
	}
	status := "ok"
	if r.HasErrors() {
		status = "RETAXATIONSRISIKO"
	}
	fmt.Fprintf(w, "%s  %s  Abgabe %s  %s\n", id, r.Kind, r.CheckedAt, status)
	fmt.Fprintf(w, "  Dateien: %s\n", strings.Join(files, ", "))
	for _, f := range r.Findings {
		fmt.Fprintf(w, "  %s  %s  %s\n           %s\n", severityLabel[f.Severity], f.Code, f.Path, f.Message)
	}
	for _, n := range r.NotChecked {
		fmt.Fprintf(w, "  nicht geprüft: %s\n", n)
	}
	fmt.Fprintln(w)
}
