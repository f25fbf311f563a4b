package web

import (
	"bufio"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tresen/tresen/internal/dialogue"
	"github.com/tresen/tresen/internal/inbox"
	"github.com/tresen/tresen/internal/nlu"
	"github.com/tresen/tresen/internal/reception"
	"github.com/tresen/tresen/internal/request"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
)

// newReception returns a reception service for the test server's practices that tells
// the server's open inboxes of its requests.
func newReception(s *Server, db *store.DB) *reception.Service {
	return &reception.Service{Store: db, Events: s.events, Engine: func(context.Context, string) (*dialogue.Engine, error) {
		return &dialogue.Engine{NLU: &nlu.Understander{Doctors: []string{"Weber"}}, Practice: dialogue.Practice{Name: "Hausarztpraxis Sonnenhof"}}, nil
	}}
}

// say holds a conversation on a channel and returns its id.
func say(t *testing.T, rec *reception.Service, tenantID string, ch request.Channel, turns ...string) string {
	t.Helper()
	id, _, err := rec.Start(testCtx, tenantID, ch)
	if err != nil {
		t.Fatal(err)
	}
	for _, turn := range turns {
		if _, err := rec.Say(testCtx, tenantID, id, turn); err != nil {
			t.Fatal(err)
		}
	}
	return id
}

// recordOf returns the record id of the request of a conversation.
func recordOf(t *testing.T, s *Server, tenantID, conversation string) string {
	t.Helper()
	items, _, err := s.inbox.List(testCtx, tenantID, inbox.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if it.Conversation() == conversation {
			return it.RecordID
		}
	}
	t.Fatalf("no request of conversation %s in the inbox", conversation)
	return ""
}

