package web

import (
	"net/http"

	"github.com/tresen/tresen/internal/store"
)

// handleSupportHome lists, for the operator's support, the tenants whose owners have
// granted access right now.
func (s *Server) handleSupportHome(w http.ResponseWriter, r *http.Request) error {
	grants, err := s.db.ActiveGrants(r.Context())
	if err != nil {
		return err
	}
	reports, err := s.db.OpenReports(r.Context())
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "support_home", page{Title: "Support", Data: struct {
		Grants  []store.ActiveGrant
		Reports []store.OpenReport
	}{grants, reports}})
	return nil
}

// handleSupportEnter lets a support session act read-only for the tenant of a grant.
func (s *Server) handleSupportEnter(w http.ResponseWriter, r *http.Request) error {
	sess := sessionFrom(r.Context())
	grants, err := s.db.ActiveGrants(r.Context())
	if err != nil {
		return err
	}
	id := r.PostFormValue("grant")
	for _, g := range grants {
		if g.ID == id {
			if err := s.db.EnterWithGrant(r.Context(), tokenFrom(r.Context()), sess.User, g.TenantID, g.ID); err != nil {
				return err
			}
			http.Redirect(w, r, "/start", http.StatusSeeOther)
			return nil
		}
	}
	return store.ErrNoGrant
}
