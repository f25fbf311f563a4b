package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/berlin"
	"github.com/tresen/tresen/internal/demo"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/hotfolder"
	"github.com/tresen/tresen/internal/intake"
	"github.com/tresen/tresen/internal/muster16/synth"
	"github.com/tresen/tresen/internal/ocr"
	"github.com/tresen/tresen/internal/retax"
	"github.com/tresen/tresen/internal/retention"
	"github.com/tresen/tresen/internal/rxcheck"
	"github.com/tresen/tresen/internal/scanner"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/tenant"
	"github.com/tresen/tresen/internal/web"
)

// IntakeFlags configure how scanned prescriptions come in.
type IntakeFlags struct {
	// Workers read pages in parallel, each with its own Tesseract engine.
	Workers int
	// HotFolder is watched for each pharmacy in its subfolder named by its IK.
	HotFolder string
	// Scanner is "sane:DEVICE" (DEVICE empty: scanimage's default) or "escl:URL".
	Scanner string
	// Simplex: the scanner and the hot folder deliver fronts only.
	Simplex bool
	// pollEvery is how often the hot folder is looked at (tests); 0: its default.
	pollEvery time.Duration
}

func (f *IntakeFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&f.Workers, "ocr-workers", defaultOCRWorkers(), "pages read in parallel (one Tesseract engine each, about 100 MB)")
	fs.StringVar(&f.HotFolder, "rx-hotfolder", "", "hot folder for scanned prescriptions: each pharmacy's files in DIR/<IK>/")
	fs.StringVar(&f.Scanner, "rx-scanner", "", "the pharmacy's scanner: sane:DEVICE (scanimage) or escl:URL (AirScan, e.g. http://scanner/eSCL)")
	fs.BoolVar(&f.Simplex, "rx-simplex", false, "the scanner and hot folder deliver fronts only (default: duplex, blank backs dropped)")
}

// defaultOCRWorkers is a worker per core, at most 8: a core reads about 180 pages a
// minute, more than a pharmacy's scanner delivers, and each engine holds its model.
func defaultOCRWorkers() int { return min(runtime.NumCPU(), 8) }

func (f *IntakeFlags) check() error {
	if f.Workers < 1 {
		return usagef("serve: --ocr-workers muss mindestens 1 sein")
	}
	if f.Scanner != "" {
		if _, err := f.scan(); err != nil {
			return err
		}
	}
	return nil
}

// scanDevice scans a batch.
type scanDevice interface {
	Scan(ctx context.Context, set scanner.Settings, page func(scanner.File) error) error
}

// scan returns the configured scanner.
func (f *IntakeFlags) scan() (scanDevice, error) {
	kind, target, _ := strings.Cut(f.Scanner, ":")
	switch kind {
	case "sane":
		return scanner.SANE{Device: target}, nil
	case "escl":
		if !strings.HasPrefix(target, "http://") && !strings.HasPrefix(target, "https://") {
			return nil, usagef("serve: --rx-scanner escl:URL braucht eine http(s)-Adresse")
		}
		return scanner.ESCL{URL: target}, nil
	}
	return nil, usagef("serve: --rx-scanner %q: sane:GERÄT oder escl:URL erwartet", f.Scanner)
}

// lazyOCR starts the Tesseract engines when the first page is read: a server that never
// gets a scanned page does not load the model.
type lazyOCR struct {
	workers int
	once    sync.Once
	engine  *ocr.Engine
	err     error
}

func (l *lazyOCR) ReadPage(img image.Image) (ocr.Page, error) {
	l.once.Do(func() { l.engine, l.err = ocr.New(l.workers) })
	if l.err != nil {
		return ocr.Page{}, errs.E(errs.Invalid, "Texterkennung nicht verfügbar (Tesseract mit deutschem Modell installiert?)")
	}
	return l.engine.ReadPage(img)
}

func (l *lazyOCR) Close() {
	l.once.Do(func() {})
	if l.engine != nil {
		l.engine.Close()
	}
}

// setUpIntake builds the intake of scanned prescriptions and the scanner the pages offer.
func (m *Main) setUpIntake(cat retax.Articles, opts *web.Options) error {
	m.ocr = &lazyOCR{workers: m.Intake.Workers}
	m.intake = &intake.Service{Store: m.DB, Checks: &rxcheck.Service{Store: m.DB, Articles: cat, Now: m.DB.Now},
		OCR: m.ocr, Workers: m.Intake.Workers, Log: m.Logger}
	opts.Intake = m.intake
	if m.Intake.Scanner != "" {
		dev, err := m.Intake.scan()
		if err != nil {
			return err
		}
		set := scanner.Settings{Simplex: m.Intake.Simplex}
		opts.Scan = func(ctx context.Context, _ string, page func(intake.File) error) error {
			return dev.Scan(ctx, set, func(f scanner.File) error { return page(intake.File{Name: f.Name, Data: f.Data}) })
		}
	}
	return nil
}

