// Package assistant builds a practice's assistant from its settings: the dialogue engine
// with the practice's texts, its calendar (Tresen's own or its PVS over FHIR) and, where
// the practice chose one, its language model; and the reception service that holds the
// conversations of every channel (terminal, website widget, phone).
package assistant

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/tresen/tresen/internal/alert"
	"github.com/tresen/tresen/internal/appointment"
	"github.com/tresen/tresen/internal/calendar"
	"github.com/tresen/tresen/internal/dialogue"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/events"
	"github.com/tresen/tresen/internal/fhirclient"
	"github.com/tresen/tresen/internal/holiday"
	"github.com/tresen/tresen/internal/nlu"
	"github.com/tresen/tresen/internal/notify"
	"github.com/tresen/tresen/internal/openai"
	"github.com/tresen/tresen/internal/reception"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/tenant"
)

// Reception returns the reception service of all practices of a store.
func Reception(db *store.DB) *reception.Service {
	return &reception.Service{Store: db, Engine: Engine(db), Directory: func(ctx context.Context, tenantID string) (reception.Directory, error) {
		pvs, err := PracticeSystem(ctx, db, tenantID)
		if pvs == nil {
			return nil, err // Tresen's own records
		}
		return pvs, err
	}}
}

// Engine returns the engine of a practice, with what the practice told it to say
// (Settings), its calendar (its doctors), its SMS gateway for confirmations of what the
// assistant booked, and its language model when it has switched LLM mode on.
func Engine(db *store.DB) func(context.Context, string) (*dialogue.Engine, error) {
	return func(ctx context.Context, tenantID string) (*dialogue.Engine, error) {
		t, err := db.FindTenantByID(ctx, tenantID)
		if err != nil {
			return nil, err
		}
		if t.Kind != tenant.Practice {
			return nil, errs.E(errs.Invalid, "der Assistent spricht nur für Arztpraxen")
		}
		var set Settings
		// Before the practice told it anything, the assistant names the practice, takes
		// every request and knows no hours: callers hear of the Bereitschaftsdienst.
		if err := db.Setting(ctx, tenantID, store.SettingAssistant, &set); err != nil && !errs.Is(err, errs.NotFound) {
			return nil, err
		}
		sched, err := db.Schedule(ctx, tenantID)
		configured := err == nil
		if err != nil && !errs.Is(err, errs.NotFound) {
			return nil, err
		}
		holidays, _ := holiday.For(sched.State)
		var doctors []string
		for _, r := range sched.Resources {
			if r.Kind == appointment.Doctor && r.Surname != "" {
				doctors = append(doctors, r.Surname)
			}
		}
		e := &dialogue.Engine{NLU: &nlu.Understander{Doctors: doctors}, Practice: set.Practice(t.Name, doctors, holidays), Now: db.Now}
		pvs, err := PracticeSystem(ctx, db, tenantID)
		if err != nil {
			return nil, err
		}
		switch {
		case pvs != nil:
			e.Slots = pvs
		case configured:
			slots := &calendar.Slots{Store: db, TenantID: tenantID}
			e.Slots = slots
			// With a mail server or an SMS gateway, the assistant offers a confirmation of
			// what it booked (on the phone by SMS only), sent as the team's calendar sends it.
			notices := &notify.Notices{Store: db, Now: db.Now}
			email, err := notices.CanEmail(ctx, tenantID)
			if err != nil {
				return nil, err
			}
			sms, err := notices.CanSMS(ctx, tenantID)
			if err != nil {
				return nil, err
			}
			if email {
				slots.Channels = append(slots.Channels, appointment.NotifyEmail)
			}
			if sms {
				slots.Channels = append(slots.Channels, appointment.NotifySMS)
			}
			if len(slots.Channels) > 0 {
				slots.Send = func(ctx context.Context, tenantID string, a appointment.Appointment) error {
					return notices.Send(ctx, tenantID, notify.Confirmation, a)
				}
				e.Confirmations = slots
			}
		}
		s, err := db.LLMSettings(ctx, tenantID)
		if err != nil {
			return nil, err
		}
		if s.Enabled {
			m, err := openai.New(s)
			if err != nil {
				return nil, err
			}
			e.Model = m
		}
		return e, nil
	}
}

