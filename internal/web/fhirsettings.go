package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/fhirclient"
	"github.com/tresen/tresen/internal/store"
)

const fhirTitle = "Praxisverwaltungssystem (FHIR)"

// Bounds of the PVS form's fields. A bearer token may be a long JWT.
const (
	maxPVSField     = 300
	maxPVSToken     = 4096
	maxScheduleName = 100
	maxSchedules    = 100
)

// pvsCheckTimeout bounds the connection test, well below the server's write timeout, so
// that the owner learns of a PVS that does not answer while the page still loads.
const pvsCheckTimeout = 15 * time.Second

// apiScope is a permission a token for the FHIR API can carry, with what it allows in
// German. The values are the SMART scopes internal/fhirapi checks; write includes read.
type apiScope struct {
	Value, Label string
}

// apiScopes lists the scopes of the FHIR API's resources (see fhirapi.New and its
// CapabilityStatement), the narrow ones first.
func apiScopes() []apiScope {
	return []apiScope{
		{"system/Slot.read", "Freie und belegte Zeiten lesen (Slot)"},
		{"system/Schedule.read", "Kalender der Ärztinnen und Ärzte lesen (Schedule)"},
		{"system/HealthcareService.read", "Terminarten lesen (HealthcareService)"},
		{"system/Appointment.read", "Termine lesen (Appointment)"},
		{"system/Appointment.write", "Termine lesen, anlegen, verschieben und absagen (Appointment)"},
		{"system/Patient.read", "Patientinnen und Patienten suchen und lesen: Name, Geburtsdatum, Kontaktdaten (Patient)"},
		{"system/*.read", "Alles lesen"},
		{"system/*.write", "Alles lesen und Termine schreiben"},
	}
}

// pvsForm is the PVS connection's form as stored or as typed; it never holds the token.
type pvsForm struct {
	Base, ServiceType string
	Schedules         string // "Name = Schedule-ID" per line
}

// fhirData is the page: the practice's API tokens without their secrets, the form for a
// new one, and the connection to the PVS without its token.
type fhirData struct {
	Tokens   []store.APIToken
	Scopes   []apiScope
	FHIRBase string // where the practice's systems reach Tresen's FHIR API
	// NewToken is the secret of the token just created, shown on this one response only;
	// NewTokenName says which token it is.
	NewToken, NewTokenName string
	TokenName              string          // the create form as typed
	Checked                map[string]bool // its scopes as ticked
	RevokeID               string          // the token whose revocation lacked the confirmation
	PVS                    *pvsForm        // nil: as stored
	HasToken               bool            // a token for the PVS is stored
	Connected              bool            // the assistant uses the PVS
	Field                  string          // the field at fault
	Message                string          // what is wrong with it
}

// storedPVS returns the practice's connection to its PVS; empty settings (Base "") when
// there is none.
func (s *Server) storedPVS(ctx context.Context, tenantID string) (fhirclient.Settings, error) {
	var set fhirclient.Settings
	if err := s.db.Setting(ctx, tenantID, store.SettingPVS, &set); err != nil && !errs.Is(err, errs.NotFound) {
		return set, err
	}
	return set, nil
}

// fhirPage renders the page with the practice's tokens and what is stored of the PVS
// connection; d.PVS, when set, is the form as typed.
func (s *Server) fhirPage(w http.ResponseWriter, r *http.Request, tenantID string, d fhirData, status int, p page) error {
	tokens, err := s.db.ListAPITokens(r.Context(), tenantID)
	if err != nil {
		return err
	}
	stored, err := s.storedPVS(r.Context(), tenantID)
	if err != nil {
		return err
	}
	if d.PVS == nil {
		f := pvsFormOf(stored)
		d.PVS = &f
	}
	d.Tokens, d.Scopes, d.FHIRBase = tokens, apiScopes(), s.origin(r)+"/fhir/"
	d.HasToken, d.Connected = stored.Token != "", stored.Base != ""
	if d.Checked == nil {
		d.Checked = map[string]bool{}
	}
	p.Title, p.Data = fhirTitle, d
	s.render(w, r, status, "fhir_settings", p)
	return nil
}

