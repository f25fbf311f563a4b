// Package intake takes a pharmacy's scanned paper prescriptions in — uploaded in the
// browser, dropped into the hot folder or scanned directly — and keeps every page sealed
// for the prescriptions' 90 days before anything is read from it. Workers then read each
// page: the DataMatrix codes of an E-Rezept token printout, or the fields of a Muster 16
// by OCR, and hand what they read to the check (package rxcheck). A page that fails is
// kept with its reason, never dropped; only blank back sides of duplex scans are.
package intake

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/etoken"
	"github.com/tresen/tresen/internal/ocr"
	"github.com/tresen/tresen/internal/pages"
	"github.com/tresen/tresen/internal/retention"
	"github.com/tresen/tresen/internal/rxcheck"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/tenant"
)

// Store is what intake needs of the store.
type Store interface {
	AddRecord(ctx context.Context, tenantID string, r store.Record, file []byte) (store.Record, error)
	UpdateRecord(ctx context.Context, tenantID, id string, data json.RawMessage) error
	FindRecordByID(ctx context.Context, tenantID, id string) (store.Record, error)
	RecordFile(ctx context.Context, tenantID, id string) ([]byte, error)
	ListRecords(ctx context.Context, tenantID string, f store.RecordFilter) ([]store.Record, error)
	ListTenants(ctx context.Context) ([]tenant.Tenant, error)
	ClaimRecord(ctx context.Context, tenantID, id string, until time.Time) (bool, error)
}

// Reader reads the fields of a Muster 16 (package ocr).
type Reader interface {
	ReadPage(img image.Image) (ocr.Page, error)
}

// Page statuses.
const (
	Queued = "queued" // kept, waiting to be read
	Read   = "read"   // read; its checks are in Checks
	Back   = "back"   // the printed back side of a sheet, kept with its front, not read
	Empty  = "empty"  // nothing on it (a blank page outside a duplex pair), kept, not read
	Failed = "failed" // could not be read; Reason says why
)

// Sources of a batch.
const (
	Upload    = "upload"
	HotFolder = "hotfolder"
	Scanner   = "scanner"
)

// Page is one scanned page as kept (the data of a retention.PrescriptionImage record).
type Page struct {
	ID        string    `json:"-"`
	CreatedAt time.Time `json:"-"`
	Batch     string    `json:"batch"`
	Source    string    `json:"source"`
	File      string    `json:"file"`
	Number    int       `json:"number"` // within File, from 1
	Seq       int       `json:"seq"`    // within the batch, from 1
	Front     string    `json:"front,omitempty"`
	Status    string    `json:"status"`
	Reason    string    `json:"reason,omitempty"`
	// Checks are the checks read from the page: one for a Muster 16, one per
	// prescription of a token printout.
	Checks []string `json:"checks,omitempty"`
	// Review is how many fields OCR asked a person to check.
	Review int `json:"review,omitempty"`
}

// File is a file as it came in.
type File struct {
	Name string
	Data []byte
}

// Batch is what came in together.
type Batch struct {
	Source string
	// Duplex: the pages are sheets' fronts and backs in turn; blank backs are dropped.
	Duplex bool
}

// Receipt is what Submit kept.
type Receipt struct {
	Batch      string
	Pages      int // kept, including failed ones
	Failed     int
	BlankBacks int // dropped
}

// Service keeps and reads scanned pages for every pharmacy.
type Service struct {
	Store  Store
	Checks *rxcheck.Service
	// OCR reads Muster 16 pages; nil: pages are kept and fail with a note that OCR is
	// not available here.
	OCR     Reader
	Workers int // default 1
	Limits  pages.Limits
	Log     *slog.Logger

	mu      sync.Mutex
	queue   chan job
	pending map[string]bool // page ids queued or being read
	done    chan struct{}   // closed when the workers stopped
}

type job struct {
	tenantID, pageID string
	actor            audit.Actor
}

// queueSize bounds the pages waiting in memory; more stay queued in the store and are
// picked up by the next sweep.
const queueSize = 4096

// Sweeps take up queued pages left behind: at start everything of the retention period
// (a restart), then every sweepEvery the last sweepRecent (a full queue, a node that died
// while reading, whose claim ran out).
const (
	sweepEvery  = 5 * time.Minute
	sweepRecent = 48 * time.Hour
)

// Start starts the workers and takes up what was queued before; they stop when ctx ends.
func (s *Service) Start(ctx context.Context) {
	s.mu.Lock()
	s.queue, s.pending, s.done = make(chan job, queueSize), map[string]bool{}, make(chan struct{})
	s.mu.Unlock()
	n := max(s.Workers, 1)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case j := <-s.queue:
					s.read(ctx, j)
				}
			}
		})
	}
	wg.Go(func() {
		t := time.NewTicker(sweepEvery)
		defer t.Stop()
		s.sweep(ctx, retentionDays*24*time.Hour)
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				s.sweep(ctx, sweepRecent)
			}
		}
	})
	go func() { wg.Wait(); close(s.done) }()
}

