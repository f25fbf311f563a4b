package fhirapi

import (
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tresen/tresen/internal/appointment"
	"github.com/tresen/tresen/internal/berlin"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/fhir"
	"github.com/tresen/tresen/internal/person"
)

func (s *Server) schedule(c caller) (appointment.Schedule, error) {
	sched, err := s.Store.Schedule(c.ctx, c.tenantID)
	if errs.Is(err, errs.NotFound) {
		return sched, errs.E(errs.NotFound, "Die Praxis führt keinen Kalender in Tresen.")
	}
	return sched, err
}

func (s *Server) searchSchedule(w http.ResponseWriter, r *http.Request, c caller) error {
	sched, err := s.schedule(c)
	if err != nil {
		return err
	}
	var res []any
	var ids []string
	for _, rs := range sched.Resources {
		if rs.Kind == appointment.Doctor {
			res, ids = append(res, scheduleOf(sched, rs)), append(ids, rs.ID)
		}
	}
	writeJSON(w, http.StatusOK, searchset(base(r)+"Schedule/", res, ids))
	return nil
}

func (s *Server) readSchedule(w http.ResponseWriter, r *http.Request, c caller) error {
	sched, err := s.schedule(c)
	if err != nil {
		return err
	}
	rs, ok := sched.Resource(r.PathValue("id"))
	if !ok || rs.Kind != appointment.Doctor {
		return errs.E(errs.NotFound, "Diesen Kalender gibt es nicht.")
	}
	writeJSON(w, http.StatusOK, scheduleOf(sched, rs))
	return nil
}

func (s *Server) searchServices(w http.ResponseWriter, r *http.Request, c caller) error {
	sched, err := s.schedule(c)
	if err != nil {
		return err
	}
	var res []any
	var ids []string
	for _, t := range sched.Types {
		res, ids = append(res, serviceOf(t)), append(ids, t.ID)
	}
	writeJSON(w, http.StatusOK, searchset(base(r)+"HealthcareService/", res, ids))
	return nil
}

func (s *Server) readService(w http.ResponseWriter, r *http.Request, c caller) error {
	sched, err := s.schedule(c)
	if err != nil {
		return err
	}
	t, ok := sched.Type(r.PathValue("id"))
	if !ok {
		return errs.E(errs.NotFound, "Diese Terminart gibt es nicht.")
	}
	writeJSON(w, http.StatusOK, serviceOf(t))
	return nil
}

// dateRange reads the prefixed date parameters of a search (start=ge2026-12-01&start=lt…),
// by default from now for the given number of days.
func dateRange(q url.Values, param string, now time.Time, days int) (from, to time.Time, err error) {
	from, to = now, now.AddDate(0, 0, days)
	for _, v := range q[param] {
		prefix, value := "eq", v
		if len(v) > 2 && v[0] >= 'a' && v[0] <= 'z' {
			prefix, value = v[:2], v[2:]
		}
		t, day, ok := parseWhen(value)
		if !ok {
			return from, to, invalid(param, "%s ist kein Datum (JJJJ-MM-TT) und kein Zeitpunkt (RFC 3339)", value)
		}
		switch prefix {
		case "ge", "gt", "sa":
			from = t
		case "le", "lt", "eb":
			to = t
			if day && prefix == "le" {
				to = t.AddDate(0, 0, 1)
			}
		case "eq":
			from, to = t, t.AddDate(0, 0, 1)
		default:
			return from, to, invalid(param, "unbekanntes Präfix %q", prefix)
		}
	}
	if !to.After(from) || to.Sub(from) > 400*24*time.Hour {
		return from, to, invalid(param, "der Zeitraum muss positiv und höchstens 400 Tage lang sein")
	}
	return from, to, nil
}

// parseWhen reads a FHIR date (a day in Berlin) or dateTime.
func parseWhen(s string) (time.Time, bool, bool) {
	if d, err := time.ParseInLocation(time.DateOnly, s, berlin.Location); err == nil {
		return d, true, true
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, false, true
	}
	return time.Time{}, false, false
}

func refID(ref, typ string) string {
	return strings.TrimPrefix(ref, typ+"/")
}

