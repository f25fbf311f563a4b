package web

import (
	"bytes"
	"encoding/base64"
	"html/template"
	"image/png"
	"net/http"

	"github.com/pquerna/otp"

	"github.com/tresen/tresen/internal/errs"
)

// accountData is the account page: password change and second-factor setup.
type accountData struct {
	TOTPQR    template.URL // the same as a QR code image
	TOTPKey   string       // the secret, for typing in by hand
	TOTPState string
}

func (s *Server) handleAccount(w http.ResponseWriter, r *http.Request) error {
	s.render(w, r, http.StatusOK, "account", page{Title: "Mein Zugang", Data: accountData{}})
	return nil
}

func (s *Server) handlePasswordChange(w http.ResponseWriter, r *http.Request) error {
	sess := sessionFrom(r.Context())
	next := r.PostFormValue("new")
	if next != r.PostFormValue("new2") {
		s.render(w, r, http.StatusUnprocessableEntity, "account", page{Title: "Mein Zugang", Error: "Die beiden neuen Passwörter stimmen nicht überein.", Data: accountData{}})
		return nil
	}
	err := s.db.ChangePassword(r.Context(), sess.User.TenantID, sess.User.ID, r.PostFormValue("current"), next)
	if errs.Is(err, errs.Invalid) {
		s.render(w, r, http.StatusUnprocessableEntity, "account", page{Title: "Mein Zugang", Error: errs.Message(err), Data: accountData{}})
		return nil
	}
	if err != nil {
		return err
	}
	// Changing the password ended every session of the user, this one too.
	s.clearSessionCookie(w)
	s.render(w, r, http.StatusOK, "login", page{Title: "Anmelden", Session: nil, Notice: "Das Passwort wurde geändert. Bitte mit dem neuen Passwort anmelden."})
	return nil
}

// totpIssuer names the service in authenticator apps.
const totpIssuer = "Tresen"

func (s *Server) handleTOTPBegin(w http.ResponseWriter, r *http.Request) error {
	sess := sessionFrom(r.Context())
	if sess.User.TOTPEnabled {
		return errs.E(errs.Conflict, "der zweite Faktor ist bereits eingerichtet")
	}
	url, err := s.db.BeginTOTP(r.Context(), sess.User.TenantID, sess.User.ID, totpIssuer)
	if err != nil {
		return err
	}
	d, err := totpData(url)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "account", page{Title: "Mein Zugang", Data: d})
	return nil
}

func totpData(url string) (accountData, error) {
	key, err := otp.NewKeyFromURL(url)
	if err != nil {
		return accountData{}, err
	}
	img, err := key.Image(220, 220)
	if err != nil {
		return accountData{}, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return accountData{}, err
	}
	return accountData{TOTPKey: key.Secret(), TOTPState: "setup",
		TOTPQR: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()))}, nil
}

func (s *Server) handleTOTPEnable(w http.ResponseWriter, r *http.Request) error {
	sess := sessionFrom(r.Context())
	err := s.db.EnableTOTP(r.Context(), sess.User.TenantID, sess.User.ID, r.PostFormValue("code"))
	if errs.Is(err, errs.Invalid) {
		// Show the same secret again, from the store, not from the form.
		d := accountData{}
		if url, perr := s.db.PendingTOTP(r.Context(), sess.User.TenantID, sess.User.ID, totpIssuer); perr == nil {
			if d, perr = totpData(url); perr != nil {
				return perr
			}
		}
		s.render(w, r, http.StatusUnprocessableEntity, "account", page{Title: "Mein Zugang", Error: errs.Message(err), Data: d})
		return nil
	}
	if err != nil {
		return err
	}
	sess.User.TOTPEnabled = true
	s.render(w, r, http.StatusOK, "account", page{Title: "Mein Zugang", Notice: "Der zweite Faktor ist eingerichtet. Ab der nächsten Anmeldung wird der Code abgefragt.", Data: accountData{}})
	return nil
}