// TestInbox is a morning in the practice's inbox: a chat asks for a prescription, a caller
// reports an emergency; the team sees the emergency first, takes the prescription, answers
// the patient in the open chat, notes and closes it.
func TestInbox(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		s, ts := newTestServer(t, db)
		f := newFixture(t, db)
		rec := newReception(s, db)
		chat := say(t, rec, f.a.ID, request.Chat, "Ich brauche ein Folgerezept für Ramipril 5 mg bei Dr. Weber", "Lisa Musterfrau, geboren am 12.03.1984")
		call := say(t, rec, f.a.ID, request.Phone, "Mein Mann hat starke Brustschmerzen und bekommt keine Luft")
		refill, emergency := recordOf(t, s, f.a.ID, chat), recordOf(t, s, f.a.ID, call)

		staff := newLoggedIn(t, ts.URL, "a.team")
		resp, body := staff.get("/inbox")
		checkPage(t, "inbox", resp, body, http.StatusOK)
		first, second := strings.Index(body, `data-id="`+emergency+`"`), strings.Index(body, `data-id="`+refill+`"`)
		if first < 0 || second < 0 || first > second {
			t.Fatalf("inbox: emergency at %d, refill at %d; want both, the emergency first", first, second)
		}
		for _, want := range []string{"NOTFALL", "Folgerezept: Ramipril 5 mg", "Lisa Musterfrau", `<dd id="count-urgent" class="alert">1</dd>`, `<dd id="count-new">2</dd>`, "Online-Rezeption", "Telefon"} {
			if !strings.Contains(body, want) {
				t.Errorf("inbox lacks %q", want)
			}
		}
		for _, tc := range []struct{ query, shows, hides string }{
			{"type=prescription_refill", refill, emergency},
			{"channel=phone", emergency, refill},
			{"doctor=Weber", refill, emergency},
			{"status=urgent", emergency, refill},
		} {
			_, body := staff.get("/inbox?" + tc.query)
			if !strings.Contains(body, `data-id="`+tc.shows+`"`) || strings.Contains(body, `data-id="`+tc.hides+`"`) {
				t.Errorf("%s: wrong selection", tc.query)
			}
		}
		// The live list reloads only its part.
		req, _ := http.NewRequest(http.MethodGet, ts.URL+"/inbox?type=prescription_refill", nil)
		req.Header.Set("HX-Request", "true")
		if resp, body := staff.do(req); resp.StatusCode != http.StatusOK || strings.Contains(body, "<html") || !strings.Contains(body, `id="inbox-list"`) {
			t.Errorf("partial list: %d %q", resp.StatusCode, body)
		}

		// The request, with its data and what was said.
		resp, body = staff.get("/inbox/" + refill)
		checkPage(t, "inbox detail", resp, body, http.StatusOK)
		for _, want := range []string{"Ramipril 5 mg", "12.03.1984", "Weber", "Ich brauche ein Folgerezept für Ramipril 5 mg bei Dr. Weber", `id="reply-text"`} {
			if !strings.Contains(body, want) {
				t.Errorf("detail lacks %q", want)
			}
		}
		act := func(action string, form url.Values, status int, want string) string {
			t.Helper()
			resp, body := staff.postCSRF("/inbox/"+refill+"/"+action, form)
			if resp.StatusCode != status || !strings.Contains(body, want) {
				t.Fatalf("%s: status %d (want %d), error %q, want %q in the page", action, resp.StatusCode, status, errorOf(body), want)
			}
			return body
		}
		act("assign", url.Values{}, http.StatusOK, `bearbeitet von <span id="assignee">Max Mustermann</span>`)
		act("assign", url.Values{"assignee": {f.bOwner.ID}}, http.StatusUnprocessableEntity, "Unbekanntes Teammitglied")
		act("note", url.Values{"text": {"  "}}, http.StatusUnprocessableEntity, "Bitte eine Notiz eingeben.")
		act("note", url.Values{"text": {"Rezept liegt bei Dr. Weber zur Unterschrift."}}, http.StatusOK, "Rezept liegt bei Dr. Weber zur Unterschrift.")
		body = act("reply", url.Values{"text": {"Ihr Rezept liegt ab 14 Uhr bereit."}}, http.StatusOK, "Ihr Rezept liegt ab 14 Uhr bereit.")
		if !strings.Contains(body, `class="staff"`) {
			t.Error("the reply is not in the transcript")
		}
		if replies, err := rec.Replies(testCtx, f.a.ID, chat); err != nil || len(replies) != 1 || replies[0].Text != "Ihr Rezept liegt ab 14 Uhr bereit." {
			t.Errorf("the chat's replies: %+v, %v", replies, err)
		}
		if _, err := rec.End(testCtx, f.a.ID, chat); err != nil {
			t.Fatal(err)
		}
		act("reply", url.Values{"text": {"Noch etwas."}}, http.StatusConflict, "Der Chat ist beendet")
		act("escalate", url.Values{}, http.StatusOK, "Nicht mehr dringend")
		act("done", url.Values{}, http.StatusOK, `<strong id="state">erledigt</strong>`)

		_, body = staff.get("/inbox")
		if strings.Contains(body, `data-id="`+refill+`"`) || !strings.Contains(body, `<dd id="count-done">1</dd>`) {
			t.Error("a done request is still among the open ones, or not counted")
		}
		if _, body = staff.get("/inbox?status=done"); !strings.Contains(body, `data-id="`+refill+`"`) {
			t.Error("the done request is not under done")
		}

		// Read-only users see, but change nothing.
		reader := newLoggedIn(t, ts.URL, "a.lesen")
		if _, body := reader.get("/inbox/" + emergency); strings.Contains(body, `action="/inbox/`+emergency+`/done"`) {
			t.Error("a read-only user is offered the actions")
		}
		if resp, _ := reader.postCSRF("/inbox/"+emergency+"/done", url.Values{}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("read-only done: %d", resp.StatusCode)
		}
	})
}

