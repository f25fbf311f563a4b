package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/appointment"
	"github.com/tresen/tresen/internal/berlin"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
	"github.com/tresen/tresen/internal/user"
)

// testSchedule is a small practice calendar: two doctors in Bremen, Monday to Friday
// 08:00-12:00 with an acute hour, afternoons on Monday, Tuesday and Thursday; a minor
// surgery only Dr. Weber offers; Dr. Schneider away on Friday, 27 November 2026.
func testSchedule() appointment.Schedule {
	s := appointment.Schedule{
		State: "HB",
		Resources: []appointment.Resource{
			{ID: "schneider", Kind: appointment.Doctor, Name: "Dr. Schneider", Surname: "Schneider"},
			{ID: "weber", Kind: appointment.Doctor, Name: "Dr. Weber", Surname: "Weber"},
		},
		Types: []appointment.Type{
			{ID: "sprechstunde", Name: "Sprechstunde", Minutes: 15, Assistant: true, NewPatients: true},
			{ID: "eingriff", Name: "Kleiner Eingriff", Minutes: 45, Doctors: []string{"weber"}},
		},
		Closures: []appointment.Closure{{Resource: "schneider", From: "2026-11-27", To: "2026-11-27", Reason: "Fortbildung"}},
	}
	for _, doc := range []string{"schneider", "weber"} {
		for wd := time.Monday; wd <= time.Friday; wd++ {
			h := appointment.Hours{Resource: doc, Weekday: wd, Open: []appointment.Interval{{From: "08:00", To: "12:00"}},
				Acute: []appointment.Interval{{From: "08:00", To: "09:00"}}}
			if wd == time.Monday || wd == time.Tuesday || wd == time.Thursday {
				h.Open = append(h.Open, appointment.Interval{From: "15:00", To: "18:00"})
			}
			s.Hours = append(s.Hours, h)
		}
	}
	return s
}

// calendarNow is the tests' Monday morning, 23 November 2026.
var calendarNow = time.Date(2026, 11, 23, 7, 30, 0, 0, berlin.Location)

func at(day string, hh, mm int) time.Time {
	d, _ := time.ParseInLocation(time.DateOnly, day, berlin.Location)
	return time.Date(d.Year(), d.Month(), d.Day(), hh, mm, 0, 0, berlin.Location)
}

// mustAppointments returns a practice's appointments of the week of calendarNow.
func mustAppointments(tb testing.TB, db *store.DB, tenantID string) []appointment.Appointment {
	tb.Helper()
	list, err := db.ListAppointments(testCtx, tenantID, calendarNow.AddDate(0, 0, -1), calendarNow.AddDate(0, 0, 14))
	if err != nil {
		tb.Fatal(err)
	}
	return list
}

// columnOf cuts one doctor's column out of the calendar page.
func columnOf(tb testing.TB, body, doctor string) string {
	tb.Helper()
	_, rest, ok := strings.Cut(body, `<section class="calcol" aria-label="`+doctor+`">`)
	if !ok {
		tb.Fatalf("the page has no column for %s", doctor)
	}
	col, _, _ := strings.Cut(rest, "</section>")
	return col
}

