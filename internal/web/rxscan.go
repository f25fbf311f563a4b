package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/intake"
	"github.com/tresen/tresen/internal/muster16"
	"github.com/tresen/tresen/internal/rxcheck"
	"github.com/tresen/tresen/internal/tenant"
)

// Scan scans a batch on the pharmacy's scanner, handing over each file in scan order as
// it comes.
type Scan func(ctx context.Context, tenantID string, page func(intake.File) error) error

// maxScan bounds one batch on the scanner.
const maxScan = 30 * time.Minute

// scanRun is a batch being scanned, for the batch page to tell while no page is there yet
// and to report how the scan ended.
type scanRun struct {
	tenantID string
	done     bool
	err      string // why the scan stopped early, for the pharmacist
	receipt  intake.Receipt
}

// scanRuns are the scans of the last while, by batch id, and those still running.
type scanRuns struct {
	mu      sync.Mutex
	runs    map[string]*scanRun
	cancels map[string]context.CancelFunc // of the scans still running
	wg      sync.WaitGroup
}

// Close stops the scans still running (their pages so far are kept) and waits for them.
func (s *Server) Close() {
	s.scans.mu.Lock()
	for _, cancel := range s.scans.cancels {
		cancel()
	}
	s.scans.mu.Unlock()
	s.scans.wg.Wait()
}

// keepScanRun is how long a finished scan's ending is told on its batch page.
const keepScanRun = time.Hour

func (sr *scanRuns) start(id, tenantID string, cancel context.CancelFunc) {
	sr.mu.Lock()
	defer sr.mu.Unlock()
	if sr.runs == nil {
		sr.runs, sr.cancels = map[string]*scanRun{}, map[string]context.CancelFunc{}
	}
	sr.runs[id], sr.cancels[id] = &scanRun{tenantID: tenantID}, cancel
	sr.wg.Add(1)
}

func (sr *scanRuns) finish(id string, rc intake.Receipt, err error) {
	sr.mu.Lock()
	defer sr.mu.Unlock()
	defer sr.wg.Done()
	sr.cancels[id]()
	delete(sr.cancels, id)
	run := sr.runs[id]
	run.done, run.receipt = true, rc
	if err != nil {
		run.err = errs.Message(err)
	}
	time.AfterFunc(keepScanRun, func() {
		sr.mu.Lock()
		delete(sr.runs, id)
		sr.mu.Unlock()
	})
}

// get returns a copy of the tenant's scan of batch id, if there is one.
func (sr *scanRuns) get(id, tenantID string) (scanRun, bool) {
	sr.mu.Lock()
	defer sr.mu.Unlock()
	run, ok := sr.runs[id]
	if !ok || run.tenantID != tenantID {
		return scanRun{}, false
	}
	return *run, true
}

// rxBatchData is a batch's pages and how far reading them got.
type rxBatchData struct {
	ID                          string
	Pages                       []intake.Page
	Waiting, Read, Failed, Back int
	Review                      int    // pages with fields to check
	BlankBacks                  int    // dropped, as the upload reported
	Scanning                    bool   // the scanner is still delivering pages
	ScanError                   string // why the scan stopped early
}

// Busy tells whether the page should look again: the scanner or OCR is still at work.
func (d rxBatchData) Busy() bool { return d.Scanning || d.Waiting > 0 }

func (d rxBatchData) Done() int { return d.Read + d.Failed + d.Back }

// scanning returns the session's pharmacy when this server takes scanned prescriptions.
func (s *Server) scanning(r *http.Request) (tenant.Tenant, error) {
	t, err := s.pharmacy(r)
	if err == nil && s.intake == nil {
		err = errs.E(errs.NotFound, "Gescannte Rezepte nimmt dieser Server nicht an.")
	}
	return t, err
}

