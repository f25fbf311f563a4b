package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tresen/tresen/internal/store"
)

// TestBrowserInbox is a morning at the front desk: a staff member has the inbox open
// while patients write in the website chat; each request appears without a reload, an
// emergency with its alarm; she opens one and marks it done.
func TestBrowserInbox(t *testing.T) {
	m, logins := MustRunMain(t, store.SQLite)
	staff := newBrowser(t)
	base := m.URL()
	run := func(ctx context.Context, step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			shot(t, ctx, step)
			t.Fatalf("%s: %v", step, err)
		}
	}
	eval := func(ctx context.Context, step, js string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		if err != nil {
			shot(t, ctx, step)
			t.Fatalf("%s: %v", step, err)
		}
		return s
	}

	run(staff, "login", chromedp.Navigate(base+"/login"),
		chromedp.SendKeys(chromedp.ID("username"), "praxis.team"),
		chromedp.SendKeys(chromedp.ID("password"), logins["praxis.team"]),
		chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.CSS("header .tenant")))
	run(staff, "open inbox", chromedp.Click(`//nav//a[.="Posteingang"]`), chromedp.WaitVisible(chromedp.ID("inbox-empty")),
		// The live connection is up when the page says so.
		chromedp.WaitVisible(chromedp.ID("inbox-live")))
	// A reload would forget this.
	eval(staff, "mark", `window.tresenMark = "still here"; window.tresenMark`)

	// A patient in another tab of the same browser.
	patient, cancel := chromedp.NewContext(staff)
	defer cancel()
	in := func(sel string) chromedp.JSPath { return chromedp.JSPath(widgetRoot + `.querySelector("` + sel + `")`) }
	replies := func(step string, n int) {
		t.Helper()
		if _, err := chromedp.Run(patient, chromedp.Poll[bool](widgetRoot+`.querySelectorAll("li.them").length >= `+fmt.Sprint(n))); err != nil {
			shot(t, patient, step)
			t.Fatalf("%s: waiting for reply %d: %v", step, n, err)
		}
	}
	run(patient, "website", chromedp.Navigate(base+"/demo/practice-website"), chromedp.WaitVisible(in("#consent")), chromedp.Click(in("#consent")))
	replies("greeting", 1)
	run(patient, "wish", chromedp.SendKeys(in("#input"), "Bitte rufen Sie mich zurück, hier ist Erika Mustermann, 0170 1234567\r"))
	replies("wish", 2)

	// The request is stored before the patient reads the answer; the open inbox shows it
	// within a second, without a reload.
	seen := time.Now()
	if _, err := chromedp.Run(staff, chromedp.Poll[bool](`document.querySelectorAll("#inbox-list li.request").length === 1`,
		chromedp.WithPollingTimeout(time.Second))); err != nil {
		shot(t, staff, "live")
		t.Fatalf("the request did not appear in the open inbox within a second: %v", err)
	}
	t.Logf("the request appeared in the open inbox %s after the patient's answer", time.Since(seen).Round(time.Millisecond))
	row := eval(staff, "row", `document.querySelector("#inbox-list li.request").innerText`)
	if !strings.Contains(row, "Rückruf") || !strings.Contains(row, "Erika Mustermann") || !strings.Contains(row, "Online-Rezeption") {
		t.Errorf("the new row: %q", row)
	}
	if got := eval(staff, "mark", `window.tresenMark || "reloaded"`); got != "still here" {
		t.Error("the inbox reloaded the page")
	}
	shot(t, staff, "live")

	// An emergency in a second chat: first in the list, counted as urgent, flagged.
	run(patient, "second visit", chromedp.Evaluate[chromedp.Void](`sessionStorage.clear()`), chromedp.Navigate(base+"/demo/practice-website"),
		chromedp.WaitVisible(in("#consent")), chromedp.Click(in("#consent")))
	replies("second greeting", 1)
	run(patient, "emergency", chromedp.SendKeys(in("#input"), "Mein Mann hat starke Brustschmerzen und bekommt keine Luft\r"))
	replies("emergency", 2)
	if _, err := chromedp.Run(staff, chromedp.Poll[bool](`document.querySelector("#count-urgent.alert")?.textContent === "1" && `+
		`document.querySelector("#inbox-list li.request").classList.contains("life_threatening") && `+
		`document.getElementById("inbox-list").classList.contains("flash")`, chromedp.WithPollingTimeout(5*time.Second))); err != nil {
		shot(t, staff, "urgent")
		t.Fatalf("the emergency was not flagged first: %v\n%s", err, eval(staff, "urgent", `document.getElementById("inbox-list").innerText`))
	}
	shot(t, staff, "urgent")

	// She opens the callback and marks it done; it leaves the open list.
	run(staff, "open request", chromedp.Click(`//li[contains(@class,"request")][contains(., "Rückruf")]//a`), chromedp.WaitVisible(chromedp.ID("summary")))
	if call := eval(staff, "call", `document.getElementById("call").getAttribute("href")`); call != "tel:+491701234567" {
		t.Errorf("call back link %q", call)
	}
	run(staff, "done", chromedp.Click(chromedp.ID("done")), chromedp.WaitVisible(chromedp.ID("reopen")))
	run(staff, "back", chromedp.Navigate(base+"/inbox"), chromedp.WaitVisible(chromedp.ID("inbox-list")))
	if n := eval(staff, "open list", `String(document.querySelectorAll("#inbox-list li.request").length)`); n != "1" {
		t.Errorf("%s requests open after done, want the emergency only", n)
	}
}

// TestBrowserWidgetPreview: the owner previews the practice's widget on Tresen's own page,
// under its strict CSP, where the tag stands, and it works.
func TestBrowserWidgetPreview(t *testing.T) {
	m, logins := MustRunMain(t, store.SQLite)
	ctx := newBrowser(t)
	run := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			shot(t, ctx, step)
			t.Fatalf("%s: %v", step, err)
		}
	}
	in := func(sel string) chromedp.JSPath { return chromedp.JSPath(widgetRoot + `.querySelector("` + sel + `")`) }
	run("login", chromedp.Navigate(m.URL()+"/login"),
		chromedp.SendKeys(chromedp.ID("username"), "praxis.inhaber"),
		chromedp.SendKeys(chromedp.ID("password"), logins["praxis.inhaber"]),
		chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.CSS("header .tenant")))
	run("settings", chromedp.Click(`//nav//a[.="Assistent"]`), chromedp.WaitVisible(chromedp.ID("embed-tag")))
	shot(t, ctx, "settings")
	run("preview", chromedp.Click(chromedp.ID("widget-preview")), chromedp.WaitVisible(in("#consent")), chromedp.Click(in("#consent")))
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](widgetRoot+`.querySelectorAll("li.them").length >= 1`)); err != nil {
		shot(t, ctx, "preview")
		t.Fatalf("the preview does not greet: %v", err)
	}
	shot(t, ctx, "preview")
	if parent, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("tresen-reception").parentElement.tagName`)); err != nil || parent != "MAIN" {
		t.Errorf("the widget sits in %q (%v), want where its tag is", parent, err)
	}
}