func (s *Server) searchSlots(w http.ResponseWriter, r *http.Request, c caller) error {
	sched, err := s.schedule(c)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	from, to, err := dateRange(q, "start", s.now(), 14)
	if err != nil {
		return err
	}
	typeID := q.Get("service-type")
	if i := strings.LastIndexByte(typeID, '|'); i >= 0 {
		typeID = typeID[i+1:]
	}
	if typeID == "" && len(sched.Types) > 0 {
		typeID = sched.Types[0].ID
	}
	t, ok := sched.Type(typeID)
	if !ok {
		return invalid("service-type", "unbekannte Terminart %q", typeID)
	}
	count := 20
	if v := q.Get("_count"); v != "" {
		if count, err = strconv.Atoi(v); err != nil || count < 1 || count > 200 {
			return invalid("_count", "zwischen 1 und 200")
		}
	}
	doctor := refID(q.Get("schedule"), "Schedule")
	status := q.Get("status")
	if status == "" {
		status = "free"
	}
	var res []any
	var ids []string
	switch status {
	case "free":
		busy, err := s.Store.BusyTimes(c.ctx, c.tenantID, from, to.AddDate(0, 0, 1))
		if err != nil {
			return err
		}
		// The practice's own system books as the team: lead times and acute hours do not bind it.
		slots, err := sched.Search(appointment.Query{Type: t.ID, Doctor: doctor, Staff: true, Limit: count,
			Days: int(to.Sub(from).Hours()/24) + 1}, busy, from)
		if err != nil {
			return err
		}
		for _, sl := range slots {
			if sl.Start.Before(to) {
				res, ids = append(res, slotOf(sl, t, "free")), append(ids, slotID(sl))
			}
		}
	case "busy":
		list, err := s.Store.ListAppointments(c.ctx, c.tenantID, from, to)
		if err != nil {
			return err
		}
		for _, a := range list {
			if a.Status != appointment.Booked || doctor != "" && a.Doctor != doctor || len(res) == count {
				continue
			}
			sl := appointment.Slot{Type: a.Type, Doctor: a.Doctor, Start: a.Start, End: a.End}
			at, _ := sched.Type(a.Type)
			res, ids = append(res, slotOf(sl, at, "busy")), append(ids, slotID(sl))
		}
	default:
		return invalid("status", "free oder busy")
	}
	writeJSON(w, http.StatusOK, searchset(base(r)+"Slot/", res, ids))
	return nil
}

func (s *Server) searchAppointments(w http.ResponseWriter, r *http.Request, c caller) error {
	sched, err := s.schedule(c)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	from, to, err := dateRange(q, "date", s.now().AddDate(0, 0, -1), 30)
	if err != nil {
		return err
	}
	list, err := s.Store.ListAppointments(c.ctx, c.tenantID, from, to)
	if err != nil {
		return err
	}
	actor := refID(q.Get("actor"), "Practitioner")
	status := q.Get("status")
	var res []any
	var ids []string
	for _, a := range list {
		if actor != "" && a.Doctor != actor || status != "" && a.Status != status {
			continue
		}
		res, ids = append(res, appointmentOf(sched, a)), append(ids, a.ID)
	}
	writeJSON(w, http.StatusOK, searchset(base(r)+"Appointment/", res, ids))
	return nil
}

func (s *Server) readAppointment(w http.ResponseWriter, r *http.Request, c caller) error {
	sched, err := s.schedule(c)
	if err != nil {
		return err
	}
	a, err := s.Store.FindAppointmentByID(c.ctx, c.tenantID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, appointmentOf(sched, a))
	return nil
}

// readResource parses the request body as a FHIR resource of the given type.
func readResource(r *http.Request, typ string) (*fhir.Node, error) {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, invalid(typ, "Anfrage zu groß oder nicht lesbar")
	}
	n, err := fhir.Parse(data)
	if err != nil {
		return nil, invalid(typ, "%s", errs.Message(err))
	}
	if n.Name != typ {
		return nil, invalid("resourceType", "erwartet %s, bekommen %s", typ, n.Name)
	}
	return n, nil
}