// Wait blocks until the workers stopped after their context ended.
func (s *Service) Wait() {
	if s.done != nil {
		<-s.done
	}
}

// enqueue hands a page to the workers unless it is queued already or the queue is full
// (then the sweep takes it up).
func (s *Service) enqueue(j job) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.queue == nil || s.pending[j.pageID] {
		return
	}
	select {
	case s.queue <- j:
		s.pending[j.pageID] = true
	default:
	}
}

// sweep queues the pages that came in over the last span and still wait to be read.
func (s *Service) sweep(ctx context.Context, span time.Duration) {
	ctx = audit.WithActor(ctx, audit.Actor{UserID: "system", Source: "intake"})
	tenants, err := s.Store.ListTenants(ctx)
	if err != nil {
		s.log().Error("intake sweep", slog.String("kind", errs.KindOf(err).String()))
		return
	}
	since := time.Now().Add(-span)
	for _, t := range tenants {
		if t.Kind != tenant.Pharmacy {
			continue
		}
		ps, err := s.list(ctx, t.ID, store.RecordFilter{Since: &since})
		if err != nil {
			s.log().Error("intake sweep", slog.String("tenant", t.ID), slog.String("kind", errs.KindOf(err).String()))
			continue
		}
		for _, p := range ps {
			if p.Status == Queued {
				s.enqueue(job{tenantID: t.ID, pageID: p.ID, actor: audit.Actor{UserID: "system", Source: "intake"}})
			}
		}
	}
}

// claimFor is how long a worker holds a page it reads; far longer than a page takes.
const claimFor = 10 * time.Minute

// retentionDays is how long pages are kept: the first sweep looks back as far.
const retentionDays = 90

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// Submit keeps the pages of files as one batch and queues them for reading. Every page is
// stored before Submit returns; a file or page that cannot be read is stored with its
// reason (and the file as it came), so nothing is lost. Pages are decoded one at a time
// (a duplex pair at most), so a long multi-page file does not fill the memory.
func (s *Service) Submit(ctx context.Context, tenantID string, b Batch, files []File) (Receipt, error) {
	w := s.Begin(ctx, tenantID, b)
	for _, f := range files {
		if err := w.Add(f); err != nil {
			return w.rc, err
		}
	}
	return w.Close()
}

// Begin starts a batch whose files come one by one, as a scanner delivers its pages:
// each is kept, and read, while the next is scanned.
func (s *Service) Begin(ctx context.Context, tenantID string, b Batch) *BatchWriter {
	w := &BatchWriter{s: s, ctx: ctx, tenantID: tenantID, batch: b, actor: audit.ActorFrom(ctx), names: map[string]int{}}
	w.rc.Batch = uuid.NewString()
	return w
}

// ID is the batch's id.
func (w *BatchWriter) ID() string { return w.rc.Batch }

// Add keeps the pages of one file (see Submit).
func (w *BatchWriter) Add(f File) error {
	name := f.Name
	if w.names[f.Name]++; w.names[f.Name] > 1 {
		name = fmt.Sprintf("%s (%d)", f.Name, w.names[f.Name]) // "scan.jpg (2)"
	}
	pf, err := pages.Open(name, f.Data, w.s.Limits)
	if err != nil {
		return w.add(item{Page: pages.Page{File: name, Number: 1, Err: err}, file: f.Data})
	}
	single := pf.Len() == 1 && (pf.Format() == pages.JPEG || pf.Format() == pages.PNG)
	for p := range pf.All() {
		if err := w.add(item{Page: p, file: f.Data, single: single}); err != nil {
			return err
		}
	}
	return nil
}

// Close keeps a front left without its back and says what the batch kept.
func (w *BatchWriter) Close() (Receipt, error) {
	if w.pending == nil {
		return w.rc, nil
	}
	it := *w.pending
	w.pending = nil
	return w.rc, w.keep(it, false)
}

// item is a page with the file it came from.
type item struct {
	pages.Page
	file   []byte // the file as it came
	single bool   // the file is this page alone, a JPEG or PNG: kept as it came
}

// BatchWriter keeps a batch's pages in scan order, pairing fronts and backs of a duplex
// batch as they come. It is not safe for concurrent use.
type BatchWriter struct {
	s        *Service
	ctx      context.Context
	tenantID string
	batch    Batch
	actor    audit.Actor
	rc       Receipt
	seq      int
	front    string // the id of the last front kept
	pending  *item  // duplex: a front waiting for its back
	names    map[string]int
}