// handleFHIRSettings shows the practice's tokens for the FHIR API and its connection to
// the PVS.
func (s *Server) handleFHIRSettings(w http.ResponseWriter, r *http.Request) error {
	t, err := s.practice(r)
	if err != nil {
		return err
	}
	return s.fhirPage(w, r, t.ID, fhirData{}, http.StatusOK, page{})
}

// handleAPITokenCreate issues a token for one of the practice's systems and shows it on
// this response only: the store keeps its hash, and it never goes into a URL or a log.
func (s *Server) handleAPITokenCreate(w http.ResponseWriter, r *http.Request) error {
	t, err := s.practice(r)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return errs.E(errs.Invalid, "Das Formular ist nicht lesbar.")
	}
	d := fhirData{TokenName: strings.TrimSpace(r.PostFormValue("name")), Checked: map[string]bool{}}
	for _, v := range r.PostForm["scopes"] {
		d.Checked[v] = true
	}
	scopes, err := scopesFrom(r.PostForm["scopes"])
	var token string
	var created store.APIToken
	if err == nil {
		token, created, err = s.db.CreateAPIToken(r.Context(), t.ID, d.TokenName, scopes)
	}
	if errs.Is(err, errs.Invalid) {
		d.Field, d.Message = fieldOf(err), fieldMessage(err)
		return s.fhirPage(w, r, t.ID, d, http.StatusUnprocessableEntity, page{Error: d.Message})
	}
	if err != nil {
		return err
	}
	// The page holds a secret: no cache may keep it (the security headers say so for every
	// page already; this one must not lose it to a change there).
	w.Header().Set("Cache-Control", "no-store")
	return s.fhirPage(w, r, t.ID, fhirData{NewToken: token, NewTokenName: created.Name}, http.StatusOK,
		page{Notice: "Zugriffsschlüssel angelegt. Bitte jetzt kopieren: Er wird nur dieses eine Mal angezeigt."})
}

// scopesFrom checks the ticked scopes against those the FHIR API knows and returns them
// in the list's order, each once.
func scopesFrom(values []string) ([]string, error) {
	var out []string
	for _, sc := range apiScopes() {
		if slices.Contains(values, sc.Value) {
			out = append(out, sc.Value)
		}
	}
	for _, v := range values {
		if !slices.Contains(out, v) {
			return nil, errs.Field("scopes", "Unbekannte Berechtigung; bitte nur die aufgeführten ankreuzen.")
		}
	}
	if len(out) == 0 {
		return nil, errs.Field("scopes", "Bitte mindestens eine Berechtigung ankreuzen.")
	}
	return out, nil
}

// handleAPITokenRevoke ends a token at once, after the owner ticked the confirmation.
func (s *Server) handleAPITokenRevoke(w http.ResponseWriter, r *http.Request) error {
	t, err := s.practice(r)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if r.PostFormValue("confirm") != "yes" {
		msg := "Bitte das Widerrufen ausdrücklich bestätigen."
		return s.fhirPage(w, r, t.ID, fhirData{RevokeID: id, Field: "confirm", Message: msg}, http.StatusUnprocessableEntity, page{Error: msg})
	}
	if err := s.db.RevokeAPIToken(r.Context(), t.ID, id); err != nil {
		return err
	}
	return s.fhirPage(w, r, t.ID, fhirData{}, http.StatusOK,
		page{Notice: "Zugriffsschlüssel widerrufen. Systeme, die ihn verwenden, erhalten ab sofort keinen Zugriff mehr."})
}

// handlePVSSave stores the connection to the practice's PVS. The token is write-only: an
// empty field keeps the stored one, as long as it would go to the same server.
func (s *Server) handlePVSSave(w http.ResponseWriter, r *http.Request) error {
	t, err := s.practice(r)
	if err != nil {
		return err
	}
	old, err := s.storedPVS(r.Context(), t.ID)
	if err != nil {
		return err
	}
	form := pvsForm{Base: strings.TrimSpace(r.PostFormValue("base")), ServiceType: strings.TrimSpace(r.PostFormValue("service_type")),
		Schedules: r.PostFormValue("schedules")}
	set, err := pvsSettingsFrom(form, strings.TrimSpace(r.PostFormValue("pvs_token")), r.PostFormValue("forget_token") == "on", old)
	if errs.Is(err, errs.Invalid) {
		d := fhirData{PVS: &form, Field: fieldOf(err), Message: fieldMessage(err)}
		return s.fhirPage(w, r, t.ID, d, http.StatusUnprocessableEntity, page{Error: d.Message})
	}
	if err != nil {
		return err
	}
	if err := s.db.SetSetting(r.Context(), t.ID, store.SettingPVS, set); err != nil {
		return err
	}
	return s.fhirPage(w, r, t.ID, fhirData{}, http.StatusOK,
		page{Notice: "Gespeichert. Der Assistent bucht ab jetzt Termine im PVS und gleicht Anrufende mit dessen Patientinnen und Patienten ab."})
}

