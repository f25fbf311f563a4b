package widget_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/tresen/tresen/internal/appointment"
	"github.com/tresen/tresen/internal/assistant"
	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/berlin"
	"github.com/tresen/tresen/internal/demo"
	"github.com/tresen/tresen/internal/dialogue"
	"github.com/tresen/tresen/internal/events"
	"github.com/tresen/tresen/internal/inbox"
	"github.com/tresen/tresen/internal/notify"
	"github.com/tresen/tresen/internal/notify/notifytest"
	"github.com/tresen/tresen/internal/retention"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
	"github.com/tresen/tresen/internal/tenant"
	"github.com/tresen/tresen/internal/widget"
)

var ctx = audit.WithActor(context.Background(), audit.Actor{UserID: "test", Source: "test"})

const site = "https://www.praxis-schneider.example"

type fixture struct {
	db       *store.DB
	practice tenant.Tenant
	bus      *events.Memory
	handler  *widget.Handler
	srv      *httptest.Server
}

func setup(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	p, err := db.CreateTenant(ctx, tenant.Tenant{Kind: tenant.Practice, Code: "039999999", Name: "Hausarztpraxis Dr. Test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SetSetting(ctx, p.ID, store.SettingWidget, widget.Settings{AllowedOrigins: []string{site}}); err != nil {
		t.Fatal(err)
	}
	bus := &events.Memory{}
	rec := assistant.Reception(db)
	rec.Events = bus
	h, err := widget.New(db, rec, widget.Options{Events: bus})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { h.Close() }) // chats end before the store closes
	return &fixture{db: db, practice: p, bus: bus, handler: h, srv: srv}
}

// dial opens the widget's socket as a browser on origin would.
func (f *fixture) dial(t *testing.T, origin string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	u := "ws" + strings.TrimPrefix(f.srv.URL, "http") + "/widget/ws?practice=" + f.practice.ID
	c, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {origin}}})
	if err == nil {
		t.Cleanup(func() { c.CloseNow() })
	}
	return c, resp, err
}