func (w *BatchWriter) add(it item) error {
	if !w.batch.Duplex {
		return w.keep(it, false)
	}
	if w.pending == nil {
		w.pending = &it
		return nil
	}
	pair := []item{*w.pending, it}
	w.pending = nil
	sheets := pages.Duplex([]pages.Page{pair[0].Page, pair[1].Page})
	var order []item // the pair as pages.Duplex sorted it: front, back, or a front of its own
	var backs []bool
	for _, sh := range sheets {
		for i, p := range []*pages.Page{&sh.Front, sh.Back} {
			if p == nil {
				continue
			}
			j := slices.IndexFunc(pair, func(c item) bool { return c.File == p.File && c.Number == p.Number })
			if j < 0 {
				return errs.E(errs.Internal, "intake: duplex pairing returned a page it was not given")
			}
			order, backs = append(order, pair[j]), append(backs, i == 1)
		}
	}
	w.rc.BlankBacks += len(pair) - len(order)
	if len(sheets) == 2 && !backs[len(backs)-1] {
		// The back was a front of its own: it waits for its back.
		next := order[len(order)-1]
		w.pending = &next
		order, backs = order[:len(order)-1], backs[:len(backs)-1]
	}
	for i, it := range order {
		if err := w.keep(it, backs[i]); err != nil {
			return err
		}
	}
	return nil
}

// keep stores one page and queues it for reading.
func (w *BatchWriter) keep(it item, back bool) error {
	w.seq++
	pg := Page{Batch: w.rc.Batch, Source: w.batch.Source, File: it.File, Number: it.Number, Seq: w.seq, Status: Queued}
	var file []byte
	switch {
	case it.Err != nil:
		pg.Status, pg.Reason, file = Failed, errs.Message(it.Err), it.file
	case it.single:
		file = it.file
	default:
		var buf bytes.Buffer
		if err := png.Encode(&buf, it.Image); err != nil {
			return fmt.Errorf("intake: encode page: %w", err)
		}
		file = buf.Bytes()
	}
	if back {
		pg.Front = w.front
		if pg.Status == Queued {
			pg.Status = Back
		}
	}
	id, err := w.s.add(w.ctx, w.tenantID, pg, file)
	if err != nil {
		return err
	}
	if !back {
		w.front = id
	}
	w.rc.Pages++
	if pg.Status == Failed {
		w.rc.Failed++
	}
	if pg.Status == Queued {
		w.s.enqueue(job{tenantID: w.tenantID, pageID: id, actor: w.actor})
	}
	return nil
}

func (s *Service) add(ctx context.Context, tenantID string, p Page, file []byte) (string, error) {
	data, err := json.Marshal(p)
	if err != nil {
		return "", err
	}
	rec, err := s.Store.AddRecord(ctx, tenantID, store.Record{Kind: retention.PrescriptionImage, Lookup: p.Batch, Data: data}, file)
	return rec.ID, err
}

func (s *Service) save(ctx context.Context, tenantID string, p Page) error {
	data, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return s.Store.UpdateRecord(ctx, tenantID, p.ID, data)
}

func decode(r store.Record) (Page, error) {
	var p Page
	if r.Kind != retention.PrescriptionImage {
		return p, errs.E(errs.NotFound, "keine gescannte Seite")
	}
	if err := json.Unmarshal(r.Data, &p); err != nil {
		return p, fmt.Errorf("scanned page %s: %w", r.ID, err)
	}
	p.ID, p.CreatedAt = r.ID, r.CreatedAt
	return p, nil
}

// Get returns one page.
func (s *Service) Get(ctx context.Context, tenantID, id string) (Page, error) {
	r, err := s.Store.FindRecordByID(ctx, tenantID, id)
	if err != nil {
		return Page{}, err
	}
	return decode(r)
}

// Image returns a page's image (or, for a page that failed, its file) as it was kept.
func (s *Service) Image(ctx context.Context, tenantID, id string) ([]byte, error) {
	if _, err := s.Get(ctx, tenantID, id); err != nil {
		return nil, err
	}
	return s.Store.RecordFile(ctx, tenantID, id)
}

// BatchPages returns a batch's pages in scan order.
func (s *Service) BatchPages(ctx context.Context, tenantID, batch string) ([]Page, error) {
	ps, err := s.list(ctx, tenantID, store.RecordFilter{Lookup: &batch, Limit: store.MaxRecordList})
	if err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, errs.E(errs.NotFound, "Diesen Stapel gibt es nicht (mehr).")
	}
	slices.SortFunc(ps, func(a, b Page) int { return a.Seq - b.Seq })
	return ps, nil
}

// Recent returns the pages that came in since, newest first.
func (s *Service) Recent(ctx context.Context, tenantID string, since time.Time) ([]Page, error) {
	return s.list(ctx, tenantID, store.RecordFilter{Since: &since, Limit: store.MaxRecordList})
}