func (s *Server) handleRxBatch(w http.ResponseWriter, r *http.Request) error {
	t, err := s.scanning(r)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	run, scanned := s.scans.get(id, t.ID)
	ps, err := s.intake.BatchPages(r.Context(), t.ID, id)
	if err != nil && !(scanned && errs.Is(err, errs.NotFound)) {
		return err
	}
	d := rxBatchData{ID: id, Pages: ps, Scanning: scanned && !run.done, ScanError: run.err}
	fmt.Sscan(r.URL.Query().Get("blank"), &d.BlankBacks)
	if scanned {
		d.BlankBacks = run.receipt.BlankBacks
	}
	for _, p := range ps {
		switch p.Status {
		case intake.Queued:
			d.Waiting++
		case intake.Read:
			d.Read++
			if p.Review > 0 {
				d.Review++
			}
		case intake.Failed:
			d.Failed++
		case intake.Back, intake.Empty:
			d.Back++
		}
	}
	p := page{Title: "Scan-Stapel", Tenant: &t, Data: d}
	if r.Header.Get("HX-Request") == "true" {
		s.renderPart(w, r, http.StatusOK, "rx_batch", "rx-batch", p)
		return nil
	}
	s.render(w, r, http.StatusOK, "rx_batch", p)
	return nil
}

// handleRxScan scans a batch on the pharmacy's scanner and shows its progress.
func (s *Server) handleRxScan(w http.ResponseWriter, r *http.Request) error {
	t, err := s.scanning(r)
	if err != nil {
		return err
	}
	if s.scan == nil {
		return errs.E(errs.NotFound, "An diesem Server ist kein Scanner eingerichtet.")
	}
	// The scan outlives the request: a stack takes minutes. Its pages are kept, and read,
	// as they come; the batch page shows them.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), maxScan)
	// Storing goes on after a stopped scan: what was scanned is kept.
	bw := s.intake.Begin(context.WithoutCancel(r.Context()), t.ID, intake.Batch{Source: intake.Scanner, Duplex: r.PostFormValue("duplex") != ""})
	s.scans.start(bw.ID(), t.ID, cancel)
	go func() {
		err := s.scan(ctx, t.ID, bw.Add)
		// The pages scanned are kept even when the scan was stopped.
		rc, cerr := bw.Close()
		if err = errors.Join(err, cerr); err != nil && errs.KindOf(err) == errs.Internal {
			s.log.Error("scan", slog.String("tenant", t.ID), slog.String("error", err.Error()))
		}
		s.scans.finish(bw.ID(), rc, err)
	}()
	http.Redirect(w, r, "/scans/"+url.PathEscape(bw.ID()), http.StatusSeeOther)
	return nil
}

func batchURL(rc intake.Receipt) string {
	return "/scans/" + url.PathEscape(rc.Batch) + fmt.Sprintf("?blank=%d", rc.BlankBacks)
}

