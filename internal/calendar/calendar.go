// Package calendar connects the dialogue engine to a practice's calendar: it finds free
// slots for a patient's request in the practice's schedule, with the store's bookings,
// books the one the patient chose through the store, which refuses a slot taken meanwhile,
// and records the patient's consent to a confirmation by e-mail or SMS before it is sent.
package calendar

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/tresen/tresen/internal/appointment"
	"github.com/tresen/tresen/internal/dialogue"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/nlu"
	"github.com/tresen/tresen/internal/request"
)

// Store is what the calendar needs of the store.
type Store interface {
	Schedule(ctx context.Context, tenantID string) (appointment.Schedule, error)
	BusyTimes(ctx context.Context, tenantID string, from, to time.Time) ([]appointment.Busy, error)
	BookAppointment(ctx context.Context, tenantID string, a appointment.Appointment) (appointment.Appointment, error)
	SetAppointmentNotify(ctx context.Context, tenantID, id, channel, address string) (appointment.Appointment, error)
}

// Slots implements dialogue.Slots for one practice.
type Slots struct {
	Store    Store
	TenantID string
	// Days is how far ahead the assistant offers appointments; 0: 60.
	Days int
	// Send sends the patient the confirmation of an appointment on the channel they
	// agreed to (package notify's Notices.Send with its Confirmation); nil: the practice
	// sends none, and Confirm records nothing.
	Send func(ctx context.Context, tenantID string, a appointment.Appointment) error
	// Channels are the channels the practice's settings send on: appointment.NotifyEmail,
	// appointment.NotifySMS.
	Channels []string
}

var (
	_ dialogue.Slots         = (*Slots)(nil)
	_ dialogue.Confirmations = (*Slots)(nil)
)

func (s *Slots) days() int {
	if s.Days > 0 {
		return s.Days
	}
	return 60
}

// kind picks the appointment type the assistant books for a request: an acute one for an
// urgent request, otherwise the first type the assistant may book.
func kind(sched appointment.Schedule, r request.Request) (appointment.Type, bool) {
	urgent := r.Urgency != request.Routine
	for _, t := range sched.Types {
		if t.Assistant && t.Acute == urgent {
			return t, true
		}
	}
	for _, t := range sched.Types {
		if t.Assistant {
			return t, true
		}
	}
	return appointment.Type{}, false
}

// Find returns free appointments that fit the request's wishes, the best first.
func (s *Slots) Find(ctx context.Context, r request.Request, now time.Time) ([]dialogue.Offer, error) {
	sched, err := s.Store.Schedule(ctx, s.TenantID)
	if err != nil {
		return nil, err
	}
	t, ok := kind(sched, r)
	if !ok {
		return nil, errs.E(errs.NotFound, "die Praxis hat keine Terminart für den Assistenten freigegeben")
	}
	q := appointment.Query{
		Type: t.ID, Day: r.Details.Date, Time: r.Details.Time, Daypart: r.Details.Daypart,
		Insurance: r.Patient.Insurance, Urgent: r.Urgency != request.Routine, Days: s.days(),
	}
	if r.Details.Doctor != "" {
		if doc, ok := sched.DoctorBySurname(r.Details.Doctor); ok {
			q.Doctor = doc.ID
		}
	}
	busy, err := s.Store.BusyTimes(ctx, s.TenantID, now, now.AddDate(0, 0, s.days()+1))
	if err != nil {
		return nil, err
	}
	slots, err := sched.Search(q, busy, now)
	if errs.Is(err, errs.Forbidden) || errs.Is(err, errs.Invalid) {
		return nil, nil // nothing the assistant may offer for this wish: the team answers it
	}
	if err != nil {
		return nil, err
	}
	offers := make([]dialogue.Offer, 0, len(slots))
	for _, sl := range slots {
		doc, _ := sched.Resource(sl.Doctor)
		offers = append(offers, dialogue.Offer{ID: t.ID + "|" + sl.ID(), Start: sl.Start, Doctor: doc.Surname})
	}
	return offers, nil
}

// Book books an offer for the request's patient and returns the appointment's id. A slot
// taken meanwhile is an errs.Conflict, which the dialogue answers with new offers.
func (s *Slots) Book(ctx context.Context, r request.Request, o dialogue.Offer) (string, error) {
	sched, err := s.Store.Schedule(ctx, s.TenantID)
	if err != nil {
		return "", err
	}
	typeID, rest, _ := strings.Cut(o.ID, "|")
	doctor, _, _ := strings.Cut(rest, "|")
	t, ok := sched.Type(typeID)
	if _, isDoc := sched.Resource(doctor); !ok || !isDoc {
		return "", errs.E(errs.Invalid, "unbekanntes Terminangebot")
	}
	a := appointment.Appointment{
		Type: t.ID, Doctor: doctor, Resources: t.Resources, Start: o.Start, End: o.Start.Add(time.Duration(t.Minutes) * time.Minute),
		Patient: appointment.Patient{Name: r.Patient.Name, BirthDate: r.Patient.BirthDate, Phone: r.Patient.Phone,
			Insurance: r.Patient.Insurance, KVNR: r.Patient.KVNR},
		Note: r.Details.Reason, Source: "assistant",
	}
	a, err = s.Store.BookAppointment(ctx, s.TenantID, a)
	return a.ID, err
}

// Reminds implements dialogue.Confirmations.
func (s *Slots) Reminds(start, now time.Time) bool { return appointment.Reminded(start, now) }

// Sends implements dialogue.Confirmations.
func (s *Slots) Sends(channel string) bool {
	return s.Send != nil && slices.Contains(s.Channels, channel)
}

// Confirm implements dialogue.Confirmations: it records on the appointment that the
// patient agreed to confirmations, changes and reminders on channel to address (an e-mail
// address, or a German mobile number in E.164), and only then sends the confirmation.
// Reminders follow from the recorded consent. No error names the address.
func (s *Slots) Confirm(ctx context.Context, booking, channel, address string) error {
	if !s.Sends(channel) {
		return errs.E(errs.Invalid, "Die Praxis versendet keine Bestätigungen auf diesem Weg.")
	}
	switch channel {
	case appointment.NotifyEmail:
		if got, ok := nlu.Email(address); !ok || got != address {
			return errs.E(errs.Invalid, "Die E-Mail-Adresse ist ungültig.")
		}
	case appointment.NotifySMS:
		if got, ok := nlu.MobileE164(address); !ok || got != address {
			return errs.E(errs.Invalid, "Die Handynummer ist ungültig.")
		}
	}
	a, err := s.Store.SetAppointmentNotify(ctx, s.TenantID, booking, channel, address)
	if err != nil {
		return err
	}
	return s.Send(ctx, s.TenantID, a)
}
