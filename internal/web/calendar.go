package web

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tresen/tresen/internal/appointment"
	"github.com/tresen/tresen/internal/berlin"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/holiday"
	"github.com/tresen/tresen/internal/nlu"
	"github.com/tresen/tresen/internal/notify"
	"github.com/tresen/tresen/internal/person"
	"github.com/tresen/tresen/internal/tenant"
)

// practice returns the session's tenant when it is a practice; calendar, inbox and the
// assistant's settings do not exist for pharmacies.
func (s *Server) practice(r *http.Request) (tenant.Tenant, error) {
	t, err := s.db.FindTenantByID(r.Context(), sessionFrom(r.Context()).TenantID)
	if err != nil {
		return t, err
	}
	if t.Kind != tenant.Practice {
		return t, errs.E(errs.NotFound, "Diese Seite gibt es nur für Arztpraxen.")
	}
	return t, nil
}

// schedule returns the practice's calendar setup; before the owner set it up, an empty
// one, so that the pages can say so instead of failing.
func (s *Server) schedule(ctx context.Context, tenantID string) (sched appointment.Schedule, configured bool, err error) {
	sched, err = s.db.Schedule(ctx, tenantID)
	if errs.Is(err, errs.NotFound) {
		return appointment.Schedule{}, false, nil
	}
	return sched, err == nil, err
}

// Labels of the calendar pages.
var (
	weekdayNames = [...]string{"Sonntag", "Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag"}
	weekdayShort = [...]string{"So.", "Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa."}
	monthNames   = [...]string{"", "Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"}
	statusLabels = map[string]string{appointment.Booked: "gebucht", appointment.Cancelled: "abgesagt"}
	sourceLabels = map[string]string{"assistant": "Assistent", "staff": "Praxisteam", "fhir": "Praxissystem"}
)

const (
	// staffSource marks appointments the team booked.
	staffSource   = "staff"
	calendarTitle = "Kalender"
)

// longDay says a day as "Montag, 3. August 2026".
func longDay(d time.Time) string {
	return fmt.Sprintf("%s, %d. %s %d", weekdayNames[d.Weekday()], d.Day(), monthNames[d.Month()], d.Year())
}

// shortDay says a day as "Mo., 03.08.".
func shortDay(d time.Time) string { return weekdayShort[d.Weekday()] + " " + d.Format("02.01.") }

// midnight returns the start of t's day in Berlin.
func midnight(t time.Time) time.Time {
	t = t.In(berlin.Location)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, berlin.Location)
}

// clock reads a time of day ("08:00", also "8:00") as minutes after midnight; "24:00"
// is the end of the day.
func clock(s string) (int, bool) {
	if s == "24:00" {
		return 24 * 60, true
	}
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, false
	}
	return t.Hour()*60 + t.Minute(), true
}