func mustDial(t *testing.T, f *fixture) *websocket.Conn {
	t.Helper()
	c, _, err := f.dial(t, site)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func send(t *testing.T, c *websocket.Conn, in widget.In) {
	t.Helper()
	if err := wsjson.Write(ctx, c, in); err != nil {
		t.Fatal(err)
	}
}

func recv(t *testing.T, c *websocket.Conn) widget.Out {
	t.Helper()
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var out widget.Out
	if err := wsjson.Read(rctx, c, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// expect reads the next message and checks its type.
func expect(t *testing.T, c *websocket.Conn, typ string) widget.Out {
	t.Helper()
	out := recv(t, c)
	if out.Type != typ {
		t.Fatalf("got %+v, want a %s", out, typ)
	}
	return out
}

// consent starts a conversation and returns the started message.
func consent(t *testing.T, c *websocket.Conn) widget.Out {
	t.Helper()
	send(t, c, widget.In{Type: "consent"})
	started := expect(t, c, "started")
	if started.Conversation == "" || len(started.Token) < 40 {
		t.Fatalf("started: %+v", started)
	}
	if g := expect(t, c, "reply"); !strings.Contains(g.Text, "Hausarztpraxis Dr. Test") {
		t.Fatalf("greeting %q", g.Text)
	}
	return started
}

func (f *fixture) transcripts(t *testing.T) []dialogue.Conversation {
	t.Helper()
	kind := retention.Transcript
	recs, err := f.db.ListRecords(ctx, f.practice.ID, store.RecordFilter{Kind: &kind})
	if err != nil {
		t.Fatal(err)
	}
	var out []dialogue.Conversation
	for _, r := range recs {
		var sv struct {
			Conversation dialogue.Conversation `json:"conversation"`
		}
		if err := json.Unmarshal(r.Data, &sv); err != nil {
			t.Fatal(err)
		}
		out = append(out, sv.Conversation)
	}
	return out
}

func patientTurns(c dialogue.Conversation) []string {
	var out []string
	for _, tu := range c.Turns {
		if tu.Who == dialogue.Patient {
			out = append(out, tu.Text)
		}
	}
	return out
}

// TestWidgetChat: nothing is stored before consent; after it, each message is acked once
// stored, then answered; a message resent under its id (after a lost connection) gets
// the same answer on a new connection and is not taken twice; the end lists what the
// practice received.
func TestWidgetChat(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		c := mustDial(t, f)
		send(t, c, widget.In{Type: "say", ID: "m0", Text: "Hallo"})
		if e := expect(t, c, "error"); !strings.Contains(e.Message, "Datenschutzhinweis") {
			t.Errorf("say before consent: %q", e.Message)
		}
		if n := len(f.transcripts(t)); n != 0 {
			t.Fatalf("%d conversations stored before consent", n)
		}

		started := consent(t, c)
		send(t, c, widget.In{Type: "say", ID: "m1", Text: "Ich brauche ein Folgerezept für Ramipril 5 mg"})
		if a := expect(t, c, "ack"); a.ID != "m1" {
			t.Fatalf("ack %+v", a)
		}
		first := expect(t, c, "reply")
		if first.ID != "m1" || first.Text == "" {
			t.Fatalf("reply %+v", first)
		}
		if got := patientTurns(f.transcripts(t)[0]); len(got) != 1 {
			t.Fatalf("after one message the transcript has %q", got)
		}

		// The connection breaks; the browser resumes and resends m1, which it saw no
		// reply to, then writes on.
		c.CloseNow()
		c = mustDial(t, f)
		send(t, c, widget.In{Type: "resume", Conversation: started.Conversation, Token: "wrong"})
		if e := expect(t, c, "error"); e.Code != "resume" {
			t.Errorf("wrong token: %+v", e)
		}
		send(t, c, widget.In{Type: "resume", Conversation: started.Conversation, Token: started.Token})
		expect(t, c, "resumed")
		if h := expect(t, c, "history"); len(h.History) != 3 || h.History[1].Text != "Ich brauche ein Folgerezept für Ramipril 5 mg" {
			t.Errorf("history %+v", h.History)
		}
		send(t, c, widget.In{Type: "say", ID: "m1", Text: "Ich brauche ein Folgerezept für Ramipril 5 mg"})
		expect(t, c, "ack")
		if again := expect(t, c, "reply"); again.Text != first.Text {
			t.Errorf("resent message answered %q, first %q", again.Text, first.Text)
		}
		send(t, c, widget.In{Type: "say", ID: "m2", Text: "Anna Müller, geboren am 12.3.1984"})
		expect(t, c, "ack")
		expect(t, c, "reply")
		convs := f.transcripts(t)
		if len(convs) != 1 {
			t.Fatalf("%d conversations, want 1", len(convs))
		}
		if got := patientTurns(convs[0]); len(got) != 2 {
			t.Fatalf("transcript after a resend: %q, want two turns", got)
		}

		send(t, c, widget.In{Type: "end"})
		sum := expect(t, c, "summary")
		if len(sum.Items) != 1 || !strings.Contains(sum.Items[0], "Ramipril 5 mg") || !strings.Contains(sum.Items[0], "Anna Müller") {
			t.Errorf("summary %q", sum.Items)
		}
	})
}

// TestWidgetOrigins: only the origins the practice allows may open the widget.
func TestWidgetOrigins(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		for _, origin := range []string{"https://evil.example", ""} {
			_, resp, err := f.dial(t, origin)
			if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
				t.Fatalf("origin %q: %v, %+v", origin, err, resp)
			}
			body, _ := io.ReadAll(resp.Body)
			if !strings.Contains(string(body), "darf die Online-Rezeption der Praxis nicht einbinden") {
				t.Errorf("origin %q: %q", origin, body)
			}
			status, pbody := f.post(t, origin, "consent", map[string]string{"practice": f.practice.ID})
			if status != http.StatusForbidden || !strings.Contains(pbody, "nicht einbinden") {
				t.Errorf("POST from %q: %d %q", origin, status, pbody)
			}
		}
		if n := len(f.transcripts(t)); n != 0 {
			t.Fatalf("%d conversations stored from a foreign origin", n)
		}
		req, _ := http.NewRequest("GET", f.srv.URL+"/widget/config?practice="+f.practice.ID, nil)
		req.Header.Set("Origin", site)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != site {
			t.Errorf("config for an allowed origin: %d, ACAO %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
		}
	})
}

