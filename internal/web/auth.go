package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/user"
)

// Attempts at passwords, codes and reset tokens per client address: 20 at once, then one
// every 3 seconds.
const (
	loginBurst = 20
	loginEvery = 3 * time.Second
)

// errTooMany answers an address that tries too often.
var errTooMany = errs.E(errs.TooMany, "zu viele Versuche von dieser Adresse; bitte eine Minute warten")

// limited refuses a handler to addresses that exceed the attempt rate.
func (s *Server) limited(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if !s.logins.allow(clientIP(r)) {
			w.Header().Set("Retry-After", "60")
			return errTooMany
		}
		return h(w, r)
	}
}

// parseForm reads a posted form, URL-encoded or multipart. PostFormValue alone would drop
// a read error, such as a body over maxFormBody, and go on with empty fields: a login
// attempt with an empty user name, a reset with an empty token. Multipart files stay in
// memory: the body limit (maxUploadBody) is within the memory allowed, so that uploaded
// prescriptions never land unencrypted in a temporary file.
func parseForm(r *http.Request) error {
	var err error
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		err = r.ParseMultipartForm(maxUploadBody + 1<<20)
	} else {
		err = r.ParseForm()
	}
	if err != nil {
		return errs.E(errs.Invalid, "Formular nicht lesbar")
	}
	return nil
}

func (s *Server) handleRoot(w http.ResponseWriter, r *http.Request) error {
	http.Redirect(w, r, "/start", http.StatusSeeOther)
	return nil
}

func (s *Server) handleLoginForm(w http.ResponseWriter, r *http.Request) error {
	s.render(w, r, http.StatusOK, "login", page{Title: "Anmelden"})
	return nil
}

// handleLogin checks user name and password; with a second factor the session starts
// pending until the code is entered.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	r = withActor(r, "anonymous")
	username := strings.TrimSpace(r.PostFormValue("username"))
	u, err := s.db.Authenticate(r.Context(), username, r.PostFormValue("password"))
	if errs.Is(err, errs.Unauthorized) {
		s.render(w, r, http.StatusUnauthorized, "login", page{Title: "Anmelden", Error: errs.Message(err), Data: username})
		return nil
	}
	if err != nil {
		return err
	}
	r = withActor(r, u.ID)
	token, err := s.db.CreateSession(r.Context(), u, u.TOTPEnabled)
	if err != nil {
		return err
	}
	s.setSessionCookie(w, token)
	switch {
	case u.TOTPEnabled:
		http.Redirect(w, r, "/login/totp", http.StatusSeeOther)
	case u.Role == user.Support:
		http.Redirect(w, r, "/support", http.StatusSeeOther)
	default:
		http.Redirect(w, r, "/start", http.StatusSeeOther)
	}
	return nil
}

// pendingSession returns the session that waits for its second factor.
func (s *Server) pendingSession(r *http.Request) (token string, ok bool) {
	c, err := r.Cookie(s.sessionCookie())
	if err != nil {
		return "", false
	}
	sess, err := s.db.LookupSession(r.Context(), c.Value)
	if err != nil || !sess.MFAPending {
		return "", false
	}
	return c.Value, true
}

func (s *Server) handleTOTPLoginForm(w http.ResponseWriter, r *http.Request) error {
	if _, ok := s.pendingSession(r); !ok {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return nil
	}
	s.render(w, r, http.StatusOK, "login_totp", page{Title: "Zweiter Faktor"})
	return nil
}

func (s *Server) handleTOTPLogin(w http.ResponseWriter, r *http.Request) error {
	token, ok := s.pendingSession(r)
	if !ok {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return nil
	}
	if err := parseForm(r); err != nil {
		return err
	}
	sess, err := s.db.LookupSession(r.Context(), token)
	if err != nil {
		return err
	}
	r = withActor(r, sess.User.ID)
	good, err := s.db.VerifyTOTP(r.Context(), sess.User.TenantID, sess.User.ID, r.PostFormValue("code"))
	if err != nil {
		return err
	}
	if !good {
		s.render(w, r, http.StatusUnauthorized, "login_totp", page{Title: "Zweiter Faktor", Error: "Der Code stimmt nicht."})
		return nil
	}
	if err := s.db.CompleteMFA(r.Context(), token); err != nil {
		return err
	}
	target := "/start"
	if sess.User.Role == user.Support {
		target = "/support"
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) error {
	sess := sessionFrom(r.Context())
	if err := s.db.DeleteSession(r.Context(), tokenFrom(r.Context())); err != nil {
		return err
	}
	s.db.Audit(r.Context(), sess.TenantID, audit.Logout, "user", sess.User.ID, "")
	s.clearSessionCookie(w)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}

func (s *Server) handleResetForm(w http.ResponseWriter, r *http.Request) error {
	s.render(w, r, http.StatusOK, "reset", page{Title: "Neues Passwort", Data: r.URL.Query().Get("token")})
	return nil
}

func (s *Server) handleReset(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	r = withActor(r, "anonymous")
	token := r.PostFormValue("token")
	if r.PostFormValue("password") != r.PostFormValue("password2") {
		s.render(w, r, http.StatusUnprocessableEntity, "reset", page{Title: "Neues Passwort", Error: "Die beiden Passwörter stimmen nicht überein.", Data: token})
		return nil
	}
	if err := s.db.ResetPassword(r.Context(), token, r.PostFormValue("password")); errs.Is(err, errs.Invalid) {
		s.render(w, r, http.StatusUnprocessableEntity, "reset", page{Title: "Neues Passwort", Error: errs.Message(err), Data: token})
		return nil
	} else if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "login", page{Title: "Anmelden", Notice: "Das Passwort wurde geändert. Bitte mit dem neuen Passwort anmelden."})
	return nil
}
