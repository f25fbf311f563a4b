package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/demo"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/widget"
)

// TestBrowserWidgetOrigin: a website the practice has not allowed embeds its widget; the
// widget refuses and says why; once the practice allows the website, it works there.
func TestBrowserWidgetOrigin(t *testing.T) {
	m, _ := MustRunMain(t, store.SQLite)
	ctx := newBrowser(t)
	p, err := m.DB.FindTenantByCode(context.Background(), demo.PracticeTenant.Kind, demo.PracticeTenant.Code)
	if err != nil {
		t.Fatal(err)
	}
	// Another website: another origin (another port).
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!DOCTYPE html><html lang="de"><head><title>Fremde Website</title></head><body><h1>Praxis am Deich</h1>`+
			`<script src="%s/widget.js" data-practice="%s" defer></script></body></html>`, m.URL(), p.ID)
	}))
	defer site.Close()
	alert := chromedp.JSPath(widgetRoot + `.querySelector("[role=alert]")`)
	if err := chromedp.Do(ctx, chromedp.Navigate(site.URL), chromedp.WaitVisible(alert)); err != nil {
		shot(t, ctx, "refused")
		t.Fatalf("no refusal: %v", err)
	}
	shot(t, ctx, "refused")
	msg, err := chromedp.Run(ctx, chromedp.Evaluate[string](widgetRoot+`.querySelector("[role=alert]").textContent`))
	if err != nil || !strings.Contains(msg, "darf die Online-Rezeption der Praxis nicht einbinden") {
		t.Errorf("refusal %q, %v", msg, err)
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](widgetRoot+`.querySelectorAll("#consent").length`)); err != nil || n != 0 {
		t.Errorf("a refused widget offers consent (%d, %v)", n, err)
	}

	ctxA := audit.WithActor(context.Background(), audit.Actor{UserID: "test", Source: "test"})
	if err := m.DB.SetSetting(ctxA, p.ID, store.SettingWidget, widget.Settings{AllowedOrigins: []string{site.URL}}); err != nil {
		t.Fatal(err)
	}
	consent := chromedp.JSPath(widgetRoot + `.querySelector("#consent")`)
	if err := chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(consent), chromedp.Click(consent)); err != nil {
		shot(t, ctx, "allowed")
		t.Fatalf("the allowed website: %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](widgetRoot+`.querySelectorAll("li.them").length >= 1`)); err != nil {
		shot(t, ctx, "allowed")
		t.Fatalf("no greeting on the allowed website: %v", err)
	}
}