func (f *fixture) post(t *testing.T, origin, op string, body any) (int, string) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", f.srv.URL+"/widget/"+op, bytes.NewReader(b))
	req.Header.Set("Content-Type", "text/plain")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

// TestWidgetLimits: overlong messages and floods are refused with a message, and
// neither reaches the transcript.
func TestWidgetLimits(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		c := mustDial(t, f)
		consent(t, c)
		send(t, c, widget.In{Type: "say", ID: "long", Text: strings.Repeat("ä", widget.MaxText+1)})
		if e := expect(t, c, "error"); e.ID != "long" || !strings.Contains(e.Message, "zu lang") {
			t.Errorf("overlong message: %+v", e)
		}
		throttled := false
		for i := range 15 {
			id := string(rune('a' + i))
			send(t, c, widget.In{Type: "say", ID: id, Text: "Wann haben Sie geöffnet?"})
			out := recv(t, c)
			if out.Type == "error" {
				if out.ID != id || !strings.Contains(out.Message, "nicht so schnell") {
					t.Fatalf("flood: %+v", out)
				}
				throttled = true
				break
			}
			expect(t, c, "reply")
		}
		if !throttled {
			t.Fatal("15 messages at once were all taken")
		}
		for _, turn := range patientTurns(f.transcripts(t)[0]) {
			if len(turn) > widget.MaxText {
				t.Error("the overlong message was stored")
			}
		}
	})
}

// TestWidgetLongPoll: the fallback for networks without WebSockets carries the same
// conversation, and a resent message is taken once there too.
func TestWidgetLongPoll(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		type msgs struct {
			Messages []widget.Out `json:"messages"`
		}
		call := func(op string, body map[string]string) []widget.Out {
			t.Helper()
			body["practice"] = f.practice.ID
			status, out := f.post(t, site, op, body)
			if status != http.StatusOK {
				t.Fatalf("%s: %d %s", op, status, out)
			}
			var m msgs
			if err := json.Unmarshal([]byte(out), &m); err != nil {
				t.Fatal(err)
			}
			return m.Messages
		}
		started := call("consent", map[string]string{})
		if len(started) != 2 || started[0].Type != "started" || started[1].Type != "reply" {
			t.Fatalf("consent: %+v", started)
		}
		sess := func(m map[string]string) map[string]string {
			m["conversation"], m["token"] = started[0].Conversation, started[0].Token
			return m
		}
		for range 2 {
			got := call("say", sess(map[string]string{"id": "p1", "text": "Ich möchte einen Rückruf"}))
			if len(got) != 2 || got[0].Type != "ack" || got[1].Type != "reply" {
				t.Fatalf("say: %+v", got)
			}
		}
		if got := patientTurns(f.transcripts(t)[0]); len(got) != 1 {
			t.Fatalf("transcript %q, want one turn", got)
		}
		if got := call("say", map[string]string{"conversation": started[0].Conversation, "token": "wrong", "id": "p2", "text": "x"}); len(got) != 1 || got[0].Type != "error" {
			t.Fatalf("wrong token: %+v", got)
		}
		if got := call("end", sess(map[string]string{})); len(got) != 1 || got[0].Type != "summary" {
			t.Fatalf("end: %+v", got)
		}
	})
}

// TestWidgetPages: the script and the demo pages carry a strict CSP; the demo pages
// exist only in demo mode.
func TestWidgetPages(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		resp, err := http.Get(f.srv.URL + "/widget.js")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if csp := resp.Header.Get("Content-Security-Policy"); resp.StatusCode != http.StatusOK || !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("widget.js: %d, CSP %q", resp.StatusCode, csp)
		}
		if resp, err = http.Get(f.srv.URL + "/demo/practice-website"); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("demo website without --demo: %d", resp.StatusCode)
		}
	})
}

// TestWidgetServerTimeouts: the http.Server's read and write timeouts, meant for pages,
// do not cut an open chat.
func TestWidgetServerTimeouts(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		f.srv.Close()
		h, err := widget.New(db, assistant.Reception(db), widget.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		f.srv = httptest.NewUnstartedServer(h)
		f.srv.Config.ReadTimeout, f.srv.Config.WriteTimeout = time.Second, time.Second
		f.srv.Start()
		t.Cleanup(f.srv.Close)
		c := mustDial(t, f)
		consent(t, c)
		time.Sleep(2 * time.Second)
		send(t, c, widget.In{Type: "say", ID: "t1", Text: "Wann haben Sie geöffnet?"})
		expect(t, c, "ack")
		expect(t, c, "reply")
	})
}

