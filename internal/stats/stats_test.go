package stats_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/berlin"
	"github.com/tresen/tresen/internal/dialogue"
	"github.com/tresen/tresen/internal/inbox"
	"github.com/tresen/tresen/internal/request"
	"github.com/tresen/tresen/internal/stats"
)

func at(day string, hour int) time.Time {
	d, err := time.ParseInLocation(time.DateOnly, day, berlin.Location)
	if err != nil {
		panic(err)
	}
	return d.Add(time.Duration(hour) * time.Hour)
}

func conv(start time.Time, ended bool, patient string, reqs ...request.Request) dialogue.Conversation {
	c := dialogue.Conversation{Ended: ended, Requests: reqs, Turns: []dialogue.Turn{{Who: dialogue.Assistant, Text: "Guten Tag", At: start}}}
	if patient != "" {
		c.Turns = append(c.Turns, dialogue.Turn{Who: dialogue.Patient, Text: patient, At: start.Add(time.Minute)})
	}
	return c
}

func item(created time.Time, typ request.Type, ch request.Channel, slot string, doneAfter time.Duration) inbox.Item {
	it := inbox.Item{Request: request.Request{Type: typ, Channel: ch, Status: request.Complete, CreatedAt: created, Details: request.Details{SlotID: slot}},
		Handling: request.Handling{Status: request.HandlingNew}}
	if doneAfter > 0 {
		it.Handling.Status, it.Handling.DoneAt = request.HandlingDone, created.Add(doneAfter)
	}
	return it
}

func TestBuild(t *testing.T) {
	booked := request.Request{Type: request.AppointmentBook, Status: request.Complete, Details: request.Details{SlotID: "s1"}}
	refill := request.Request{Type: request.PrescriptionRefill, Status: request.Complete}
	convs := []dialogue.Conversation{
		conv(at("2026-11-23", 9), true, "Wann haben Sie geöffnet?"),                          // answered: without staff
		conv(at("2026-11-23", 10), true, "Termin bitte", booked),                             // booked: without staff
		conv(at("2026-11-24", 8), true, "Folgerezept", refill),                               // for the team
		conv(at("2026-11-24", 9), false, ""),                                                 // greeted, never answered: not counted
		conv(at("2026-11-20", 9), true, "Termin", booked),                                    // before the period
		conv(at("2026-11-25", 23), true, "Rückruf", request.Request{Type: request.Callback}), // late evening, Berlin
	}
	items := []inbox.Item{
		item(at("2026-11-23", 10), request.AppointmentBook, request.Chat, "s1", 0),
		item(at("2026-11-24", 8), request.PrescriptionRefill, request.Phone, "", 30*time.Minute),
		item(at("2026-11-24", 11), request.PrescriptionRefill, request.Phone, "", 90*time.Minute),
		item(at("2026-11-25", 23), request.Callback, request.Phone, "", 3*time.Hour),
		item(at("2026-11-26", 9), request.Callback, request.Phone, "", 0), // after the period
	}
	r := stats.Build(at("2026-11-23", 12), at("2026-11-25", 0), convs, items)
	if len(r.Days) != 3 || !r.From.Equal(at("2026-11-23", 0)) {
		t.Fatalf("days %d from %s", len(r.Days), r.From)
	}
	want := stats.Day{Requests: 4, Phone: 3, Chat: 1, Conversations: 4, WithoutStaff: 2, Booked: 1,
		ByType: map[request.Type]int{request.AppointmentBook: 1, request.PrescriptionRefill: 2, request.Callback: 1}}
	if diff := cmp.Diff(want, r.Total); diff != "" {
		t.Errorf("total (-want +got):\n%s", diff)
	}
	if r.Days[1].Requests != 2 || r.Days[2].Phone != 1 {
		t.Errorf("days %+v", r.Days)
	}
	if r.Done != 3 || r.MedianHandling != 90*time.Minute {
		t.Errorf("done %d, median %s", r.Done, r.MedianHandling)
	}
	if stats.Share(2, 3) != 67 || stats.Share(1, 0) != 0 {
		t.Error("Share")
	}

	var b strings.Builder
	if err := r.CSV(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "Datum;Anliegen;Telefon;Online-Rezeption;Terminwunsch;") ||
		lines[2] != "24.11.2026;2;2;0;0;0;0;2;0;0;0;0;0;1;0;0" || !strings.HasPrefix(lines[4], "Summe;4;3;1;1;") {
		t.Errorf("CSV:\n%s", b.String())
	}
}

func TestMedianEven(t *testing.T) {
	items := []inbox.Item{
		item(at("2026-11-23", 8), request.Callback, request.Phone, "", time.Hour),
		item(at("2026-11-23", 9), request.Callback, request.Phone, "", 3*time.Hour),
	}
	if r := stats.Build(at("2026-11-23", 0), at("2026-11-23", 0), nil, items); r.MedianHandling != 2*time.Hour {
		t.Errorf("median %s", r.MedianHandling)
	}
}
