// Package fhirapi is the practice calendar's HL7 FHIR R4 interface for practice-management
// systems (PVS), after gematik's ISiK Terminplanung: Schedule, Slot, Appointment,
// HealthcareService and Patient in JSON, errors as OperationOutcome, authorised by the
// practice's API tokens with SMART-style system scopes.
package fhirapi

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/tresen/tresen/internal/appointment"
	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/person"
	"github.com/tresen/tresen/internal/store"
)

// Store is what the API needs of the store.
type Store interface {
	LookupAPIToken(ctx context.Context, token string) (store.APIToken, error)
	Schedule(ctx context.Context, tenantID string) (appointment.Schedule, error)
	BusyTimes(ctx context.Context, tenantID string, from, to time.Time) ([]appointment.Busy, error)
	BookAppointment(ctx context.Context, tenantID string, a appointment.Appointment) (appointment.Appointment, error)
	CancelAppointment(ctx context.Context, tenantID, id string) error
	MoveAppointment(ctx context.Context, tenantID, id string, start time.Time, doctor string) (appointment.Appointment, error)
	FindAppointmentByID(ctx context.Context, tenantID, id string) (appointment.Appointment, error)
	ListAppointments(ctx context.Context, tenantID string, from, to time.Time) ([]appointment.Appointment, error)
	FindPersons(ctx context.Context, tenantID, name, birthDate string) ([]string, error)
	FindPersonByID(ctx context.Context, tenantID, id string) (person.Person, error)
	FindPersonsBornOn(ctx context.Context, tenantID, birthDate string) ([]person.Person, error)
}

// Server serves the FHIR API under /fhir/.
type Server struct {
	Store Store
	Now   func() time.Time
	mux   *http.ServeMux
}

// New returns the API's handler, to be mounted at /fhir/.
func New(st Store, now func() time.Time) *Server {
	s := &Server{Store: st, Now: now, mux: http.NewServeMux()}
	s.mux.HandleFunc("GET /fhir/metadata", s.handleMetadata)
	for _, r := range []struct {
		pattern, typ, perm string
		h                  func(w http.ResponseWriter, r *http.Request, c caller) error
	}{
		{"GET /fhir/Schedule", "Schedule", "read", s.searchSchedule},
		{"GET /fhir/Schedule/{id}", "Schedule", "read", s.readSchedule},
		{"GET /fhir/HealthcareService", "HealthcareService", "read", s.searchServices},
		{"GET /fhir/HealthcareService/{id}", "HealthcareService", "read", s.readService},
		{"GET /fhir/Slot", "Slot", "read", s.searchSlots},
		{"GET /fhir/Appointment", "Appointment", "read", s.searchAppointments},
		{"GET /fhir/Appointment/{id}", "Appointment", "read", s.readAppointment},
		{"POST /fhir/Appointment", "Appointment", "write", s.createAppointment},
		{"PUT /fhir/Appointment/{id}", "Appointment", "write", s.updateAppointment},
		{"GET /fhir/Patient", "Patient", "read", s.searchPatients},
		{"GET /fhir/Patient/{id}", "Patient", "read", s.readPatient},
	} {
		s.mux.HandleFunc(r.pattern, s.authorised(r.typ, r.perm, r.h))
	}
	s.mux.HandleFunc("/fhir/", func(w http.ResponseWriter, r *http.Request) {
		writeOutcome(w, http.StatusNotFound, "not-supported", "Diese Ressource oder Interaktion bietet die Schnittstelle nicht an.", "")
	})
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	s.mux.ServeHTTP(w, r)
}

// maxBody bounds a request's resource.
const maxBody = 1 << 20

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// caller is the practice system behind a request.
type caller struct {
	tenantID string
	ctx      context.Context
}

// authorised checks the bearer token and its scope for the resource type and permission.
func (s *Server) authorised(typ, perm string, h func(w http.ResponseWriter, r *http.Request, c caller) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || token == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="tresen-fhir"`)
			writeOutcome(w, http.StatusUnauthorized, "login", "Zugriffsschlüssel fehlt (Authorization: Bearer …).", "")
			return
		}
		t, err := s.Store.LookupAPIToken(r.Context(), token)
		if err != nil {
			writeError(w, err)
			return
		}
		if !allowed(t.Scopes, typ, perm) {
			writeOutcome(w, http.StatusForbidden, "forbidden", "Der Zugriffsschlüssel hat keine Berechtigung system/"+typ+"."+perm+".", "")
			return
		}
		ctx := audit.WithActor(r.Context(), audit.Actor{UserID: "api:" + t.ID, Source: clientIP(r)})
		if err := h(w, r, caller{tenantID: t.TenantID, ctx: ctx}); err != nil {
			writeError(w, err)
		}
	}
}

// allowed reports whether scopes grant perm on typ; write includes read.
func allowed(scopes []string, typ, perm string) bool {
	for _, s := range scopes {
		t, p, _ := strings.Cut(strings.TrimPrefix(s, "system/"), ".")
		if (t == typ || t == "*") && (p == perm || p == "write") {
			return true
		}
	}
	return false
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// writeJSON sends a resource.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/fhir+json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// OperationOutcome is FHIR's error resource.
type OperationOutcome struct {
	ResourceType string  `json:"resourceType"`
	Issue        []Issue `json:"issue"`
}

// Issue is one problem of an OperationOutcome.
type Issue struct {
	Severity    string   `json:"severity"`
	Code        string   `json:"code"`
	Diagnostics string   `json:"diagnostics,omitempty"`
	Expression  []string `json:"expression,omitempty"`
}

func writeOutcome(w http.ResponseWriter, status int, code, msg, expr string) {
	iss := Issue{Severity: "error", Code: code, Diagnostics: msg}
	if expr != "" {
		iss.Expression = []string{expr}
	}
	writeJSON(w, status, OperationOutcome{ResourceType: "OperationOutcome", Issue: []Issue{iss}})
}

// fieldError is an invalid element of a request, named by its FHIRPath.
type fieldError struct {
	path, msg string
}

func (e fieldError) Error() string { return e.path + ": " + e.msg }

func invalid(path, format string, args ...any) error {
	return fieldError{path: path, msg: errs.Message(errs.E(errs.Invalid, format, args...))}
}

// writeError renders an error as an OperationOutcome with the status of its kind.
func writeError(w http.ResponseWriter, err error) {
	var fe fieldError
	if errors.As(err, &fe) {
		writeOutcome(w, http.StatusBadRequest, "invalid", fe.msg, fe.path)
		return
	}
	switch errs.KindOf(err) {
	case errs.Invalid:
		writeOutcome(w, http.StatusBadRequest, "invalid", errs.Message(err), "")
	case errs.NotFound:
		writeOutcome(w, http.StatusNotFound, "not-found", errs.Message(err), "")
	case errs.Conflict:
		writeOutcome(w, http.StatusConflict, "conflict", errs.Message(err), "")
	case errs.Unauthorized:
		writeOutcome(w, http.StatusUnauthorized, "login", errs.Message(err), "")
	case errs.Forbidden:
		writeOutcome(w, http.StatusForbidden, "forbidden", errs.Message(err), "")
	default:
		writeOutcome(w, http.StatusInternalServerError, "exception", "Interner Fehler.", "")
	}
}
