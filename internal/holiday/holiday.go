// Package holiday tells German public holidays by Bundesland, for deadlines (working
// days), emergency-service fees and consultation hours.
package holiday

import (
	"time"

	"github.com/rickar/cal/v2"
	"github.com/rickar/cal/v2/de"
)

var states = map[string][]*cal.Holiday{
	"BW": de.HolidaysBW, "BY": de.HolidaysBY, "BE": de.HolidaysBE, "BB": de.HolidaysBB, "HB": de.HolidaysHB,
	"HH": de.HolidaysHH, "HE": de.HolidaysHE, "MV": de.HolidaysMV, "NI": de.HolidaysNI, "NW": de.HolidaysNW,
	"RP": de.HolidaysRP, "SL": de.HolidaysSL, "SN": de.HolidaysSN, "ST": de.HolidaysST, "SH": de.HolidaysSH, "TH": de.HolidaysTH,
}

// Calendar holds the public holidays of one Bundesland. It is not safe for concurrent
// use; make one where it is needed.
type Calendar struct{ c *cal.Calendar }

// For returns the calendar of a Bundesland by its code ("HB", "BY" …); "" gives the
// nationwide holidays. ok is false for an unknown code.
func For(state string) (Calendar, bool) {
	h := de.Holidays
	if state != "" {
		var ok bool
		if h, ok = states[state]; !ok {
			return Calendar{}, false
		}
	}
	c := &cal.Calendar{}
	c.AddHoliday(h...)
	return Calendar{c}, true
}

// Is reports whether day is a public holiday.
func (c Calendar) Is(day time.Time) bool {
	if c.c == nil {
		return false
	}
	actual, _, _ := c.c.IsHoliday(day)
	return actual
}
