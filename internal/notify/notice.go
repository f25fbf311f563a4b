package notify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/tresen/tresen/internal/appointment"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/store"
)

// Store is what Notices needs of the store.
type Store interface {
	Setting(ctx context.Context, tenantID, name string, v any) error
	Schedule(ctx context.Context, tenantID string) (appointment.Schedule, error)
}

// ErrNotSetUp is returned by Notices when the practice has not set up sending messages.
var ErrNotSetUp = errs.E(errs.Invalid, "Die Praxis hat noch keinen Versand von Bestätigungen eingerichtet.")

// Notices sends patients the messages about their appointments that they agreed to,
// through their practice's channels (its Settings). The team's calendar and the
// assistant both send through it.
type Notices struct {
	Store Store
	HTTP  *http.Client // for the SMS gateway; nil: default
	Now   func() time.Time
}

// Settings returns the practice's settings for messages; ErrNotSetUp when it has none.
func (n *Notices) Settings(ctx context.Context, tenantID string) (Settings, error) {
	var set Settings
	err := n.Store.Setting(ctx, tenantID, store.SettingNotify, &set)
	if errs.Is(err, errs.NotFound) {
		return set, ErrNotSetUp
	}
	if err != nil {
		return set, fmt.Errorf("notify settings: %w", err)
	}
	return set, nil
}

// CanSMS reports whether the practice can send SMS: it has an SMS gateway set up.
func (n *Notices) CanSMS(ctx context.Context, tenantID string) (bool, error) {
	return n.can(ctx, tenantID, func(set Settings) bool { return set.SMS.URL != "" })
}

// CanEmail reports whether the practice can send e-mail: it has a mail server set up.
func (n *Notices) CanEmail(ctx context.Context, tenantID string) (bool, error) {
	return n.can(ctx, tenantID, func(set Settings) bool { return set.SMTP.Addr != "" })
}

func (n *Notices) can(ctx context.Context, tenantID string, has func(Settings) bool) (bool, error) {
	set, err := n.Settings(ctx, tenantID)
	switch {
	case errors.Is(err, ErrNotSetUp):
		return false, nil
	case err != nil:
		return false, err
	}
	return has(set), nil
}

// Send sends the patient of a the message that build makes of it, on the channel they
// agreed to (a.Patient.Notify); nothing when they agreed to none. build gets the
// appointment as a patient message may tell it, without the reason for the visit. The
// errors name neither the patient nor the message: ErrNotSetUp, a message of kind Invalid
// that says what is missing, or an internal one.
func (n *Notices) Send(ctx context.Context, tenantID string, build func(Practice, Appointment) Message, a appointment.Appointment) error {
	if a.Patient.Notify == "" {
		return nil
	}
	set, err := n.Settings(ctx, tenantID)
	if err != nil {
		return err
	}
	sched, err := n.Store.Schedule(ctx, tenantID)
	if err != nil {
		return fmt.Errorf("notify: schedule: %w", err)
	}
	now := time.Now
	if n.Now != nil {
		now = n.Now
	}
	// The sequence grows with every message about the appointment, so that calendars
	// take the latest.
	msg := build(set.Practice, View(sched, a, int(now().Unix()/60)))
	return Sender{Settings: set, HTTP: n.HTTP, Now: now}.Send(ctx, a.Patient.Notify, a.Patient.Email, a.Patient.Phone, msg)
}

// View is what a patient message says of an appointment: no reason for the visit.
func View(sched appointment.Schedule, a appointment.Appointment, sequence int) Appointment {
	doc, _ := sched.Resource(a.Doctor)
	return Appointment{ID: a.ID, Start: a.Start, End: a.End, Doctor: doc.Name, Status: a.Status, Sequence: sequence}
}