// TestInboxLive: an open inbox hears of a new request at once, with its urgency and
// without its contents; another practice's inbox hears nothing of it.
func TestInboxLive(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		s, ts := newTestServer(t, db)
		f := newFixture(t, db)
		other := mustTenant(t, db, "practice", "031234999", "Praxis am Markt")
		mustUser(t, db, other.ID, "c.inhaber", "Clara Chef", "owner")
		open := func(username string) (*bufio.Reader, context.CancelFunc) {
			t.Helper()
			b := newLoggedIn(t, ts.URL, username)
			ctx, cancel := context.WithCancel(context.Background())
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+"/inbox/events", nil)
			resp, err := b.c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
				t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			t.Cleanup(func() { resp.Body.Close() })
			r := bufio.NewReader(resp.Body)
			for { // the opening
				line, err := r.ReadString('\n')
				if err != nil {
					t.Fatal(err)
				}
				if line == "\n" {
					break
				}
			}
			return r, cancel
		}
		mine, cancelMine := open("a.team")
		defer cancelMine()
		theirs, cancelTheirs := open("c.inhaber")

		rec := newReception(s, db)
		call := say(t, rec, f.a.ID, request.Phone, "Meine Mutter ist bewusstlos und atmet kaum")
		id := recordOf(t, s, f.a.ID, call)
		event := make(chan string, 1)
		go func() {
			var b strings.Builder
			for {
				line, err := mine.ReadString('\n')
				if err != nil || line == "\n" {
					event <- b.String()
					return
				}
				b.WriteString(line)
			}
		}()
		select {
		case got := <-event:
			want := "event: request\ndata: {\"id\":\"" + id + "\",\"urgent\":true}\n"
			if got != want {
				t.Errorf("event %q, want %q", got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the open inbox heard nothing of the new request")
		}

		// The other practice's stream carries nothing: close it and read what came.
		cancelTheirs()
		rest, _ := theirs.ReadString(0)
		if strings.Contains(rest, "event:") {
			t.Errorf("another practice's inbox heard %q", rest)
		}
	})
}

// TestInboxEscapes: what a patient writes is shown as text in the inbox, never as markup.
func TestInboxEscapes(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		s, ts := newTestServer(t, db)
		f := newFixture(t, db)
		rec := newReception(s, db)
		attack := `<script>alert("x")</script><img src=x onerror=alert(1)>`
		conv := say(t, rec, f.a.ID, request.Chat, "Ich habe eine Nachricht für Dr. Weber: "+attack, "Lisa Musterfrau, geboren am 12.03.1984")
		id := recordOf(t, s, f.a.ID, conv)
		staff := newLoggedIn(t, ts.URL, "a.team")
		for _, path := range []string{"/inbox", "/inbox/" + id, "/inbox/" + id + "/report"} {
			resp, body := staff.get(path)
			checkPage(t, path, resp, body, http.StatusOK)
			if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") {
				t.Errorf("%s renders the patient's markup", path)
			}
		}
		if _, body := staff.get("/inbox/" + id); !strings.Contains(body, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
			t.Error("the message is not shown as text")
		}
	})
}

// TestInboxAudio: a recorded call can be heard from its request; other requests have no
// player.
func TestInboxAudio(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		s, ts := newTestServer(t, db)
		f := newFixture(t, db)
		rec := newReception(s, db)
		call := say(t, rec, f.a.ID, request.Phone, "Bitte rufen Sie mich zurück, hier ist Lisa Musterfrau, 0170 1234567")
		wav := append([]byte("RIFF\x24\x00\x00\x00WAVEfmt "), make([]byte, 400)...)
		if err := rec.SaveAudio(testCtx, f.a.ID, call, wav); err != nil {
			t.Fatal(err)
		}
		chat := say(t, rec, f.a.ID, request.Chat, "Bitte rufen Sie mich zurück, hier ist Bodo Beispiel, 0170 7654321")
		staff := newLoggedIn(t, ts.URL, "a.lesen")
		id := recordOf(t, s, f.a.ID, call)
		if _, body := staff.get("/inbox/" + id); !strings.Contains(body, `<audio controls preload="none" src="/inbox/`+id+`/audio"`) {
			t.Error("no player for the recorded call")
		}
		resp, body := staff.get("/inbox/" + id + "/audio")
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "audio/wav" || body != string(wav) {
			t.Errorf("audio: %d %s, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
		}
		other := recordOf(t, s, f.a.ID, chat)
		if _, body := staff.get("/inbox/" + other); strings.Contains(body, "<audio") {
			t.Error("a chat shows a player")
		}
		if resp, _ := staff.get("/inbox/" + other + "/audio"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("audio of a chat: %d", resp.StatusCode)
		}
	})
}
