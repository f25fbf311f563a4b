package intake_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/datamatrix"

	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/intake"
	"github.com/tresen/tresen/internal/muster16/synth"
	"github.com/tresen/tresen/internal/ocr"
	"github.com/tresen/tresen/internal/rxcheck"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
	"github.com/tresen/tresen/internal/tenant"
)

var ctx = audit.WithActor(context.Background(), audit.Actor{UserID: "test", Source: "test"})

// muster16JPEG is a synthetic Muster 16 scanned at 300 dpi, and its truth.
func muster16JPEG(t *testing.T, seed uint64) ([]byte, map[string]string) {
	t.Helper()
	truth := synth.Record(seed)
	page, err := synth.Scan(truth, synth.Options{Seed: seed}, 90)
	if err != nil {
		t.Fatal(err)
	}
	return page, truth
}

// privatePNG is a blue private prescription: a Muster 16 page with red and blue swapped.
func privatePNG(t *testing.T, seed uint64) []byte {
	t.Helper()
	img, err := synth.Render(synth.Record(seed), synth.Options{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	blue := image.NewRGBA(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			c.R, c.B = c.B, c.R
			blue.SetRGBA(x, y, c)
		}
	}
	return encodePNG(t, blue)
}

// tokenPNG is an E-Rezept token printout (A5 at 300 dpi) with one DataMatrix code.
func tokenPNG(t *testing.T, rxID, accessCode string) []byte {
	t.Helper()
	payload := `{"urls":["Task/` + rxID + `/$accept?ac=` + accessCode + `"]}`
	m, err := datamatrix.NewDataMatrixWriter().Encode(payload, gozxing.BarcodeFormat_DATA_MATRIX, 0, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	page := image.NewGray(image.Rect(0, 0, 1748, 2480))
	draw.Draw(page, page.Bounds(), image.White, image.Point{}, draw.Src)
	const module, x0, y0 = 8, 300, 400 // 8 px ≈ 0.68 mm
	for y := 0; y < m.GetHeight(); y++ {
		for x := 0; x < m.GetWidth(); x++ {
			if m.Get(x, y) {
				draw.Draw(page, image.Rect(x0+x*module, y0+y*module, x0+(x+1)*module, y0+(y+1)*module), image.Black, image.Point{}, draw.Src)
			}
		}
	}
	// A few lines of printed text beside the code.
	for i := range 6 {
		draw.Draw(page, image.Rect(1000, 420+i*60, 1600, 440+i*60), image.Black, image.Point{}, draw.Src)
	}
	return encodePNG(t, page)
}

func encodePNG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// blankPNG is an empty back side with a little scanner noise.
func blankPNG(t *testing.T) []byte {
	img := image.NewGray(image.Rect(0, 0, 1748, 1240))
	for i := range img.Pix {
		img.Pix[i] = uint8(245 + i%7)
	}
	return encodePNG(t, img)
}

// printedBackPNG is a back side someone wrote on: a few dark strokes.
func printedBackPNG(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 1748, 1240))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	for i := range 8 {
		draw.Draw(img, image.Rect(200, 200+i*80, 1400, 215+i*80), &image.Uniform{color.RGBA{20, 20, 90, 255}}, image.Point{}, draw.Src)
	}
	return encodePNG(t, img)
}

