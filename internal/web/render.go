package web

import (
	"bytes"
	"log/slog"
	"net/http"

	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/tenant"
	"github.com/tresen/tresen/internal/user"
)

// page is what every template gets.
type page struct {
	Title   string
	Session *store.Session
	Tenant  *tenant.Tenant
	Notice  string // a success message
	Error   string // an error message for the form
	Data    any
}

// CSRF is the session's token for the hidden field of every form.
func (p page) CSRF() string {
	if p.Session == nil {
		return ""
	}
	return p.Session.CSRFToken
}

// Role is the user's role, for showing only what they may do.
func (p page) Role() user.Role {
	if p.Session == nil {
		return ""
	}
	return p.Session.User.Role
}

// render writes a page; it renders into a buffer first so that a template error never
// leaves half a page behind.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	s.renderPart(w, r, status, name, "layout.html", p)
}

// renderPart writes one named template of a page, such as the list that a live page
// reloads, without the layout around it.
func (s *Server) renderPart(w http.ResponseWriter, r *http.Request, status int, name, part string, p page) {
	if p.Session == nil {
		p.Session = sessionFrom(r.Context())
	}
	if p.Tenant == nil && p.Session != nil && p.Session.TenantID != "" {
		if t, err := s.db.FindTenantByID(r.Context(), p.Session.TenantID); err == nil {
			p.Tenant = &t
		}
	}
	t, ok := s.pages[name]
	if !ok {
		s.log.Error("no such template", slog.String("name", name))
		http.Error(w, "Interner Fehler", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, part, p); err != nil {
		s.log.Error("render", slog.String("template", name), slog.Any("err", err))
		http.Error(w, "Interner Fehler", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}
