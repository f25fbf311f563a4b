// Package reminder sends patients who agreed to it a reminder of their appointment a day
// before, through the practice's own channels. It runs hourly: each run takes the
// appointments that start up to an hour after one day ahead and that no run took before,
// so that each gets one reminder, also with several nodes or after a restart.
package reminder

import (
	"context"
	"log/slog"
	"time"

	"github.com/tresen/tresen/internal/appointment"
	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/notify"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/tenant"
)

// Store is what reminders need of the store.
type Store interface {
	ListTenants(ctx context.Context) ([]tenant.Tenant, error)
	Setting(ctx context.Context, tenantID, name string, v any) error
	Schedule(ctx context.Context, tenantID string) (appointment.Schedule, error)
	ListAppointments(ctx context.Context, tenantID string, from, to time.Time) ([]appointment.Appointment, error)
	ClaimReminders(ctx context.Context, tenantID string, until time.Time) (time.Time, error)
}

// Ahead is how long before an appointment its reminder goes out; Every is how often Run
// runs (appointment.Reminded tells whether a reminder is still to come).
const (
	Ahead = appointment.ReminderAhead
	Every = appointment.ReminderEvery
)

// Run sends the reminders for the appointments that start before now+Ahead+every and that
// no run took before, and returns how many went out. The first run of a practice starts
// at now+Ahead; after a pause (the service was down) a run also takes the appointments of
// the pause that have not begun: a late reminder is better than none. A practice whose messages fail is logged (without any
// personal data) and the others go on.
func Run(ctx context.Context, st Store, log *slog.Logger, now time.Time, every time.Duration) (int, error) {
	ctx = audit.WithActor(ctx, audit.Actor{UserID: "system", Source: "reminder"})
	tenants, err := st.ListTenants(ctx)
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, t := range tenants {
		if t.Kind != tenant.Practice {
			continue
		}
		n, err := runTenant(ctx, st, t.ID, now, every)
		sent += n
		if err != nil {
			log.Error("appointment reminders", slog.String("tenant", t.ID), slog.String("kind", errs.KindOf(err).String()))
		}
	}
	return sent, nil
}

func runTenant(ctx context.Context, st Store, tenantID string, now time.Time, every time.Duration) (int, error) {
	var set notify.Settings
	if err := st.Setting(ctx, tenantID, store.SettingNotify, &set); errs.Is(err, errs.NotFound) {
		return 0, nil // the practice sends no messages
	} else if err != nil {
		return 0, err
	}
	sched, err := st.Schedule(ctx, tenantID)
	if err != nil {
		return 0, err
	}
	until := now.Add(Ahead + every)
	from, err := st.ClaimReminders(ctx, tenantID, until)
	switch {
	case err != nil:
		return 0, err
	case from.IsZero():
		from = now.Add(Ahead)
	case from.Before(now):
		from = now
	}
	if !from.Before(until) {
		return 0, nil
	}
	list, err := st.ListAppointments(ctx, tenantID, from, until)
	if err != nil {
		return 0, err
	}
	sender := notify.Sender{Settings: set, Now: func() time.Time { return now }}
	sent := 0
	var failed error
	for _, a := range list {
		if a.Status != appointment.Booked || a.Patient.Notify == "" {
			continue
		}
		doc, _ := sched.Resource(a.Doctor)
		msg := notify.Reminder(set.Practice, notify.Appointment{ID: a.ID, Start: a.Start, End: a.End, Doctor: doc.Name, Status: a.Status})
		if err := sender.Send(ctx, a.Patient.Notify, a.Patient.Email, a.Patient.Phone, msg); err != nil {
			failed = err
			continue
		}
		sent++
	}
	return sent, failed
}
