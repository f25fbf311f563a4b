package holiday_test

import (
	"testing"
	"time"

	"github.com/tresen/tresen/internal/holiday"
)

func TestHolidays(t *testing.T) {
	day := func(s string) time.Time {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	tests := []struct {
		state, day string
		want       bool
	}{
		{"", "2026-12-25", true},  // 1. Weihnachtstag, everywhere
		{"", "2026-12-24", false}, // Heiligabend is none
		{"BY", "2026-01-06", true},
		{"HB", "2026-01-06", false},
		{"HB", "2026-10-31", true}, // Reformationstag in Bremen
		{"", "2026-10-31", false},
		{"NW", "2026-06-04", true}, // Fronleichnam
	}
	for _, tc := range tests {
		c, ok := holiday.For(tc.state)
		if !ok {
			t.Fatalf("state %q unknown", tc.state)
		}
		if got := c.Is(day(tc.day)); got != tc.want {
			t.Errorf("%s %s: holiday = %t, want %t", tc.state, tc.day, got, tc.want)
		}
	}
	if _, ok := holiday.For("XX"); ok {
		t.Error("unknown state accepted")
	}
}
