// Package demo creates the demo tenants of `tresen serve --demo`: a practice and a pharmacy
// with an owner and a staff login each. All names are visibly fake.
package demo

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tresen/tresen/internal/appointment"
	"github.com/tresen/tresen/internal/assistant"
	"github.com/tresen/tresen/internal/dialogue"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/holiday"
	"github.com/tresen/tresen/internal/rxcheck"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/tenant"
	"github.com/tresen/tresen/internal/user"
)

// Tenants and logins of the demo.
var (
	PracticeTenant = tenant.Tenant{Kind: tenant.Practice, Code: "031234567", Name: "Hausarztpraxis Dr. Erika Schneider"}
	PharmacyTenant = tenant.Tenant{Kind: tenant.Pharmacy, Code: "308412345", Name: "Rosen-Apotheke"}

	// PracticeDoctors are the demo practice's doctors (surnames), whom callers ask for.
	PracticeDoctors = []string{"Schneider", "Weber", "Özdemir"}

	logins = map[tenant.Kind][]user.User{
		tenant.Practice: {
			{Username: "praxis.inhaber", Name: "Dr. Erika Schneider", Role: user.Owner},
			{Username: "praxis.team", Name: "Max Mustermann", Role: user.Staff},
		},
		tenant.Pharmacy: {
			{Username: "apotheke.inhaber", Name: "Erika Mustermann", Role: user.Owner},
			{Username: "apotheke.team", Name: "Moritz Mustermann", Role: user.Staff},
		},
	}
)

// AssistantSettings are what the demo practice tells its assistant to say.
func AssistantSettings() assistant.Settings {
	return assistant.Settings{
		Hours: [7]string{time.Monday: "08:00-12:00, 15:00-18:00", time.Tuesday: "08:00-12:00, 15:00-18:00",
			time.Wednesday: "08:00-12:00", time.Thursday: "08:00-12:00, 15:00-18:00", time.Friday: "08:00-12:00"},
		Address: "Musterstraße 12, 28195 Bremen",
		Phone:   "+49 421 1234567",
		FAQ: map[string]string{
			dialogue.FAQParking:       "Parkplätze gibt es im Parkhaus am Markt, drei Minuten zu Fuß.",
			dialogue.FAQAccessibility: "Die Praxis ist barrierefrei: ebenerdiger Eingang, Aufzug und ein rollstuhlgerechtes WC.",
			dialogue.FAQInsurances:    "Wir behandeln gesetzlich und privat Versicherte sowie Selbstzahler.",
			dialogue.FAQServices:      "Wir bieten Vorsorgeuntersuchungen, Impfungen einschließlich Reiseimpfungen, EKG, Ultraschall und Blutabnahmen an.",
			dialogue.FAQDirections:    "Mit der Straßenbahn Linie 6 bis Haltestelle Domsheide, dann zwei Minuten zu Fuß.",
		},
	}
}

// PracticeInfo is what the assistant may tell callers of the demo practice. Its team is
// reachable in opening hours.
func PracticeInfo() dialogue.Practice {
	hb, _ := holiday.For("HB")
	s := AssistantSettings()
	return s.Practice(PracticeTenant.Name, PracticeDoctors, hb)
}

// Seed creates what of the demo is missing; it is idempotent. Logins created now are
// written to out with their generated passwords, once: later runs find them and print
// nothing (`tresen user reset NAME` makes a new password link).
func Seed(ctx context.Context, db *store.DB, out io.Writer) error {
	for _, want := range []tenant.Tenant{PracticeTenant, PharmacyTenant} {
		t, err := db.FindTenantByCode(ctx, want.Kind, want.Code)
		if errs.Is(err, errs.NotFound) {
			t, err = db.CreateTenant(ctx, want)
		}
		if err != nil {
			return fmt.Errorf("demo tenant %s: %w", want.Code, err)
		}
		existing, err := db.ListUsers(ctx, t.ID)
		if err != nil {
			return err
		}
		have := map[string]bool{}
		for _, u := range existing {
			have[u.Username] = true
		}
		for _, u := range logins[t.Kind] {
			if have[u.Username] {
				continue
			}
			u.TenantID = t.ID
			pw := user.GeneratePassword()
			if _, err := db.CreateUser(ctx, u, pw); err != nil {
				return fmt.Errorf("demo user %s: %w", u.Username, err)
			}
			fmt.Fprintf(out, "Demo-Zugang %-18s Passwort %s   (%s, %s)\n", u.Username, pw, t.Name, u.Role.Label())
		}
		if t.Kind == tenant.Practice {
			var set assistant.Settings
			if err := db.Setting(ctx, t.ID, store.SettingAssistant, &set); errs.Is(err, errs.NotFound) {
				if err := db.SetSetting(ctx, t.ID, store.SettingAssistant, AssistantSettings()); err != nil {
					return fmt.Errorf("demo assistant: %w", err)
				}
			} else if err != nil {
				return err
			}
			if _, err := db.Schedule(ctx, t.ID); errs.Is(err, errs.NotFound) {
				if err := db.SetSchedule(ctx, t.ID, PracticeSchedule()); err != nil {
					return fmt.Errorf("demo schedule: %w", err)
				}
			} else if err != nil {
				return err
			}
		}
		if t.Kind == tenant.Pharmacy {
			// The pharmacy is in Bremen too: its checks count Bremen's holidays.
			var set rxcheck.Settings
			if err := db.Setting(ctx, t.ID, store.SettingRx, &set); errs.Is(err, errs.NotFound) {
				if err := db.SetSetting(ctx, t.ID, store.SettingRx, rxcheck.Settings{State: "HB"}); err != nil {
					return fmt.Errorf("demo Rezeptprüfung: %w", err)
				}
			} else if err != nil {
				return err
			}
		}
	}
	return nil
}

// PracticeSchedule is the demo practice's calendar: its three doctors with the opening
// hours of PracticeInfo, an acute hour each morning, and Bremen's public holidays.
func PracticeSchedule() appointment.Schedule {
	s := appointment.Schedule{
		State: "HB",
		Types: []appointment.Type{
			{ID: "sprechstunde", Name: "Sprechstunde", Minutes: 15, Assistant: true, NewPatients: true},
			{ID: "vorsorge", Name: "Vorsorgeuntersuchung", Minutes: 30, Assistant: true, LeadHours: 24},
			{ID: "akut", Name: "Akutsprechstunde", Minutes: 10, Assistant: true, NewPatients: true, Acute: true},
			{ID: "eingriff", Name: "Kleiner Eingriff", Minutes: 45},
		},
	}
	for _, surname := range PracticeDoctors {
		id := strings.ToLower(strings.NewReplacer("Ö", "oe", "ö", "oe", "Ä", "ae", "ä", "ae", "Ü", "ue", "ü", "ue").Replace(surname))
		s.Resources = append(s.Resources, appointment.Resource{ID: id, Kind: appointment.Doctor, Name: "Dr. " + surname, Surname: surname})
		for wd := time.Monday; wd <= time.Friday; wd++ {
			h := appointment.Hours{Resource: id, Weekday: wd, Open: []appointment.Interval{{From: "08:00", To: "12:00"}},
				Acute: []appointment.Interval{{From: "08:00", To: "09:00"}}}
			if wd != time.Wednesday && wd != time.Friday {
				h.Open = append(h.Open, appointment.Interval{From: "15:00", To: "18:00"})
			}
			s.Hours = append(s.Hours, h)
		}
	}
	return s
}
