package reminder_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tresen/tresen/internal/appointment"
	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/berlin"
	"github.com/tresen/tresen/internal/demo"
	"github.com/tresen/tresen/internal/notify"
	"github.com/tresen/tresen/internal/reminder"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
	"github.com/tresen/tresen/internal/tenant"
)

var ctx = audit.WithActor(context.Background(), audit.Actor{UserID: "test", Source: "test"})

// practice makes the demo practice, which sends SMS through gateway.
func practice(t *testing.T, db *store.DB, gateway string) tenant.Tenant {
	t.Helper()
	pr, err := db.CreateTenant(ctx, tenant.Tenant{Kind: tenant.Practice, Code: "031234567", Name: "Hausarztpraxis Dr. Erika Schneider"})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SetSchedule(ctx, pr.ID, demo.PracticeSchedule()); err != nil {
		t.Fatal(err)
	}
	if err := db.SetSetting(ctx, pr.ID, store.SettingNotify, notify.Settings{Practice: notify.Practice{Name: pr.Name},
		SMS: notify.SMSSettings{URL: gateway}}); err != nil {
		t.Fatal(err)
	}
	return pr
}

func TestReminders(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		var mu sync.Mutex
		var texts []string
		gateway := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var m map[string]string
			data, _ := io.ReadAll(r.Body)
			_ = json.Unmarshal(data, &m)
			mu.Lock()
			texts = append(texts, m["to"]+" "+m["text"])
			mu.Unlock()
		}))
		defer gateway.Close()
		pr := practice(t, db, gateway.URL)
		tomorrow := time.Date(2026, 11, 24, 10, 0, 0, 0, berlin.Location)
		book := func(start time.Time, phone, consent string) appointment.Appointment {
			a, err := db.BookAppointment(ctx, pr.ID, appointment.Appointment{Type: "sprechstunde", Doctor: "weber", Start: start, End: start.Add(15 * time.Minute),
				Patient: appointment.Patient{Name: "Erika Mustermann", Phone: phone, Notify: consent}, Source: "staff"})
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		book(tomorrow, "+491711234567", "sms")
		book(tomorrow.Add(15*time.Minute), "+491719999999", "") // no consent
		book(tomorrow.Add(2*time.Hour), "+491718888888", "sms") // in a later hour's run
		cancelled := book(tomorrow.Add(30*time.Minute), "+491717777777", "sms")
		if err := db.CancelAppointment(ctx, pr.ID, cancelled.ID); err != nil {
			t.Fatal(err)
		}
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		run := func(now time.Time) int {
			t.Helper()
			n, err := reminder.Run(ctx, db, log, now, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := run(tomorrow.Add(-reminder.Ahead)); n != 1 {
			t.Fatalf("sent %d, want 1", n)
		}
		mu.Lock()
		if len(texts) != 1 || !strings.HasPrefix(texts[0], "+491711234567 ") || !strings.Contains(texts[0], "10:00") {
			t.Errorf("reminders: %q", texts)
		}
		mu.Unlock()
		// A second node's run of the same hour, and a run after a restart half an hour
		// later, send nothing twice.
		if n := run(tomorrow.Add(-reminder.Ahead)); n != 0 {
			t.Errorf("the same hour again: sent %d", n)
		}
		if n := run(tomorrow.Add(-reminder.Ahead + 30*time.Minute)); n != 0 {
			t.Errorf("after a restart within the hour: sent %d", n)
		}
		// The service was down for three hours: the next run still reminds of the 12:00
		// appointment, which a run during the pause would have taken.
		if n := run(tomorrow.Add(-reminder.Ahead + 4*time.Hour)); n != 1 {
			t.Errorf("after a pause: sent %d, want 1", n)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(texts) != 2 || !strings.HasPrefix(texts[1], "+491718888888 ") {
			t.Errorf("reminders: %q", texts)
		}
	})
}

// TestRemindersOnTwoNodes: two nodes sharing the database run their hourly reminders at
// the same moment; each reminder goes out once.
func TestRemindersOnTwoNodes(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		var sent atomic.Int64
		gateway := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { sent.Add(1) }))
		defer gateway.Close()
		pr := practice(t, db, gateway.URL)
		tomorrow := time.Date(2026, 11, 24, 10, 0, 0, 0, berlin.Location)
		for i := range 4 {
			start := tomorrow.Add(time.Duration(i) * 15 * time.Minute)
			if _, err := db.BookAppointment(ctx, pr.ID, appointment.Appointment{Type: "sprechstunde", Doctor: "weber", Start: start, End: start.Add(15 * time.Minute),
				Patient: appointment.Patient{Name: "Erika Mustermann", Phone: "+4917112345" + strconv.Itoa(60+i), Notify: "sms"}, Source: "staff"}); err != nil {
				t.Fatal(err)
			}
		}
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		var wg sync.WaitGroup
		var total atomic.Int64
		for range 2 {
			wg.Go(func() {
				n, err := reminder.Run(ctx, db, log, tomorrow.Add(-reminder.Ahead), time.Hour)
				if err != nil {
					t.Error(err)
				}
				total.Add(int64(n))
			})
		}
		wg.Wait()
		if total.Load() != 4 || sent.Load() != 4 {
			t.Errorf("runs reported %d, the gateway got %d; want 4 each", total.Load(), sent.Load())
		}
	})
}

// TestReminded: an appointment appointment.Reminded promises a reminder for is taken by a
// run after the promise, whenever the hourly runs happen to start.
func TestReminded(t *testing.T) {
	now := time.Date(2026, 11, 23, 9, 17, 0, 0, berlin.Location)
	for _, ahead := range []time.Duration{0, time.Hour, 24 * time.Hour, 25*time.Hour - time.Minute, 25 * time.Hour, 26*time.Hour + 30*time.Minute, 72 * time.Hour} {
		start := now.Add(ahead)
		if got, want := appointment.Reminded(start, now), ahead >= reminder.Ahead+reminder.Every; got != want {
			t.Errorf("%v ahead: Reminded = %t, want %t", ahead, got, want)
		}
		if !appointment.Reminded(start, now) {
			continue
		}
		for phase := time.Duration(0); phase < reminder.Every; phase += 7 * time.Minute {
			taken := false
			for run := now.Add(phase); !run.After(start); run = run.Add(reminder.Every) {
				from := run.Add(reminder.Ahead)
				taken = taken || !start.Before(from) && start.Before(from.Add(reminder.Every))
			}
			if !taken {
				t.Errorf("%v ahead, runs from %v after the promise: no run takes the appointment", ahead, phase)
			}
		}
	}
}
