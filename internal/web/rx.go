package web

import (
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/tresen/tresen/internal/berlin"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/fhir"
	"github.com/tresen/tresen/internal/intake"
	"github.com/tresen/tresen/internal/pages"
	"github.com/tresen/tresen/internal/retax"
	"github.com/tresen/tresen/internal/rxcheck"
	"github.com/tresen/tresen/internal/tenant"
)

// maxUploadBody bounds an upload of E-Rezept files and scanned pages (held in memory,
// never in a temporary file); maxUploadFiles their number.
const (
	maxUploadBody  = 256 << 20
	maxUploadFiles = 200
)

// pharmacy returns the session's tenant when it is a pharmacy; the prescription pages
// do not exist for practices.
func (s *Server) pharmacy(r *http.Request) (tenant.Tenant, error) {
	t, err := s.db.FindTenantByID(r.Context(), sessionFrom(r.Context()).TenantID)
	if err != nil {
		return t, err
	}
	if t.Kind != tenant.Pharmacy {
		return t, errs.E(errs.NotFound, "Die Rezeptprüfung gibt es nur für Apotheken.")
	}
	return t, nil
}

// rxListData is the list of checked prescriptions with its filter and sums.
type rxListData struct {
	From, To string // YYYY-MM-DD as in the form, To inclusive
	Light    string
	Checks   []rxcheck.Check
	Totals   rxcheck.Totals
	Problems []rxcheck.Problem
	Query    template.URL // the filter as a query string, for the export links
	// Batch is the scanned pages just uploaded, when some came with E-Rezept files.
	Batch *intake.Receipt
	// Scanner: a scanner is set up for this server; Intake: scanned pages are taken.
	Scanner, Intake bool
	// ToReview counts the period's paper prescriptions with fields OCR was unsure of.
	ToReview int
}

// toReview counts the paper prescriptions with something left to review.
func toReview(checks []rxcheck.Check) int {
	n := 0
	for _, c := range checks {
		if c.Paper == nil {
			continue
		}
		if open, general := c.Paper.Open(); len(open) > 0 || len(general) > 0 {
			n++
		}
	}
	return n
}

// period reads the filter of the lists: from and to as days (to inclusive), by default
// the last 7 days.
func period(r *http.Request, now time.Time) (rxListData, rxcheck.Filter, error) {
	q := r.URL.Query()
	d := rxListData{From: q.Get("from"), To: q.Get("to"), Light: q.Get("light")}
	today := now.In(berlin.Location)
	if d.From == "" && d.To == "" {
		d.From, d.To = today.AddDate(0, 0, -6).Format(time.DateOnly), today.Format(time.DateOnly)
	}
	var f rxcheck.Filter
	for _, x := range []struct {
		s   string
		dst *time.Time
		add int
	}{{d.From, &f.From, 0}, {d.To, &f.To, 1}} {
		if x.s == "" {
			continue
		}
		t, err := time.ParseInLocation(time.DateOnly, x.s, berlin.Location)
		if err != nil {
			return d, f, errs.Field("from", "Bitte ein Datum im Format TT.MM.JJJJ wählen.")
		}
		*x.dst = t.AddDate(0, 0, x.add)
	}
	switch d.Light {
	case "", rxcheck.Red, rxcheck.Yellow, rxcheck.Green:
		f.Light = d.Light
	default:
		return d, f, errs.Field("light", "unbekannter Status")
	}
	d.Query = template.URL(url.Values{"from": {d.From}, "to": {d.To}, "light": {d.Light}}.Encode())
	return d, f, nil
}

func (s *Server) handleRxList(w http.ResponseWriter, r *http.Request) error {
	t, err := s.pharmacy(r)
	if err != nil {
		return err
	}
	d, f, err := period(r, s.db.Now())
	if err != nil {
		return err
	}
	if d.Checks, err = s.rx.List(r.Context(), t.ID, f); err != nil {
		return err
	}
	d.Totals = rxcheck.Sum(d.Checks)
	d.Intake, d.Scanner, d.ToReview = s.intake != nil, s.intake != nil && s.scan != nil, toReview(d.Checks)
	s.render(w, r, http.StatusOK, "rx", page{Title: "Rezeptprüfung", Tenant: &t, Data: d})
	return nil
}

// scanned tells scanned pages (images, PDFs) from E-Rezept files by their first bytes.
func scanned(data []byte) bool {
	_, ok := pages.Sniff(data)
	return ok
}

