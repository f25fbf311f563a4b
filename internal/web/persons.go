package web

import (
	"net/http"
	"strings"

	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/export"
	"github.com/tresen/tresen/internal/person"
)

// personsData is the page for data-subject requests: find a person by name and birth date,
// hand out what is stored (Art. 15 DSGVO), erase it (Art. 17).
type personsData struct {
	Name      string
	BirthDate string
	Searched  bool
	Found     []person.Person
}

func (s *Server) handlePersonSearch(w http.ResponseWriter, r *http.Request) error {
	sess := sessionFrom(r.Context())
	q := r.URL.Query()
	d := personsData{Name: strings.TrimSpace(q.Get("name")), BirthDate: strings.TrimSpace(q.Get("birth_date"))}
	p := page{Title: "Auskunft und Löschung"}
	if d.Name != "" || d.BirthDate != "" {
		d.Searched = true
		if _, err := person.ParseBirthDate(d.BirthDate, s.db.Now()); err != nil {
			p.Error = errs.Message(err)
		} else {
			ids, err := s.db.FindPersons(r.Context(), sess.TenantID, d.Name, d.BirthDate)
			if err != nil {
				return err
			}
			for _, id := range ids {
				found, err := s.db.FindPersonByID(r.Context(), sess.TenantID, id)
				if err != nil {
					return err
				}
				d.Found = append(d.Found, found)
			}
		}
	}
	p.Data = d
	s.render(w, r, http.StatusOK, "persons", p)
	return nil
}

// handlePersonExport sends everything stored about a person as a ZIP file.
func (s *Server) handlePersonExport(w http.ResponseWriter, r *http.Request) error {
	sess := sessionFrom(r.Context())
	x, err := s.db.ExportPerson(r.Context(), sess.TenantID, r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="auskunft-`+x.Person.ID+`.zip"`)
	return export.WritePerson(w, x, s.db.Now())
}

func (s *Server) handlePersonErase(w http.ResponseWriter, r *http.Request) error {
	sess := sessionFrom(r.Context())
	if r.PostFormValue("confirm") != "yes" {
		s.render(w, r, http.StatusUnprocessableEntity, "persons", page{Title: "Auskunft und Löschung",
			Error: "Bitte bestätigen, dass alle Daten dieser Person endgültig gelöscht werden sollen.", Data: personsData{}})
		return nil
	}
	if err := s.db.ErasePerson(r.Context(), sess.TenantID, r.PathValue("id")); err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "persons", page{Title: "Auskunft und Löschung",
		Notice: "Die Person und alle zu ihr gespeicherten Daten wurden gelöscht.", Data: personsData{}})
	return nil
}
