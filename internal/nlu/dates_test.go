package nlu

import (
	"testing"
	"time"
)

// TestDates holds the date rules to examples around weekdays and the turn of the year.
func TestDates(t *testing.T) {
	loc := monday.Location()
	wed := time.Date(2026, 12, 30, 10, 0, 0, 0, loc) // Wednesday before New Year
	tests := []struct {
		now        time.Time
		text, date string
		birth      string
		clock      string
	}{
		{monday, "morgen", "2026-11-24", "", ""},
		{monday, "übermorgen", "2026-11-25", "", ""},
		{monday, "am montag", "2026-11-30", "", ""},
		{monday, "seit montag", "2026-11-16", "", ""},
		{monday, "seit letztem freitag", "2026-11-20", "", ""},
		{monday, "nächste woche dienstag", "2026-12-01", "", ""},
		{monday, "dienstag nächster woche", "2026-12-01", "", ""},
		{monday, "übernächste woche mittwoch", "2026-12-09", "", ""},
		{monday, "diese woche freitag", "2026-11-27", "", ""},
		{monday, "in zwei wochen", "2026-12-07", "", ""},
		{monday, "irgendwann nächste woche", "", "", ""},
		{monday, "am fünfundzwanzigsten", "2026-11-25", "", ""},
		{monday, "am zwanzigsten", "2026-12-20", "", ""},
		{wed, "am zweiten januar", "2027-01-02", "", ""},
		{wed, "morgen", "2026-12-31", "", ""},
		{wed, "am freitag", "2027-01-01", "", ""},
		{monday, "geboren 12.3.84", "", "1984-03-12", ""},
		{monday, "geboren am 5.6.05", "", "2005-06-05", ""},
		{monday, "am 30.11. um 10:00", "2026-11-30", "", "10:00"},
		{monday, "um halb acht abends", "", "", "19:30"},
		{monday, "um drei", "", "", "15:00"},
		{monday, "um acht", "", "", "08:00"},
		{monday, "dreiviertel zehn", "", "", "09:45"},
		{monday, "viertel vor neun", "", "", "08:45"},
		{monday, "am dienstag äh nein am mittwoch", "2026-11-25", "", ""},
	}
	u := &Understander{}
	for _, tc := range tests {
		r := u.Understand(tc.text, tc.now)
		if r.Slots.Date != tc.date || r.Slots.BirthDate != tc.birth || r.Slots.Time != tc.clock {
			t.Errorf("%q at %s: date %q birth %q time %q, want %q %q %q", tc.text, tc.now.Format("Mon 2.1."),
				r.Slots.Date, r.Slots.BirthDate, r.Slots.Time, tc.date, tc.birth, tc.clock)
		}
	}
}
