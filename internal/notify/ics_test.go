package notify_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/notify"
)

var (
	start = time.Date(2026, 11, 26, 8, 30, 0, 0, time.UTC) // 9:30 in Berlin
	stamp = time.Date(2026, 11, 20, 14, 5, 9, 0, time.UTC)
)

func TestICS(t *testing.T) {
	long := strings.Repeat("Bitte 10 Minuten früher kommen; Überweisung, Karte\\Ausweis mitbringen. ", 4)
	ev := notify.Event{
		UID:         "0193b1c2-7d3e-7000-8000-000000000001",
		Summary:     "Termin: Praxis Dr. Schneider, Hausärzte; Bremen",
		Location:    "Hauptstraße 1\n28195 Bremen",
		Description: long,
		Start:       start,
		End:         start.Add(15 * time.Minute),
		Sequence:    2,
		Organizer:   "praxis@example.de",
		Stamp:       stamp,
	}
	out := notify.ICS([]notify.Event{ev}, notify.MethodRequest)
	cal := mustParseICS(t, out)

	if cal.Name != "VCALENDAR" || len(cal.Subs) != 1 || cal.Subs[0].Name != "VEVENT" {
		t.Fatalf("structure: %s with %d components", cal.Name, len(cal.Subs))
	}
	gotCal := map[string]string{}
	for _, p := range cal.Props {
		gotCal[p.Name] = p.Value
	}
	wantCal := map[string]string{
		"VERSION":  "2.0",
		"PRODID":   "-//Tresen//Rezeption//DE",
		"CALSCALE": "GREGORIAN",
		"METHOD":   "REQUEST",
	}
	if diff := cmp.Diff(wantCal, gotCal); diff != "" {
		t.Errorf("calendar properties (-want +got):\n%s", diff)
	}

	e := cal.Subs[0]
	got := map[string]string{}
	for _, name := range []string{"UID", "SUMMARY", "LOCATION", "DESCRIPTION"} {
		got[name] = e.Text(name)
	}
	for _, name := range []string{"DTSTAMP", "DTSTART", "DTEND", "SEQUENCE", "STATUS", "ORGANIZER"} {
		got[name] = e.Get(name)
	}
	want := map[string]string{
		"UID":         ev.UID,
		"SUMMARY":     ev.Summary,
		"LOCATION":    ev.Location,
		"DESCRIPTION": ev.Description,
		"DTSTAMP":     "20261120T140509Z",
		"DTSTART":     "20261126T083000Z",
		"DTEND":       "20261126T084500Z",
		"SEQUENCE":    "2",
		"STATUS":      "CONFIRMED",
		"ORGANIZER":   "mailto:praxis@example.de",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("event properties (-want +got):\n%s", diff)
	}
	if raw := e.Get("SUMMARY"); raw != `Termin: Praxis Dr. Schneider\, Hausärzte\; Bremen` {
		t.Errorf("SUMMARY escaped as %q", raw)
	}
	if n := strings.Count(string(out), "\r\n "); n < 4 {
		t.Errorf("the long description was folded %d times", n)
	}
}

func TestICSCancel(t *testing.T) {
	out := notify.ICS([]notify.Event{{UID: "a", Start: start, Sequence: 1, Stamp: stamp}}, "cancel")
	cal := mustParseICS(t, out)
	e := cal.Subs[0]
	got := []string{cal.Get("METHOD"), e.Get("STATUS"), e.Get("SEQUENCE")}
	if diff := cmp.Diff([]string{"CANCEL", "CANCELLED", "1"}, got); diff != "" {
		t.Errorf("METHOD, STATUS, SEQUENCE (-want +got):\n%s", diff)
	}
	if e.Has("DTEND") {
		t.Errorf("DTEND without an end")
	}
}

// TestICSInjection: no value can end the event or start a property of its own.
func TestICSInjection(t *testing.T) {
	evil := "x\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:evil"
	out := notify.ICS([]notify.Event{{
		UID: evil, Summary: evil, Location: evil, Description: evil,
		Organizer: "a@b\r\nATTENDEE:mailto:c@d", Status: "CONFIRMED\r\nX:1", Start: start, Stamp: stamp,
	}}, "REQUEST\r\nX-EVIL:1")
	cal := mustParseICS(t, out)
	if len(cal.Subs) != 1 {
		t.Fatalf("%d events", len(cal.Subs))
	}
	e := cal.Subs[0]
	for _, p := range append(cal.Props, e.Props...) {
		switch p.Name {
		case "UID", "SUMMARY", "LOCATION", "DESCRIPTION":
			if unescape(p.Value) != "x\nEND:VEVENT\nBEGIN:VEVENT\nUID:evil" {
				t.Errorf("%s = %q", p.Name, p.Value)
			}
		case "ATTENDEE", "X", "X-EVIL":
			t.Errorf("injected %s", p.Name)
		}
	}
	if got := e.Get("ORGANIZER"); got != "mailto:a@bATTENDEE:mailto:c@d" {
		t.Errorf("ORGANIZER = %q", got)
	}
}

// TestICSFoldsRunes: folds never split a multi-byte character, whatever its width.
func TestICSFoldsRunes(t *testing.T) {
	for _, s := range []string{strings.Repeat("ä", 100), strings.Repeat("€", 70), strings.Repeat("😀", 60), "a" + strings.Repeat("😀", 60)} {
		out := notify.ICS([]notify.Event{{UID: "u", Summary: s, Start: start, Stamp: stamp}}, "")
		e := mustParseICS(t, out).Subs[0]
		if got := e.Text("SUMMARY"); got != s {
			t.Errorf("SUMMARY = %q, want %q", got, s)
		}
	}
}

// FuzzICS feeds arbitrary text: every physical line stays within 75 octets and valid
// UTF-8, and the text comes back after unfolding and unescaping, normalised as
// documented (line breaks as LF, no control characters but tab, invalid UTF-8 as U+FFFD).
func FuzzICS(f *testing.F) {
	f.Add("Termin", "Zeile 1\nZeile 2")
	f.Add("a,b;c\\d", "\r\n\r\\n\\N")
	f.Add(strings.Repeat("ü", 80), strings.Repeat("😀x", 40))
	f.Add("\x00\x1f\x7f\t", "\xff\xfe ok \xe2\x82")
	f.Fuzz(func(t *testing.T, summary, description string) {
		out := notify.ICS([]notify.Event{{UID: "u", Summary: summary, Description: description, Start: start, Stamp: stamp}}, notify.MethodRequest)
		lines := physicalLines(t, out)
		for _, l := range lines[1:] {
			if l == "" {
				t.Fatalf("empty physical line in %q", out)
			}
		}
		cal := mustParseICS(t, out)
		if len(cal.Subs) != 1 {
			t.Fatalf("%d events in %q", len(cal.Subs), out)
		}
		e := cal.Subs[0]
		if got, want := e.Text("SUMMARY"), normalize(summary); got != want {
			t.Errorf("SUMMARY = %q, want %q", got, want)
		}
		if got, want := e.Text("DESCRIPTION"), normalize(description); got != want {
			t.Errorf("DESCRIPTION = %q, want %q", got, want)
		}
	})
}

// normalize is what a TEXT value can hold of s.
func normalize(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' && r != '\n' || r == 0x7f {
			return -1
		}
		return r
	}, s)
}