func (s *Service) list(ctx context.Context, tenantID string, f store.RecordFilter) ([]Page, error) {
	kind := retention.PrescriptionImage
	f.Kind = &kind
	recs, err := s.Store.ListRecords(ctx, tenantID, f)
	if err != nil {
		return nil, err
	}
	out := make([]Page, 0, len(recs))
	for _, r := range recs {
		p, err := decode(r)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// read reads one queued page and records what came of it.
func (s *Service) read(ctx context.Context, j job) {
	defer func() {
		s.mu.Lock()
		delete(s.pending, j.pageID)
		s.mu.Unlock()
	}()
	ctx = audit.WithActor(ctx, j.actor)
	// Another node's worker may have the page (nodes share the store's queue).
	if ok, err := s.Store.ClaimRecord(ctx, j.tenantID, j.pageID, time.Now().Add(claimFor)); err != nil || !ok {
		if err != nil {
			s.log().Error("intake: claim page", slog.String("tenant", j.tenantID), slog.String("kind", errs.KindOf(err).String()))
		}
		return
	}
	p, err := s.Get(ctx, j.tenantID, j.pageID)
	if err != nil || p.Status != Queued {
		if err != nil {
			s.log().Error("intake: load page", slog.String("tenant", j.tenantID), slog.String("kind", errs.KindOf(err).String()))
		}
		return
	}
	if err := s.readPage(ctx, j.tenantID, &p); err != nil {
		if errs.KindOf(err) == errs.Internal {
			s.log().Error("intake: read page", slog.String("tenant", j.tenantID), slog.String("page", p.ID), slog.String("error", err.Error()))
		}
		p.Status, p.Reason = Failed, errs.Message(err)
	}
	if err := s.save(ctx, j.tenantID, p); err != nil {
		s.log().Error("intake: save page", slog.String("tenant", j.tenantID), slog.String("kind", errs.KindOf(err).String()))
	}
}

// readPage reads a page: the codes of a token printout, else the Muster 16's fields.
func (s *Service) readPage(ctx context.Context, tenantID string, p *Page) error {
	data, err := s.Store.RecordFile(ctx, tenantID, p.ID)
	if err != nil {
		return err
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return errs.E(errs.Invalid, "Bild nicht lesbar")
	}
	if pages.Blank(img) {
		p.Status = Empty
		return nil
	}
	if tokens, err := etoken.Decode(img); err == nil && len(tokens) > 0 {
		for _, t := range tokens {
			c, err := s.Checks.AddToken(ctx, tenantID, t.TaskID, rxcheck.Token{AccessCode: t.AccessCode, PageID: p.ID})
			if err != nil {
				return err
			}
			p.Checks = append(p.Checks, c.ID)
		}
		p.Status = Read
		return nil
	}
	if s.OCR == nil {
		return errs.E(errs.Invalid, "Texterkennung ist auf diesem Server nicht eingerichtet")
	}
	read, err := s.OCR.ReadPage(img)
	if err != nil {
		return errs.E(errs.Invalid, "Kein Muster 16 erkannt (Seite zu klein oder kein Formular)")
	}
	if read.Form != ocr.FormMuster16 {
		// Another form (a private or BtM prescription): kept, named, not guessed at.
		return errs.E(errs.Invalid, "%s", strings.TrimPrefix(strings.Join(read.Review, "; "), "Formular: "))
	}
	paper := Paper(read)
	paper.PageID = p.ID
	var form []byte
	if read.Image != nil {
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, read.Image, &jpeg.Options{Quality: 85}); err != nil {
			return fmt.Errorf("intake: encode form image: %w", err)
		}
		form = buf.Bytes()
	}
	c, err := s.Checks.AddPaper(ctx, tenantID, paper, form)
	if err != nil {
		return err
	}
	p.Checks, p.Status = []string{c.ID}, Read
	fields, general := paper.Open()
	p.Review = len(fields) + len(general)
	return nil
}

// Paper is what OCR read from a page as the check takes it.
func Paper(read ocr.Page) rxcheck.Paper {
	p := rxcheck.Paper{Form: read.Form, Fields: map[string]rxcheck.PaperField{}, Review: read.Review}
	for k, f := range read.Fields {
		p.Fields[k] = rxcheck.PaperField{Value: f.Value, Confidence: f.Confidence, Corrected: f.Corrected}
	}
	if read.Image != nil {
		b := read.Image.Bounds()
		p.Size = [2]int{b.Dx(), b.Dy()}
		p.Boxes = map[string][4]int{}
		for k, r := range read.Boxes {
			r = r.Sub(b.Min)
			p.Boxes[k] = [4]int{r.Min.X, r.Min.Y, r.Dx(), r.Dy()}
		}
	}
	return p
}
