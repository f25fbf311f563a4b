package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/tresen/tresen/internal/store"
)

// TestBrowserRezeptpruefung is a pharmacist's afternoon: log in, drop the day's E-Rezept
// files on the upload form, see which prescriptions carry a retax risk and why, and take
// the list home as CSV.
func TestBrowserRezeptpruefung(t *testing.T) {
	m, logins := MustRunMain(t, store.SQLite)
	ctx := newBrowser(t)
	base := m.URL()
	dir, err := filepath.Abs(filepath.Join(fixtures, "kbv-1.4_dav-2026-07-01"))
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, n := range []string{"PZN_Nr33_VerordnungArzt.xml", "PZN_Nr31_VerordnungArzt.xml", "PZN_Nr31_eAbgabedaten.xml", "PZN_Nr31_MedicationDispense.xml"} {
		files = append(files, filepath.Join(dir, n))
	}
	do, text := steps(t, ctx)

	do("login", chromedp.Navigate(base+"/login"),
		chromedp.SendKeys(chromedp.ID("username"), "apotheke.inhaber"),
		chromedp.SendKeys(chromedp.ID("password"), logins["apotheke.inhaber"]),
		chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.CSS("header .tenant")))
	do("open Rezeptprüfung", chromedp.Click(`//nav//a[.="Rezeptprüfung"]`), chromedp.WaitVisible(chromedp.ID("rx-files")))
	do("upload", chromedp.SetUploadFiles(chromedp.ID("rx-files"), files),
		chromedp.Click(`//button[.="Prüfen"]`),
		chromedp.WaitVisible(chromedp.CSS(".notice")))
	if got := text("notice", ".notice"); !strings.Contains(got, "2 Rezept(e) geprüft") {
		t.Fatalf("after upload: %q", got)
	}
	list := text("list", "#rx-list")
	for _, want := range []string{"160.065.873.704.859.46", "160.115.468.135.035.50", "Retaxationsrisiko", "LANR-CHECKDIGIT"} {
		if !strings.Contains(list, want) {
			t.Errorf("the list lacks %q:\n%s", want, list)
		}
	}
	if got := text("sums", "#sum-checked"); strings.TrimSpace(got) != "2" {
		t.Errorf("sum of checked prescriptions %q, want 2", got)
	}

	do("detail", chromedp.Click(`//a[.="160.065.873.704.859.46"]`), chromedp.WaitVisible(chromedp.CSS("article.finding")))
	finding := text("finding", "article.finding")
	for _, want := range []string{"Prüfziffer der Arztnummer", "LANR-CHECKDIGIT", "Bitte die Praxis um eine korrigierte Verordnung", "Grundlage:"} {
		if !strings.Contains(finding, want) {
			t.Errorf("the finding lacks %q:\n%s", want, finding)
		}
	}

	downloads := t.TempDir()
	progress := chromedp.Events(ctx, browser.DownloadProgress)
	do("export CSV", chromedp.Navigate(base+"/rx"), chromedp.WaitVisible(chromedp.ID("export-csv")),
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
				Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: downloads, EventsEnabled: ptr(true),
			})
			return err
		}),
		chromedp.Click(chromedp.ID("export-csv")))
	var guid string
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("download: %v", err)
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			guid = ev.GUID
			break
		}
	}
	csv, err := os.ReadFile(filepath.Join(downloads, guid))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Rezept-ID", "160.065.873.704.859.46", "LANR-CHECKDIGIT", "Retaxationsrisiko"} {
		if !strings.Contains(string(csv), want) {
			t.Errorf("the CSV lacks %q:\n%s", want, csv)
		}
	}
}

func ptr[T any](v T) *T { return &v }
