package web

import (
	"net/http"

	"github.com/tresen/tresen/internal/tenant"
)

// section is a part of the start page; later features fill them.
type section struct {
	Title string
	Text  string
	Link  string // where the part lives, once it exists
}

// startSections are the parts of each kind of tenant's start page.
var startSections = map[tenant.Kind][]section{
	tenant.Practice: {
		{"Posteingang", "Anliegen aus Telefon und Online-Rezeption, dringende und neueste zuerst: zuweisen, zurückrufen, Termin eintragen, erledigen.", "/inbox"},
		{"Termine", "Der Praxiskalender: Termine des Tages und der Woche, freie Zeiten, buchen, verschieben, absagen.", "/calendar"},
		{"Telefonassistent", "Anrufe, die der Assistent angenommen hat.", ""},
		{"Online-Rezeption", "Das Chat-Fenster für die Praxis-Website.", ""},
	},
	tenant.Pharmacy: {
		{"Rezeptprüfung", "E-Rezept-Dateien hochladen und vor der Abrechnung auf Retaxationsrisiken prüfen.", "/rx"},
		{"Scannen", "Papierrezepte einlesen: folgt mit der Texterkennung.", ""},
		{"Listen und Summen", "Geprüfte Rezepte, Befunde und Beträge im Risiko je Zeitraum, als CSV und PDF.", "/rx"},
	},
}

func (s *Server) handleStart(w http.ResponseWriter, r *http.Request) error {
	sess := sessionFrom(r.Context())
	t, err := s.db.FindTenantByID(r.Context(), sess.TenantID)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "start", page{Title: t.Kind.Label(), Tenant: &t, Data: startSections[t.Kind]})
	return nil
}