// startIntake starts the workers that read scanned pages and, if configured, watches
// each pharmacy's hot folder; both stop with ctx.
func (m *Main) startIntake(ctx context.Context) error {
	m.intake.Start(ctx)
	if m.Intake.HotFolder == "" {
		return nil
	}
	tenants, err := m.DB.ListTenants(ctx)
	if err != nil {
		return err
	}
	for _, t := range tenants {
		if t.Kind != tenant.Pharmacy {
			continue
		}
		dir := filepath.Join(m.Intake.HotFolder, t.Code)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("serve: --rx-hotfolder: %w", err)
		}
		folder := hotfolder.Folder{Dir: dir, Interval: m.Intake.pollEvery, Log: m.Logger}
		batch := intake.Batch{Source: intake.HotFolder, Duplex: !m.Intake.Simplex}
		tenantID := t.ID
		m.background.Go(func() {
			ctx := audit.WithActor(ctx, audit.Actor{UserID: "system", Source: "hotfolder"})
			err := folder.Run(ctx, func(name string, data []byte) error {
				_, err := m.intake.Submit(ctx, tenantID, batch, []intake.File{{Name: name, Data: data}})
				return err // kept in the folder and tried again: the store failed
			})
			if err != nil && !errors.Is(err, context.Canceled) {
				m.Logger.Error("hot folder stopped", "tenant", tenantID, "kind", errs.KindOf(err).String())
			}
		})
	}
	return nil
}

// demoScans is how many synthetic scanned prescriptions the demo pharmacy gets.
const demoScans = 3

// seedDemoScans gives the demo pharmacy a batch of synthetic scanned Muster 16 to read and
// review, once: the first start of `make run` shows the paper path working.
func (m *Main) seedDemoScans(ctx context.Context) error {
	ctx = audit.WithActor(ctx, audit.Actor{UserID: "system", Source: "demo"})
	ph, err := m.DB.FindTenantByCode(ctx, tenant.Pharmacy, demo.PharmacyTenant.Code)
	if err != nil {
		return err
	}
	kind := retention.PrescriptionImage
	if have, err := m.DB.ListRecords(ctx, ph.ID, store.RecordFilter{Kind: &kind, Limit: 1}); err != nil || len(have) > 0 {
		return err
	}
	var files []intake.File
	for i := range demoScans {
		seed := uint64(1000 + i)
		values := synth.Record(seed)
		// Issued and dispensed this week, so that the checks judge them as fresh.
		today := m.DB.Now().In(berlin.Location)
		values["date"] = today.AddDate(0, 0, -3).Format(time.DateOnly)
		values["dispense_date"] = today.AddDate(0, 0, -1).Format(time.DateOnly)
		demoCoPayment(values)
		page, err := synth.Scan(values, synth.Options{Seed: seed, Skew: float64(i) - 1, Stamp: i == 1, Signature: true}, 88)
		if err != nil {
			return err
		}
		files = append(files, intake.File{Name: fmt.Sprintf("demo-scan-%04d.jpg", i+1), Data: page})
	}
	_, err = m.intake.Submit(ctx, ph.ID, intake.Batch{Source: intake.Scanner}, files)
	return err
}

// demoCoPayment makes a synthetic record's marks and co-payment what a careful practice
// and pharmacy print: gebührenpflichtig, no accident or BVG mark, the legal co-payment of
// each pack. The demo's findings then come from what OCR read, not from random marks.
func demoCoPayment(values map[string]string) {
	for _, k := range []string{"gebuehr_frei", "noctu", "unfall", "arbeitsunfall", "bvg"} {
		values[k] = "false"
	}
	values["geb_pfl"] = "true"
	var due int64
	for _, n := range []string{"1", "2", "3"} {
		var euros, cents int64
		if _, err := fmt.Sscanf(values["price_"+n], "%d.%d", &euros, &cents); err == nil && !retax.IsSpecialCode(values["pzn_"+n]) {
			due += retax.CoPaymentPerPack(euros*100 + cents)
		}
	}
	values["copayment"] = fmt.Sprintf("%d.%02d", due/100, due%100)
}