// handlePVSOff disconnects the PVS: its settings and token are removed, and the assistant
// uses Tresen's own calendar and records again.
func (s *Server) handlePVSOff(w http.ResponseWriter, r *http.Request) error {
	t, err := s.practice(r)
	if err != nil {
		return err
	}
	if r.PostFormValue("confirm") != "yes" {
		msg := "Bitte das Trennen ausdrücklich bestätigen."
		return s.fhirPage(w, r, t.ID, fhirData{Field: "confirm_off", Message: msg}, http.StatusUnprocessableEntity, page{Error: msg})
	}
	if err := s.db.SetSetting(r.Context(), t.ID, store.SettingPVS, fhirclient.Settings{}); err != nil {
		return err
	}
	return s.fhirPage(w, r, t.ID, fhirData{}, http.StatusOK,
		page{Notice: "Verbindung getrennt. Der Assistent bucht wieder im Kalender von Tresen; der Token für das PVS ist gelöscht."})
}

// handlePVSCheck tests the stored connection to the PVS, as the assistant will use it,
// and says how it went. It only reads from the PVS, no patient data, and changes nothing.
func (s *Server) handlePVSCheck(w http.ResponseWriter, r *http.Request) error {
	t, err := s.practice(r)
	if err != nil {
		return err
	}
	set, err := s.storedPVS(r.Context(), t.ID)
	if err != nil {
		return err
	}
	if set.Base == "" {
		msg := "Es ist keine Verbindung zum PVS gespeichert. Bitte zuerst die Adresse eintragen und speichern."
		return s.fhirPage(w, r, t.ID, fhirData{}, http.StatusUnprocessableEntity, page{Error: msg})
	}
	if !s.ownerTests.allow("pvs " + t.ID + " " + set.Base) {
		w.Header().Set("Retry-After", "60")
		return s.fhirPage(w, r, t.ID, fhirData{}, http.StatusTooManyRequests, page{Error: "Zu viele Verbindungstests; bitte eine Minute warten."})
	}
	ctx, cancel := context.WithTimeout(r.Context(), pvsCheckTimeout)
	defer cancel()
	st, err := fhirclient.New(set).Check(ctx)
	if err != nil {
		s.log.Warn("PVS connection test failed", slog.String("err", redact(err.Error(), set.Token)))
		msg := "Der Verbindungstest ist fehlgeschlagen: " + redact(checkFailure(err), set.Token)
		return s.fhirPage(w, r, t.ID, fhirData{}, http.StatusUnprocessableEntity, page{Error: msg})
	}
	return s.fhirPage(w, r, t.ID, fhirData{}, http.StatusOK, page{Notice: checkNotice(st)})
}

// checkFailure is what the owner reads of a failed test. fhirclient's messages are
// German and hold neither personal data nor the token, its Internal ones ("nicht
// erreichbar", the PVS's status) included: there the PVS failed, not Tresen, and the
// owner needs to know to fix it. Errors from elsewhere keep their details in the log.
func checkFailure(err error) string {
	var e *errs.Error
	if errors.As(err, &e) && e.Message != "" {
		return e.Message
	}
	return errs.Message(err)
}

// checkNotice says that the connection works, with what the test found.
func checkNotice(st fhirclient.Status) string {
	found := "die Suche nach freien Terminen ist erlaubt."
	switch {
	case st.Schedules == 1:
		found = "der Kalender wurde gefunden."
	case st.Schedules > 1:
		found = fmt.Sprintf("%d von %d Kalendern gefunden.", st.Found, st.Schedules)
	}
	return "Verbindung in Ordnung: FHIR " + st.Version + ", " + found
}

