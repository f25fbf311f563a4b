package web

import (
	"github.com/tresen/tresen/internal/berlin"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/retention"
	"github.com/tresen/tresen/internal/store"
)

type auditData struct {
	Entries []audit.Entry
	Names   map[string]string // user id → user name, for the actor column
	Action  string
	Actor   string
	Object  string
	From    string // YYYY-MM-DD, local date
	To      string
	Page    int
	More    bool
	Actions []audit.Action
}

var auditActions = []audit.Action{audit.Login, audit.LoginFailed, audit.Lockout, audit.Logout, audit.Create, audit.Update,
	audit.Delete, audit.Read, audit.Export, audit.Erase, audit.Purge, audit.Permission, audit.PasswordSet, audit.PasswordReset,
	audit.TOTPEnable, audit.SupportGrant, audit.SupportRevoke, audit.SupportAccess}

const auditPageSize = 50

// handleAuditList shows the tenant's audit log, filtered and paged; with htmx only the
// table is swapped.
func (s *Server) handleAuditList(w http.ResponseWriter, r *http.Request) error {
	sess := sessionFrom(r.Context())
	q := r.URL.Query()
	d := auditData{Action: q.Get("action"), Actor: strings.TrimSpace(q.Get("actor")), Object: strings.TrimSpace(q.Get("object")), Actions: auditActions}
	d.Page, _ = strconv.Atoi(q.Get("page"))
	d.Page = max(d.Page, 0)
	f := store.AuditFilter{Limit: auditPageSize + 1, Offset: d.Page * auditPageSize}
	if d.Action != "" {
		a := audit.Action(d.Action)
		f.Action = &a
	}
	if d.Actor != "" {
		f.Actor = &d.Actor
	}
	if d.Object != "" {
		f.Object = &d.Object
	}
	d.From, d.To = q.Get("from"), q.Get("to")
	if d.From != "" {
		t, err := time.ParseInLocation(time.DateOnly, d.From, berlin.Location)
		if err != nil {
			return errs.Field("from", "kein gültiges Datum")
		}
		f.Since = &t
	}
	if d.To != "" {
		t, err := time.ParseInLocation(time.DateOnly, d.To, berlin.Location)
		if err != nil {
			return errs.Field("to", "kein gültiges Datum")
		}
		t = t.AddDate(0, 0, 1) // through the end of that day
		f.Until = &t
	}
	entries, err := s.db.ListAudit(r.Context(), sess.TenantID, f)
	if err != nil {
		return err
	}
	if len(entries) > auditPageSize {
		d.More, entries = true, entries[:auditPageSize]
	}
	d.Entries = entries
	users, err := s.db.ListUsers(r.Context(), sess.TenantID)
	if err != nil {
		return err
	}
	d.Names = map[string]string{}
	for _, u := range users {
		d.Names[u.ID] = u.Username
	}
	s.render(w, r, http.StatusOK, "audit", page{Title: "Protokoll", Data: d})
	return nil
}

type retentionRow struct {
	Rule retention.Rule
	Days int
}

func (s *Server) retentionPage(w http.ResponseWriter, r *http.Request, status int, p page) error {
	sess := sessionFrom(r.Context())
	t, err := s.db.FindTenantByID(r.Context(), sess.TenantID)
	if err != nil {
		return err
	}
	pol, err := s.db.RetentionPolicy(r.Context(), sess.TenantID)
	if err != nil {
		return err
	}
	var rows []retentionRow
	for _, rule := range retention.Rules(t.Kind) {
		rows = append(rows, retentionRow{rule, pol.Days(rule.Kind)})
	}
	p.Title, p.Data = "Aufbewahrung", rows
	s.render(w, r, status, "retention", p)
	return nil
}

func (s *Server) handleRetention(w http.ResponseWriter, r *http.Request) error {
	return s.retentionPage(w, r, http.StatusOK, page{})
}

func (s *Server) handleRetentionUpdate(w http.ResponseWriter, r *http.Request) error {
	sess := sessionFrom(r.Context())
	kind := retention.Kind(r.PostFormValue("kind"))
	days, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("days")))
	if err != nil {
		err = errs.Field("days", "bitte eine ganze Zahl von Tagen eingeben")
	} else {
		err = s.db.SetRetention(r.Context(), sess.TenantID, kind, days)
	}
	if errs.Is(err, errs.Invalid) {
		return s.retentionPage(w, r, http.StatusUnprocessableEntity, page{Error: errs.Message(err)})
	}
	if err != nil {
		return err
	}
	return s.retentionPage(w, r, http.StatusOK, page{Notice: "Die Aufbewahrungsfrist wurde gespeichert."})
}

type grantsData struct {
	Grants []store.Grant
	Now    time.Time
}

func (s *Server) grantsPage(w http.ResponseWriter, r *http.Request, status int, p page) error {
	sess := sessionFrom(r.Context())
	grants, err := s.db.ListGrants(r.Context(), sess.TenantID)
	if err != nil {
		return err
	}
	p.Title, p.Data = "Support-Zugriff", grantsData{grants, s.db.Now()}
	s.render(w, r, status, "support_grants", p)
	return nil
}

func (s *Server) handleGrantList(w http.ResponseWriter, r *http.Request) error {
	return s.grantsPage(w, r, http.StatusOK, page{})
}

func (s *Server) handleGrantCreate(w http.ResponseWriter, r *http.Request) error {
	sess := sessionFrom(r.Context())
	hours, err := strconv.Atoi(r.PostFormValue("hours"))
	if err != nil {
		err = errs.Field("hours", "bitte eine Dauer wählen")
	} else if r.PostFormValue("confirm") != "yes" {
		err = errs.Field("confirm", "bitte ausdrücklich bestätigen, dass der Support Einsicht nehmen darf")
	} else {
		_, err = s.db.CreateGrant(r.Context(), sess.TenantID, time.Duration(hours)*time.Hour)
	}
	if errs.Is(err, errs.Invalid) {
		return s.grantsPage(w, r, http.StatusUnprocessableEntity, page{Error: errs.Message(err)})
	}
	if err != nil {
		return err
	}
	return s.grantsPage(w, r, http.StatusOK, page{Notice: "Der Support kann jetzt lesend zugreifen, bis die Freigabe abläuft oder widerrufen wird."})
}

func (s *Server) handleGrantRevoke(w http.ResponseWriter, r *http.Request) error {
	sess := sessionFrom(r.Context())
	if err := s.db.RevokeGrant(r.Context(), sess.TenantID, r.PathValue("id")); err != nil {
		return err
	}
	return s.grantsPage(w, r, http.StatusOK, page{Notice: "Die Freigabe wurde widerrufen."})
}
