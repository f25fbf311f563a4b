package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/tresen/tresen/internal/articles"
	"github.com/tresen/tresen/internal/berlin"
	"github.com/tresen/tresen/internal/erezept"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/fhir"
	"github.com/tresen/tresen/internal/retax"
)

// runRx dispatches the prescription commands.
func runRx(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "check" {
		return usagef("rx: Unterbefehl check erwartet (rx ocr folgt mit seinem Issue)")
	}
	return runRxCheck(args[1:], stdout, stderr)
}

// runRxCheck reads E-Rezept files (and directories of them), groups them by Rezept-ID and
// prints the findings per prescription: JSON lines with --json, else a report for people.
// Exit status 1 when any finding is an error, 2 when a file is unreadable.
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

	files, unreadable := readRxFiles(paths, stderr)
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
	switch {
	case unreadable != nil:
		return unreadable
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
// named. Each unreadable file gets a line on stderr; the last one is returned as the
// usage error that sets the exit status.
func readRxFiles(paths []string, stderr io.Writer) ([]erezept.File, error) {
	var names []string
	var unreadable error
	fail := func(name, reason string) {
		if unreadable != nil {
			fmt.Fprintln(stderr, "tresen:", unreadable.(usageError).msg)
		}
		unreadable = usagef("rx check: %s: %s", name, reason)
	}
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
		var inDir []string
		for _, e := range entries {
			ext := strings.ToLower(filepath.Ext(e.Name()))
			if e.Type().IsRegular() && (ext == ".xml" || ext == ".json") {
				inDir = append(inDir, filepath.Join(p, e.Name()))
			}
		}
		sort.Strings(inDir)
		names = append(names, inDir...)
	}
	var files []erezept.File
	for _, name := range names {
		data, err := readLimited(name)
		if err != nil {
			fail(name, fileReason(err))
			continue
		}
		f, err := erezept.Read(filepath.Base(name), data)
		if err != nil {
			fail(name, errs.Message(err))
			continue
		}
		files = append(files, f)
	}
	return files, unreadable
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