// patientFrom reads the patient of an Appointment: a reference to a stored Patient, or a
// contained one.
func (s *Server) patientFrom(c caller, n *fhir.Node) (string, appointment.Patient, error) {
	for i, p := range n.All("participant") {
		ref := p.Str("actor", "reference")
		switch {
		case strings.HasPrefix(ref, "Patient/"):
			id := strings.TrimPrefix(ref, "Patient/")
			pr, err := s.Store.FindPersonByID(c.ctx, c.tenantID, id)
			if err != nil {
				return "", appointment.Patient{}, invalid("Appointment.participant["+strconv.Itoa(i)+"].actor", "unbekannter Patient")
			}
			return pr.ID, appointment.Patient{Name: pr.Name, BirthDate: pr.BirthDate, Phone: pr.Phone, KVNR: pr.KVNR}, nil
		case strings.HasPrefix(ref, "#"):
			for _, ct := range n.All("contained") {
				pt := ct.Resource()
				if pt == nil || pt.Name != "Patient" || "#"+pt.Str("id") != ref {
					continue
				}
				name := pt.Str("name", "text")
				if name == "" {
					var parts []string
					for _, g := range pt.Get("name").All("given") {
						parts = append(parts, g.Value)
					}
					name = strings.TrimSpace(strings.Join(append(parts, pt.Str("name", "family")), " "))
				}
				p := appointment.Patient{Name: name, BirthDate: pt.Str("birthDate"), KVNR: pt.Identifier(sysKVNR)}
				for _, tc := range pt.All("telecom") {
					if tc.Str("system") == "phone" {
						p.Phone = tc.Str("value")
					}
				}
				if p.Name == "" {
					return "", p, invalid("Appointment.contained.name", "Name der Patientin oder des Patienten fehlt")
				}
				if p.BirthDate != "" {
					if _, err := person.ParseBirthDate(p.BirthDate, time.Now()); err != nil {
						return "", p, invalid("Appointment.contained.birthDate", "%s", errs.Message(err))
					}
				}
				if p.KVNR != "" {
					if err := person.ValidateKVNR(p.KVNR); err != nil {
						return "", p, invalid("Appointment.contained.identifier", "%s", errs.Message(err))
					}
				}
				return "", p, nil
			}
			return "", appointment.Patient{}, invalid("Appointment.participant["+strconv.Itoa(i)+"].actor.reference", "%s verweist auf keinen enthaltenen Patienten", ref)
		}
	}
	return "", appointment.Patient{}, invalid("Appointment.participant", "Patientin oder Patient fehlt (Patient/… oder enthaltener Patient)")
}

func (s *Server) createAppointment(w http.ResponseWriter, r *http.Request, c caller) error {
	sched, err := s.schedule(c)
	if err != nil {
		return err
	}
	n, err := readResource(r, "Appointment")
	if err != nil {
		return err
	}
	if st := n.Str("status"); st != "" && st != "booked" && st != "proposed" && st != "pending" {
		return invalid("Appointment.status", "ein neuer Termin hat den Status booked")
	}
	var a appointment.Appointment
	if ref := n.Str("slot", "reference"); ref != "" {
		typ, doctor, start, ok := parseSlotID(refID(ref, "Slot"))
		t, known := sched.Type(typ)
		if !ok || !known {
			return invalid("Appointment.slot.reference", "unbekannter Terminblock")
		}
		a = appointment.Appointment{Type: t.ID, Doctor: doctor, Resources: t.Resources, Start: start, End: start.Add(time.Duration(t.Minutes) * time.Minute)}
	} else {
		start, _, ok1 := parseWhen(n.Str("start"))
		end, _, ok2 := parseWhen(n.Str("end"))
		if !ok1 || !ok2 {
			return invalid("Appointment.start", "start und end (RFC 3339) oder ein slot angeben")
		}
		typ := n.Get("serviceType").Code(sysServiceType)
		t, known := sched.Type(typ)
		if !known {
			return invalid("Appointment.serviceType", "unbekannte Terminart %q", typ)
		}
		var doctor string
		for _, p := range n.All("participant") {
			if ref := p.Str("actor", "reference"); strings.HasPrefix(ref, "Practitioner/") {
				doctor = strings.TrimPrefix(ref, "Practitioner/")
			}
		}
		a = appointment.Appointment{Type: t.ID, Doctor: doctor, Resources: t.Resources, Start: start, End: end}
	}
	if d, ok := sched.Resource(a.Doctor); !ok || d.Kind != appointment.Doctor {
		return invalid("Appointment.participant.actor", "unbekannte Ärztin oder unbekannter Arzt")
	}
	if a.PersonID, a.Patient, err = s.patientFrom(c, n); err != nil {
		return err
	}
	a.Note, a.Source = n.Str("comment"), "fhir"
	if a, err = s.Store.BookAppointment(c.ctx, c.tenantID, a); err != nil {
		return err
	}
	w.Header().Set("Location", base(r)+"Appointment/"+a.ID)
	writeJSON(w, http.StatusCreated, appointmentOf(sched, a))
	return nil
}

