package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/user"
)

type usersData struct {
	Users     []user.User
	Roles     []user.Role
	ResetLink string // shown once after it was created
	ResetFor  string
	Form      map[string]string
}

var tenantRoles = []user.Role{user.Owner, user.Staff, user.ReadOnly}

func (s *Server) usersPage(w http.ResponseWriter, r *http.Request, status int, p page, d usersData) error {
	sess := sessionFrom(r.Context())
	users, err := s.db.ListUsers(r.Context(), sess.TenantID)
	if err != nil {
		return err
	}
	d.Users, d.Roles = users, tenantRoles
	p.Title, p.Data = "Benutzer", d
	s.render(w, r, status, "users", p)
	return nil
}

func (s *Server) handleUserList(w http.ResponseWriter, r *http.Request) error {
	return s.usersPage(w, r, http.StatusOK, page{}, usersData{})
}

func (s *Server) handleUserCreate(w http.ResponseWriter, r *http.Request) error {
	sess := sessionFrom(r.Context())
	role, err := user.ParseRole(r.PostFormValue("role"))
	if err == nil && role == user.Support {
		err = errs.Field("role", "Support-Zugänge vergibt der Betreiber")
	}
	form := map[string]string{"username": r.PostFormValue("username"), "name": r.PostFormValue("name"), "role": r.PostFormValue("role")}
	if err == nil {
		_, err = s.db.CreateUser(r.Context(), user.User{TenantID: sess.TenantID, Username: strings.TrimSpace(r.PostFormValue("username")),
			Name: r.PostFormValue("name"), Role: role, MustChangePassword: true}, r.PostFormValue("password"))
	}
	if errs.Is(err, errs.Invalid) {
		return s.usersPage(w, r, http.StatusUnprocessableEntity, page{Error: errs.Message(err)}, usersData{Form: form})
	}
	if err != nil {
		return err
	}
	return s.usersPage(w, r, http.StatusOK, page{Notice: "Der Zugang wurde angelegt."}, usersData{})
}

func (s *Server) handleUserRole(w http.ResponseWriter, r *http.Request) error {
	sess := sessionFrom(r.Context())
	role, err := user.ParseRole(r.PostFormValue("role"))
	if err == nil {
		err = s.db.UpdateUserRole(r.Context(), sess.TenantID, r.PathValue("id"), role)
	}
	if errs.Is(err, errs.Invalid) || errs.Is(err, errs.Conflict) {
		return s.usersPage(w, r, statusOf(err), page{Error: errs.Message(err)}, usersData{})
	}
	if err != nil {
		return err
	}
	return s.usersPage(w, r, http.StatusOK, page{Notice: "Die Rolle wurde geändert."}, usersData{})
}

func (s *Server) handleUserDelete(w http.ResponseWriter, r *http.Request) error {
	sess := sessionFrom(r.Context())
	if r.PathValue("id") == sess.User.ID {
		return s.usersPage(w, r, http.StatusConflict, page{Error: "Den eigenen Zugang kann man nicht selbst löschen."}, usersData{})
	}
	err := s.db.DeleteUser(r.Context(), sess.TenantID, r.PathValue("id"))
	if errs.Is(err, errs.Conflict) {
		return s.usersPage(w, r, http.StatusConflict, page{Error: errs.Message(err)}, usersData{})
	}
	if err != nil {
		return err
	}
	return s.usersPage(w, r, http.StatusOK, page{Notice: "Der Zugang wurde gelöscht."}, usersData{})
}

// handleUserReset creates a one-time reset link that the owner hands to the user.
func (s *Server) handleUserReset(w http.ResponseWriter, r *http.Request) error {
	sess := sessionFrom(r.Context())
	id := r.PathValue("id")
	u, err := s.db.FindUserByID(r.Context(), sess.TenantID, id)
	if err != nil {
		return err
	}
	token, err := s.db.CreateResetToken(r.Context(), sess.TenantID, id)
	if err != nil {
		return err
	}
	scheme := "http"
	if s.secure {
		scheme = "https"
	}
	link := scheme + "://" + r.Host + "/reset?token=" + url.QueryEscape(token)
	return s.usersPage(w, r, http.StatusOK, page{Notice: "Link zum Zurücksetzen erstellt: eine Stunde gültig, nur einmal nutzbar."},
		usersData{ResetLink: link, ResetFor: u.Username})
}
