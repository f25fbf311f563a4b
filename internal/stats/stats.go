// Package stats counts what the assistant took and how the team handled it: requests per
// day, type and channel, conversations the assistant settled without the team,
// appointments it booked, and the median time to done. It computes from what the store
// already holds; nothing is tracked for it, and no third party sees anything.
package stats

import (
	"encoding/csv"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/tresen/tresen/internal/berlin"
	"github.com/tresen/tresen/internal/dialogue"
	"github.com/tresen/tresen/internal/inbox"
	"github.com/tresen/tresen/internal/request"
)

// Day is one day's counts.
type Day struct {
	Date          time.Time // midnight, Berlin
	Requests      int
	Phone, Chat   int
	ByType        map[request.Type]int
	Conversations int
	// WithoutStaff counts conversations that left the team nothing to do: the patient
	// got an answer (hours, directions …) or the assistant booked the appointment.
	WithoutStaff int
	Booked       int // appointments the assistant booked
}

// Report is the counts of a period.
type Report struct {
	From, To time.Time // days, Berlin; To inclusive
	Days     []Day
	Total    Day
	// Done is how many requests of the period are done, and MedianHandling the median
	// time from their arrival to done.
	Done           int
	MedianHandling time.Duration
}

// Build counts the conversations and inbox items that began in [from, to] (days in
// Berlin, to inclusive).
func Build(from, to time.Time, convs []dialogue.Conversation, items []inbox.Item) Report {
	from, to = midnight(from), midnight(to)
	r := Report{From: from, To: to, Total: Day{ByType: map[request.Type]int{}}}
	index := map[time.Time]int{}
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		index[d] = len(r.Days)
		r.Days = append(r.Days, Day{Date: d, ByType: map[request.Type]int{}})
	}
	day := func(t time.Time) *Day {
		if i, ok := index[midnight(t)]; ok {
			return &r.Days[i]
		}
		return nil
	}
	for _, c := range convs {
		if len(c.Turns) == 0 {
			continue
		}
		d := day(c.Turns[0].At)
		if d == nil || !c.Ended && !patientSpoke(c) {
			continue
		}
		d.Conversations++
		if withoutStaff(c) {
			d.WithoutStaff++
		}
	}
	var handling []time.Duration
	for _, it := range items {
		rq := it.Request
		d := day(rq.CreatedAt)
		if d == nil {
			continue
		}
		d.Requests++
		d.ByType[rq.Type]++
		switch rq.Channel {
		case request.Phone:
			d.Phone++
		case request.Chat:
			d.Chat++
		}
		if rq.Type == request.AppointmentBook && rq.Details.SlotID != "" {
			d.Booked++
		}
		if it.Handling.Status == request.HandlingDone && !it.Handling.DoneAt.IsZero() {
			handling = append(handling, it.Handling.DoneAt.Sub(rq.CreatedAt))
		}
	}
	for _, d := range r.Days {
		r.Total.Requests += d.Requests
		r.Total.Phone += d.Phone
		r.Total.Chat += d.Chat
		r.Total.Conversations += d.Conversations
		r.Total.WithoutStaff += d.WithoutStaff
		r.Total.Booked += d.Booked
		for t, n := range d.ByType {
			r.Total.ByType[t] += n
		}
	}
	r.Done = len(handling)
	if len(handling) > 0 {
		slices.Sort(handling)
		n := len(handling)
		r.MedianHandling = handling[n/2]
		if n%2 == 0 {
			r.MedianHandling = (handling[n/2-1] + handling[n/2]) / 2
		}
	}
	return r
}

// patientSpoke reports whether the patient said anything: a greeting nobody answered is
// no conversation.
func patientSpoke(c dialogue.Conversation) bool {
	return slices.ContainsFunc(c.Turns, func(t dialogue.Turn) bool { return t.Who == dialogue.Patient && t.Text != "" })
}

// withoutStaff reports whether a conversation left the team nothing to do.
func withoutStaff(c dialogue.Conversation) bool {
	if !patientSpoke(c) {
		return false
	}
	for _, rq := range c.Requests {
		if rq.Type == request.AppointmentBook && rq.Details.SlotID != "" && rq.Status == request.Complete && !rq.PatientUnclear {
			continue
		}
		return false
	}
	return true
}

func midnight(t time.Time) time.Time {
	t = t.In(berlin.Location)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, berlin.Location)
}

// Share returns part of whole in whole percent; 0 for an empty whole.
func Share(part, whole int) int {
	if whole == 0 {
		return 0
	}
	return (part*100 + whole/2) / whole
}

// CSV writes one row per day: date, requests, phone, chat, one column per request type,
// conversations, settled without the team, appointments booked; then the total.
func (r Report) CSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Comma = ';' // what German spreadsheets open without asking
	head := []string{"Datum", "Anliegen", "Telefon", "Online-Rezeption"}
	for _, t := range request.Types {
		head = append(head, t.Label())
	}
	head = append(head, "Gespräche", "ohne Praxisteam erledigt", "Termine vom Assistenten gebucht")
	if err := cw.Write(head); err != nil {
		return err
	}
	row := func(label string, d Day) error {
		rec := []string{label, strconv.Itoa(d.Requests), strconv.Itoa(d.Phone), strconv.Itoa(d.Chat)}
		for _, t := range request.Types {
			rec = append(rec, strconv.Itoa(d.ByType[t]))
		}
		rec = append(rec, strconv.Itoa(d.Conversations), strconv.Itoa(d.WithoutStaff), strconv.Itoa(d.Booked))
		return cw.Write(rec)
	}
	for _, d := range r.Days {
		if err := row(d.Date.Format("02.01.2006"), d); err != nil {
			return err
		}
	}
	if err := row("Summe", r.Total); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}
