package notify_test

import (
	"encoding/base64"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/notify"
)

func TestFeed(t *testing.T) {
	events := []notify.Event{
		{UID: "a", Summary: "Erika Mustermann", Start: start, End: start.Add(15 * time.Minute), Stamp: stamp},
		{UID: "b", Summary: "Max Mustermann, Kontrolle", Start: start.Add(time.Hour), End: start.Add(75 * time.Minute), Status: notify.Cancelled, Sequence: 2, Stamp: stamp},
	}
	cal := mustParseICS(t, notify.Feed("Praxis Schneider; Dr. Schneider", events))
	if cal.Has("METHOD") {
		t.Errorf("a feed has a METHOD: %s", cal.Get("METHOD"))
	}
	got := map[string]string{
		"PRODID":           cal.Get("PRODID"),
		"NAME":             cal.Text("NAME"),
		"X-WR-CALNAME":     cal.Text("X-WR-CALNAME"),
		"REFRESH-INTERVAL": cal.Get("REFRESH-INTERVAL"),
	}
	want := map[string]string{
		"PRODID":           "-//Tresen//Rezeption//DE",
		"NAME":             "Praxis Schneider; Dr. Schneider",
		"X-WR-CALNAME":     "Praxis Schneider; Dr. Schneider",
		"REFRESH-INTERVAL": "PT15M",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("feed properties (-want +got):\n%s", diff)
	}
	var evs [][]string
	for _, e := range cal.Subs {
		evs = append(evs, []string{e.Text("UID"), e.Text("SUMMARY"), e.Get("DTSTART"), e.Get("STATUS"), e.Get("SEQUENCE")})
	}
	wantEvs := [][]string{
		{"a", "Erika Mustermann", "20261126T083000Z", "CONFIRMED", "0"},
		{"b", "Max Mustermann, Kontrolle", "20261126T093000Z", "CANCELLED", "2"},
	}
	if diff := cmp.Diff(wantEvs, evs); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

func TestFeedToken(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		tok := notify.FeedToken()
		b, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || len(b) != 32 {
			t.Fatalf("%q: %d bytes, %v", tok, len(b), err)
		}
		if seen[tok] {
			t.Fatalf("%q twice", tok)
		}
		seen[tok] = true
		if !notify.SameToken(tok, tok) {
			t.Errorf("SameToken(%q, itself) = false", tok)
		}
	}
	a := notify.FeedToken()
	for _, b := range []string{"", a[:42], a + "x", a[:42] + "_", notify.FeedToken()} {
		if b != a && notify.SameToken(a, b) {
			t.Errorf("SameToken(%q, %q) = true", a, b)
		}
	}
}