// TestWidgetClose: closing the handler ends open chats (the server goes away) and
// refuses new ones, without waiting for the browsers.
func TestWidgetClose(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		c := mustDial(t, f)
		consent(t, c)
		start := time.Now()
		err := f.handler.Close()
		if d := time.Since(start); d > 6*time.Second {
			t.Errorf("Close took %v", d)
		} else if err != nil {
			// Close gives up after 5 s; the socket needs about 1 s, more only on a
			// machine under heavy load (once seen with -race).
			t.Logf("Close: %v after %v", err, d)
		}
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_, _, err = c.Read(rctx)
		if s := websocket.CloseStatus(err); s != websocket.StatusGoingAway {
			t.Errorf("after Close the socket read %v (status %v), want going away", err, s)
		}
		if _, resp, err := f.dial(t, site); err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("dial after Close: %v, %+v", err, resp)
		}
	})
}

// config fetches the practice's widget config as a browser on origin would (origin empty:
// a same-origin request, which carries no Origin header).
func (f *fixture) config(t *testing.T, origin string) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("GET", f.srv.URL+"/widget/config?practice="+f.practice.ID, nil)
	if origin != "" {
		req.Header.Set("Origin", origin)
	} else {
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var cfg map[string]any
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&cfg); err != nil {
			t.Fatal(err)
		}
	}
	return resp, cfg
}

// TestWidgetConfig: the practice's notice replaces the German one, its privacy policy is
// linked (none without one), and its colour is passed on only as #rrggbb.
func TestWidgetConfig(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		text := func(cfg map[string]any, lang, key string) string {
			s, _ := cfg["texts"].(map[string]any)[lang].(map[string]any)[key].(string)
			return s
		}
		_, cfg := f.config(t, site)
		if got := text(cfg, "de", "privacy_url") + text(cfg, "en", "privacy_url"); got != "" {
			t.Errorf("a practice without a privacy policy links %q", got)
		}
		if cfg["color"] != "" || !strings.Contains(text(cfg, "de", "notice"), "Hausarztpraxis Dr. Test") {
			t.Errorf("defaults: %v", cfg)
		}
		set := widget.Settings{AllowedOrigins: []string{site}, PrivacyURL: "https://www.praxis-schneider.example/datenschutz",
			Notice: "Hinweis der Praxis: Ihre Angaben liest nur das Praxisteam.", Color: "#FFD700"}
		if err := db.SetSetting(ctx, f.practice.ID, store.SettingWidget, set); err != nil {
			t.Fatal(err)
		}
		_, cfg = f.config(t, site)
		if got := text(cfg, "de", "notice"); got != set.Notice {
			t.Errorf("German notice %q", got)
		}
		if got := text(cfg, "en", "notice"); !strings.HasPrefix(got, "This chat is the online reception") {
			t.Errorf("English notice %q", got)
		}
		if text(cfg, "de", "privacy_url") != set.PrivacyURL || text(cfg, "en", "privacy_url") != set.PrivacyURL {
			t.Errorf("privacy links %q, %q", text(cfg, "de", "privacy_url"), text(cfg, "en", "privacy_url"))
		}
		if cfg["color"] != "#FFD700" {
			t.Errorf("colour %v", cfg["color"])
		}
		set.Color = "red;background:url(https://evil.example)"
		set.PrivacyURL = "javascript:alert(1)"
		if err := db.SetSetting(ctx, f.practice.ID, store.SettingWidget, set); err != nil {
			t.Fatal(err)
		}
		if _, cfg = f.config(t, site); cfg["color"] != "" || text(cfg, "de", "privacy_url") != "" {
			t.Errorf("invalid settings passed on: %v", cfg)
		}
	})
}

