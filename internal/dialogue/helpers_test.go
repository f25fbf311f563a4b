package dialogue

import (
	"context"
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tresen/tresen/internal/appointment"
	"github.com/tresen/tresen/internal/berlin"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/nlu"
	"github.com/tresen/tresen/internal/request"
)

// monday is the reference time: Monday, 23 November 2026, 9:00 in Berlin, opening hours.
var monday = time.Date(2026, 11, 23, 9, 0, 0, 0, berlin.Location)

// saturday is outside opening hours.
var saturday = time.Date(2026, 11, 28, 14, 0, 0, 0, berlin.Location)

var doctors = []string{"Schneider", "Weber", "Özdemir"}

func testPractice(staff bool) Practice {
	return Practice{
		Name:         "Hausarztpraxis Dr. Erika Schneider",
		OpeningHours: "Montag bis Freitag von 8 bis 12 Uhr, Montag, Dienstag und Donnerstag auch von 15 bis 18 Uhr",
		Address:      "Musterstraße 1, 12345 Musterstadt",
		Phone:        "030 1234567",
		FAQ: map[string]string{
			FAQParking:       "Parkplätze finden Sie im Hof hinter dem Haus.",
			FAQAccessibility: "Die Praxis ist barrierefrei, es gibt einen Aufzug.",
			FAQInsurances:    "Wir behandeln gesetzlich und privat Versicherte.",
			FAQServices:      "Wir bieten Vorsorgeuntersuchungen, Impfungen und Reiseimpfungen an.",
			FAQDirections:    "Die Bushaltestelle Rathaus ist zwei Minuten entfernt.",
		},
		Doctors:        doctors,
		StaffReachable: func(time.Time) bool { return staff },
		Open: func(t time.Time) bool {
			t = t.In(berlin.Location)
			return t.Weekday() >= time.Monday && t.Weekday() <= time.Friday && t.Hour() >= 8 && t.Hour() < 12
		},
	}
}

// calendar is a fixed in-memory calendar: the stand-in for the appointments package.
type calendar struct {
	free   []Offer
	booked map[string]bool
	// taken are slots someone else books just before the patient: Book fails with a
	// conflict.
	taken map[string]bool
}

func at(day, hour, minute int) time.Time {
	return time.Date(2026, 11, day, hour, minute, 0, 0, berlin.Location)
}

func newCalendar() *calendar {
	return &calendar{
		free: []Offer{
			{ID: "s1", Start: at(25, 16, 0), Doctor: "Schneider"},
			{ID: "s2", Start: at(26, 9, 30), Doctor: "Schneider"},
			{ID: "s3", Start: at(26, 11, 0), Doctor: "Weber"},
			{ID: "s4", Start: at(27, 8, 0), Doctor: "Özdemir"},
			{ID: "s5", Start: at(30, 9, 0), Doctor: "Schneider"},
			{ID: "s6", Start: time.Date(2026, 12, 1, 10, 0, 0, 0, berlin.Location), Doctor: "Weber"},
			{ID: "s7", Start: time.Date(2026, 12, 1, 15, 30, 0, 0, berlin.Location), Doctor: "Schneider"},
		},
		booked: map[string]bool{},
		taken:  map[string]bool{},
	}
}

