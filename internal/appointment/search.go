package appointment

import (
	"cmp"
	"slices"
	"sort"
	"time"

	"github.com/tresen/tresen/internal/berlin"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/holiday"
)

// Busy is a time a resource is taken: a booked appointment.
type Busy struct {
	Resource   string
	Start, End time.Time
}

// Query is what a patient or the team looks for.
type Query struct {
	Type   string // appointment type id
	Doctor string // resource id; "": any doctor who offers the type
	// Wishes, each optional: a day (YYYY-MM-DD), a clock time (HH:MM), a daypart
	// ("morning", "afternoon", "evening", "any").
	Day, Time, Daypart string
	Insurance          string // "gkv", "pkv", "self"; "": not known
	NewPatient         bool
	// Urgent requests may use the acute capacity.
	Urgent bool
	// Staff books for the practice: lead time, the assistant flag and the acute capacity
	// do not bind the team.
	Staff bool
	Limit int // how many to offer; 0: 3
	// Days is how far ahead to look; 0: 90.
	Days int
}

// Slot is a free appointment to offer.
type Slot struct {
	Type      string    `json:"type"`
	Doctor    string    `json:"doctor"`
	Resources []string  `json:"resources,omitempty"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
}

// ID names a slot: doctor and start, enough to book it again and to see it was taken.
func (s Slot) ID() string { return s.Doctor + "|" + s.Start.UTC().Format(time.RFC3339) }

// Search returns free slots for q, the best first: on the wished day, nearest the wished
// time, in the wished daypart, otherwise the earliest; at most one slot per doctor and
// hour, so that the offers differ. busy are the booked appointments of the period.
func (s *Schedule) Search(q Query, busy []Busy, now time.Time) ([]Slot, error) {
	t, ok := s.Type(q.Type)
	if !ok {
		return nil, errs.Field("type", "unbekannte Terminart %q", q.Type)
	}
	switch {
	case !q.Staff && !t.Assistant:
		return nil, errs.E(errs.Forbidden, "Termine der Art „%s“ vergibt nur das Praxisteam", t.Name)
	case !q.Staff && q.NewPatient && !t.NewPatients:
		return nil, errs.E(errs.Forbidden, "Termine der Art „%s“ sind für Patientinnen und Patienten der Praxis", t.Name)
	case q.Insurance != "" && len(t.Insurances) > 0 && !slices.Contains(t.Insurances, q.Insurance):
		return nil, errs.E(errs.Forbidden, "Termine der Art „%s“ gibt es nicht für diese Versicherung", t.Name)
	}
	doctors := t.Doctors
	if len(doctors) == 0 {
		for _, r := range s.Resources {
			if r.Kind == Doctor {
				doctors = append(doctors, r.ID)
			}
		}
	}
	if q.Doctor != "" {
		if !slices.Contains(doctors, q.Doctor) {
			return nil, errs.Field("doctor", "diese Terminart bietet die gewünschte Ärztin oder der gewünschte Arzt nicht an")
		}
		doctors = []string{q.Doctor}
	}
	var wishDay time.Time
	if q.Day != "" {
		d, err := time.ParseInLocation(time.DateOnly, q.Day, berlin.Location)
		if err != nil {
			return nil, errs.Field("day", "kein Datum im Format JJJJ-MM-TT")
		}
		wishDay = d
	}
	wishTime := -1
	if q.Time != "" {
		m, ok := minutes(q.Time)
		if !ok {
			return nil, errs.Field("time", "keine Uhrzeit im Format HH:MM")
		}
		wishTime = m
	}
	limit := cmp.Or(q.Limit, 3)
	days := cmp.Or(q.Days, 90)

	now = now.In(berlin.Location)
	earliest := now
	if !q.Staff {
		earliest = now.Add(time.Duration(t.LeadHours) * time.Hour)
	}
	if !slices.IsSortedFunc(busy, byStart) {
		busy = slices.Clone(busy)
		slices.SortFunc(busy, byStart)
	}
	hours := s.parsedHours()
	holidays, _ := holiday.For(s.State)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, berlin.Location)

	type candidate struct {
		slot Slot
		rank ranking
	}
	var found []candidate
	// Look at the wished day first; then from today on, until enough slots are found
	// beyond which no better one can come.
	order := make([]time.Time, 0, days+1)
	if !wishDay.IsZero() && !wishDay.Before(today) {
		order = append(order, wishDay)
	}
	for i := 0; i < days; i++ {
		d := today.AddDate(0, 0, i)
		if !d.Equal(wishDay) {
			order = append(order, d)
		}
	}
	for _, day := range order {
		if len(found) >= limit*4 && !day.Equal(wishDay) {
			break
		}
		if holidays.Is(day) || s.closed("", day) {
			continue
		}
		taken := index(onDay(busy, day))
		for _, doc := range doctors {
			if s.closed(doc, day) || slices.ContainsFunc(t.Resources, func(r string) bool { return s.closed(r, day) }) {
				continue
			}
			wh := hours[weekHours{doc, day.Weekday()}]
			open, acute := wh.open, wh.acute
			for _, o := range open {
				for m := o.from; m+t.Minutes <= o.to; m += t.Minutes {
					start := day.Add(time.Duration(m) * time.Minute)
					end := start.Add(time.Duration(t.Minutes) * time.Minute)
					if start.Before(earliest) {
						continue
					}
					inAcute := slices.ContainsFunc(acute, func(a span) bool { return m < a.to && a.from < m+t.Minutes })
					if inAcute && !(q.Staff || q.Urgent && t.Acute) {
						continue
					}
					if !(q.Urgent && t.Acute) && q.Daypart != "" && q.Daypart != "any" && daypart(m) != q.Daypart && !day.Equal(wishDay) {
						continue
					}
					if taken.overlaps(doc, start, end) || slices.ContainsFunc(t.Resources, func(r string) bool { return taken.overlaps(r, start, end) }) {
						continue
					}
					found = append(found, candidate{
						slot: Slot{Type: t.ID, Doctor: doc, Resources: t.Resources, Start: start, End: end},
						rank: ranking{
							otherDay:     !wishDay.IsZero() && !day.Equal(wishDay),
							fromTime:     distance(m, wishTime),
							otherDaypart: q.Daypart != "" && q.Daypart != "any" && daypart(m) != q.Daypart,
							start:        start,
						},
					})
				}
			}
		}
	}
	slices.SortStableFunc(found, func(a, b candidate) int { return a.rank.compare(b.rank) })
	var out []Slot
	used := map[string]bool{}
	for _, c := range found {
		key := c.slot.Doctor + c.slot.Start.Format("2006-01-02T15")
		if used[key] {
			continue
		}
		used[key] = true
		out = append(out, c.slot)
		if len(out) == limit {
			break
		}
	}
	return out, nil
}

// ranking orders candidates: the wished day first, then nearness to the wished time, then
// the wished daypart, then the earliest.
type ranking struct {
	otherDay     bool
	fromTime     int // minutes from the wished time; 0 without one
	otherDaypart bool
	start        time.Time
}

func (a ranking) compare(b ranking) int {
	return cmp.Or(
		compareBool(a.otherDay, b.otherDay),
		cmp.Compare(a.fromTime, b.fromTime),
		compareBool(a.otherDaypart, b.otherDaypart),
		a.start.Compare(b.start),
	)
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

func distance(m, wish int) int {
	if wish < 0 {
		return 0
	}
	if m < wish {
		return wish - m
	}
	return m - wish
}

// daypart names the part of the day a start (minutes after midnight) falls in.
func daypart(m int) string {
	switch {
	case m < 12*60:
		return "morning"
	case m < 17*60:
		return "afternoon"
	}
	return "evening"
}

type weekHours struct {
	resource string
	weekday  time.Weekday
}

type daySpans struct{ open, acute []span }

// parsedHours returns the open and acute spans by resource and weekday. The schedule
// was validated, so the spans parse.
func (s *Schedule) parsedHours() map[weekHours]daySpans {
	out := make(map[weekHours]daySpans, len(s.Hours))
	for _, h := range s.Hours {
		open, _ := spans("", h.Open)
		acute, _ := spans("", h.Acute)
		out[weekHours{h.Resource, h.Weekday}] = daySpans{open, acute}
	}
	return out
}

// closed reports whether a resource ("" the practice) is closed on a day.
func (s *Schedule) closed(resource string, day time.Time) bool {
	d := day.Format(time.DateOnly)
	for _, c := range s.Closures {
		if c.Resource == resource && c.From <= d && d <= c.To {
			return true
		}
	}
	return false
}

func byStart(a, b Busy) int { return a.Start.Compare(b.Start) }

// longest bounds how long before a day a booking can start and still reach into it.
const longest = 24 * time.Hour

// onDay returns the bookings (sorted by start) that can overlap a day: a binary search,
// so that a year of bookings costs a search only what the days it looks at hold.
func onDay(busy []Busy, day time.Time) []Busy {
	from, to := day.Add(-longest), day.AddDate(0, 0, 1)
	lo, _ := slices.BinarySearchFunc(busy, from, func(b Busy, t time.Time) int { return b.Start.Compare(t) })
	hi, _ := slices.BinarySearchFunc(busy, to, func(b Busy, t time.Time) int { return b.Start.Compare(t) })
	return busy[lo:hi]
}

// busyIndex holds booked intervals per resource, sorted by start.
type busyIndex map[string][]Busy

// index groups bookings, sorted by start, by resource; each list stays sorted.
func index(busy []Busy) busyIndex {
	ix := busyIndex{}
	for _, b := range busy {
		ix[b.Resource] = append(ix[b.Resource], b)
	}
	return ix
}

// overlaps reports whether the resource is taken at any time in [start, end).
func (ix busyIndex) overlaps(resource string, start, end time.Time) bool {
	list := ix[resource]
	// The first booking that ends after start is the only candidate that can overlap
	// from before; bookings are not nested, so scanning on from the one that starts
	// before end suffices.
	i := sort.Search(len(list), func(i int) bool { return list[i].Start.After(start) || list[i].Start.Equal(start) })
	if i > 0 && list[i-1].End.After(start) {
		return true
	}
	return i < len(list) && list[i].Start.Before(end)
}
