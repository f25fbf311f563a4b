package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/mail"
	"strings"

	"github.com/tresen/tresen/internal/appointment"
	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/notify"
	"github.com/tresen/tresen/internal/store"
)

func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s
}

// sendNotice sends the patient the message for an appointment when they agreed to one,
// and says in a sentence for the team's notice how it went ("" when nothing was to send).
// The booking stands whatever happens here.
func (s *Server) sendNotice(ctx context.Context, tenantID string, build func(notify.Practice, notify.Appointment) notify.Message, a appointment.Appointment) string {
	if a.Patient.Notify == "" {
		return ""
	}
	notices := notify.Notices{Store: s.db, Now: s.db.Now}
	switch err := notices.Send(ctx, tenantID, build, a); {
	case errors.Is(err, notify.ErrNotSetUp):
		return " " + errs.Message(err)
	case err != nil:
		if errs.KindOf(err) == errs.Internal {
			s.log.Error("send appointment message", slog.String("channel", a.Patient.Notify), slog.Any("err", err))
		}
		return " Die Bestätigung konnte nicht gesendet werden: " + errs.Message(err)
	}
	return " " + map[string]string{appointment.NotifyEmail: "Bestätigung per E-Mail gesendet.", appointment.NotifySMS: "Bestätigung per SMS gesendet."}[a.Patient.Notify]
}

// feedDays bound what a staff calendar feed holds: the last month and half a year ahead.
const (
	feedPast   = 30
	feedFuture = 183
)

// handleCalendarFeeds issues new secret addresses for the doctors' calendar feeds; old
// addresses stop working. Only the owner may.
func (s *Server) handleCalendarFeeds(w http.ResponseWriter, r *http.Request) error {
	t, err := s.practice(r)
	if err != nil {
		return err
	}
	sched, err := s.db.Schedule(r.Context(), t.ID)
	if err != nil {
		return err
	}
	tokens := map[string]string{}
	for _, res := range sched.Resources {
		if res.Kind == appointment.Doctor {
			tokens[res.ID] = notify.FeedToken()
		}
	}
	if err := s.db.SetSetting(r.Context(), t.ID, store.SettingFeeds, tokens); err != nil {
		return err
	}
	http.Redirect(w, r, "/calendar/setup#feeds", http.StatusSeeOther)
	return nil
}

// feedURLs returns the doctors' feed addresses, for the owner's setup page.
func (s *Server) feedURLs(r *http.Request, tenantID string, sched appointment.Schedule) []feedURL {
	var tokens map[string]string
	if err := s.db.Setting(r.Context(), tenantID, store.SettingFeeds, &tokens); err != nil {
		return nil
	}
	scheme := "http"
	if s.secure {
		scheme = "https"
	}
	var out []feedURL
	for _, res := range sched.Resources {
		if tok, ok := tokens[res.ID]; ok && res.Kind == appointment.Doctor {
			out = append(out, feedURL{Doctor: res.Name, URL: scheme + "://" + r.Host + "/calendar/feed/" + tenantID + "/" + res.ID + "/" + tok + ".ics"})
		}
	}
	return out
}

type feedURL struct{ Doctor, URL string }

// handleCalendarFeed serves a doctor's appointments as an iCalendar feed for the staff's
// calendar programs. The secret in the address is the only key: no session, no cookie.
func (s *Server) handleCalendarFeed(w http.ResponseWriter, r *http.Request) error {
	tenantID, doctor := r.PathValue("tenant"), r.PathValue("doctor")
	token := strings.TrimSuffix(r.PathValue("token"), ".ics")
	notFound := errs.E(errs.NotFound, "Diesen Kalender gibt es nicht.")
	var tokens map[string]string
	if err := s.db.Setting(r.Context(), tenantID, store.SettingFeeds, &tokens); err != nil {
		return notFound
	}
	if want, ok := tokens[doctor]; !ok || !notify.SameToken(want, token) {
		return notFound
	}
	ctx := audit.WithActor(r.Context(), audit.Actor{UserID: "feed:" + doctor, Source: clientIP(r)})
	sched, err := s.db.Schedule(ctx, tenantID)
	if err != nil {
		return notFound
	}
	now := s.db.Now()
	list, err := s.db.ListAppointments(ctx, tenantID, now.AddDate(0, 0, -feedPast), now.AddDate(0, 0, feedFuture))
	if err != nil {
		return err
	}
	doc, _ := sched.Resource(doctor)
	var events []notify.Event
	for _, a := range list {
		if a.Doctor != doctor {
			continue
		}
		ty, _ := sched.Type(a.Type)
		status := "CONFIRMED"
		if a.Status == appointment.Cancelled {
			status = "CANCELLED"
		}
		events = append(events, notify.Event{UID: a.ID + "@tresen", Summary: a.Patient.Name + " (" + ty.Name + ")",
			Description: a.Note, Start: a.Start, End: a.End, Status: status, Stamp: now})
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	_, err = w.Write(notify.Feed(doc.Name, events))
	return err
}
