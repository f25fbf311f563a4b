package store_test

import (
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/appointment"
	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
)

func slot(doctor string, start time.Time, minutes int, resources ...string) appointment.Appointment {
	return appointment.Appointment{Type: "kontrolle", Doctor: doctor, Resources: resources, Start: start,
		End: start.Add(time.Duration(minutes) * time.Minute), Patient: appointment.Patient{Name: "Erika Mustermann"}, Source: "assistant"}
}

// TestBookingRace fires 100 bookings at one slot at once: exactly one wins, every other
// gets a clear "taken".
func TestBookingRace(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a, _ := twoTenants(t, db)
		start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
		var wg sync.WaitGroup
		results := make([]error, 100)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Half of them want a longer appointment that overlaps the slot.
				minutes := 15
				if i%2 == 1 {
					minutes = 30
				}
				_, results[i] = db.BookAppointment(ctx, a.ID, slot("schneider", start.Add(time.Duration(i%3)*5*time.Minute), minutes))
			}()
		}
		wg.Wait()
		won := 0
		for _, err := range results {
			switch {
			case err == nil:
				won++
			case errs.Is(err, errs.Conflict):
				if errs.Message(err) != "Dieser Termin ist leider schon vergeben." {
					t.Errorf("message %q", errs.Message(err))
				}
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}
		if won != 1 {
			t.Fatalf("%d bookings won, want exactly 1", won)
		}
		busy, err := db.BusyTimes(ctx, a.ID, start.Add(-time.Hour), start.Add(time.Hour))
		if err != nil || len(busy) != 1 {
			t.Errorf("busy after the race: %+v %v", busy, err)
		}
	})
}

func TestAppointmentLifecycle(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a, _ := twoTenants(t, db)
		nine := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
		first, err := db.BookAppointment(ctx, a.ID, slot("weber", nine, 20, "ekg"))
		if err != nil {
			t.Fatal(err)
		}
		// The room is taken too: another doctor cannot use it at that time.
		if _, err := db.BookAppointment(ctx, a.ID, slot("schneider", nine.Add(10*time.Minute), 15, "ekg")); !errs.Is(err, errs.Conflict) {
			t.Errorf("room double-booked: %v", err)
		}
		// Back to back is fine.
		second, err := db.BookAppointment(ctx, a.ID, slot("weber", nine.Add(20*time.Minute), 15))
		if err != nil {
			t.Fatalf("back to back: %v", err)
		}
		// Moving onto a taken time changes nothing; moving to a free one frees the old.
		if _, err := db.MoveAppointment(ctx, a.ID, first.ID, nine.Add(25*time.Minute), ""); !errs.Is(err, errs.Conflict) {
			t.Errorf("move onto a taken time: %v", err)
		}
		got, err := db.FindAppointmentByID(ctx, a.ID, first.ID)
		if err != nil || !got.Start.Equal(nine) || got.Resources[0] != "ekg" || got.Patient.Name != "Erika Mustermann" {
			t.Errorf("after the failed move: %+v %v", got, err)
		}
		moved, err := db.MoveAppointment(ctx, a.ID, first.ID, nine.Add(time.Hour), "")
		if err != nil || !moved.End.Equal(nine.Add(80*time.Minute)) {
			t.Fatalf("move: %+v %v", moved, err)
		}
		if _, err := db.BookAppointment(ctx, a.ID, slot("schneider", nine, 15, "ekg")); err != nil {
			t.Errorf("the old time is not free after the move: %v", err)
		}
		if err := db.CancelAppointment(ctx, a.ID, second.ID); err != nil {
			t.Fatal(err)
		}
		if err := db.CancelAppointment(ctx, a.ID, second.ID); !errs.Is(err, errs.Conflict) {
			t.Errorf("second cancel: %v", err)
		}
		if _, err := db.BookAppointment(ctx, a.ID, slot("weber", nine.Add(20*time.Minute), 15)); err != nil {
			t.Errorf("the cancelled time is not free: %v", err)
		}
		list, err := db.ListAppointments(ctx, a.ID, nine.Add(-time.Hour), nine.Add(3*time.Hour))
		if err != nil || len(list) != 4 { // the moved, the cancelled and two new ones
			t.Errorf("list: %d %v", len(list), err)
		}
		for _, bad := range []appointment.Appointment{
			slot("weber", nine, 0), slot("", nine, 15), slot("weber", nine, 13*60), slot("we,ber", nine, 15),
		} {
			if _, err := db.BookAppointment(ctx, a.ID, bad); !errs.Is(err, errs.Invalid) {
				t.Errorf("bad appointment %+v: %v", bad, err)
			}
		}
	})
}

// TestAppointmentNotify records a patient's consent to messages on a booked appointment:
// stored with the number, audited with the channel only, refused on a cancelled one.
func TestAppointmentNotify(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a, _ := twoTenants(t, db)
		nine := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
		booked, err := db.BookAppointment(ctx, a.ID, slot("weber", nine, 15))
		if err != nil {
			t.Fatal(err)
		}
		got, err := db.SetAppointmentNotify(ctx, a.ID, booked.ID, appointment.NotifySMS, "+4915123456789")
		if err != nil {
			t.Fatal(err)
		}
		stored, err := db.FindAppointmentByID(ctx, a.ID, booked.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := appointment.Patient{Name: "Erika Mustermann", Phone: "+4915123456789", Notify: appointment.NotifySMS}
		if diff := cmp.Diff(want, stored.Patient); diff != "" {
			t.Errorf("stored patient (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(stored, got); diff != "" {
			t.Errorf("returned appointment (-stored +returned):\n%s", diff)
		}
		entries, err := db.ListAudit(ctx, a.ID, store.AuditFilter{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range entries {
			if e.ObjectID == booked.ID && e.Action == audit.Update {
				found = true
				if e.Detail != "notify=sms" {
					t.Errorf("audit detail %q", e.Detail)
				}
			}
		}
		if !found {
			t.Error("consent not audited")
		}
		for _, bad := range [][2]string{{appointment.NotifySMS, ""}, {appointment.NotifyEmail, ""}, {"fax", "+4915123456789"}} {
			if _, err := db.SetAppointmentNotify(ctx, a.ID, booked.ID, bad[0], bad[1]); !errs.Is(err, errs.Invalid) {
				t.Errorf("%q to %q: %v, want Invalid", bad[0], bad[1], err)
			}
		}
		if err := db.CancelAppointment(ctx, a.ID, booked.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SetAppointmentNotify(ctx, a.ID, booked.ID, "", ""); !errs.Is(err, errs.Conflict) {
			t.Errorf("consent on a cancelled appointment: %v", err)
		}
	})
}

func TestSchedule(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a, _ := twoTenants(t, db)
		if _, err := db.Schedule(ctx, a.ID); !errs.Is(err, errs.NotFound) {
			t.Errorf("before it is set: %v", err)
		}
		bad := isolationSchedule("schneider")
		bad.Types[0].Minutes = -5
		if err := db.SetSchedule(ctx, a.ID, bad); !errs.Is(err, errs.Invalid) {
			t.Errorf("invalid schedule stored: %v", err)
		}
		if err := db.SetSchedule(ctx, a.ID, isolationSchedule("schneider")); err != nil {
			t.Fatal(err)
		}
		s, err := db.Schedule(ctx, a.ID)
		if err != nil || len(s.Types) != 1 || s.Hours[0].Open[0].From != "08:00" {
			t.Errorf("schedule read back: %+v %v", s, err)
		}
	})
}