// newEngine starts one Tesseract engine for the test.
func newEngine(t *testing.T) *ocr.Engine {
	t.Helper()
	e, err := ocr.New(1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func pharmacy(t *testing.T, db *store.DB) tenant.Tenant {
	t.Helper()
	ph, err := db.CreateTenant(ctx, tenant.Tenant{Kind: tenant.Pharmacy, Code: "308412345", Name: "Rosen-Apotheke"})
	if err != nil {
		t.Fatal(err)
	}
	return ph
}

// wait returns a batch's pages once none waits any more.
func wait(t *testing.T, s *intake.Service, tenantID, batch string) []intake.Page {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		ps, err := s.BatchPages(ctx, tenantID, batch)
		if err != nil {
			t.Fatal(err)
		}
		waiting := 0
		for _, p := range ps {
			if p.Status == intake.Queued {
				waiting++
			}
		}
		if waiting == 0 {
			return ps
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d pages still queued", waiting)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestIntake(t *testing.T) {
	engine := newEngine(t)
	front, truth := muster16JPEG(t, 3)
	const rxID, access = "160.115.468.135.035.50", "777bea0e13cc9c42ceec8e2af0d6d7ab7b9f8c2f9d3b7f3d1b2c3d4e5f607181"
	token := tokenPNG(t, rxID, access)

	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ph := pharmacy(t, db)
		checks := &rxcheck.Service{Store: db, Now: db.Now}
		s := &intake.Service{Store: db, Checks: checks, OCR: engine}
		run, stop := context.WithCancel(ctx)
		defer func() { stop(); s.Wait() }()
		s.Start(run)

		// A duplex batch: a Muster 16 with a blank back, a token printout with a back
		// someone wrote on.
		rc, err := s.Submit(ctx, ph.ID, intake.Batch{Source: intake.Upload, Duplex: true}, []intake.File{
			{Name: "rezept-vorn.jpg", Data: front}, {Name: "rezept-hinten.png", Data: blankPNG(t)},
			{Name: "token-vorn.png", Data: token}, {Name: "token-hinten.png", Data: printedBackPNG(t)},
		})
		if err != nil {
			t.Fatal(err)
		}
		if rc.Pages != 3 || rc.BlankBacks != 1 || rc.Failed != 0 {
			t.Fatalf("receipt %+v", rc)
		}
		ps := wait(t, s, ph.ID, rc.Batch)
		if len(ps) != 3 || ps[0].File != "rezept-vorn.jpg" || ps[1].File != "token-vorn.png" || ps[2].Status != intake.Back || ps[2].Front != ps[1].ID {
			t.Fatalf("pages %+v", ps)
		}
		// The Muster 16 became a paper check with the form image and its boxes.
		if ps[0].Status != intake.Read || len(ps[0].Checks) != 1 {
			t.Fatalf("muster 16 page %+v", ps[0])
		}
		c, err := checks.Get(ctx, ph.ID, ps[0].Checks[0])
		if err != nil {
			t.Fatal(err)
		}
		if c.Paper == nil || c.Paper.PageID != ps[0].ID || c.Paper.Fields["kvnr"].Value != truth["kvnr"] || c.Paper.Fields["pzn_1"].Value != truth["pzn_1"] {
			t.Errorf("paper %+v", c.Paper)
		}
		if c.Paper.Size[0] < 1000 || len(c.Paper.Boxes) < 30 {
			t.Errorf("form image %v with %d boxes", c.Paper.Size, len(c.Paper.Boxes))
		}
		if img, err := db.RecordFile(ctx, ph.ID, c.ID); err != nil || !bytes.HasPrefix(img, []byte{0xFF, 0xD8}) {
			t.Errorf("form image kept: %d bytes, %v", len(img), err)
		}
		// The page itself is kept as it came.
		if img, err := s.Image(ctx, ph.ID, ps[0].ID); err != nil || !bytes.Equal(img, front) {
			t.Errorf("page kept: %d bytes, %v", len(img), err)
		}
		// The token printout waits for its E-Rezept data under the Rezept-ID.
		if ps[1].Status != intake.Read || len(ps[1].Checks) != 1 {
			t.Fatalf("token page %+v", ps[1])
		}
		tc, err := checks.Get(ctx, ph.ID, ps[1].Checks[0])
		if err != nil || tc.PrescriptionID != rxID || tc.Token == nil || tc.Token.AccessCode != access {
			t.Errorf("token check %+v %v", tc, err)
		}

		// Bad input is kept with its reason; the batch goes on.
		rc, err = s.Submit(ctx, ph.ID, intake.Batch{Source: intake.HotFolder}, []intake.File{
			{Name: "kaputt.jpg", Data: front[:len(front)/3]}, {Name: "notiz.txt", Data: []byte("keine Seite")},
			{Name: "rezept.jpg", Data: front}, {Name: "leer.png", Data: blankPNG(t)}, {Name: "privat.png", Data: privatePNG(t, 7)},
		})
		if err != nil {
			t.Fatal(err)
		}
		if rc.Pages != 5 || rc.Failed < 1 {
			t.Fatalf("bad batch receipt %+v", rc)
		}
		ps = wait(t, s, ph.ID, rc.Batch)
		for _, p := range ps[:2] {
			if p.Status != intake.Failed || p.Reason == "" {
				t.Errorf("bad file %s: %+v", p.File, p)
			}
			if strings.Contains(p.Reason, truth["kvnr"]) {
				t.Errorf("reason carries data: %q", p.Reason)
			}
		}
		if img, err := s.Image(ctx, ph.ID, ps[1].ID); err != nil || string(img) != "keine Seite" {
			t.Errorf("failed file kept: %q %v", img, err)
		}
		if ps[2].Status != intake.Read {
			t.Errorf("good page after bad ones: %+v", ps[2])
		}
		if ps[3].Status != intake.Empty || len(ps[3].Checks) != 0 {
			t.Errorf("blank page: %+v", ps[3])
		}
		if ps[4].Status != intake.Failed || !strings.HasPrefix(ps[4].Reason, "Privatrezept") || len(ps[4].Checks) != 0 {
			t.Errorf("private prescription: %+v", ps[4])
		}
	})
}

// TestIntakeResumes: pages stored while no worker ran (a restart) are read when the
// workers start.
func TestIntakeResumes(t *testing.T) {
	engine := newEngine(t)
	front, truth := muster16JPEG(t, 4)
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ph := pharmacy(t, db)
		checks := &rxcheck.Service{Store: db, Now: db.Now}
		before := &intake.Service{Store: db, Checks: checks, OCR: engine}
		rc, err := before.Submit(ctx, ph.ID, intake.Batch{Source: intake.Scanner}, []intake.File{{Name: "scan-0001.jpg", Data: front}})
		if err != nil {
			t.Fatal(err)
		}
		if ps, _ := before.BatchPages(ctx, ph.ID, rc.Batch); len(ps) != 1 || ps[0].Status != intake.Queued {
			t.Fatalf("before start: %+v", ps)
		}
		after := &intake.Service{Store: db, Checks: checks, OCR: engine}
		run, stop := context.WithCancel(ctx)
		defer func() { stop(); after.Wait() }()
		after.Start(run)
		ps := wait(t, after, ph.ID, rc.Batch)
		c, err := checks.Get(ctx, ph.ID, ps[0].Checks[0])
		if err != nil || c.Paper.Fields["lanr"].Value != truth["lanr"] {
			t.Errorf("read after restart: %+v %v", c.Paper, err)
		}
	})
}