// handleRxUpload checks uploaded E-Rezept files (drag and drop or file picker).
func (s *Server) handleRxUpload(w http.ResponseWriter, r *http.Request) error {
	t, err := s.pharmacy(r)
	if err != nil {
		return err
	}
	if r.MultipartForm == nil {
		return errs.E(errs.Invalid, "Bitte Dateien zum Hochladen auswählen.")
	}
	headers := r.MultipartForm.File["files"]
	if len(headers) == 0 {
		return errs.E(errs.Invalid, "Bitte Dateien zum Hochladen auswählen.")
	}
	if len(headers) > maxUploadFiles {
		return errs.E(errs.Invalid, "Höchstens %d Dateien auf einmal.", maxUploadFiles)
	}
	var files []rxcheck.File
	var scans []intake.File
	var problems []rxcheck.Problem
	for _, h := range headers {
		name := filepath.Base(strings.ReplaceAll(h.Filename, `\`, "/"))
		f, err := h.Open()
		if err != nil {
			problems = append(problems, rxcheck.Problem{Name: name, Reason: "nicht lesbar"})
			continue
		}
		data, err := io.ReadAll(io.LimitReader(f, maxUploadBody))
		f.Close()
		switch {
		case err != nil:
			problems = append(problems, rxcheck.Problem{Name: name, Reason: "nicht lesbar"})
		case scanned(data):
			scans = append(scans, intake.File{Name: name, Data: data})
		case len(data) > fhir.MaxSize:
			problems = append(problems, rxcheck.Problem{Name: name, Reason: fmt.Sprintf("größer als %d MiB", fhir.MaxSize>>20)})
		default:
			files = append(files, rxcheck.File{Name: name, Data: data})
		}
	}
	var batch *intake.Receipt
	if len(scans) > 0 {
		if s.intake == nil {
			for _, f := range scans {
				problems = append(problems, rxcheck.Problem{Name: f.Name, Reason: "gescannte Rezepte nimmt dieser Server nicht an"})
			}
		} else {
			rc, err := s.intake.Submit(r.Context(), t.ID, intake.Batch{Source: intake.Upload, Duplex: r.PostFormValue("duplex") != ""}, scans)
			if err != nil {
				return err
			}
			batch = &rc
		}
	}
	res := rxcheck.Result{}
	if len(files) > 0 {
		if res, err = s.rx.Add(r.Context(), t.ID, files); err != nil {
			return err
		}
	}
	res.Problems = append(problems, res.Problems...)
	if batch != nil && len(files) == 0 && len(res.Problems) == 0 {
		http.Redirect(w, r, batchURL(*batch), http.StatusSeeOther)
		return nil
	}
	d, f, _ := period(r, s.db.Now())
	if d.Checks, err = s.rx.List(r.Context(), t.ID, f); err != nil {
		return err
	}
	d.Totals = rxcheck.Sum(d.Checks)
	d.Intake, d.Scanner, d.ToReview = s.intake != nil, s.intake != nil && s.scan != nil, toReview(d.Checks)
	d.Problems = res.Problems
	d.Batch = batch
	p := page{Title: "Rezeptprüfung", Tenant: &t, Data: d,
		Notice: fmt.Sprintf("%d Rezept(e) geprüft.", len(res.Checks))}
	if batch != nil {
		p.Notice += fmt.Sprintf(" %d gescannte Seite(n) angenommen.", batch.Pages)
	}
	if len(res.Problems) > 0 {
		p.Error = fmt.Sprintf("%d Datei(en) nicht geprüft, siehe unten.", len(res.Problems))
	}
	s.render(w, r, http.StatusOK, "rx", p)
	return nil
}

// rxDetailData is one checked prescription.
type rxDetailData struct {
	Check    rxcheck.Check
	Findings []rxFinding
	Rules    map[string]retax.Rule
	// Open and Rest are a paper prescription's fields, those to check first; General
	// what OCR noted about the form as a whole.
	Open, Rest []rxField
	General    []string
}

type rxFinding struct {
	retax.Finding
	Title    string
	Decision *rxcheck.Decision
}

func (s *Server) rxDetail(w http.ResponseWriter, r *http.Request, t tenant.Tenant, c rxcheck.Check, notice string, status int, formErr string) {
	d := rxDetailData{Check: c}
	if c.Paper != nil {
		d.Open, d.Rest = paperFields(c.Paper)
		_, d.General = c.Paper.Open()
		csrf := sessionFrom(r.Context()).CSRFToken
		for _, fs := range [][]rxField{d.Open, d.Rest} {
			for i := range fs {
				fs[i].CheckID, fs[i].CSRF = c.ID, csrf
			}
		}
	}
	titles := map[string]string{}
	for _, rule := range retax.Rules() {
		titles[rule.Code] = rule.Title
	}
	for _, f := range c.Report.Findings {
		rf := rxFinding{Finding: f, Title: titles[f.Code]}
		if dec, ok := c.Decision(f); ok {
			rf.Decision = &dec
		}
		d.Findings = append(d.Findings, rf)
	}
	title := "Rezept " + c.PrescriptionID
	switch {
	case c.PrescriptionID != "":
	case c.Paper != nil:
		title = "Papierrezept"
	default:
		title = "Rezept ohne Rezept-ID"
	}
	s.render(w, r, status, "rx_detail", page{Title: title, Tenant: &t, Data: d, Notice: notice, Error: formErr})
}

func (s *Server) handleRxDetail(w http.ResponseWriter, r *http.Request) error {
	t, err := s.pharmacy(r)
	if err != nil {
		return err
	}
	c, err := s.rx.Get(r.Context(), t.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	s.rxDetail(w, r, t, c, "", http.StatusOK, "")
	return nil
}

// handleRxDecide marks a finding as corrected or its risk as accepted.
func (s *Server) handleRxDecide(w http.ResponseWriter, r *http.Request) error {
	t, err := s.pharmacy(r)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	d := rxcheck.Decision{Code: r.PostFormValue("code"), Path: r.PostFormValue("path"), Status: r.PostFormValue("status"),
		Note: r.PostFormValue("note"), UserID: sessionFrom(r.Context()).User.ID}
	c, err := s.rx.Decide(r.Context(), t.ID, id, d)
	if errs.Is(err, errs.Invalid) {
		c, gerr := s.rx.Get(r.Context(), t.ID, id)
		if gerr != nil {
			return gerr
		}
		s.rxDetail(w, r, t, c, "", http.StatusUnprocessableEntity, errs.Message(err))
		return nil
	}
	if err != nil {
		return err
	}
	s.rxDetail(w, r, t, c, "Entscheidung gespeichert.", http.StatusOK, "")
	return nil
}

func (s *Server) handleRxRecheck(w http.ResponseWriter, r *http.Request) error {
	t, err := s.pharmacy(r)
	if err != nil {
		return err
	}
	c, err := s.rx.Recheck(r.Context(), t.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	s.rxDetail(w, r, t, c, "Erneut geprüft.", http.StatusOK, "")
	return nil
}

// handleRxFile sends one of a prescription's files as it came in.
func (s *Server) handleRxFile(w http.ResponseWriter, r *http.Request) error {
	t, err := s.pharmacy(r)
	if err != nil {
		return err
	}
	c, err := s.rx.Get(r.Context(), t.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	name := r.PathValue("name")
	for _, f := range c.Files {
		if f.Name != name {
			continue
		}
		ctype := "application/fhir+xml"
		if strings.HasSuffix(strings.ToLower(name), ".json") {
			ctype = "application/fhir+json"
		}
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("Content-Disposition", `attachment; filename="`+strings.Map(safeFileRune, name)+`"`)
		_, err := w.Write(f.Data)
		return err
	}
	return errs.E(errs.NotFound, "Diese Datei gehört nicht zu diesem Rezept.")
}

func safeFileRune(r rune) rune {
	if r == '"' || r == '\\' || r < 0x20 || r == 0x7f {
		return '_'
	}
	return r
}

// handleRxExport sends the list of the period as CSV or its sums as PDF.
func (s *Server) handleRxExport(w http.ResponseWriter, r *http.Request) error {
	t, err := s.pharmacy(r)
	if err != nil {
		return err
	}
	d, f, err := period(r, s.db.Now())
	if err != nil {
		return err
	}
	checks, err := s.rx.List(r.Context(), t.ID, f)
	if err != nil {
		return err
	}
	base := "rezeptpruefung-" + d.From + "-" + d.To
	switch r.PathValue("format") {
	case "csv":
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+base+`.csv"`)
		return rxcheck.WriteCSV(w, checks)
	case "pdf":
		w.Header().Set("Content-Type", "application/pdf")
		w.Header().Set("Content-Disposition", `attachment; filename="`+base+`.pdf"`)
		return rxcheck.WritePDF(w, t.Name, f.From, f.To, checks)
	}
	return errs.E(errs.NotFound, "unbekanntes Format")
}
