package web

import (
	"net/http"
	"strings"

	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/rxcheck"
	"github.com/tresen/tresen/internal/tenant"
)

const rxSettingsTitle = "Einstellungen der Rezeptprüfung"

// rxSettingsData is the pharmacy's Rezeptprüfung settings as the form holds them.
type rxSettingsData struct {
	States  []choice
	Invalid bool // the Bundesland sent is not one of the list
}

// handleRxSettings shows the pharmacy's settings for its Rezeptprüfung.
func (s *Server) handleRxSettings(w http.ResponseWriter, r *http.Request) error {
	t, err := s.pharmacy(r)
	if err != nil {
		return err
	}
	set, err := s.rx.Settings(r.Context(), t.ID)
	if err != nil {
		return err
	}
	s.rxSettingsPage(w, r, t, set, http.StatusOK, page{})
	return nil
}

// handleRxSettingsSave stores the pharmacy's Bundesland; every check from now on counts
// its public holidays.
func (s *Server) handleRxSettingsSave(w http.ResponseWriter, r *http.Request) error {
	t, err := s.pharmacy(r)
	if err != nil {
		return err
	}
	set := rxcheck.Settings{State: strings.TrimSpace(r.PostFormValue("state"))}
	err = s.rx.SetSettings(r.Context(), t.ID, set)
	if errs.Is(err, errs.Invalid) {
		s.rxSettingsPage(w, r, t, set, http.StatusUnprocessableEntity, page{Error: errs.Message(err)})
		return nil
	}
	if err != nil {
		return err
	}
	s.rxSettingsPage(w, r, t, set, http.StatusOK, page{Notice: "Einstellungen gespeichert."})
	return nil
}

func (s *Server) rxSettingsPage(w http.ResponseWriter, r *http.Request, t tenant.Tenant, set rxcheck.Settings, status int, p page) {
	p.Title, p.Tenant = rxSettingsTitle, &t
	p.Data = rxSettingsData{States: choose(stateChoices, set.State), Invalid: status == http.StatusUnprocessableEntity}
	s.render(w, r, status, "rx_settings", p)
}
