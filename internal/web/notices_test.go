package web

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tresen/tresen/internal/notify"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
)

// TestAppointmentNotices sends the patient who agreed to it an SMS when the team books,
// moves and cancels, through the practice's SMS gateway; nothing goes to a patient who
// did not agree.
func TestAppointmentNotices(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		db.Now = func() time.Time { return calendarNow }
		var mu sync.Mutex
		var got []map[string]string
		gateway := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var m map[string]string
			body, _ := io.ReadAll(r.Body)
			_ = json.Unmarshal(body, &m)
			if r.Header.Get("Authorization") != "Bearer sms-geheim" {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			mu.Lock()
			got = append(got, m)
			mu.Unlock()
			w.WriteHeader(http.StatusAccepted)
		}))
		defer gateway.Close()
		_, ts := newTestServer(t, db)
		f := newFixture(t, db)
		if err := db.SetSchedule(testCtx, f.a.ID, testSchedule()); err != nil {
			t.Fatal(err)
		}
		set := notify.Settings{Practice: notify.Practice{Name: "Hausarztpraxis Sonnenhof", Phone: "0421 123456"},
			SMS: notify.SMSSettings{URL: gateway.URL, Token: "sms-geheim"}}
		if err := set.Validate(); err != nil {
			t.Fatal(err)
		}
		if err := db.SetSetting(testCtx, f.a.ID, store.SettingNotify, set); err != nil {
			t.Fatal(err)
		}
		b := newLoggedIn(t, ts.URL, "a.team")
		b.get("/calendar")
		book := url.Values{"type": {"sprechstunde"}, "doctor": {"schneider"}, "date": {"2026-11-24"}, "time": {"10:00"},
			"name": {"Erika Mustermann"}, "phone": {"0171 1234567"}, "notify": {"sms"}, "note": {"Rückenschmerzen"}}
		resp, body := b.postCSRF("/calendar/appointments", book)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Bestätigung per SMS gesendet.") {
			t.Fatalf("book: %d %q", resp.StatusCode, errorOf(body))
		}
		list := mustAppointments(t, db, f.a.ID)
		if len(list) != 1 || list[0].Patient.Phone != "+491711234567" || list[0].Patient.Notify != "sms" {
			t.Fatalf("stored: %+v", list)
		}
		id := list[0].ID
		b.postCSRF("/calendar/appointments/"+id+"/move", url.Values{"date": {"2026-11-24"}, "time": {"11:00"}})
		b.postCSRF("/calendar/appointments/"+id+"/cancel", url.Values{})
		mu.Lock()
		defer mu.Unlock()
		if len(got) != 3 {
			t.Fatalf("gateway got %d messages, want 3: %v", len(got), got)
		}
		for i, want := range []string{"10:00", "11:00", "abgesagt"} {
			if got[i]["to"] != "+491711234567" || !strings.Contains(got[i]["text"], want) {
				t.Errorf("message %d: %v, want it to say %q", i, got[i], want)
			}
			if strings.Contains(got[i]["text"], "Rückenschmerzen") {
				t.Errorf("message %d names the reason for the visit: %q", i, got[i]["text"])
			}
		}
		// Without consent, no message; SMS without a number is refused with the input kept.
		book.Set("time", "09:30")
		book.Del("notify")
		if _, body := b.postCSRF("/calendar/appointments", book); !strings.Contains(body, "09:30 Uhr ist eingetragen.</p>") {
			t.Errorf("booking without consent: %q", errorOf(body))
		}
		book.Set("time", "09:45")
		book.Set("notify", "sms")
		book.Del("phone")
		if resp, body := b.postCSRF("/calendar/appointments", book); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Handynummer") {
			t.Errorf("SMS without a number: %d %q", resp.StatusCode, errorOf(body))
		}
		if len(got) != 3 {
			t.Errorf("gateway got %d messages", len(got))
		}
	})
}

var reFeed = regexp.MustCompile(`<code class="feed-url">[^<]*(/calendar/feed/[^<]+)</code>`)

// TestCalendarFeed gives each doctor a secret feed address the owner can renew.
func TestCalendarFeed(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		db.Now = func() time.Time { return calendarNow }
		_, ts := newTestServer(t, db)
		f := newFixture(t, db)
		if err := db.SetSchedule(testCtx, f.a.ID, testSchedule()); err != nil {
			t.Fatal(err)
		}
		owner := newLoggedIn(t, ts.URL, "a.inhaber")
		owner.get("/calendar")
		owner.postCSRF("/calendar/appointments", url.Values{"type": {"sprechstunde"}, "doctor": {"weber"}, "date": {"2026-11-24"},
			"time": {"10:00"}, "name": {"Erika Mustermann"}})
		owner.get("/calendar/setup")
		resp, _ := owner.postCSRF("/calendar/feeds", url.Values{})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("issue feeds: %d", resp.StatusCode)
		}
		_, body := owner.get("/calendar/setup")
		feeds := reFeed.FindAllStringSubmatch(body, -1)
		if len(feeds) != 2 {
			t.Fatalf("%d feed addresses on the setup page", len(feeds))
		}
		weber := ""
		for _, m := range feeds {
			if strings.Contains(m[1], "/weber/") {
				weber = m[1]
			}
		}
		anon := newBrowser(t, ts.URL)
		resp, ics := anon.get(weber)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/calendar; charset=utf-8" ||
			!strings.Contains(ics, "BEGIN:VCALENDAR") || !strings.Contains(ics, "SUMMARY:Erika Mustermann (Sprechstunde)") {
			t.Fatalf("feed: %d %q\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), ics)
		}
		if resp, _ := anon.get(strings.Replace(weber, "/weber/", "/schneider/", 1)); resp.StatusCode != http.StatusNotFound {
			t.Errorf("another doctor's feed with Weber's secret: %d", resp.StatusCode)
		}
		// Renewed addresses make the old ones stop working.
		owner.get("/calendar/setup")
		owner.postCSRF("/calendar/feeds", url.Values{})
		if resp, _ := anon.get(weber); resp.StatusCode != http.StatusNotFound {
			t.Errorf("old feed address after renewal: %d", resp.StatusCode)
		}
		staff := newLoggedIn(t, ts.URL, "a.team")
		if resp, _ := staff.postCSRF("/calendar/feeds", url.Values{}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("staff issued feeds: %d", resp.StatusCode)
		}
	})
}