// TestCalendarBooking is a morning at the front desk: the team books, runs into a time
// taken meanwhile without losing what it typed, moves an appointment, cancels one, and
// books one of the next free slots; read-only users only look.
func TestCalendarBooking(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		db.Now = func() time.Time { return calendarNow }
		_, ts := newTestServer(t, db)
		f := newFixture(t, db)
		if err := db.SetSchedule(testCtx, f.a.ID, testSchedule()); err != nil {
			t.Fatal(err)
		}
		b := newLoggedIn(t, ts.URL, "a.team")
		view := url.Values{"view_day": {"2026-11-24"}}
		form := func(kv ...string) url.Values {
			v := url.Values{}
			for k, x := range view {
				v[k] = x
			}
			for i := 0; i < len(kv); i += 2 {
				v.Set(kv[i], kv[i+1])
			}
			return v
		}

		resp, body := b.get("/calendar")
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Montag, 23. November 2026") || !strings.Contains(body, `href="/calendar"`) {
			t.Fatalf("GET /calendar: %d %q; want today, Monday, with the nav link", resp.StatusCode, errorOf(body))
		}

		// Book; the day view shows it with the free time around it.
		erika := form("type", "sprechstunde", "doctor", "schneider", "date", "2026-11-24", "time", "10:00",
			"name", "Erika Mustermann", "birth_date", "1984-03-12", "phone", "0421 123456", "note", "Rückenschmerzen")
		resp, body = b.postCSRF("/calendar/appointments", erika)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Der Termin für Erika Mustermann am Di. 24.11.2026, 10:00 Uhr ist eingetragen.") {
			t.Fatalf("book: %d %q", resp.StatusCode, errorOf(body))
		}
		col := columnOf(t, body, "Dr. Schneider")
		order := []string{"08:00–09:00</span> frei (Akutsprechstunde)", "09:00–10:00</span> frei", "10:00–10:15</span> <strong class=\"patient\">Erika Mustermann</strong>",
			"Sprechstunde · <span class=\"status\">gebucht</span> · Praxisteam · Tel. 0421 123456", "Rückenschmerzen", "10:15–12:00</span> frei", "15:00–18:00</span> frei"}
		last := -1
		for _, want := range order {
			i := strings.Index(col, want)
			if i < 0 || i < last {
				t.Errorf("Dr. Schneider's day lacks %q after the rows before it:\n%s", want, col)
			}
			last = i
		}
		list := mustAppointments(t, db, f.a.ID)
		if len(list) != 1 {
			t.Fatalf("%d appointments, want 1", len(list))
		}
		erikaID := list[0].ID
		want := appointment.Appointment{ID: erikaID, Type: "sprechstunde", Doctor: "schneider", Start: at("2026-11-24", 10, 0), End: at("2026-11-24", 10, 15),
			Status: appointment.Booked, Patient: appointment.Patient{Name: "Erika Mustermann", BirthDate: "1984-03-12", Phone: "0421 123456"},
			Note: "Rückenschmerzen", Source: "staff"}
		if diff := cmp.Diff(want, list[0]); diff != "" {
			t.Errorf("booked (-want +got):\n%s", diff)
		}

		// A time taken meanwhile: the conflict message, and the form as it was sent.
		maxForm := form("type", "sprechstunde", "doctor", "schneider", "date", "2026-11-24", "time", "10:05",
			"name", "Max Mustermann", "birth_date", "1990-02-01", "phone", "0421 654321", "note", "Impfung")
		resp, body = b.postCSRF("/calendar/appointments", maxForm)
		if resp.StatusCode != http.StatusConflict || !strings.Contains(errorOf(body), "schon vergeben") {
			t.Errorf("book a taken time: %d %q, want 409 with the conflict message", resp.StatusCode, errorOf(body))
		}
		for _, kept := range []string{`value="Max Mustermann"`, `value="1990-02-01"`, `value="0421 654321"`, `value="Impfung"`, `value="10:05"`, `value="2026-11-24"`,
			`<option value="schneider" selected>`} {
			if !strings.Contains(body, kept) {
				t.Errorf("after the conflict the form lost %s", kept)
			}
		}

		// Mistakes name what is wrong and keep the input too.
		for _, tc := range []struct {
			what string
			form url.Values
			msg  string
		}{
			{"outside the hours", form("type", "sprechstunde", "doctor", "schneider", "date", "2026-11-24", "time", "13:00", "name", "Max Mustermann"), "außerhalb der Sprechzeiten von Dr. Schneider am Dienstag (08:00-12:00, 15:00-18:00)"},
			{"into the break", form("type", "sprechstunde", "doctor", "schneider", "date", "2026-11-24", "time", "11:50", "name", "Max Mustermann"), "11:50–12:05 Uhr liegt außerhalb"},
			{"doctor away", form("type", "sprechstunde", "doctor", "schneider", "date", "2026-11-27", "time", "10:00", "name", "Max Mustermann"), "Fortbildung"},
			{"not offered", form("type", "eingriff", "doctor", "schneider", "date", "2026-11-24", "time", "10:00", "name", "Max Mustermann"), "Dr. Schneider bietet „Kleiner Eingriff“ nicht an."},
			{"no such type", form("type", "gibt-es-nicht", "doctor", "schneider", "date", "2026-11-24", "time", "10:30", "name", "Max Mustermann"), "Terminart"},
			{"no name", form("type", "sprechstunde", "doctor", "schneider", "date", "2026-11-24", "time", "10:30"), "Namen"},
			{"bad time", form("type", "sprechstunde", "doctor", "schneider", "date", "2026-11-24", "time", "halb zehn", "name", "Max Mustermann"), "HH:MM"},
			{"bad birth date", form("type", "sprechstunde", "doctor", "schneider", "date", "2026-11-24", "time", "10:30", "name", "Max Mustermann", "birth_date", "2030-01-01"), "Zukunft"},
		} {
			resp, body := b.postCSRF("/calendar/appointments", tc.form)
			if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(errorOf(body), tc.msg) {
				t.Errorf("%s: %d %q, want 422 with %q", tc.what, resp.StatusCode, errorOf(body), tc.msg)
			}
			if name := tc.form.Get("name"); name != "" && !strings.Contains(body, `value="`+name+`"`) {
				t.Errorf("%s: the form lost the name", tc.what)
			}
		}
		if n := len(mustAppointments(t, db, f.a.ID)); n != 1 {
			t.Fatalf("%d appointments after refused bookings, want 1", n)
		}
		// The team may book outside the hours when it says so.
		resp, body = b.postCSRF("/calendar/appointments", form("type", "sprechstunde", "doctor", "schneider", "date", "2026-11-24", "time", "13:00",
			"name", "Max Mustermann", "outside", "yes"))
		if resp.StatusCode != http.StatusOK || !strings.Contains(columnOf(t, body, "Dr. Schneider"), "13:00–13:15</span> <strong class=\"patient\">Max Mustermann") {
			t.Errorf("book outside the hours, ticked: %d %q", resp.StatusCode, errorOf(body))
		}

		// Move: to a free time; to a taken one, which keeps the old time; to another doctor.
		resp, body = b.postCSRF("/calendar/appointments/"+erikaID+"/move", form("date", "2026-11-24", "time", "11:00"))
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Der Termin von Erika Mustermann ist verschoben auf Di. 24.11.2026, 11:00 Uhr.") ||
			!strings.Contains(columnOf(t, body, "Dr. Schneider"), "11:00–11:15</span> <strong class=\"patient\">Erika Mustermann") {
			t.Errorf("move: %d %q", resp.StatusCode, errorOf(body))
		}
		resp, body = b.postCSRF("/calendar/appointments/"+erikaID+"/move", form("date", "2026-11-24", "time", "13:00"))
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(errorOf(body), "außerhalb der Sprechzeiten") {
			t.Errorf("move outside the hours: %d %q", resp.StatusCode, errorOf(body))
		}
		resp, body = b.postCSRF("/calendar/appointments/"+erikaID+"/move", form("date", "2026-11-24", "time", "13:05", "outside", "yes"))
		if resp.StatusCode != http.StatusConflict || !strings.Contains(errorOf(body), "schon vergeben") {
			t.Errorf("move onto Max: %d %q, want 409", resp.StatusCode, errorOf(body))
		}
		if a, err := db.FindAppointmentByID(testCtx, f.a.ID, erikaID); err != nil || !a.Start.Equal(at("2026-11-24", 11, 0)) || a.Doctor != "schneider" {
			t.Errorf("after the refused move: %v at %v with %s, want 11:00 with schneider", err, a.Start, a.Doctor)
		}
		resp, body = b.postCSRF("/calendar/appointments/"+erikaID+"/move", form("date", "2026-11-26", "time", "09:30", "doctor", "weber"))
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Donnerstag, 26. November 2026") ||
			!strings.Contains(columnOf(t, body, "Dr. Weber"), "09:30–09:45</span> <strong class=\"patient\">Erika Mustermann") {
			t.Errorf("move to Dr. Weber on Thursday: %d %q", resp.StatusCode, errorOf(body))
		}

		// The week view shows Monday to Saturday of one doctor.
		resp, body = b.get("/calendar?day=2026-11-26&doctor=weber&view=week")
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Woche vom 23.11. bis 28.11.2026") {
			t.Fatalf("week: %d %q", resp.StatusCode, errorOf(body))
		}
		for _, want := range []string{"Mo. 23.11.", "Sa. 28.11.", "Erika Mustermann"} {
			if !strings.Contains(body, want) {
				t.Errorf("the week lacks %q", want)
			}
		}
		if strings.Contains(body, "Max Mustermann") || strings.Contains(body, "So. 29.11.") {
			t.Error("Dr. Weber's week shows Dr. Schneider's appointment or a Sunday")
		}

		// Cancel: shown as cancelled, its time free again; twice is a conflict.
		resp, body = b.postCSRF("/calendar/appointments/"+erikaID+"/cancel", form())
		col = columnOf(t, body, "Dr. Weber")
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Der Termin von Erika Mustermann am Do. 26.11.2026, 09:30 Uhr ist abgesagt.") ||
			!strings.Contains(col, `<span class="status">abgesagt</span>`) || !strings.Contains(col, "09:00–12:00</span> frei") {
			t.Errorf("cancel: %d %q\n%s", resp.StatusCode, errorOf(body), col)
		}
		if resp, body := b.postCSRF("/calendar/appointments/"+erikaID+"/cancel", form()); resp.StatusCode != http.StatusConflict || !strings.Contains(errorOf(body), "bereits abgesagt") {
			t.Errorf("cancel twice: %d %q", resp.StatusCode, errorOf(body))
		}
		if resp, body := b.postCSRF("/calendar/appointments/"+erikaID+"/move", form("date", "2026-11-26", "time", "10:00")); resp.StatusCode != http.StatusConflict {
			t.Errorf("move a cancelled appointment: %d %q", resp.StatusCode, errorOf(body))
		}
		if resp, _ := b.postCSRF("/calendar/appointments/gibt-es-nicht/cancel", form()); resp.StatusCode != http.StatusNotFound {
			t.Errorf("cancel an unknown appointment: %d", resp.StatusCode)
		}

		// Next free slots: the shown day first, the acute hour included for the team;
		// each one books with one click.
		resp, body = b.get("/calendar?day=2026-11-24&find_type=sprechstunde&find_doctor=schneider&find_name=Paula+Probe")
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `<span class="slot">Di. 24.11.2026, 08:00 Uhr · Dr. Schneider</span>`) {
			t.Fatalf("finder: %d %q", resp.StatusCode, errorOf(body))
		}
		if strings.Contains(body, "24.11.2026, 13:00 Uhr") {
			t.Error("the finder offers the time Max has")
		}
		resp, body = b.postCSRF("/calendar/appointments", form("type", "sprechstunde", "doctor", "schneider", "date", "2026-11-24", "time", "08:00", "name", "Paula Probe"))
		if resp.StatusCode != http.StatusOK || !strings.Contains(columnOf(t, body, "Dr. Schneider"), "08:00–08:15</span> <strong class=\"patient\">Paula Probe") {
			t.Errorf("book a found slot: %d %q", resp.StatusCode, errorOf(body))
		}
		resp, body = b.get("/calendar?day=2026-11-24&find_type=eingriff&find_doctor=schneider")
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="find-error">diese Terminart bietet`) {
			t.Errorf("finder for a type the doctor does not offer: %d", resp.StatusCode)
		}

		// Read-only users see the calendar but book, move and cancel nothing.
		before := mustAppointments(t, db, f.a.ID)
		reader := newLoggedIn(t, ts.URL, "a.lesen")
		resp, body = reader.get("/calendar?day=2026-11-24&find_type=sprechstunde")
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Paula Probe") || strings.Contains(body, `id="book"`) ||
			strings.Contains(body, "Verschieben") || strings.Contains(body, "Buchen") {
			t.Errorf("read-only calendar: %d, want the day without forms", resp.StatusCode)
		}
		for _, p := range []string{"/calendar/appointments", "/calendar/appointments/" + before[0].ID + "/move", "/calendar/appointments/" + before[0].ID + "/cancel"} {
			if resp, body := reader.postCSRF(p, form("type", "sprechstunde", "doctor", "weber", "date", "2026-11-24", "time", "10:00", "name", "Rita Lesend")); resp.StatusCode != http.StatusForbidden || errorOf(body) != forbiddenMsg {
				t.Errorf("read-only POST %s: %d %q, want 403", p, resp.StatusCode, errorOf(body))
			}
		}
		if diff := cmp.Diff(before, mustAppointments(t, db, f.a.ID)); diff != "" {
			t.Errorf("read-only users changed appointments:\n%s", diff)
		}

		// A pharmacy has no calendar.
		ph := newLoggedIn(t, ts.URL, "b.inhaber")
		for _, p := range []string{"/calendar", "/calendar/setup"} {
			if resp, body := ph.get(p); resp.StatusCode != http.StatusNotFound || !strings.Contains(errorOf(body), "nur für Arztpraxen") {
				t.Errorf("pharmacy GET %s: %d %q, want 404", p, resp.StatusCode, errorOf(body))
			}
		}
		for _, p := range []string{"/calendar/appointments", "/calendar/appointments/" + before[0].ID + "/move", "/calendar/appointments/" + before[0].ID + "/cancel", "/calendar/setup"} {
			if resp, _ := ph.postCSRF(p, form("type", "sprechstunde", "doctor", "weber", "date", "2026-11-24", "time", "10:00", "name", "Jonas Beispiel", "state", "HB")); resp.StatusCode != http.StatusNotFound {
				t.Errorf("pharmacy POST %s: %d, want 404", p, resp.StatusCode)
			}
		}
		if _, body := ph.get("/start"); strings.Contains(body, `href="/calendar"`) {
			t.Error("a pharmacy's nav links the calendar")
		}
	})
}

// TestCalendarSetup sets a practice's calendar up through the form: doctors and types
// first, then the hours, where overlapping ones are refused at their field with all input
// kept.
func TestCalendarSetup(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		db.Now = func() time.Time { return calendarNow }
		_, ts := newTestServer(t, db)
		f := newFixture(t, db)
		b := newLoggedIn(t, ts.URL, "a.inhaber")

		resp, body := b.get("/calendar")
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "noch nicht eingerichtet") || !strings.Contains(body, `href="/calendar/setup"`) {
			t.Fatalf("calendar before setup: %d %q", resp.StatusCode, errorOf(body))
		}
		_, body = b.get("/start")
		if !strings.Contains(body, `<a href="/calendar">Termine</a>`) {
			t.Error("the start page's Termine section does not link the calendar")
		}
		if resp, body := b.get("/calendar/setup"); resp.StatusCode != http.StatusOK || !strings.Contains(body, `name="res.0.name"`) {
			t.Fatalf("empty setup: %d %q", resp.StatusCode, errorOf(body))
		}

		resp, body = b.postCSRF("/calendar/setup", url.Values{"state": {"HB"},
			"res.0.id": {""}, "res.0.kind": {"doctor"}, "res.0.name": {"Dr. Weber"}, "res.0.surname": {"Weber"},
			"res.1.id": {""}, "res.1.kind": {"room"}, "res.1.name": {"Raum 2"}, "res.1.surname": {"wird ignoriert"},
			"res.2.id": {""}, "res.2.kind": {"doctor"}, "res.2.name": {""}, "res.2.surname": {""},
			"type.0.id": {""}, "type.0.name": {"Sprechstunde"}, "type.0.minutes": {"15"}, "type.0.assistant": {"yes"}, "type.0.insurances": {"gkv", "pkv"},
			"type.1.id": {""}, "type.1.name": {""}, "type.1.minutes": {""},
			"closure.0.from": {"2026-12-24"}, "closure.0.to": {""}, "closure.0.resource": {""}, "closure.0.reason": {"Heiligabend"},
		})
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Der Kalender ist gespeichert.") {
			t.Fatalf("first setup: %d %q", resp.StatusCode, errorOf(body))
		}
		want := appointment.Schedule{State: "HB",
			Resources: []appointment.Resource{{ID: "weber", Kind: "doctor", Name: "Dr. Weber", Surname: "Weber"}, {ID: "raum-2", Kind: "room", Name: "Raum 2"}},
			Types:     []appointment.Type{{ID: "sprechstunde", Name: "Sprechstunde", Minutes: 15, Assistant: true, Insurances: []string{"gkv", "pkv"}}},
			Closures:  []appointment.Closure{{From: "2026-12-24", To: "2026-12-24", Reason: "Heiligabend"}},
		}
		got, err := db.Schedule(testCtx, f.a.ID)
		if diff := cmp.Diff(want, got); err != nil || diff != "" {
			t.Fatalf("stored after the first setup (%v; -want +got):\n%s", err, diff)
		}
		if !strings.Contains(body, `name="hours.0.1.open"`) || !strings.Contains(body, `name="type.0.doctors" value="weber"`) {
			t.Error("after saving, the form lacks Dr. Weber's hours or the doctor choice of the type")
		}

		// The hours: overlapping ones are refused at their field, everything kept.
		hours := url.Values{"state": {"HB"},
			"res.0.id": {"weber"}, "res.0.saved": {"yes"}, "res.0.kind": {"doctor"}, "res.0.name": {"Dr. Weber"}, "res.0.surname": {"Weber"},
			"hours.0.1.open": {"08:00-12:00, 11:00-13:00"}, "hours.0.1.acute": {"08:00-09:00"},
			"hours.0.2.open": {"8-12; 15 bis 18 Uhr"},
			"res.1.id":       {"raum-2"}, "res.1.saved": {"yes"}, "res.1.kind": {"room"}, "res.1.name": {"Raum 2"}, "res.1.surname": {""},
			"type.0.id": {"sprechstunde"}, "type.0.saved": {"yes"}, "type.0.name": {"Sprechstunde"}, "type.0.minutes": {"15"}, "type.0.assistant": {"yes"},
			"type.0.doctors": {"weber"},
			"closure.0.from": {"2026-12-24"}, "closure.0.to": {"2026-12-24"}, "closure.0.resource": {""}, "closure.0.reason": {"Heiligabend"},
		}
		resp, body = b.postCSRF("/calendar/setup", hours)
		if resp.StatusCode != http.StatusUnprocessableEntity || errorOf(body) != "Sprechzeiten von Dr. Weber am Montag: Zeiten überschneiden sich" {
			t.Errorf("overlapping hours: %d %q", resp.StatusCode, errorOf(body))
		}
		for _, kept := range []string{`name="hours.0.1.open" value="08:00-12:00, 11:00-13:00" aria-label="Sprechzeiten Dr. Weber Montag" aria-invalid="true"`,
			`id="hours.0.1.open-error">Zeiten überschneiden sich`, `value="8-12; 15 bis 18 Uhr"`, `value="Heiligabend"`, `name="type.0.doctors" value="weber" checked`} {
			if !strings.Contains(body, kept) {
				t.Errorf("the refused form lacks %s", kept)
			}
		}
		if after, _ := db.Schedule(testCtx, f.a.ID); !cmp.Equal(want, after) {
			t.Error("a refused setup changed the stored schedule")
		}

		// Mistakes the schedule's Validate finds show with the part of the form they are in.
		bad := url.Values{}
		for k, v := range hours {
			bad[k] = v
		}
		bad.Set("hours.0.1.open", "08:00-12:00, 15:00-18:00")
		bad.Set("type.0.minutes", "0")
		if resp, body := b.postCSRF("/calendar/setup", bad); resp.StatusCode != http.StatusUnprocessableEntity ||
			errorOf(body) != "Terminarten: sprechstunde: Dauer zwischen 1 und 480 Minuten angeben" || !strings.Contains(body, `value="08:00-12:00, 15:00-18:00"`) {
			t.Errorf("zero minutes: %d %q", resp.StatusCode, errorOf(body))
		}
		bad.Set("type.0.minutes", "eine Viertelstunde")
		if resp, body := b.postCSRF("/calendar/setup", bad); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `value="eine Viertelstunde"`) {
			t.Errorf("minutes in words: %d %q", resp.StatusCode, errorOf(body))
		}
		bad.Set("type.0.minutes", "15")
		bad.Set("hours.0.3.acute", "07:00-08:00")
		if resp, body := b.postCSRF("/calendar/setup", bad); resp.StatusCode != http.StatusUnprocessableEntity ||
			!strings.Contains(errorOf(body), "Sprechzeiten von Dr. Weber am Mittwoch: ") || !strings.Contains(body, `id="hours.0.3.acute-error"`) {
			t.Errorf("acute hours outside the hours: %d %q", resp.StatusCode, errorOf(body))
		}

		// Valid: stored as typed, times normalized; the calendar shows the hours.
		hours.Set("hours.0.1.open", "08:00-12:00, 15:00-18:00")
		resp, body = b.postCSRF("/calendar/setup", hours)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Der Kalender ist gespeichert.") {
			t.Fatalf("valid hours: %d %q", resp.StatusCode, errorOf(body))
		}
		want.Types[0].Doctors, want.Types[0].Insurances = []string{"weber"}, nil
		want.Hours = []appointment.Hours{
			{Resource: "weber", Weekday: time.Monday, Open: []appointment.Interval{{From: "08:00", To: "12:00"}, {From: "15:00", To: "18:00"}}, Acute: []appointment.Interval{{From: "08:00", To: "09:00"}}},
			{Resource: "weber", Weekday: time.Tuesday, Open: []appointment.Interval{{From: "08:00", To: "12:00"}, {From: "15:00", To: "18:00"}}},
		}
		got, err = db.Schedule(testCtx, f.a.ID)
		if diff := cmp.Diff(want, got); err != nil || diff != "" {
			t.Errorf("stored (%v; -want +got):\n%s", err, diff)
		}
		_, body = b.get("/calendar?day=2026-11-23")
		if col := columnOf(t, body, "Dr. Weber"); !strings.Contains(col, "Sprechzeiten 08:00-12:00, 15:00-18:00 · Akut 08:00-09:00") {
			t.Errorf("Monday's column: %s", col)
		}

		// Removing a doctor drops its hours and the types' references to it.
		hours.Set("res.0.delete", "yes")
		if resp, body := b.postCSRF("/calendar/setup", hours); resp.StatusCode != http.StatusOK {
			t.Fatalf("remove the doctor: %d %q", resp.StatusCode, errorOf(body))
		}
		if got, _ := db.Schedule(testCtx, f.a.ID); len(got.Resources) != 1 || len(got.Hours) != 0 || len(got.Types[0].Doctors) != 0 {
			t.Errorf("after removing Dr. Weber: %+v", got)
		}

		// Only the owner sets the calendar up.
		mustUser(t, db, f.a.ID, "a.zweit", "Zora Zweit", user.Staff)
		staff := newLoggedIn(t, ts.URL, "a.zweit")
		if resp, _ := staff.get("/calendar/setup"); resp.StatusCode != http.StatusForbidden {
			t.Errorf("staff GET /calendar/setup: %d, want 403", resp.StatusCode)
		}
		if resp, _ := staff.postCSRF("/calendar/setup", hours); resp.StatusCode != http.StatusForbidden {
			t.Errorf("staff POST /calendar/setup: %d, want 403", resp.StatusCode)
		}
	})
}
