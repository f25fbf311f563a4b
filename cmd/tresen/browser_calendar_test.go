package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tresen/tresen/internal/berlin"
	"github.com/tresen/tresen/internal/holiday"
	"github.com/tresen/tresen/internal/store"
)

// TestBrowserCalendar is a call at the front desk of the demo practice: Erika Mustermann
// wants an appointment with Dr. Weber; the team books it, moves it an hour later when she
// calls back, and cancels it when she calls a third time.
func TestBrowserCalendar(t *testing.T) {
	m, logins := MustRunMain(t, store.SQLite)
	ctx := newBrowser(t)
	base := m.URL()
	do, text := steps(t, ctx)

	// A Tuesday a week or more ahead that is no public holiday in Bremen: the demo
	// practice's hours are 08:00-12:00 and 15:00-18:00 then, and nothing is booked yet.
	hb, _ := holiday.For("HB")
	now := time.Now().In(berlin.Location)
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, berlin.Location).AddDate(0, 0, 7)
	for day.Weekday() != time.Tuesday || hb.Is(day) {
		day = day.AddDate(0, 0, 1)
	}
	iso, short := day.Format(time.DateOnly), "Di. "+day.Format("02.01.2006")
	months := []string{"", "Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"}
	heading := fmt.Sprintf("Dienstag, %d. %s %d", day.Day(), months[day.Month()], day.Year())
	weber := chromedp.CSS(`section.calcol[aria-label="Dr. Weber"]`)
	erika := `//section[@aria-label="Dr. Weber"]//li[contains(@class, "appt")][contains(., "Erika Mustermann")]`

	do("login", chromedp.Navigate(base+"/login"),
		chromedp.SendKeys(chromedp.ID("username"), "praxis.inhaber"),
		chromedp.SendKeys(chromedp.ID("password"), logins["praxis.inhaber"]),
		chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.CSS("header .tenant")))
	do("open Kalender", chromedp.Click(`//nav//a[.="Kalender"]`), chromedp.WaitVisible(chromedp.ID("cal-day")))
	if got := text("today", "#cal-heading"); !strings.Contains(got, fmt.Sprint(now.Year())) {
		t.Errorf("the calendar opens on %q, want today", got)
	}
	do("go to the day", chromedp.SetValue(chromedp.ID("cal-day"), iso),
		chromedp.Click(`//button[.="Anzeigen"]`),
		chromedp.WaitVisible(`//h2[@id="cal-heading"][.="`+heading+`"]`))
	if got := text("free hours", weber); !strings.Contains(got, "08:00–09:00 frei (Akutsprechstunde)") || !strings.Contains(got, "09:00–12:00 frei") {
		t.Errorf("Dr. Weber's empty day:\n%s", got)
	}

	do("book", chromedp.SetValue(chromedp.ID("book-type"), "sprechstunde"),
		chromedp.SetValue(chromedp.ID("book-doctor"), "weber"),
		chromedp.SetValue(chromedp.ID("book-time"), "10:00"),
		chromedp.SendKeys(chromedp.ID("book-name"), "Erika Mustermann"),
		chromedp.SetValue(chromedp.ID("book-birth"), "1964-08-12"),
		chromedp.SendKeys(chromedp.ID("book-note"), "Kontrolle Blutdruck"),
		chromedp.Click(`//button[.="Termin eintragen"]`),
		chromedp.WaitVisible(`//p[@class="notice"][contains(., "eingetragen")]`))
	if got := text("booked", ".notice"); got != "Der Termin für Erika Mustermann am "+short+", 10:00 Uhr ist eingetragen." {
		t.Errorf("after booking: %q", got)
	}
	col := text("day with the appointment", weber)
	for _, want := range []string{"09:00–10:00 frei", "10:00–10:15 Erika Mustermann geb. 12.08.1964", "Sprechstunde · gebucht · Praxisteam", "Kontrolle Blutdruck", "10:15–12:00 frei"} {
		if !strings.Contains(col, want) {
			t.Errorf("Dr. Weber's day lacks %q:\n%s", want, col)
		}
	}

	do("move", chromedp.Click(erika+`//summary[.="Verschieben"]`),
		chromedp.WaitVisible(erika+`//input[@name="time"]`),
		chromedp.SetValue(erika+`//input[@name="time"]`, "11:00"),
		chromedp.Click(erika+`//button[.="Verschieben"]`),
		chromedp.WaitVisible(`//p[@class="notice"][contains(., "verschoben")]`))
	if got := text("moved", ".notice"); got != "Der Termin von Erika Mustermann ist verschoben auf "+short+", 11:00 Uhr." {
		t.Errorf("after moving: %q", got)
	}
	col = text("day with the moved appointment", weber)
	if !strings.Contains(col, "11:00–11:15 Erika Mustermann") || !strings.Contains(col, "09:00–11:00 frei") || strings.Contains(col, "10:00–10:15 Erika") {
		t.Errorf("Dr. Weber's day after the move:\n%s", col)
	}

	do("cancel", chromedp.Click(erika+`//button[.="Absagen"]`),
		chromedp.WaitVisible(`//p[@class="notice"][contains(., "abgesagt")]`))
	if got := text("cancelled", ".notice"); got != "Der Termin von Erika Mustermann am "+short+", 11:00 Uhr ist abgesagt." {
		t.Errorf("after cancelling: %q", got)
	}
	col = text("day with the cancelled appointment", weber)
	if !strings.Contains(col, "11:00–11:15 Erika Mustermann") || !strings.Contains(col, "Sprechstunde · abgesagt · Praxisteam") || !strings.Contains(col, "09:00–12:00 frei") {
		t.Errorf("Dr. Weber's day after cancelling:\n%s", col)
	}
	if n, err := chromedp.Run(ctx, chromedp.Nodes(erika+`//button[.="Absagen"]`, chromedp.AtLeast(0))); err != nil || len(n) != 0 {
		t.Errorf("a cancelled appointment still offers to cancel (%d buttons, %v)", len(n), err)
	}
	shot(t, ctx, "calendar")
}