func hhmm(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

// minuteSpan is a part of a day in minutes after midnight, [from, to).
type minuteSpan struct{ from, to int }

func parseSpans(in []appointment.Interval) []minuteSpan {
	var out []minuteSpan
	for _, iv := range in {
		f, ok1 := clock(iv.From)
		t, ok2 := clock(iv.To)
		if ok1 && ok2 && f < t {
			out = append(out, minuteSpan{f, t})
		}
	}
	slices.SortFunc(out, func(a, b minuteSpan) int { return a.from - b.from })
	return out
}

func intervalText(in []appointment.Interval) string {
	parts := make([]string, 0, len(in))
	for _, iv := range in {
		parts = append(parts, iv.From+"-"+iv.To)
	}
	return strings.Join(parts, ", ")
}

// hoursOf returns a resource's consultation hours on a weekday.
func hoursOf(sched *appointment.Schedule, resource string, wd time.Weekday) appointment.Hours {
	for _, h := range sched.Hours {
		if h.Resource == resource && h.Weekday == wd {
			return h
		}
	}
	return appointment.Hours{Resource: resource, Weekday: wd}
}

// closedReason says why a resource does not work on a day, a public holiday or a closure
// of it or of the practice; "" when it works.
func closedReason(sched *appointment.Schedule, holidays holiday.Calendar, resource string, day time.Time) string {
	if holidays.Is(day) {
		return "Feiertag"
	}
	d := day.Format(time.DateOnly)
	for _, c := range sched.Closures {
		if (c.Resource == "" || c.Resource == resource) && c.From <= d && d <= c.To {
			switch {
			case c.Reason != "":
				return c.Reason
			case c.Resource == "":
				return "Praxis geschlossen"
			}
			return "abwesend"
		}
	}
	return ""
}

// daySpan returns the part of a day an appointment takes, in minutes after midnight.
func daySpan(a appointment.Appointment, day time.Time) minuteSpan {
	next := day.AddDate(0, 0, 1)
	s, e := a.Start.In(berlin.Location), a.End.In(berlin.Location)
	span := minuteSpan{0, 24 * 60}
	if s.After(day) {
		span.from = s.Hour()*60 + s.Minute()
	}
	if e.Before(next) {
		span.to = e.Hour()*60 + e.Minute()
	}
	return span
}

// calView is what the calendar shows: a day or its week, of one doctor or all.
type calView struct {
	Day    time.Time // midnight, Berlin
	Doctor string    // "": every doctor (the week view shows the first)
	Week   bool
}

// parseView reads the view from the query (day, doctor, view) or, after a form, from the
// form's view_day, view_doctor and view.
func parseView(day, doctor, view string, now time.Time, sched *appointment.Schedule) (calView, error) {
	v := calView{Day: midnight(now), Doctor: doctor, Week: view == "week"}
	if day != "" {
		d, err := time.ParseInLocation(time.DateOnly, day, berlin.Location)
		if err != nil {
			return v, errs.Field("day", "Bitte ein Datum im Format JJJJ-MM-TT wählen.")
		}
		v.Day = d
	}
	if doctor != "" {
		if r, ok := sched.Resource(doctor); !ok || r.Kind != appointment.Doctor {
			v.Doctor = ""
		}
	}
	return v, nil
}

// query is the view as a query string.
func (v calView) query() string {
	q := url.Values{"day": {v.Day.Format(time.DateOnly)}}
	if v.Doctor != "" {
		q.Set("doctor", v.Doctor)
	}
	if v.Week {
		q.Set("view", "week")
	}
	return q.Encode()
}

func (v calView) link() string { return "/calendar?" + v.query() }

// calendarData is the calendar page: navigation, the columns of the day or week, the
// booking form and the free-slot finder.
type calendarData struct {
	Configured bool
	Day        string // YYYY-MM-DD
	Heading    string // "Montag, 3. August 2026" or "Woche vom …"
	Doctor     string // the doctor filter
	Week       bool
	Prev, Next string // links
	Today      string
	DayLink    string // the same day in the day view
	WeekLink   string // its week
	Doctors    []appointment.Resource
	Types      []appointment.Type
	Columns    []calColumn
	Book       bookForm
	Find       findData
}

// calColumn is one doctor's day (day view) or one day of a doctor (week view).
type calColumn struct {
	Title  string
	Link   string // week view: the day
	Hours  string // "08:00-12:00, 15:00-18:00"
	Acute  string
	Closed string
	Rows   []calRow
}

// calRow is an appointment or a free part of the consultation hours.
type calRow struct {
	From, To    string
	Free        bool
	Acute       bool // the free time is kept for acute cases
	Appointment *calAppointment
}

// calAppointment is an appointment as the calendar shows it.
type calAppointment struct {
	ID         string
	Patient    appointment.Patient
	Type       string // its name
	Doctor     string // resource id
	DoctorName string
	Status     string
	Cancelled  bool
	Source     string
	Note       string
	Date, Time string // for the move form
}

// bookForm is the input of the booking form, kept when it fails.
type bookForm struct {
	Type, Doctor, Date, Time string
	Name, BirthDate, Phone   string
	Email                    string
	Notify                   string // the channel the patient agreed to: "email", "sms" or ""
	Note                     string
	Outside                  bool
	Field                    string // the field at fault
}

func bookFormFrom(r *http.Request) bookForm {
	f := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	return bookForm{Type: f("type"), Doctor: f("doctor"), Date: f("date"), Time: f("time"), Name: f("name"),
		BirthDate: f("birth_date"), Phone: f("phone"), Email: f("email"), Notify: f("notify"), Note: f("note"),
		Outside: r.PostFormValue("outside") == "yes"}
}

// findData is the free-slot finder: what was asked, and the slots found.
type findData struct {
	Type, Doctor, Name string
	Searched           bool
	Error              string
	Slots              []findSlot
}

type findSlot struct {
	Type, Doctor, Date, Time string
	Label                    string // "Mo., 03.08.2026, 08:00 Uhr"
	DoctorName               string
}

// doctors returns the schedule's doctors, in its order.
func doctors(sched *appointment.Schedule) []appointment.Resource {
	var out []appointment.Resource
	for _, r := range sched.Resources {
		if r.Kind == appointment.Doctor {
			out = append(out, r)
		}
	}
	return out
}

// calendarPage renders the calendar for a view, with the booking form and finder as given.
func (s *Server) calendarPage(w http.ResponseWriter, r *http.Request, t tenant.Tenant, sched appointment.Schedule, configured bool,
	v calView, status int, p page, book bookForm, find findData) error {
	d := calendarData{Configured: configured, Day: v.Day.Format(time.DateOnly), Doctor: v.Doctor, Week: v.Week,
		Doctors: doctors(&sched), Types: sched.Types, Book: book, Find: find}
	step := 1
	from, to := v.Day, v.Day.AddDate(0, 0, 1)
	if v.Week {
		step = 7
		from = v.Day.AddDate(0, 0, -((int(v.Day.Weekday()) + 6) % 7)) // Monday
		to = from.AddDate(0, 0, 6)                                    // through Saturday
		d.Heading = "Woche vom " + from.Format("02.01.") + " bis " + to.AddDate(0, 0, -1).Format("02.01.2006")
	} else {
		d.Heading = longDay(v.Day)
	}
	d.Prev = calView{v.Day.AddDate(0, 0, -step), v.Doctor, v.Week}.link()
	d.Next = calView{v.Day.AddDate(0, 0, step), v.Doctor, v.Week}.link()
	d.Today = calView{midnight(s.db.Now()), v.Doctor, v.Week}.link()
	d.DayLink = calView{v.Day, v.Doctor, false}.link()
	d.WeekLink = calView{v.Day, v.Doctor, true}.link()
	if d.Book.Date == "" {
		d.Book.Date = d.Day
	}

	appts, err := s.db.ListAppointments(r.Context(), t.ID, from, to)
	if err != nil {
		return err
	}
	holidays, _ := holiday.For(sched.State)
	names := map[string]string{}
	for _, ty := range sched.Types {
		names[ty.ID] = ty.Name
	}
	if v.Week {
		doc, ok := sched.Resource(v.Doctor)
		if !ok && len(d.Doctors) > 0 {
			doc = d.Doctors[0]
			d.Doctor = doc.ID
		}
		if doc.ID != "" {
			for day := from; day.Before(to); day = day.AddDate(0, 0, 1) {
				c := dayColumn(&sched, holidays, names, doc, day, appts)
				c.Title = shortDay(day)
				c.Link = calView{day, doc.ID, false}.link()
				d.Columns = append(d.Columns, c)
			}
		}
	} else {
		shown := map[string]bool{}
		for _, doc := range d.Doctors {
			shown[doc.ID] = true
			if v.Doctor == "" || v.Doctor == doc.ID {
				d.Columns = append(d.Columns, dayColumn(&sched, holidays, names, doc, v.Day, appts))
			}
		}
		// Appointments of a doctor no longer in the schedule stay visible.
		for _, a := range appts {
			if !shown[a.Doctor] && v.Doctor == "" {
				shown[a.Doctor] = true
				d.Columns = append(d.Columns, dayColumn(&sched, holidays, names, appointment.Resource{ID: a.Doctor, Name: a.Doctor}, v.Day, appts))
			}
		}
	}
	p.Title, p.Tenant, p.Data = calendarTitle, &t, d
	s.render(w, r, status, "calendar", p)
	return nil
}

// dayColumn lays out one doctor's day: the appointments and the free parts of the
// consultation hours, in time order.
func dayColumn(sched *appointment.Schedule, holidays holiday.Calendar, typeNames map[string]string,
	doc appointment.Resource, day time.Time, appts []appointment.Appointment) calColumn {
	c := calColumn{Title: doc.Name, Closed: closedReason(sched, holidays, doc.ID, day)}
	h := hoursOf(sched, doc.ID, day.Weekday())
	c.Hours, c.Acute = intervalText(h.Open), intervalText(h.Acute)
	next := day.AddDate(0, 0, 1)
	var busy []minuteSpan
	type sortable struct {
		at  int
		row calRow
	}
	var rows []sortable
	for _, a := range appts {
		if a.Doctor != doc.ID || !a.Start.Before(next) || !a.End.After(day) {
			continue
		}
		span := daySpan(a, day)
		start := a.Start.In(berlin.Location)
		name := typeNames[a.Type]
		if name == "" {
			name = a.Type
		}
		source := sourceLabels[a.Source]
		if source == "" {
			source = a.Source
		}
		rows = append(rows, sortable{span.from, calRow{From: hhmm(span.from), To: hhmm(span.to), Appointment: &calAppointment{
			ID: a.ID, Patient: a.Patient, Type: name, Doctor: a.Doctor, DoctorName: doc.Name,
			Status: statusLabels[a.Status], Cancelled: a.Status == appointment.Cancelled, Source: source, Note: a.Note,
			Date: start.Format(time.DateOnly), Time: start.Format("15:04"),
		}}})
		if a.Status == appointment.Booked {
			busy = append(busy, span)
		}
	}
	if c.Closed == "" {
		for _, g := range freeGaps(parseSpans(h.Open), parseSpans(h.Acute), busy) {
			rows = append(rows, sortable{g.from, calRow{From: hhmm(g.from), To: hhmm(g.to), Free: true, Acute: g.acute}})
		}
	}
	slices.SortStableFunc(rows, func(a, b sortable) int {
		if a.at != b.at {
			return a.at - b.at
		}
		// At the same minute an appointment comes before free time.
		switch {
		case a.row.Free == b.row.Free:
			return 0
		case b.row.Free:
			return -1
		}
		return 1
	})
	for _, r := range rows {
		c.Rows = append(c.Rows, r.row)
	}
	return c
}

type gap struct {
	minuteSpan
	acute bool
}

// freeGaps returns the parts of the open spans that no booking takes, split where the
// acute capacity begins and ends.
func freeGaps(open, acute, busy []minuteSpan) []gap {
	slices.SortFunc(busy, func(a, b minuteSpan) int { return a.from - b.from })
	var free []minuteSpan
	for _, o := range open {
		at := o.from
		for _, b := range busy {
			if b.to <= at || b.from >= o.to {
				continue
			}
			if b.from > at {
				free = append(free, minuteSpan{at, b.from})
			}
			at = max(at, b.to)
		}
		if at < o.to {
			free = append(free, minuteSpan{at, o.to})
		}
	}
	var out []gap
	for _, f := range free {
		cuts := []int{f.from, f.to}
		for _, a := range acute {
			for _, m := range []int{a.from, a.to} {
				if f.from < m && m < f.to {
					cuts = append(cuts, m)
				}
			}
		}
		slices.Sort(cuts)
		cuts = slices.Compact(cuts)
		for i := 1; i < len(cuts); i++ {
			piece := minuteSpan{cuts[i-1], cuts[i]}
			inAcute := slices.ContainsFunc(acute, func(a minuteSpan) bool { return a.from <= piece.from && piece.to <= a.to })
			out = append(out, gap{piece, inAcute})
		}
	}
	return out
}

// handleCalendar shows a day or a week of the practice's calendar, and with find_type
// the next free slots of that type.
func (s *Server) handleCalendar(w http.ResponseWriter, r *http.Request) error {
	t, err := s.practice(r)
	if err != nil {
		return err
	}
	sched, configured, err := s.schedule(r.Context(), t.ID)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	v, err := parseView(q.Get("day"), q.Get("doctor"), q.Get("view"), s.db.Now(), &sched)
	if err != nil {
		return err
	}
	book := bookForm{Doctor: v.Doctor}
	find := findData{Type: q.Get("find_type"), Doctor: q.Get("find_doctor"), Name: strings.TrimSpace(q.Get("find_name"))}
	if len(sched.Types) > 0 {
		book.Type = sched.Types[0].ID
	}
	if find.Type != "" {
		if err := s.findSlots(r.Context(), t.ID, &sched, v, &find); err != nil {
			return err
		}
	}
	return s.calendarPage(w, r, t, sched, configured, v, http.StatusOK, page{}, book, find)
}

// findLimit is how many free slots the finder offers.
const findLimit = 6

// findSlots fills in the next free slots for the finder's type and doctor, those on the
// shown day first when it lies ahead. The team is not bound by lead times, the assistant
// flag or the acute capacity.
func (s *Server) findSlots(ctx context.Context, tenantID string, sched *appointment.Schedule, v calView, f *findData) error {
	f.Searched = true
	now := s.db.Now()
	q := appointment.Query{Type: f.Type, Doctor: f.Doctor, Staff: true, Limit: findLimit}
	if !v.Day.Before(midnight(now)) {
		q.Day = v.Day.Format(time.DateOnly)
	}
	// Search looks 90 days ahead, and at the wished day wherever it lies.
	until := now.AddDate(0, 0, 91)
	if end := v.Day.AddDate(0, 0, 1); q.Day != "" && end.After(until) {
		until = end
	}
	busy, err := s.db.BusyTimes(ctx, tenantID, now, until)
	if err != nil {
		return err
	}
	slots, err := sched.Search(q, busy, now)
	if errs.Is(err, errs.Invalid) || errs.Is(err, errs.Forbidden) {
		f.Error = fieldMessage(err)
		return nil
	}
	if err != nil {
		return err
	}
	for _, sl := range slots {
		start := sl.Start.In(berlin.Location)
		doc, _ := sched.Resource(sl.Doctor)
		f.Slots = append(f.Slots, findSlot{Type: sl.Type, Doctor: sl.Doctor, Date: start.Format(time.DateOnly), Time: start.Format("15:04"),
			Label: weekdayShort[start.Weekday()] + " " + start.Format("02.01.2006, 15:04") + " Uhr", DoctorName: doc.Name})
	}
	if len(f.Slots) == 0 {
		f.Error = "In den nächsten 90 Tagen ist kein passender Termin frei."
	}
	return nil
}

// fieldMessage is an error's message for a form, without the field name that
// errs.Message puts first: the form marks the field itself.
func fieldMessage(err error) string {
	var e *errs.Error
	if errors.As(err, &e) && e.Kind != errs.Internal {
		return e.Message
	}
	return errs.Message(err)
}

func fieldOf(err error) string {
	var e *errs.Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// viewFrom reads the view the calendar had when a form was sent.
func (s *Server) viewFrom(r *http.Request, sched *appointment.Schedule) calView {
	v, err := parseView(r.PostFormValue("view_day"), r.PostFormValue("view_doctor"), r.PostFormValue("view"), s.db.Now(), sched)
	if err != nil {
		v, _ = parseView("", "", "", s.db.Now(), sched)
	}
	return v
}

// startOf reads a date and a time of day in Berlin.
func startOf(date, tod string) (time.Time, error) {
	d, err := time.ParseInLocation(time.DateOnly, date, berlin.Location)
	if err != nil {
		return d, errs.Field("date", "Bitte ein Datum wählen.")
	}
	m, ok := clock(tod)
	if !ok || m >= 24*60 {
		return d, errs.Field("time", "Bitte eine Uhrzeit im Format HH:MM angeben.")
	}
	return time.Date(d.Year(), d.Month(), d.Day(), m/60, m%60, 0, 0, berlin.Location), nil
}

// offers checks that a doctor of the schedule offers an appointment type.
func offers(sched *appointment.Schedule, ty appointment.Type, doctor string) error {
	doc, ok := sched.Resource(doctor)
	if !ok || doc.Kind != appointment.Doctor {
		return errs.Field("doctor", "Bitte eine Ärztin oder einen Arzt der Praxis wählen.")
	}
	if len(ty.Doctors) > 0 && !slices.Contains(ty.Doctors, doctor) {
		return errs.Field("doctor", "%s bietet „%s“ nicht an.", doc.Name, ty.Name)
	}
	return nil
}

// withinHours checks that [start, end) lies in the doctor's consultation hours on a day
// the practice, the doctor and the rooms and devices it needs work.
func withinHours(sched *appointment.Schedule, doctor string, needs []string, start, end time.Time) error {
	day := midnight(start)
	holidays, _ := holiday.For(sched.State)
	doc, _ := sched.Resource(doctor)
	for _, res := range append([]string{doctor}, needs...) {
		if why := closedReason(sched, holidays, res, day); why != "" {
			name := doc.Name
			if r, ok := sched.Resource(res); ok {
				name = r.Name
			}
			return errs.Field("date", "Am %s ist %s nicht verfügbar (%s). Wer trotzdem buchen will, setzt das Häkchen „außerhalb der Sprechzeiten“.",
				start.Format("02.01.2006"), name, why)
		}
	}
	from := start.In(berlin.Location)
	to := end.In(berlin.Location)
	m, n := from.Hour()*60+from.Minute(), to.Hour()*60+to.Minute()
	if !to.Before(day.AddDate(0, 0, 1)) {
		n = 24*60 + 1 // past midnight: outside any hours
		if to.Equal(day.AddDate(0, 0, 1)) {
			n = 24 * 60
		}
	}
	h := hoursOf(sched, doctor, day.Weekday())
	if slices.ContainsFunc(parseSpans(h.Open), func(o minuteSpan) bool { return o.from <= m && n <= o.to }) {
		return nil
	}
	hours := intervalText(h.Open)
	if hours == "" {
		hours = "keine Sprechzeiten"
	}
	return errs.Field("time", "%s–%s Uhr liegt außerhalb der Sprechzeiten von %s am %s (%s). Wer trotzdem buchen will, setzt das Häkchen „außerhalb der Sprechzeiten“.",
		hhmm(m), hhmm(min(n, 24*60)), doc.Name, weekdayNames[day.Weekday()], hours)
}

// maxPatientField bounds what the team types into a patient field or note.
const maxPatientField = 500

// booking turns the booking form into an appointment the team books, or says what is
// wrong with it.
func (s *Server) booking(sched *appointment.Schedule, f bookForm) (appointment.Appointment, error) {
	ty, ok := sched.Type(f.Type)
	if !ok {
		return appointment.Appointment{}, errs.Field("type", "Bitte eine Terminart wählen.")
	}
	if err := offers(sched, ty, f.Doctor); err != nil {
		return appointment.Appointment{}, err
	}
	start, err := startOf(f.Date, f.Time)
	if err != nil {
		return appointment.Appointment{}, err
	}
	switch {
	case f.Name == "":
		return appointment.Appointment{}, errs.Field("name", "Bitte den Namen der Patientin oder des Patienten angeben.")
	case len(f.Name) > maxPatientField || len(f.Phone) > maxPatientField || len(f.Note) > 4*maxPatientField:
		return appointment.Appointment{}, errs.Field("note", "Die Angaben sind zu lang.")
	}
	switch {
	case len(f.Email) > maxPatientField:
		return appointment.Appointment{}, errs.Field("email", "Die E-Mail-Adresse ist zu lang.")
	case f.Notify == appointment.NotifyEmail && !validEmail(f.Email):
		return appointment.Appointment{}, errs.Field("email", "Für eine Bestätigung per E-Mail bitte eine gültige E-Mail-Adresse angeben.")
	case f.Notify == appointment.NotifySMS && f.Phone == "":
		return appointment.Appointment{}, errs.Field("phone", "Für eine Bestätigung per SMS bitte eine Handynummer angeben.")
	case f.Notify != "" && f.Notify != appointment.NotifyEmail && f.Notify != appointment.NotifySMS:
		return appointment.Appointment{}, errs.Field("notify", "Unbekannter Weg für die Bestätigung.")
	}
	phone := f.Phone
	if f.Notify == appointment.NotifySMS {
		e164, ok := nlu.PhoneE164(f.Phone)
		if !ok {
			return appointment.Appointment{}, errs.Field("phone", "Für eine Bestätigung per SMS bitte eine gültige Handynummer angeben.")
		}
		phone = e164
	}
	birth := ""
	if f.BirthDate != "" {
		d, err := person.ParseBirthDate(f.BirthDate, s.db.Now())
		if err != nil {
			return appointment.Appointment{}, errs.Field("birth_date", "Geburtsdatum: %s", fieldMessage(err))
		}
		birth = d.Format(time.DateOnly)
	}
	end := start.Add(time.Duration(ty.Minutes) * time.Minute)
	if !f.Outside {
		if err := withinHours(sched, f.Doctor, ty.Resources, start, end); err != nil {
			return appointment.Appointment{}, err
		}
	}
	return appointment.Appointment{Type: ty.ID, Doctor: f.Doctor, Resources: ty.Resources, Start: start, End: end,
		Patient: appointment.Patient{Name: f.Name, BirthDate: birth, Phone: phone, Email: f.Email, Notify: f.Notify}, Note: f.Note, Source: staffSource}, nil
}

// handleAppointmentCreate books an appointment for the team. A time taken meanwhile or a
// mistake in the form shows the calendar again with the form as it was sent.
func (s *Server) handleAppointmentCreate(w http.ResponseWriter, r *http.Request) error {
	t, err := s.practice(r)
	if err != nil {
		return err
	}
	sched, configured, err := s.schedule(r.Context(), t.ID)
	if err != nil {
		return err
	}
	v := s.viewFrom(r, &sched)
	f := bookFormFrom(r)
	a, err := s.booking(&sched, f)
	if err == nil {
		a, err = s.db.BookAppointment(r.Context(), t.ID, a)
	}
	if errs.Is(err, errs.Invalid) || errs.Is(err, errs.Conflict) {
		f.Field = fieldOf(err)
		if f.Field == "" {
			f.Field = "time"
		}
		return s.calendarPage(w, r, t, sched, configured, v, statusOf(err), page{Error: fieldMessage(err)}, f, findData{})
	}
	if err != nil {
		return err
	}
	v.Day = midnight(a.Start)
	if v.Doctor != "" {
		v.Doctor = a.Doctor
	}
	notice := fmt.Sprintf("Der Termin für %s am %s ist eingetragen.", a.Patient.Name, when(a.Start)) + s.sendNotice(r.Context(), t.ID, notify.Confirmation, a)
	return s.calendarPage(w, r, t, sched, configured, v, http.StatusOK, page{Notice: notice}, bookForm{Type: a.Type, Doctor: v.Doctor}, findData{})
}

// when says a start as "Mo., 03.08.2026, 10:00 Uhr".
func when(t time.Time) string {
	t = t.In(berlin.Location)
	return weekdayShort[t.Weekday()] + " " + t.Format("02.01.2006, 15:04") + " Uhr"
}

// handleAppointmentMove moves an appointment to another time and, if asked, another
// doctor; the new time must be free, or it keeps its old one.
func (s *Server) handleAppointmentMove(w http.ResponseWriter, r *http.Request) error {
	t, err := s.practice(r)
	if err != nil {
		return err
	}
	a, err := s.db.FindAppointmentByID(r.Context(), t.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	sched, configured, err := s.schedule(r.Context(), t.ID)
	if err != nil {
		return err
	}
	v := s.viewFrom(r, &sched)
	v.Day = midnight(a.Start)
	doctor := strings.TrimSpace(r.PostFormValue("doctor"))
	if doctor == "" {
		doctor = a.Doctor
	}
	start, err := startOf(strings.TrimSpace(r.PostFormValue("date")), strings.TrimSpace(r.PostFormValue("time")))
	if err == nil && doctor != a.Doctor {
		if ty, ok := sched.Type(a.Type); ok {
			err = offers(&sched, ty, doctor)
		} else {
			err = errs.Field("doctor", "Die Terminart gibt es nicht mehr; der Termin kann nur bei derselben Ärztin oder demselben Arzt verschoben werden.")
		}
	}
	if err == nil && a.Status == appointment.Booked && r.PostFormValue("outside") != "yes" {
		err = withinHours(&sched, doctor, a.Resources, start, start.Add(a.End.Sub(a.Start)))
	}
	before := a
	if err == nil {
		moveTo := ""
		if doctor != a.Doctor {
			moveTo = doctor
		}
		a, err = s.db.MoveAppointment(r.Context(), t.ID, a.ID, start, moveTo)
	}
	if errs.Is(err, errs.Invalid) || errs.Is(err, errs.Conflict) {
		return s.calendarPage(w, r, t, sched, configured, v, statusOf(err), page{Error: fieldMessage(err)}, bookForm{Doctor: v.Doctor}, findData{})
	}
	if err != nil {
		return err
	}
	v.Day = midnight(a.Start)
	if v.Doctor != "" {
		v.Doctor = a.Doctor
	}
	change := func(p notify.Practice, after notify.Appointment) notify.Message {
		return notify.Change(p, notify.View(sched, before, after.Sequence-1), after)
	}
	notice := fmt.Sprintf("Der Termin von %s ist verschoben auf %s.", a.Patient.Name, when(a.Start)) + s.sendNotice(r.Context(), t.ID, change, a)
	return s.calendarPage(w, r, t, sched, configured, v, http.StatusOK, page{Notice: notice}, bookForm{Doctor: v.Doctor}, findData{})
}

// handleAppointmentCancel cancels an appointment; its time is free again.
func (s *Server) handleAppointmentCancel(w http.ResponseWriter, r *http.Request) error {
	t, err := s.practice(r)
	if err != nil {
		return err
	}
	a, err := s.db.FindAppointmentByID(r.Context(), t.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	sched, configured, err := s.schedule(r.Context(), t.ID)
	if err != nil {
		return err
	}
	v := s.viewFrom(r, &sched)
	v.Day = midnight(a.Start)
	err = s.db.CancelAppointment(r.Context(), t.ID, a.ID)
	if errs.Is(err, errs.Conflict) {
		return s.calendarPage(w, r, t, sched, configured, v, http.StatusConflict, page{Error: fieldMessage(err)}, bookForm{Doctor: v.Doctor}, findData{})
	}
	if err != nil {
		return err
	}
	a.Status = appointment.Cancelled
	notice := fmt.Sprintf("Der Termin von %s am %s ist abgesagt.", a.Patient.Name, when(a.Start)) + s.sendNotice(r.Context(), t.ID, notify.Cancellation, a)
	return s.calendarPage(w, r, t, sched, configured, v, http.StatusOK, page{Notice: notice}, bookForm{Doctor: v.Doctor}, findData{})
}

// choice is an option of a select or a checkbox of a group.
type choice struct {
	Value, Label string
	Checked      bool
}

// setupForm is the schedule as the setup form holds it, as typed: a mistake shows with all
// the other input kept. Rows are numbered as their inputs are named (res.N.id …).
type setupForm struct {
	State     string
	States    []choice
	Resources []resourceRow
	Types     []typeRow
	Closures  []closureRow
	Errors    map[string]string // input name → what is wrong with it
	// Feeds are the doctors' secret calendar feed addresses; Saved tells whether the
	// schedule exists, so that feeds can be issued.
	Feeds []feedURL
	Saved bool
}

type resourceRow struct {
	N                       int
	ID, Kind, Name, Surname string
	Saved, Delete           bool // Saved: the id is in use and cannot change
	Kinds                   []choice
	Hours                   []hoursRow
}

type hoursRow struct {
	Weekday     int
	Label       string
	Open, Acute string // "08:00-12:00, 15:00-18:00"
}

type typeRow struct {
	N                              int
	ID, Name, Minutes, LeadHours   string
	Assistant, NewPatients, Acute  bool
	Saved, Delete                  bool
	DoctorIDs, NeedIDs, Insurances []string
	Doctors, Needs, InsuranceOpts  []choice
}

type closureRow struct {
	N                          int
	From, To, Resource, Reason string
	Delete                     bool
	Resources                  []choice
}

// Choices of the setup form.
var (
	stateChoices = []choice{{"", "nur bundesweite Feiertage", false},
		{"BW", "Baden-Württemberg", false}, {"BY", "Bayern", false}, {"BE", "Berlin", false}, {"BB", "Brandenburg", false},
		{"HB", "Bremen", false}, {"HH", "Hamburg", false}, {"HE", "Hessen", false}, {"MV", "Mecklenburg-Vorpommern", false},
		{"NI", "Niedersachsen", false}, {"NW", "Nordrhein-Westfalen", false}, {"RP", "Rheinland-Pfalz", false},
		{"SL", "Saarland", false}, {"SN", "Sachsen", false}, {"ST", "Sachsen-Anhalt", false}, {"SH", "Schleswig-Holstein", false},
		{"TH", "Thüringen", false}}
	kindChoices      = []choice{{appointment.Doctor, "Ärztin/Arzt", false}, {appointment.Room, "Raum", false}, {appointment.Device, "Gerät", false}}
	insuranceChoices = []choice{{"gkv", "gesetzlich", false}, {"pkv", "privat", false}, {"self", "Selbstzahler", false}}
	// setupWeekdays is the order of the weekdays in the form: the week starts on Monday.
	setupWeekdays = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}
)

func choose(opts []choice, checked ...string) []choice {
	out := slices.Clone(opts)
	for i := range out {
		out[i].Checked = slices.Contains(checked, out[i].Value)
	}
	return out
}

// setupFormOf fills the form with a stored schedule.
func setupFormOf(sched appointment.Schedule) setupForm {
	f := setupForm{State: sched.State}
	for i, r := range sched.Resources {
		row := resourceRow{N: i, ID: r.ID, Kind: r.Kind, Name: r.Name, Surname: r.Surname, Saved: true}
		for _, wd := range setupWeekdays {
			h := hoursOf(&sched, r.ID, wd)
			row.Hours = append(row.Hours, hoursRow{Weekday: int(wd), Open: intervalText(h.Open), Acute: intervalText(h.Acute)})
		}
		f.Resources = append(f.Resources, row)
	}
	for i, t := range sched.Types {
		row := typeRow{N: i, ID: t.ID, Name: t.Name, Minutes: fmt.Sprint(t.Minutes), Assistant: t.Assistant,
			NewPatients: t.NewPatients, Acute: t.Acute, Saved: true, DoctorIDs: t.Doctors, NeedIDs: t.Resources, Insurances: t.Insurances}
		if t.LeadHours > 0 {
			row.LeadHours = fmt.Sprint(t.LeadHours)
		}
		f.Types = append(f.Types, row)
	}
	for i, c := range sched.Closures {
		f.Closures = append(f.Closures, closureRow{N: i, From: c.From, To: c.To, Resource: c.Resource, Reason: c.Reason})
	}
	return f
}

// setupFormFrom reads the form as it was sent.
func setupFormFrom(form url.Values) setupForm {
	get := func(k string) string { return strings.TrimSpace(form.Get(k)) }
	on := func(k string) bool { return form.Get(k) == "yes" }
	f := setupForm{State: get("state")}
	for i := 0; form.Has(fmt.Sprintf("res.%d.id", i)); i++ {
		p := fmt.Sprintf("res.%d.", i)
		row := resourceRow{N: i, ID: get(p + "id"), Kind: get(p + "kind"), Name: get(p + "name"), Surname: get(p + "surname"),
			Saved: on(p + "saved"), Delete: on(p + "delete")}
		for _, wd := range setupWeekdays {
			hp := fmt.Sprintf("hours.%d.%d.", i, wd)
			row.Hours = append(row.Hours, hoursRow{Weekday: int(wd), Open: get(hp + "open"), Acute: get(hp + "acute")})
		}
		f.Resources = append(f.Resources, row)
	}
	for i := 0; form.Has(fmt.Sprintf("type.%d.id", i)); i++ {
		p := fmt.Sprintf("type.%d.", i)
		f.Types = append(f.Types, typeRow{N: i, ID: get(p + "id"), Name: get(p + "name"), Minutes: get(p + "minutes"),
			LeadHours: get(p + "lead_hours"), Assistant: on(p + "assistant"), NewPatients: on(p + "new_patients"), Acute: on(p + "acute"),
			Saved: on(p + "saved"), Delete: on(p + "delete"),
			DoctorIDs: form[p+"doctors"], NeedIDs: form[p+"resources"], Insurances: form[p+"insurances"]})
	}
	for i := 0; form.Has(fmt.Sprintf("closure.%d.from", i)); i++ {
		p := fmt.Sprintf("closure.%d.", i)
		f.Closures = append(f.Closures, closureRow{N: i, From: get(p + "from"), To: get(p + "to"), Resource: get(p + "resource"),
			Reason: get(p + "reason"), Delete: on(p + "delete")})
	}
	return f
}

func (r resourceRow) blank() bool { return r.ID == "" && r.Name == "" && r.Surname == "" }
func (t typeRow) blank() bool     { return t.ID == "" && t.Name == "" && t.Minutes == "" }
func (c closureRow) blank() bool  { return c.From == "" && c.To == "" && c.Reason == "" }

// slug makes an id of a name: "Dr. Özdemir" → "dr-oezdemir".
func slug(s string) string {
	s = strings.NewReplacer("ä", "ae", "ö", "oe", "ü", "ue", "ß", "ss").Replace(strings.ToLower(s))
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// timeOfDay normalizes "8", "8:30", "08.30" to "08:30"; ok is false for anything else.
// Whether the time exists is for Validate to say.
func timeOfDay(s string) (string, bool) {
	h, m, found := strings.Cut(strings.TrimSpace(s), ":")
	if !found {
		h, m, found = strings.Cut(strings.TrimSpace(s), ".")
	}
	if !found {
		m = "00"
	}
	digits := func(x string) bool {
		return x != "" && strings.Trim(x, "0123456789") == ""
	}
	if !digits(h) || len(h) > 2 || !digits(m) || len(m) != 2 {
		return "", false
	}
	if len(h) == 1 {
		h = "0" + h
	}
	return h + ":" + m, true
}

// intervals reads consultation hours as typed: "08:00-12:00, 15:00-18:00" (also with
// "–", "bis" or ";").
func intervals(text string) ([]appointment.Interval, bool) {
	var out []appointment.Interval
	for part := range strings.FieldsFuncSeq(text, func(r rune) bool { return r == ',' || r == ';' }) {
		if strings.TrimSpace(part) == "" {
			continue // "08:00-12:00, "
		}
		part = strings.NewReplacer("–", "-", "bis", "-", "Uhr", "").Replace(part)
		from, to, ok := strings.Cut(part, "-")
		if !ok {
			return nil, false
		}
		f, ok1 := timeOfDay(from)
		t, ok2 := timeOfDay(to)
		if !ok1 || !ok2 {
			return nil, false
		}
		out = append(out, appointment.Interval{From: f, To: t})
	}
	return out, true
}

// schedule turns the form into a schedule. Mistakes it can place are marked at their
// input; the schedule's own Validate (in SetSchedule) checks the whole.
func (f *setupForm) schedule() (appointment.Schedule, error) {
	f.Errors = map[string]string{}
	sched := appointment.Schedule{State: f.State}
	deleted := map[string]bool{}
	for i := range f.Resources {
		row := &f.Resources[i]
		if row.Delete {
			deleted[row.ID] = true
			continue
		}
		if row.blank() {
			continue
		}
		if row.Kind != appointment.Doctor {
			row.Surname = ""
		}
		if row.ID == "" {
			row.ID = slug(cmp.Or(row.Surname, row.Name))
		}
		res := appointment.Resource{ID: row.ID, Kind: row.Kind, Name: row.Name, Surname: row.Surname}
		sched.Resources = append(sched.Resources, res)
		for _, h := range row.Hours {
			hours := appointment.Hours{Resource: row.ID, Weekday: time.Weekday(h.Weekday)}
			for _, x := range []struct {
				text, input string
				dst         *[]appointment.Interval
			}{{h.Open, "open", &hours.Open}, {h.Acute, "acute", &hours.Acute}} {
				input := fmt.Sprintf("hours.%d.%d.%s", row.N, h.Weekday, x.input)
				iv, ok := intervals(x.text)
				if !ok {
					f.Errors[input] = "Zeiten als „08:00-12:00, 15:00-18:00“ angeben"
					return sched, errs.E(errs.Invalid, "Sprechzeiten von %s am %s: Zeiten als „08:00-12:00, 15:00-18:00“ angeben.",
						cmp.Or(row.Name, row.ID), weekdayNames[h.Weekday])
				}
				*x.dst = iv
			}
			if len(hours.Open) == 0 && len(hours.Acute) == 0 {
				continue
			}
			// One day's hours checked on their own, so that the mistake shows where it is.
			one := appointment.Schedule{Resources: []appointment.Resource{{ID: "x", Kind: appointment.Room, Name: "x"}},
				Hours: []appointment.Hours{hours}}
			one.Hours[0].Resource = "x"
			if err := one.Validate(); err != nil {
				input := fmt.Sprintf("hours.%d.%d.open", row.N, h.Weekday)
				if fieldOf(err) == "hours.acute" {
					input = fmt.Sprintf("hours.%d.%d.acute", row.N, h.Weekday)
				}
				f.Errors[input] = fieldMessage(err)
				return sched, errs.E(errs.Invalid, "Sprechzeiten von %s am %s: %s", cmp.Or(row.Name, row.ID), weekdayNames[h.Weekday], fieldMessage(err))
			}
			sched.Hours = append(sched.Hours, hours)
		}
	}
	keep := func(ids []string) []string {
		return slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return deleted[id] })
	}
	for i := range f.Types {
		row := &f.Types[i]
		if row.Delete || row.blank() {
			continue
		}
		if row.ID == "" {
			row.ID = slug(row.Name)
		}
		t := appointment.Type{ID: row.ID, Name: row.Name, Doctors: keep(row.DoctorIDs), Resources: keep(row.NeedIDs),
			Insurances: row.Insurances, Assistant: row.Assistant, NewPatients: row.NewPatients, Acute: row.Acute}
		var err error
		if t.Minutes, err = strconv.Atoi(row.Minutes); err != nil {
			f.Errors[fmt.Sprintf("type.%d.minutes", row.N)] = "eine ganze Zahl von Minuten"
			return sched, errs.E(errs.Invalid, "Terminart %s: die Dauer bitte als ganze Zahl von Minuten angeben.", cmp.Or(row.Name, row.ID))
		}
		if row.LeadHours != "" {
			if t.LeadHours, err = strconv.Atoi(row.LeadHours); err != nil {
				f.Errors[fmt.Sprintf("type.%d.lead_hours", row.N)] = "eine ganze Zahl von Stunden"
				return sched, errs.E(errs.Invalid, "Terminart %s: die Vorlaufzeit bitte als ganze Zahl von Stunden angeben.", cmp.Or(row.Name, row.ID))
			}
		}
		sched.Types = append(sched.Types, t)
	}
	for _, row := range f.Closures {
		if row.Delete || row.blank() || deleted[row.Resource] && row.Resource != "" {
			continue
		}
		to := cmp.Or(row.To, row.From)
		sched.Closures = append(sched.Closures, appointment.Closure{Resource: row.Resource, From: row.From, To: to, Reason: row.Reason})
	}
	return sched, nil
}

// setupSections name the parts of the form in messages of Validate.
var setupSections = map[string]string{"resources": "Ärztinnen, Ärzte, Räume und Geräte", "types": "Terminarten",
	"hours": "Sprechzeiten", "closures": "Abwesenheiten", "state": "Bundesland"}

func setupMessage(err error) string {
	section, _, _ := strings.Cut(fieldOf(err), ".")
	if label, ok := setupSections[section]; ok {
		return label + ": " + fieldMessage(err)
	}
	return fieldMessage(err)
}

// finish adds the choices the form offers and empty rows to add to.
func (f *setupForm) finish() {
	f.States = choose(stateChoices, f.State)
	var docs, needs, all []choice
	for i := range f.Resources {
		row := &f.Resources[i]
		row.Kinds = choose(kindChoices, cmp.Or(row.Kind, appointment.Doctor))
		for j := range row.Hours {
			row.Hours[j].Label = weekdayNames[row.Hours[j].Weekday]
		}
		if row.Delete || row.ID == "" {
			continue
		}
		c := choice{Value: row.ID, Label: cmp.Or(row.Name, row.ID)}
		all = append(all, c)
		if row.Kind == appointment.Doctor {
			docs = append(docs, c)
		} else {
			needs = append(needs, c)
		}
	}
	blanks := 0
	for _, row := range f.Resources {
		if row.blank() {
			blanks++
		}
	}
	if blanks == 0 {
		f.Resources = append(f.Resources, resourceRow{N: len(f.Resources), Kind: appointment.Doctor, Kinds: choose(kindChoices, appointment.Doctor)})
	}
	blanks = 0
	for _, row := range f.Types {
		if row.blank() {
			blanks++
		}
	}
	if blanks == 0 {
		f.Types = append(f.Types, typeRow{N: len(f.Types)})
	}
	for i := range f.Types {
		row := &f.Types[i]
		row.Doctors = choose(docs, row.DoctorIDs...)
		row.Needs = choose(needs, row.NeedIDs...)
		row.InsuranceOpts = choose(insuranceChoices, row.Insurances...)
	}
	blanks = 0
	for _, row := range f.Closures {
		if row.blank() {
			blanks++
		}
	}
	if blanks == 0 {
		f.Closures = append(f.Closures, closureRow{N: len(f.Closures)})
	}
	for i := range f.Closures {
		f.Closures[i].Resources = choose(append([]choice{{Value: "", Label: "ganze Praxis"}}, all...), f.Closures[i].Resource)
	}
}

func (s *Server) setupPage(w http.ResponseWriter, r *http.Request, t tenant.Tenant, status int, p page, f setupForm) error {
	f.finish()
	if sched, configured, err := s.schedule(r.Context(), t.ID); err == nil && configured {
		f.Saved, f.Feeds = true, s.feedURLs(r, t.ID, sched)
	}
	p.Title, p.Tenant, p.Data = "Kalender einrichten", &t, f
	s.render(w, r, status, "calendar_setup", p)
	return nil
}

// handleCalendarSetup shows the practice's calendar setup as one form.
func (s *Server) handleCalendarSetup(w http.ResponseWriter, r *http.Request) error {
	t, err := s.practice(r)
	if err != nil {
		return err
	}
	sched, _, err := s.schedule(r.Context(), t.ID)
	if err != nil {
		return err
	}
	return s.setupPage(w, r, t, http.StatusOK, page{}, setupFormOf(sched))
}

// handleCalendarSetupSave stores the whole setup at once; if it does not validate, the
// form shows again as sent, with the mistake.
func (s *Server) handleCalendarSetupSave(w http.ResponseWriter, r *http.Request) error {
	t, err := s.practice(r)
	if err != nil {
		return err
	}
	f := setupFormFrom(r.PostForm)
	sched, err := f.schedule()
	if err == nil {
		err = s.db.SetSchedule(r.Context(), t.ID, sched)
	}
	if errs.Is(err, errs.Invalid) {
		return s.setupPage(w, r, t, http.StatusUnprocessableEntity, page{Error: setupMessage(err)}, f)
	}
	if err != nil {
		return err
	}
	return s.setupPage(w, r, t, http.StatusOK, page{Notice: "Der Kalender ist gespeichert."}, setupFormOf(sched))
}
