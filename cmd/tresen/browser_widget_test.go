package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/demo"
	"github.com/tresen/tresen/internal/dialogue"
	"github.com/tresen/tresen/internal/inbox"
	"github.com/tresen/tresen/internal/retention"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/widget"
)

// widgetRoot is the shadow root of the reception widget on the demo practice website.
const widgetRoot = `document.querySelector("tresen-reception").shadowRoot`

// TestBrowserWidget is a patient on the demo practice's website: she consents to the
// privacy notice, books an appointment with Dr. Weber in the chat by quick replies and
// sees what the practice received; then a keyboard-only visit; then a visit whose
// network drops twice, after which nothing she wrote is lost or doubled.
func TestBrowserWidget(t *testing.T) {
	m, _ := MustRunMain(t, store.SQLite)
	ctx := newBrowser(t)
	site := m.URL() + "/demo/practice-website"
	do, _ := steps(t, ctx)
	eval := func(step, js string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		if err != nil {
			shot(t, ctx, step)
			t.Fatalf("%s: %v", step, err)
		}
		return s
	}
	in := func(sel string) chromedp.JSPath { return chromedp.JSPath(widgetRoot + `.querySelector("` + sel + `")`) }
	// fresh opens the site for a new conversation: the tab keeps its conversation
	// across pages and reloads (sessionStorage) until it ends.
	fresh := func() []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{chromedp.Navigate(site), chromedp.Evaluate[chromedp.Void](`sessionStorage.clear(), undefined`),
			chromedp.Navigate(site), chromedp.WaitVisible(in("#consent"))}
	}
	choice := func(label string) chromedp.JSPath {
		return chromedp.JSPath(`[...` + widgetRoot + `.querySelectorAll("#choices button")].find(b => b.textContent === ` + jsString(label) + `)`)
	}
	// replies waits until the practice has written n messages and returns the last.
	replies := func(step string, n int) string {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](widgetRoot+`.querySelectorAll("li.them").length >= `+fmt.Sprint(n))); err != nil {
			shot(t, ctx, step)
			t.Fatalf("%s: waiting for reply %d: %v\n%s", step, n, err, eval(step, widgetRoot+`.querySelector("#chat").innerText`))
		}
		return eval(step, `[...`+widgetRoot+`.querySelectorAll("li.them .msg")].at(-1).textContent`)
	}
	say := func(step, text string, n int) string {
		t.Helper()
		do(step, chromedp.SendKeys(in("#input"), text+"\r"))
		return replies(step, n)
	}
	p, err := m.DB.FindTenantByCode(context.Background(), demo.PracticeTenant.Kind, demo.PracticeTenant.Code)
	if err != nil {
		t.Fatal(err)
	}
	// conversations counts the demo practice's stored conversations.
	conversations := func() int {
		t.Helper()
		kind := retention.Transcript
		recs, err := m.DB.ListRecords(context.Background(), p.ID, store.RecordFilter{Kind: &kind})
		if err != nil {
			t.Fatal(err)
		}
		return len(recs)
	}
	consent := func(step string) {
		t.Helper()
		do(step, fresh()...)
		notice := eval(step, widgetRoot+`.querySelector("#notice").textContent`)
		if !strings.Contains(notice, "Hausarztpraxis Dr. Erika Schneider") {
			t.Errorf("privacy notice: %q", notice)
		}
		before := conversations()
		do(step, chromedp.Click(in("#consent")))
		replies(step, 1)
		if n := conversations(); n != before+1 {
			t.Errorf("%s: %d conversations stored at consent, want one", step, n-before)
		}
	}

	// The browser's language decides: English for "en…", German otherwise.
	do("english", chromedp.Navigate(site), chromedp.WaitVisible(in("#consent")))
	if strings.HasPrefix(eval("language", `navigator.language`), "en") {
		if got := eval("english", widgetRoot+`.querySelector("#consent").textContent`); got != "Consent and start the chat" {
			t.Errorf("consent button in English: %q", got)
		}
	}
	ua := eval("user agent", `navigator.userAgent`)
	do("german", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: ua, AcceptLanguage: "de-DE"})
		return err
	}))

	// Book by quick replies.
	consent("consent")
	if got := eval("german", widgetRoot+`.querySelector("h2").textContent`); got != "Online-Rezeption – Hausarztpraxis Dr. Erika Schneider" {
		t.Errorf("heading %q", got)
	}
	shot(t, ctx, "greeting")
	if got := say("wish", "Ich möchte einen Termin bei Dr. Weber", 2); !strings.Contains(got, "Namen") {
		t.Fatalf("after the wish: %q", got)
	}
	say("name", "Erika Mustermann, 12.03.1984", 3)
	do("insurance", chromedp.Click(choice("Gesetzlich")))
	replies("insurance", 4)
	say("reason", "Kontrolle Blutdruck", 5)
	do("when", chromedp.Click(choice("Nächstmöglich")))
	if got := replies("when", 6); !strings.Contains(got, "Stimmt das?") {
		t.Fatalf("read back: %q", got)
	}
	do("confirm", chromedp.Click(choice("Ja")))
	if got := replies("confirm", 7); !strings.Contains(got, "Welcher Termin passt Ihnen?") {
		t.Fatalf("offer: %q", got)
	}
	shot(t, ctx, "offer")
	slot := eval("slot", widgetRoot+`.querySelector("#choices button").textContent`)
	do("slot", chromedp.Click(in("#choices button")))
	if got := replies("slot", 8); !strings.Contains(got, "Ihr Termin ist eingetragen: "+slot) {
		t.Fatalf("booking: %q", got)
	}
	do("end", chromedp.Click(in("#end")), chromedp.WaitVisible(in("#summary")))
	summary := eval("summary", widgetRoot+`.querySelector("#summary").textContent`)
	if !strings.Contains(summary, "Termin gebucht") || !strings.Contains(summary, "Dr. Weber") || !strings.Contains(summary, "Erika Mustermann") {
		t.Errorf("summary: %q", summary)
	}
	shot(t, ctx, "summary")

	// Keyboard only: Tab to the consent button, Enter; the focus moves to the input.
	do("keyboard: open", fresh()...)
	before := conversations()
	for i := 0; eval("keyboard: focus", `(`+widgetRoot+`.activeElement || {}).id || ""`) != "consent"; i++ {
		if i == 10 {
			t.Fatal("keyboard: ten Tabs did not reach the consent button")
		}
		do("keyboard: tab", chromedp.KeyEvent("\t"))
	}
	do("keyboard: consent", chromedp.KeyEvent("\r"))
	replies("keyboard: greeting", 1)
	if n := conversations(); n != before+1 {
		t.Errorf("keyboard: %d conversations stored at consent, want one", n-before)
	}
	if id := eval("keyboard: focus input", `(`+widgetRoot+`.activeElement || {}).id || ""`); id != "input" {
		t.Fatalf("after consent the focus is on %q, want the input", id)
	}
	do("keyboard: type", chromedp.KeyEvent("<b>Wann haben Sie geöffnet?</b>"), chromedp.KeyEvent("\r"))
	replies("keyboard: reply", 2)
	mine := eval("keyboard: own message", widgetRoot+`.querySelector("li.me .msg").textContent`)
	if mine != "<b>Wann haben Sie geöffnet?</b>" {
		t.Errorf("own message shown as %q", mine)
	}
	if b := eval("keyboard: no markup", `String(`+widgetRoot+`.querySelectorAll("#log b").length)`); b != "0" {
		t.Errorf("HTML in a message was rendered: %s <b> elements", b)
	}
	shot(t, ctx, "keyboard")

	// The network drops before a message is sent, and again right after one is sent
	// (before its ack): both arrive once.
	consent("cut: consent")
	say("cut: first", "Ich brauche ein Folgerezept für Ramipril 5 mg", 2)
	eval("cut: drop", `document.querySelector("tresen-reception").testDrop(), ""`)
	say("cut: while offline", "Anna Müller, geboren am 12.03.1984", 3)
	eval("cut: send and drop", `(() => { const w = document.querySelector("tresen-reception"), r = w.shadowRoot;
		r.querySelector("#input").value = "AOK"; r.querySelector("#send").click(); w.testDrop(); return ""; })()`)
	replies("cut: after reconnect", 4)
	shot(t, ctx, "reconnected")
	sent := []string{"Ich brauche ein Folgerezept für Ramipril 5 mg", "Anna Müller, geboren am 12.03.1984", "AOK"}
	var shown []string
	if err := json.Unmarshal([]byte(eval("cut: shown", `JSON.stringify([...`+widgetRoot+`.querySelectorAll("li.me .msg")].map(e => e.textContent))`)), &shown); err != nil {
		t.Fatal(err)
	}
	if strings.Join(shown, "|") != strings.Join(sent, "|") {
		t.Errorf("the chat shows %q, want %q", shown, sent)
	}
	if n := eval("cut: replies", `String(`+widgetRoot+`.querySelectorAll("li.them").length)`); n != "4" {
		t.Errorf("%s replies shown, want 4 (greeting and one per message)", n)
	}
	conv := eval("cut: conversation", `document.querySelector("tresen-reception").conv`)
	rec, err := m.DB.FindRecordByID(context.Background(), p.ID, conv)
	if err != nil {
		t.Fatal(err)
	}
	var saved struct {
		Conversation dialogue.Conversation `json:"conversation"`
	}
	if err := json.Unmarshal(rec.Data, &saved); err != nil {
		t.Fatal(err)
	}
	var stored []string
	for _, tu := range saved.Conversation.Turns {
		if tu.Who == dialogue.Patient {
			stored = append(stored, tu.Text)
		}
	}
	if strings.Join(stored, "|") != strings.Join(sent, "|") {
		t.Errorf("the transcript holds %q, want %q", stored, sent)
	}

	// The team replies from the inbox while the chat is open: the reply appears at once,
	// marked as the team's, as text.
	team := &inbox.Service{Store: m.DB, Now: m.DB.Now, Events: m.Events}
	actx := audit.WithActor(context.Background(), audit.Actor{UserID: "test", Source: "test"})
	items, _, err := team.List(actx, p.ID, inbox.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var item *inbox.Item
	for i := range items {
		if items[i].Conversation() == conv {
			item = &items[i]
		}
	}
	if item == nil {
		t.Fatal("the chat's request is not in the inbox")
	}
	staffText := "Ihr Rezept liegt ab morgen 10 Uhr bereit. <i>Gute Besserung!</i>"
	if _, err := team.Apply(actx, p.ID, item.RecordID, inbox.Change{Action: inbox.Reply, UserID: "team", Text: staffText}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](widgetRoot+`.querySelectorAll("li.staff").length === 1`)); err != nil {
		shot(t, ctx, "staff")
		t.Fatalf("the team's reply did not appear: %v", err)
	}
	if got := eval("staff", widgetRoot+`.querySelector("li.staff").textContent`); got != "Praxisteam:"+staffText {
		t.Errorf("the team's reply is shown as %q", got)
	}
	if n := eval("staff: markup", `String(`+widgetRoot+`.querySelectorAll("#log i").length)`); n != "0" {
		t.Errorf("HTML in the team's reply was rendered: %s <i> elements", n)
	}
	shot(t, ctx, "staff")

	// A reload carries the conversation on: no consent again, the chat so far once, and
	// she writes on.
	chatLog := func(step string) []string {
		t.Helper()
		var out []string
		js := `JSON.stringify([...` + widgetRoot + `.querySelectorAll("#log li")].map(li => li.className + ": " + li.querySelector(".msg").textContent))`
		if err := json.Unmarshal([]byte(eval(step, js)), &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	before = len(chatLog("reload: before"))
	convs := conversations()
	do("reload", chromedp.Reload(), chromedp.WaitReady(chromedp.CSS("tresen-reception")))
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](widgetRoot+`.querySelectorAll("#log li").length >= `+fmt.Sprint(before))); err != nil {
		shot(t, ctx, "reload")
		t.Fatalf("after the reload the chat shows no history: %v", err)
	}
	afterReload := chatLog("reload: history")
	if len(afterReload) != before || afterReload[len(afterReload)-1] != "staff: "+staffText {
		t.Errorf("after the reload the chat shows %q", afterReload)
	}
	if v := eval("reload: consent", `String(`+widgetRoot+`.querySelector("#consent").checkVisibility())`); v != "false" {
		t.Error("after the reload the widget asks for consent again")
	}
	say("reload: write on", "Ich hole es ab.", 5)
	shot(t, ctx, "reloaded")
	final := chatLog("reload: after")
	if len(final) != before+2 || strings.Join(final[:before], "|") != strings.Join(afterReload, "|") {
		t.Errorf("after writing on the chat shows %q", final)
	}
	own := 0
	for _, l := range final {
		if strings.HasPrefix(l, "me: ") {
			own++
		}
	}
	if own != 4 || conversations() != convs {
		t.Errorf("%d own messages shown (want 4), %d conversations stored (want %d)", own, conversations(), convs)
	}

	// A conversation that cannot be carried on (here: a wrong token) is forgotten, and
	// the widget asks for consent again.
	eval("refused", `sessionStorage.setItem("tresen-reception:`+p.ID+`", JSON.stringify({conv: `+jsString(conv)+`, token: "wrong"})), ""`)
	do("refused", chromedp.Reload(), chromedp.WaitVisible(in("#consent")))
	if got := eval("refused", `sessionStorage.getItem("tresen-reception:`+p.ID+`") === null ? "" : "kept"`); got != "" {
		t.Error("a refused conversation stays in the session storage")
	}

	// The practice's colour: a light one gets black text, and the demo practice keeps the
	// link to its placeholder privacy policy.
	if err := m.DB.SetSetting(actx, p.ID, store.SettingWidget, widget.Settings{Color: "#ffd700"}); err != nil {
		t.Fatal(err)
	}
	do("colour", fresh()...)
	if got := eval("colour", `(() => { const s = getComputedStyle(`+widgetRoot+`.querySelector("h2")); return s.backgroundColor + " " + s.color; })()`); got != "rgb(255, 215, 0) rgb(0, 0, 0)" {
		t.Errorf("heading in the practice's colour: %q", got)
	}
	if got := eval("privacy", widgetRoot+`.querySelector("#privacy").href`); got != m.URL()+"/demo/datenschutz" {
		t.Errorf("privacy link %q", got)
	}
	shot(t, ctx, "colour")

	// On a phone the widget takes the full width.
	do("phone", append([]chromedp.Action[chromedp.Void]{chromedp.EmulateViewport(375, 740)}, fresh()...)...)
	if w := eval("phone", `String(Math.round(`+widgetRoot+`.querySelector(".box").getBoundingClientRect().width))`); w != eval("phone", `String(document.querySelector("tresen-reception").getBoundingClientRect().width|0)`) {
		t.Errorf("on a phone the widget is %s px wide, narrower than its place", w)
	}
	shot(t, ctx, "phone")
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