// PracticeSystem returns the client of the practice's own system (PVS) when it keeps the
// calendar and the patients there, or nil.
func PracticeSystem(ctx context.Context, db *store.DB, tenantID string) (*fhirclient.Client, error) {
	var set fhirclient.Settings
	switch err := db.Setting(ctx, tenantID, store.SettingPVS, &set); {
	case errs.Is(err, errs.NotFound) || err == nil && set.Base == "":
		return nil, nil
	case err != nil:
		return nil, err
	}
	return fhirclient.New(set), nil
}

// Alerts returns the bus that mails each urgent request's link to the practice's alert
// addresses (Settings.Alerts) through its mail settings, on top of bus.
func Alerts(db *store.DB, bus events.Bus, log *slog.Logger) *alert.Bus {
	return &alert.Bus{Bus: bus, Log: log,
		Recipients: func(ctx context.Context, tenantID string) (string, []string, error) {
			t, err := db.FindTenantByID(ctx, tenantID)
			if err != nil {
				return "", nil, err
			}
			var set Settings
			if err := db.Setting(ctx, tenantID, store.SettingAssistant, &set); err != nil && !errs.Is(err, errs.NotFound) {
				return "", nil, err
			}
			return t.Name, set.Alerts, nil
		},
		Send: func(ctx context.Context, tenantID, to string, msg notify.Message) error {
			var ns notify.Settings
			if err := db.Setting(ctx, tenantID, store.SettingNotify, &ns); errs.Is(err, errs.NotFound) {
				return errs.E(errs.Invalid, "Die Praxis hat keinen E-Mail-Versand eingerichtet.")
			} else if err != nil {
				return err
			}
			return notify.Sender{Settings: ns, Now: db.Now}.Send(ctx, "email", to, "", msg)
		},
	}
}

// PracticeByNumber returns the practice whose settings list the called number; with a
// demo practice (demo non-empty), every other number reaches it.
func PracticeByNumber(db *store.DB, demoCode string) func(ctx context.Context, called string) (string, error) {
	return func(ctx context.Context, called string) (string, error) {
		want, _ := phoneNumber(called)
		tenants, err := db.ListTenants(ctx)
		if err != nil {
			return "", err
		}
		demoID := ""
		for _, t := range tenants {
			if t.Kind != tenant.Practice {
				continue
			}
			if demoCode != "" && t.Code == demoCode {
				demoID = t.ID
			}
			var set Settings
			if err := db.Setting(ctx, t.ID, store.SettingAssistant, &set); err != nil && !errs.Is(err, errs.NotFound) {
				return "", err
			}
			if want != "" && slices.Contains(set.Numbers, want) {
				return t.ID, nil
			}
		}
		if demoID != "" {
			return demoID, nil
		}
		return "", errs.E(errs.NotFound, "keine Praxis unter dieser Nummer")
	}
}

// RingFirst returns, for each practice, where its calls ring first right now and for how
// long (Settings.RingFirstNow): its own phone during opening hours, nowhere after hours.
func RingFirst(db *store.DB) func(ctx context.Context, tenantID string) (string, time.Duration, error) {
	return func(ctx context.Context, tenantID string) (string, time.Duration, error) {
		var set Settings
		if err := db.Setting(ctx, tenantID, store.SettingAssistant, &set); err != nil && !errs.Is(err, errs.NotFound) {
			return "", 0, err
		}
		if set.RingFirst == "" {
			return "", 0, nil
		}
		sched, err := db.Schedule(ctx, tenantID)
		if err != nil && !errs.Is(err, errs.NotFound) {
			return "", 0, err
		}
		holidays, _ := holiday.For(sched.State)
		target, wait := set.RingFirstNow(holidays, db.Now())
		return target, wait, nil
	}
}