func (c *calendar) Find(_ context.Context, r request.Request, now time.Time) ([]Offer, error) {
	d := r.Details
	var out []Offer
	for _, o := range c.free {
		s := o.Start.In(berlin.Location)
		switch {
		case c.booked[o.ID] || !s.After(now):
		case d.Date != "" && s.Format(time.DateOnly) != d.Date:
		case d.Time != "" && s.Format("15:04") < d.Time:
		case d.Daypart != "" && d.Daypart != "any" && daypartOf(s) != d.Daypart:
		case d.Doctor != "" && o.Doctor != d.Doctor:
		default:
			out = append(out, o)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out, nil
}

func (c *calendar) Book(_ context.Context, r request.Request, o Offer) (string, error) {
	if c.booked[o.ID] || c.taken[o.ID] {
		c.booked[o.ID] = true
		return "", errs.E(errs.Conflict, "Termin vergeben")
	}
	c.booked[o.ID] = true
	return "booking-" + o.ID, nil
}

// confirmations stands in for the practice's mail server and SMS gateway behind the
// calendar.
type confirmations struct {
	channels   []string // what the practice sends: appointment.NotifyEmail, NotifySMS
	sent       []string // "booking channel address" for each confirmation
	fail       error
	noReminder bool // the reminder's time has passed
}

func (f *confirmations) Sends(channel string) bool { return slices.Contains(f.channels, channel) }

func (f *confirmations) Confirm(_ context.Context, booking, channel, address string) error {
	if !f.Sends(channel) {
		return errs.E(errs.Invalid, "not sent on this channel")
	}
	f.sent = append(f.sent, booking+" "+channel+" "+address)
	return f.fail
}

func (f *confirmations) Reminds(start, now time.Time) bool { return !f.noReminder && start.After(now) }

// harness holds one conversation through the real engine.
type harness struct {
	t    testing.TB
	e    *Engine
	c    *Conversation
	cal  *calendar
	conf *confirmations // nil: the practice sends no confirmations
}

type options struct {
	channel request.Channel
	staff   bool
	now     time.Time
	sms     bool   // the practice sends SMS
	email   bool   // the practice sends e-mail
	caller  string // the number a call comes from
}

func newHarness(tb testing.TB, o options) *harness {
	tb.Helper()
	if o.now.IsZero() {
		o.now = monday
	}
	if o.channel == "" {
		o.channel = request.Phone
	}
	cal := newCalendar()
	now := o.now
	e := &Engine{
		NLU:      &nlu.Understander{Doctors: doctors},
		Practice: testPractice(o.staff),
		Slots:    cal,
		Now:      func() time.Time { return now },
	}
	h := &harness{t: tb, e: e, c: &Conversation{ID: "c", Channel: o.channel, Caller: o.caller, Known: request.Patient{Phone: o.caller}}, cal: cal}
	if o.sms || o.email {
		h.conf = &confirmations{}
		if o.email {
			h.conf.channels = append(h.conf.channels, appointment.NotifyEmail)
		}
		if o.sms {
			h.conf.channels = append(h.conf.channels, appointment.NotifySMS)
		}
		e.Confirmations = h.conf
	}
	h.e.Start(h.c)
	return h
}

// say hands the patient's text to the engine and checks that the reply contains each of
// want.
func (h *harness) say(text string, want ...string) Reply {
	h.t.Helper()
	r := h.e.Handle(context.Background(), h.c, text)
	for _, w := range want {
		if !strings.Contains(r.Text, w) {
			h.t.Errorf("patient: %q\nassistant: %q\nwant it to contain %q", text, r.Text, w)
		}
	}
	return r
}

// sayNot checks that the reply contains none of bad.
func (h *harness) sayNot(text string, bad ...string) Reply {
	h.t.Helper()
	r := h.e.Handle(context.Background(), h.c, text)
	for _, b := range bad {
		if strings.Contains(r.Text, b) {
			h.t.Errorf("patient: %q\nassistant: %q\nwant it not to contain %q", text, r.Text, b)
		}
	}
	return r
}

func (h *harness) transcript() string {
	var b strings.Builder
	for _, t := range h.c.Turns {
		b.WriteString(string(t.Who) + ": " + t.Text + "\n")
	}
	return b.String()
}

// checkRequests validates every request and that no request is left open after the end.
func (h *harness) checkRequests() {
	h.t.Helper()
	for _, r := range h.c.Requests {
		if err := r.Validate(monday); err != nil {
			h.t.Errorf("request %s invalid: %v\n%+v", r.ID, err, r)
		}
		if h.c.Ended && r.Status == request.Open {
			h.t.Errorf("request %s still open after the end", r.ID)
		}
	}
	if _, err := json.Marshal(h.c); err != nil {
		h.t.Errorf("conversation does not marshal: %v", err)
	}
}