// pvsSettingsFrom reads and checks the form; token is the new token as typed ("" keeps
// the stored one unless forget).
func pvsSettingsFrom(f pvsForm, token string, forget bool, old fhirclient.Settings) (fhirclient.Settings, error) {
	set := fhirclient.Settings{Base: f.Base, Token: token, ServiceType: f.ServiceType}
	for _, x := range []struct {
		name, v string
		max     int
	}{{"base", f.Base, maxPVSField}, {"service_type", f.ServiceType, maxPVSField}, {"pvs_token", token, maxPVSToken}} {
		if utf8.RuneCountInString(x.v) > x.max {
			return set, errs.Field(x.name, "Die Angabe ist zu lang (höchstens %d Zeichen).", x.max)
		}
	}
	if err := set.Validate(); err != nil {
		return set, err
	}
	for _, x := range []struct{ name, v string }{{"service_type", f.ServiceType}, {"pvs_token", token}} {
		if hasControl(x.v) {
			return set, errs.Field(x.name, "Die Angabe enthält unzulässige Zeichen (Zeilenumbruch, Tabulator oder andere Steuerzeichen).")
		}
	}
	schedules, err := parseSchedules(f.Schedules)
	if err != nil {
		return set, err
	}
	set.Schedules = schedules
	if set.Token == "" && !forget && old.Token != "" {
		if !sameHost(urlHost(old.Base), urlHost(set.Base)) {
			return set, errs.Field("pvs_token", "Die Adresse des PVS hat sich geändert: Bitte den Token für das neue System eingeben oder den gespeicherten löschen. Der gespeicherte wird nicht an ein anderes System gesendet.")
		}
		set.Token = old.Token
	}
	return set, nil
}

// parseSchedules reads the doctors' Schedule ids, one "Name = Schedule-ID" a line; nil
// for none.
func parseSchedules(text string) (map[string]string, error) {
	var out map[string]string
	line := map[string]int{} // lower-case name → its line
	for i, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		n := i + 1
		name, id, ok := strings.Cut(l, "=")
		name, id = strings.TrimSpace(name), strings.TrimPrefix(strings.TrimSpace(id), "Schedule/")
		switch {
		case !ok || name == "" || id == "":
			return nil, errs.Field("schedules", "Zeile %d: Bitte als „Name = Schedule-ID“ angeben, z. B. „Schneider = sched-1“.", n)
		case utf8.RuneCountInString(name) > maxScheduleName || hasControl(name):
			return nil, errs.Field("schedules", "Zeile %d: Der Name ist zu lang oder enthält Steuerzeichen (höchstens %d Zeichen).", n, maxScheduleName)
		case !fhirID(id):
			return nil, errs.Field("schedules", "Zeile %d: Eine Schedule-ID besteht aus Buchstaben, Ziffern, „-“ und „.“, höchstens 64 Zeichen.", n)
		}
		if prev, dup := line[strings.ToLower(name)]; dup {
			return nil, errs.Field("schedules", "Zeile %d: %s steht schon in Zeile %d.", n, name, prev)
		}
		if len(line) == maxSchedules {
			return nil, errs.Field("schedules", "Höchstens %d Zeilen.", maxSchedules)
		}
		line[strings.ToLower(name)] = n
		if out == nil {
			out = map[string]string{}
		}
		out[name] = id
	}
	return out, nil
}

// fhirID reports whether s is a FHIR resource id: [A-Za-z0-9\-\.]{1,64}.
func fhirID(s string) bool {
	return len(s) >= 1 && len(s) <= 64 && !strings.ContainsFunc(s, func(r rune) bool {
		return !('A' <= r && r <= 'Z' || 'a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '-' || r == '.')
	})
}

// hasControl reports whether s holds a control character, which no header or name may.
func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f })
}

// pvsFormOf is the form of stored settings, the doctors sorted by name.
func pvsFormOf(set fhirclient.Settings) pvsForm {
	var b strings.Builder
	for _, n := range slices.Sorted(maps.Keys(set.Schedules)) {
		b.WriteString(n + " = " + set.Schedules[n] + "\n")
	}
	return pvsForm{Base: set.Base, ServiceType: set.ServiceType, Schedules: b.String()}
}