// handleRxPageImage sends a scanned page as it was kept.
func (s *Server) handleRxPageImage(w http.ResponseWriter, r *http.Request) error {
	t, err := s.scanning(r)
	if err != nil {
		return err
	}
	data, err := s.intake.Image(r.Context(), t.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	return sendImage(w, data)
}

// handleRxFormImage sends the form image a paper prescription was read from.
func (s *Server) handleRxFormImage(w http.ResponseWriter, r *http.Request) error {
	t, err := s.pharmacy(r)
	if err != nil {
		return err
	}
	c, err := s.rx.Get(r.Context(), t.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	if c.Paper == nil {
		return errs.E(errs.NotFound, "Dieses Rezept kam nicht vom Papier.")
	}
	data, err := s.db.RecordFile(r.Context(), t.ID, c.ID)
	if err != nil {
		return err
	}
	return sendImage(w, data)
}

// sendImage sends a kept image with the type its bytes say; anything else (a file that
// failed to read) as a download, never rendered by the browser.
func sendImage(w http.ResponseWriter, data []byte) error {
	ctype := http.DetectContentType(data)
	switch ctype {
	case "image/jpeg", "image/png":
	default:
		ctype = "application/octet-stream"
		w.Header().Set("Content-Disposition", `attachment; filename="seite"`)
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, err := w.Write(data)
	return err
}

// rxField is one field of a paper prescription in the review view.
type rxField struct {
	CheckID, CSRF string
	Key, Label    string
	rxcheck.PaperField
	Kind   muster16.Kind
	Box    [4]int
	HasBox bool
	Open   bool   // OCR asked a person to check it
	Why    string // OCR's reason
}

func (f rxField) Checkbox() bool { return f.Kind == muster16.Cross || f.Kind == muster16.Digit }

// paperFields lists a paper prescription's fields, those to check first.
func paperFields(p *rxcheck.Paper) (open, rest []rxField) {
	keys, _ := p.Open()
	for _, l := range rxcheck.PaperLabels {
		def, _ := muster16.FieldByKey(l.Key)
		box, ok := p.Boxes[l.Key]
		f := rxField{Key: l.Key, Label: l.Label, PaperField: p.Fields[l.Key], Kind: def.Kind, Box: box, HasBox: ok,
			Open: slices.Contains(keys, l.Key), Why: p.Why(l.Key)}
		if f.Open {
			open = append(open, f)
		} else {
			rest = append(rest, f)
		}
	}
	return open, rest
}

// handleRxCorrect sets a field of a paper prescription and checks it again.
func (s *Server) handleRxCorrect(w http.ResponseWriter, r *http.Request) error {
	t, err := s.pharmacy(r)
	if err != nil {
		return err
	}
	id, key := r.PathValue("id"), r.PathValue("key")
	value := r.PostFormValue("value")
	if f, ok := muster16.FieldByKey(key); ok && (f.Kind == muster16.Cross || f.Kind == muster16.Digit) {
		value = fmt.Sprint(value != "")
	}
	c, err := s.rx.Correct(r.Context(), t.ID, id, key, value, sessionFrom(r.Context()).User.ID)
	if errs.Is(err, errs.Invalid) {
		c, gerr := s.rx.Get(r.Context(), t.ID, id)
		if gerr != nil {
			return gerr
		}
		s.rxDetail(w, r, t, c, "", http.StatusUnprocessableEntity, rxcheck.PaperLabel(key)+": "+errs.Message(err))
		return nil
	}
	if err != nil {
		return err
	}
	s.rxDetail(w, r, t, c, rxcheck.PaperLabel(key)+" gespeichert.", http.StatusOK, "")
	return nil
}

// handleRxNext opens the next paper prescription with fields to check, oldest first.
func (s *Server) handleRxNext(w http.ResponseWriter, r *http.Request) error {
	t, err := s.pharmacy(r)
	if err != nil {
		return err
	}
	checks, err := s.rx.List(r.Context(), t.ID, rxcheck.Filter{})
	if err != nil {
		return err
	}
	skip := r.URL.Query().Get("after")
	for i := len(checks) - 1; i >= 0; i-- {
		c := checks[i]
		if c.Paper == nil || c.ID == skip {
			continue
		}
		if open, general := c.Paper.Open(); len(open) > 0 || len(general) > 0 {
			http.Redirect(w, r, "/rx/"+url.PathEscape(c.ID), http.StatusSeeOther)
			return nil
		}
	}
	http.Redirect(w, r, "/rx", http.StatusSeeOther)
	return nil
}

// handleRxConfirm takes the notes about the form as a whole off a paper prescription
// once a person compared it with the page.
func (s *Server) handleRxConfirm(w http.ResponseWriter, r *http.Request) error {
	t, err := s.pharmacy(r)
	if err != nil {
		return err
	}
	c, err := s.rx.Confirm(r.Context(), t.ID, r.PathValue("id"), sessionFrom(r.Context()).User.ID)
	if err != nil {
		return err
	}
	s.rxDetail(w, r, t, c, "Erkennung bestätigt.", http.StatusOK, "")
	return nil
}
