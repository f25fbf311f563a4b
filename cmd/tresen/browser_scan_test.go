package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/scanner/escltest"
	"github.com/tresen/tresen/internal/store"
)

// TestBrowserScannedPrescriptions is the pharmacy's evening batch: upload the day's
// scanned Muster 16 pages, watch them being read, open one, check a field against the
// scan with the keyboard and correct it; then scan the next stack on the network scanner
// (eSCL) from the page.
func TestBrowserScannedPrescriptions(t *testing.T) {
	scan := &escltest.Scanner{Caps: escltest.Caps{Duplex: true}.XML(), ADF: "ScannerAdfLoaded",
		Docs: escltest.Sheets(t, 2, 300), ContentType: "image/jpeg"}
	srv := scan.Start(t)
	m, logins := MustRunMain(t, store.SQLite, func(m *Main) { m.Intake.Scanner = "escl:" + srv.URL + "/eSCL" })
	ctx := newBrowser(t)
	base := m.URL()
	dir := t.TempDir()
	var files []string
	for i, seed := range []uint64{31, 32} {
		data, _ := synthJPEG(t, seed)
		name := filepath.Join(dir, []string{"scan-0001.jpg", "scan-0002.jpg"}[i])
		if err := os.WriteFile(name, data, 0o600); err != nil {
			t.Fatal(err)
		}
		files = append(files, name)
	}
	do, text := steps(t, ctx)

	do("login", chromedp.Navigate(base+"/login"),
		chromedp.SendKeys(chromedp.ID("username"), "apotheke.inhaber"),
		chromedp.SendKeys(chromedp.ID("password"), logins["apotheke.inhaber"]),
		chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.CSS("header .tenant")))
	do("open Rezeptprüfung", chromedp.Navigate(base+"/rx"), chromedp.WaitVisible(chromedp.ID("rx-files")))
	do("upload the batch", chromedp.SetUploadFiles(chromedp.ID("rx-files"), files),
		chromedp.Click(`//button[.="Prüfen"]`),
		chromedp.WaitVisible(chromedp.ID("rx-batch")))

	// The batch page reloads its status until both pages are read.
	waitBatch := func(want string) {
		t.Helper()
		deadline := time.Now().Add(2 * time.Minute)
		for {
			if got := text("progress", "#rx-batch-progress"); strings.Contains(got, "Fertig") {
				if !strings.HasPrefix(strings.TrimSpace(got), want) {
					t.Errorf("progress %q, want %q", got, want)
				}
				return
			}
			if time.Now().After(deadline) {
				shot(t, ctx, "batch")
				t.Fatal("the batch was not read in time")
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	waitBatch("2 von 2")
	pagesTable := text("pages", "#rx-pages")
	if strings.Count(pagesTable, "gelesen") != 2 || !strings.Contains(pagesTable, "scan-0001.jpg") {
		t.Errorf("pages:\n%s", pagesTable)
	}

	// The first prescription: its form with a box per field beside the values.
	do("open the first", chromedp.Click(`(//table[@id="rx-pages"]//a[.="öffnen"])[1]`), chromedp.WaitVisible(chromedp.ID("rx-paper")))
	boxes, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#rx-form rect[data-key]").length`))
	if err != nil || boxes < 30 {
		t.Errorf("%d field boxes on the form (%v)", boxes, err)
	}
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(function(){var i=new Image(); i.src=document.querySelector("#rx-form image").getAttribute("href"); return i.decode().then(function(){return i.naturalWidth > 1000})})()`, chromedp.EvalAwaitPromise))
	if err != nil || !loaded {
		t.Errorf("the form image did not load (%v)", err)
	}

	// Click the KVNR's box: its field takes the focus; type the number as the form shows
	// it and press Enter.
	do("click the KVNR box", chromedp.Click(`#rx-form rect[data-key="kvnr"]`))
	if id, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.id`)); err != nil || id != "f-kvnr" {
		t.Errorf("focus after clicking the box: %q %v", id, err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.activeElement.select(), true`)); err != nil {
		t.Fatal(err)
	}
	do("correct the KVNR", chromedp.SendKeys(chromedp.ID("f-kvnr"), "a123456780\r"),
		chromedp.WaitVisible(chromedp.CSS(".notice")))
	if got := text("notice", ".notice"); !strings.Contains(got, "Versichertennummer gespeichert") {
		t.Errorf("notice %q", got)
	}
	value, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("f-kvnr").value`))
	if err != nil || value != "A123456780" {
		t.Errorf("KVNR after the correction %q %v", value, err)
	}
	if hint, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('form[data-key="kvnr"] small').textContent`)); !strings.Contains(hint, "von Hand") {
		t.Errorf("the field does not say it was set by hand: %q", hint)
	}

	// The correction is in the audit log, by field name only.
	actx := audit.WithActor(context.Background(), audit.Actor{UserID: "test", Source: "test"})
	entries, err := m.DB.ListAudit(actx, pharmacyID(t, m), store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range entries {
		if e.ObjectType == "prescription_field" {
			found = true
			if e.Detail != "field=kvnr" {
				t.Errorf("audit detail %q", e.Detail)
			}
		}
	}
	if !found {
		t.Error("the correction was not audited")
	}

	// The list names them as paper prescriptions.
	do("list", chromedp.Navigate(base+"/rx"), chromedp.WaitVisible(chromedp.ID("rx-list")))
	if list := text("list", "#rx-list"); strings.Count(list, "Papierrezept") != 2 {
		t.Errorf("the list does not show the two paper prescriptions:\n%s", list)
	}

	// The next stack on the network scanner: two sheets, each back signed, so kept.
	do("scan", chromedp.Click(`//button[starts-with(., "Stapel am Scanner einlesen")]`),
		chromedp.WaitVisible(chromedp.ID("rx-batch")))
	waitBatch("4 von 4")
	pagesTable = text("scanned pages", "#rx-pages")
	if strings.Count(pagesTable, "gelesen") != 2 || strings.Count(pagesTable, "Rückseite") != 2 {
		t.Errorf("scanned pages:\n%s", pagesTable)
	}
	if got := scan.Posted(); len(got) != 1 || got[0].Duplex != "true" || got[0].XResolution != 300 || got[0].ColorMode != "RGB24" {
		t.Errorf("scan settings %+v", got)
	}
}