// TestWidgetOwnOrigin: Tresen's own pages may show every practice's widget (the team's
// preview), over http or https (behind a proxy); a same-origin request without an Origin
// header gets no CORS header.
func TestWidgetOwnOrigin(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		host := strings.TrimPrefix(f.srv.URL, "http://")
		for _, origin := range []string{"http://" + host, "https://" + host} {
			c, _, err := f.dial(t, origin)
			if err != nil {
				t.Fatalf("own origin %s: %v", origin, err)
			}
			consent(t, c)
			if resp, _ := f.config(t, origin); resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != origin {
				t.Errorf("config from %s: %d, ACAO %q", origin, resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
			}
		}
		resp, _ := f.config(t, "")
		if _, set := resp.Header["Access-Control-Allow-Origin"]; resp.StatusCode != http.StatusOK || set {
			t.Errorf("same-origin config: %d, ACAO %q", resp.StatusCode, resp.Header.Values("Access-Control-Allow-Origin"))
		}
		for _, origin := range []string{"http://" + host + ".evil.example", "https://evil.example"} {
			if resp, _ := f.config(t, origin); resp.StatusCode != http.StatusForbidden {
				t.Errorf("config from %s: %d", origin, resp.StatusCode)
			}
		}
	})
}

// reply writes a reply of the team to the patient of a conversation, as the inbox does.
func (f *fixture) reply(t *testing.T, conversation, text string) {
	t.Helper()
	svc := &inbox.Service{Store: f.db, Now: time.Now, Events: f.bus}
	items, _, err := svc.List(ctx, f.practice.ID, inbox.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if it.Conversation() == conversation {
			if _, err := svc.Apply(ctx, f.practice.ID, it.RecordID, inbox.Change{Action: inbox.Reply, UserID: "team", Text: text}); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatalf("no request of conversation %s in the inbox", conversation)
}

// TestWidgetStaffReplies: a reply of the team reaches the open chat at once, each reply
// once; a resumed chat gets the conversation so far with the replies in place, and then
// only new ones; the long-poll fallback gets them too.
func TestWidgetStaffReplies(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		c := mustDial(t, f)
		started := consent(t, c)
		send(t, c, widget.In{Type: "say", ID: "m1", Text: "Ich brauche ein Folgerezept für Ramipril 5 mg"})
		expect(t, c, "ack")
		expect(t, c, "reply")

		f.reply(t, started.Conversation, "Ihr Rezept liegt ab morgen 10 Uhr bereit.")
		first := expect(t, c, "staff")
		if first.Text != "Ihr Rezept liegt ab morgen 10 Uhr bereit." || first.ID == "" {
			t.Fatalf("staff message %+v", first)
		}
		f.reply(t, started.Conversation, "<b>Bitte</b> bringen Sie Ihre Karte mit.")
		if second := expect(t, c, "staff"); second.Text != "<b>Bitte</b> bringen Sie Ihre Karte mit." || second.ID == first.ID {
			t.Fatalf("second staff message %+v, first %+v", second, first)
		}
		send(t, c, widget.In{Type: "say", ID: "m2", Text: "Danke"})
		expect(t, c, "ack")
		expect(t, c, "reply") // and no staff message again

		c.CloseNow()
		c = mustDial(t, f)
		send(t, c, widget.In{Type: "resume", Conversation: started.Conversation, Token: started.Token})
		expect(t, c, "resumed")
		h := expect(t, c, "history")
		var got []string
		for _, e := range h.History {
			got = append(got, e.Who+": "+e.Text)
		}
		want := []string{"assistant", "patient: Ich brauche ein Folgerezept für Ramipril 5 mg", "assistant",
			"staff: Ihr Rezept liegt ab morgen 10 Uhr bereit.", "staff: <b>Bitte</b> bringen Sie Ihre Karte mit.", "patient: Danke", "assistant"}
		if len(got) != len(want) {
			t.Fatalf("history %q, want %q", got, want)
		}
		for i := range want {
			if !strings.HasPrefix(got[i], want[i]) {
				t.Errorf("history[%d] = %q, want %q", i, got[i], want[i])
			}
		}
		if h.History[3].ID != first.ID {
			t.Errorf("the reply has id %q in the history, %q as a staff message", h.History[3].ID, first.ID)
		}
		f.reply(t, started.Conversation, "Gute Besserung!")
		if third := expect(t, c, "staff"); third.Text != "Gute Besserung!" {
			t.Fatalf("after resume: %+v, want only the new reply", third)
		}
		send(t, c, widget.In{Type: "say", ID: "m3", Text: "Tschüss"})
		expect(t, c, "ack")
		expect(t, c, "reply")

		// The fallback: every answer carries the replies so far; a poll returns at once
		// when there are more than the browser has, else when the team writes.
		sess := map[string]any{"practice": f.practice.ID, "conversation": started.Conversation, "token": started.Token}
		poll := func(op string, extra map[string]any) []widget.Out {
			t.Helper()
			body := maps.Clone(sess)
			maps.Copy(body, extra)
			status, out := f.post(t, site, op, body)
			var m struct{ Messages []widget.Out }
			if err := json.Unmarshal([]byte(out), &m); status != http.StatusOK || err != nil {
				t.Fatalf("%s: %d %s", op, status, out)
			}
			return m.Messages
		}
		if got := poll("poll", map[string]any{"staff": 0}); len(got) != 3 || got[0].ID != first.ID {
			t.Errorf("poll: %+v", got)
		}
		go func() {
			time.Sleep(300 * time.Millisecond)
			f.reply(t, started.Conversation, "Noch eine Frage?")
		}()
		start := time.Now()
		got = nil
		for _, o := range poll("poll", map[string]any{"staff": 3}) {
			got = append(got, o.Text)
		}
		if len(got) != 4 || got[3] != "Noch eine Frage?" || time.Since(start) > 10*time.Second {
			t.Errorf("waiting poll: %q after %v", got, time.Since(start))
		}
		msgs := poll("say", map[string]any{"id": "p1", "text": "Nein, danke"})
		staff := 0
		for _, m := range msgs {
			if m.Type == "staff" {
				staff++
			}
		}
		if msgs[0].Type != "ack" || staff != 4 {
			t.Errorf("say by poll: %+v", msgs)
		}
	})
}