// updateAppointment cancels (status cancelled) or moves (a new start, or another doctor) an
// appointment.
func (s *Server) updateAppointment(w http.ResponseWriter, r *http.Request, c caller) error {
	sched, err := s.schedule(c)
	if err != nil {
		return err
	}
	n, err := readResource(r, "Appointment")
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if bodyID := n.Str("id"); bodyID != "" && bodyID != id {
		return invalid("Appointment.id", "die id im Inhalt (%s) passt nicht zur Adresse", bodyID)
	}
	a, err := s.Store.FindAppointmentByID(c.ctx, c.tenantID, id)
	if err != nil {
		return err
	}
	switch status := n.Str("status"); status {
	case "cancelled":
		if err := s.Store.CancelAppointment(c.ctx, c.tenantID, id); err != nil {
			return err
		}
		a.Status = appointment.Cancelled
	case "booked", "":
		start, _, ok := parseWhen(n.Str("start"))
		if !ok {
			return invalid("Appointment.start", "kein Zeitpunkt (RFC 3339)")
		}
		doctor := ""
		for _, p := range n.All("participant") {
			if ref := p.Str("actor", "reference"); strings.HasPrefix(ref, "Practitioner/") {
				doctor = strings.TrimPrefix(ref, "Practitioner/")
			}
		}
		if doctor != "" {
			if d, ok := sched.Resource(doctor); !ok || d.Kind != appointment.Doctor {
				return invalid("Appointment.participant.actor", "unbekannte Ärztin oder unbekannter Arzt")
			}
		}
		if !start.Equal(a.Start) || doctor != "" && doctor != a.Doctor {
			if a, err = s.Store.MoveAppointment(c.ctx, c.tenantID, id, start, doctor); err != nil {
				return err
			}
		}
	default:
		return invalid("Appointment.status", "erlaubt sind booked (verschieben) und cancelled (absagen)")
	}
	writeJSON(w, http.StatusOK, appointmentOf(sched, a))
	return nil
}

func (s *Server) searchPatients(w http.ResponseWriter, r *http.Request, c caller) error {
	q := r.URL.Query()
	name := strings.TrimSpace(strings.Join(slices.DeleteFunc([]string{q.Get("given"), q.Get("family")}, func(s string) bool { return s == "" }), " "))
	if n := q.Get("name"); n != "" {
		name = n
	}
	birth := strings.TrimPrefix(q.Get("birthdate"), "eq")
	if birth == "" {
		return invalid("Patient", "Suche nur mit Geburtsdatum (birthdate), dazu optional Name und Versichertennummer")
	}
	var found []person.Person
	if name != "" {
		ids, err := s.Store.FindPersons(c.ctx, c.tenantID, name, birth)
		if err != nil {
			return err
		}
		for _, id := range ids {
			p, err := s.Store.FindPersonByID(c.ctx, c.tenantID, id)
			if err != nil {
				return err
			}
			found = append(found, p)
		}
	} else {
		// All born on the day: what a system needs to match a caller tolerantly.
		var err error
		if found, err = s.Store.FindPersonsBornOn(c.ctx, c.tenantID, birth); err != nil {
			if errs.Is(err, errs.Invalid) {
				return invalid("birthdate", "%s", errs.Message(err))
			}
			return err
		}
	}
	kvnr := q.Get("identifier")
	if i := strings.LastIndexByte(kvnr, '|'); i >= 0 {
		kvnr = kvnr[i+1:]
	}
	var res []any
	var out []string
	for _, p := range found {
		if kvnr != "" && !strings.EqualFold(p.KVNR, kvnr) {
			continue
		}
		res, out = append(res, patientOf(p)), append(out, p.ID)
	}
	writeJSON(w, http.StatusOK, searchset(base(r)+"Patient/", res, out))
	return nil
}

func (s *Server) readPatient(w http.ResponseWriter, r *http.Request, c caller) error {
	p, err := s.Store.FindPersonByID(c.ctx, c.tenantID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, patientOf(p))
	return nil
}

// base is the API's base URL as the client reached it.
func base(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/fhir/"
}