// TestSubmitDuplex: a stack of forms scanned duplex by mistake — no backs between them —
// keeps every form as a front; blank backs are dropped; files of the same name stay apart.
func TestSubmitDuplex(t *testing.T) {
	a, _ := muster16JPEG(t, 5)
	b, _ := muster16JPEG(t, 6)
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ph := pharmacy(t, db)
		s := &intake.Service{Store: db, Checks: &rxcheck.Service{Store: db, Now: db.Now}} // not started: pages stay queued
		rc, err := s.Submit(ctx, ph.ID, intake.Batch{Source: intake.Upload, Duplex: true}, []intake.File{
			{Name: "scan.jpg", Data: a}, {Name: "scan.jpg", Data: b}, {Name: "leer.png", Data: blankPNG(t)},
		})
		if err != nil {
			t.Fatal(err)
		}
		if rc.Pages != 2 || rc.BlankBacks != 1 {
			t.Fatalf("receipt %+v", rc)
		}
		ps, err := s.BatchPages(ctx, ph.ID, rc.Batch)
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) != 2 || ps[0].File != "scan.jpg" || ps[1].File != "scan.jpg (2)" || ps[0].Status != intake.Queued || ps[1].Status != intake.Queued || ps[1].Front != "" {
			t.Errorf("pages %+v", ps)
		}
		for i, want := range [][]byte{a, b} {
			if img, err := s.Image(ctx, ph.ID, ps[i].ID); err != nil || !bytes.Equal(img, want) {
				t.Errorf("page %d kept %d bytes, %v", i+1, len(img), err)
			}
		}
	})
}