// TestWidgetConfirmation books an appointment in the chat of a practice that sends e-mail
// and SMS, through the assistant as the widget wires it: after the booking it asks for an
// address, and the mobile number typed gets the confirmation through the practice's
// gateway, recorded on the appointment.
func TestWidgetConfirmation(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		now := time.Date(2026, 11, 23, 7, 30, 0, 0, berlin.Location) // Monday morning
		db.Now = func() time.Time { return now }
		f := setup(t, db)
		if err := db.SetSchedule(ctx, f.practice.ID, demo.PracticeSchedule()); err != nil {
			t.Fatal(err)
		}
		gw := notifytest.StartGateway(t)
		set := gw.Settings(notify.Practice{Name: f.practice.Name, Phone: "030 1234567"})
		set.SMTP = notify.SMTPSettings{Addr: "mail.example.de:587", From: "praxis@example.de", StartTLS: true}
		if err := db.SetSetting(ctx, f.practice.ID, store.SettingNotify, set); err != nil {
			t.Fatal(err)
		}
		c := mustDial(t, f)
		consent(t, c)
		var last widget.Out
		for i, say := range []string{
			"Ich hätte gern einen Termin bei Doktor Schneider am Dienstag um zehn",
			"Erika Mustermann, geboren am 12.03.1984",
			"gesetzlich",
			"wegen Rückenschmerzen",
			"ja",
			"der erste",
			"+49 151 23456789",
		} {
			send(t, c, widget.In{Type: "say", ID: fmt.Sprint("m", i), Text: say})
			expect(t, c, "ack")
			if i == 6 && !strings.HasSuffix(last.Text, "Möchten Sie eine Bestätigung und eine Erinnerung per E-Mail oder SMS? Dann schreiben Sie mir bitte Ihre E-Mail-Adresse oder Handynummer.") {
				t.Fatalf("after the booking: %q", last.Text)
			}
			last = expect(t, c, "reply")
		}
		if !strings.Contains(last.Text, "Gern, die Bestätigung kommt gleich per SMS.") {
			t.Errorf("after the number: %q", last.Text)
		}
		if sms := gw.Messages(); len(sms) != 1 || sms[0].To != "+4915123456789" || !strings.Contains(sms[0].Text, "ist bestätigt") {
			t.Errorf("SMS: %+v", sms)
		}
		list, err := db.ListAppointments(ctx, f.practice.ID, now, now.AddDate(0, 0, 7))
		if err != nil || len(list) != 1 || list[0].Patient.Notify != appointment.NotifySMS || list[0].Patient.Phone != "+4915123456789" {
			t.Errorf("appointments: %+v, %v", list, err)
		}
	})
}
