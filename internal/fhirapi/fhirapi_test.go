package fhirapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tresen/tresen/internal/appointment"
	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/berlin"
	"github.com/tresen/tresen/internal/fhirapi"
	"github.com/tresen/tresen/internal/person"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
	"github.com/tresen/tresen/internal/tenant"
)

var ctx = audit.WithActor(context.Background(), audit.Actor{UserID: "test", Source: "test"})

// monday is the reference time: Monday, 23 November 2026, 7:00 in Berlin.
var monday = time.Date(2026, 11, 23, 7, 0, 0, 0, berlin.Location)

func schedule() appointment.Schedule {
	s := appointment.Schedule{
		State: "HB",
		Resources: []appointment.Resource{
			{ID: "schneider", Kind: appointment.Doctor, Name: "Frau Dr. Schneider", Surname: "Schneider"},
			{ID: "weber", Kind: appointment.Doctor, Name: "Herr Weber", Surname: "Weber"},
		},
		Types: []appointment.Type{
			{ID: "kontrolle", Name: "Kontrolle", Minutes: 15, Assistant: true},
			{ID: "vorsorge", Name: "Vorsorge", Minutes: 30, Assistant: true, Doctors: []string{"schneider"}},
		},
	}
	for _, d := range []string{"schneider", "weber"} {
		for wd := time.Monday; wd <= time.Friday; wd++ {
			s.Hours = append(s.Hours, appointment.Hours{Resource: d, Weekday: wd, Open: []appointment.Interval{{From: "08:00", To: "12:00"}}})
		}
	}
	return s
}

type env struct {
	t      *testing.T
	db     *store.DB
	url    string
	token  string
	tenant tenant.Tenant
}

func newEnv(t *testing.T, db *store.DB, scopes ...string) *env {
	t.Helper()
	pr, err := db.CreateTenant(ctx, tenant.Tenant{Kind: tenant.Practice, Code: "031234567", Name: "Hausarztpraxis Dr. Erika Schneider"})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SetSchedule(ctx, pr.ID, schedule()); err != nil {
		t.Fatal(err)
	}
	if len(scopes) == 0 {
		scopes = []string{"system/*.write"}
	}
	tok, _, err := db.CreateAPIToken(ctx, pr.ID, "PVS", scopes)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(fhirapi.New(db, func() time.Time { return monday }))
	t.Cleanup(ts.Close)
	return &env{t: t, db: db, url: ts.URL, token: tok, tenant: pr}
}

// do sends a request and decodes the JSON answer.
func (e *env) do(method, path, body string) (int, map[string]any) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if e.token != "" {
		req.Header.Set("Authorization", "Bearer "+e.token)
	}
	req.Header.Set("Content-Type", "application/fhir+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/fhir+json") {
		e.t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		e.t.Fatalf("%s %s: %d, not JSON: %s", method, path, resp.StatusCode, data)
	}
	return resp.StatusCode, out
}

// outcome returns the diagnostics and expression of an OperationOutcome.
func outcome(t *testing.T, res map[string]any) (string, string) {
	t.Helper()
	if res["resourceType"] != "OperationOutcome" {
		t.Fatalf("not an OperationOutcome: %v", res)
	}
	iss := res["issue"].([]any)[0].(map[string]any)
	expr := ""
	if e, ok := iss["expression"].([]any); ok {
		expr = e[0].(string)
	}
	return iss["diagnostics"].(string), expr
}

func entries(t *testing.T, res map[string]any) []map[string]any {
	t.Helper()
	if res["resourceType"] != "Bundle" || res["type"] != "searchset" {
		t.Fatalf("not a searchset: %v", res)
	}
	var out []map[string]any
	for _, e := range res["entry"].([]any) {
		out = append(out, e.(map[string]any)["resource"].(map[string]any))
	}
	return out
}

const newAppointment = `{"resourceType":"Appointment","status":"booked","slot":[{"reference":"Slot/%s"}],
 "contained":[{"resourceType":"Patient","id":"p","name":[{"family":"Mustermann","given":["Erika"]}],"birthDate":"1964-08-12",
   "identifier":[{"system":"http://fhir.de/sid/gkv/kvid-10","value":"S040464113"}]}],
 "participant":[{"actor":{"reference":"#p"},"status":"accepted"}],"comment":"Kontrolle Blutdruck"}`

func TestFHIRRoundTrip(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		if code, cs := e.do("GET", "/fhir/metadata", ""); code != 200 || cs["resourceType"] != "CapabilityStatement" || cs["fhirVersion"] != "4.0.1" {
			t.Fatalf("metadata: %d %v", code, cs["resourceType"])
		}
		code, res := e.do("GET", "/fhir/Schedule", "")
		if code != 200 || len(entries(t, res)) != 2 {
			t.Fatalf("schedules: %d %v", code, res)
		}
		if code, res := e.do("GET", "/fhir/HealthcareService/vorsorge", ""); code != 200 || res["name"] != "Vorsorge" {
			t.Errorf("service: %d %v", code, res)
		}

		code, res = e.do("GET", "/fhir/Slot?schedule=Schedule/schneider&service-type=kontrolle&start=ge2026-11-24&start=lt2026-11-25&_count=3", "")
		slots := entries(t, res)
		if code != 200 || len(slots) != 3 || slots[0]["status"] != "free" || slots[0]["start"] != "2026-11-24T07:00:00Z" {
			t.Fatalf("free slots: %d %v", code, slots)
		}
		slotID := slots[0]["id"].(string)

		code, appt := e.do("POST", "/fhir/Appointment", strings.Replace(newAppointment, "%s", slotID, 1))
		if code != 201 || appt["status"] != "booked" || appt["start"] != "2026-11-24T07:00:00Z" || appt["end"] != "2026-11-24T07:15:00Z" {
			t.Fatalf("create: %d %v", code, appt)
		}
		id := appt["id"].(string)
		stored, err := db.FindAppointmentByID(ctx, e.tenant.ID, id)
		if err != nil || stored.Patient.Name != "Erika Mustermann" || stored.Patient.KVNR != "S040464113" || stored.Source != "fhir" || stored.Doctor != "schneider" {
			t.Errorf("stored: %+v %v", stored, err)
		}
		// The slot is now busy, and booking it again is a conflict.
		_, res = e.do("GET", "/fhir/Slot?schedule=Schedule/schneider&service-type=kontrolle&start=ge2026-11-24&start=lt2026-11-25&_count=3", "")
		if got := entries(t, res); got[0]["start"] == "2026-11-24T07:00:00Z" {
			t.Error("the booked slot is still free")
		}
		_, res = e.do("GET", "/fhir/Slot?status=busy&start=ge2026-11-24&start=lt2026-11-25", "")
		if busy := entries(t, res); len(busy) != 1 || busy[0]["status"] != "busy" {
			t.Errorf("busy slots: %v", busy)
		}
		code, res = e.do("POST", "/fhir/Appointment", strings.Replace(newAppointment, "%s", slotID, 1))
		if msg, _ := outcome(t, res); code != 409 || !strings.Contains(msg, "schon vergeben") {
			t.Errorf("second booking: %d %q", code, msg)
		}

		code, res = e.do("GET", "/fhir/Appointment/"+id, "")
		contained := res["contained"].([]any)[0].(map[string]any)
		if code != 200 || contained["birthDate"] != "1964-08-12" || res["comment"] != "Kontrolle Blutdruck" {
			t.Errorf("read: %d %v", code, res)
		}
		// Move by a new start; cancel by status.
		moved := `{"resourceType":"Appointment","id":"` + id + `","status":"booked","start":"2026-11-24T09:00:00Z","end":"2026-11-24T09:15:00Z","participant":[]}`
		if code, res := e.do("PUT", "/fhir/Appointment/"+id, moved); code != 200 || res["start"] != "2026-11-24T09:00:00Z" {
			t.Errorf("move: %d %v", code, res)
		}
		cancel := `{"resourceType":"Appointment","id":"` + id + `","status":"cancelled","participant":[]}`
		if code, res := e.do("PUT", "/fhir/Appointment/"+id, cancel); code != 200 || res["status"] != "cancelled" {
			t.Errorf("cancel: %d %v", code, res)
		}
		_, res = e.do("GET", "/fhir/Appointment?date=ge2026-11-24&date=lt2026-11-25&status=cancelled", "")
		if got := entries(t, res); len(got) != 1 {
			t.Errorf("cancelled appointments: %v", got)
		}

		p, err := db.CreatePerson(ctx, e.tenant.ID, person.Person{Name: "Max Mustermann", BirthDate: "1990-02-01", KVNR: "X234567891"})
		if err != nil {
			t.Fatal(err)
		}
		code, res = e.do("GET", "/fhir/Patient?given=Max&family=Mustermann&birthdate=1990-02-01", "")
		if got := entries(t, res); code != 200 || len(got) != 1 || got[0]["id"] != p.ID {
			t.Errorf("patient search: %d %v", code, got)
		}
		_, res = e.do("GET", "/fhir/Patient?name=Max+Mustermann&birthdate=1990-02-01&identifier=http://fhir.de/sid/gkv/kvid-10|S040464113", "")
		if got := entries(t, res); len(got) != 0 {
			t.Errorf("search with another KVNR: %v", got)
		}
	})
}

func TestFHIRErrors(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, "system/Slot.read")
		tests := []struct {
			method, path, body string
			token              string
			status             int
			msg, expr          string
		}{
			{"GET", "/fhir/Slot", "", "-", 401, "Zugriffsschlüssel fehlt", ""},
			{"GET", "/fhir/Slot", "", "trs_falsch", 401, "unbekannter", ""},
			{"POST", "/fhir/Appointment", "{}", "", 403, "system/Appointment.write", ""},
			{"GET", "/fhir/Observation", "", "", 404, "bietet die Schnittstelle nicht an", ""},
			{"GET", "/fhir/Slot?start=ge24.11.2026", "", "", 400, "kein Datum", "start"},
			{"GET", "/fhir/Slot?service-type=yoga", "", "", 400, "unbekannte Terminart", "service-type"},
			{"GET", "/fhir/Slot?start=ge2026-11-24&start=lt2026-11-20", "", "", 400, "Zeitraum", "start"},
		}
		good := e.token
		for _, tc := range tests {
			switch tc.token {
			case "-": // none
				e.token = ""
			case "":
				e.token = good
			default:
				e.token = tc.token
			}
			code, res := e.do(tc.method, tc.path, tc.body)
			msg, expr := outcome(t, res)
			if code != tc.status || !strings.Contains(msg, tc.msg) || expr != tc.expr {
				t.Errorf("%s %s: %d %q %q, want %d %q %q", tc.method, tc.path, code, msg, expr, tc.status, tc.msg, tc.expr)
			}
		}
	})
}

func TestFHIRInvalidAppointments(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		_, res := e.do("GET", "/fhir/Slot?service-type=kontrolle&_count=1", "")
		slot := entries(t, res)[0]["id"].(string)
		tests := []struct {
			name, body, expr string
		}{
			{"not JSON", `{"resourceType":`, "Appointment"},
			{"another resource", `{"resourceType":"Patient"}`, "resourceType"},
			{"unknown slot", strings.Replace(newAppointment, "%s", "bm9wZQ", 1), "Appointment.slot.reference"},
			{"no patient", `{"resourceType":"Appointment","status":"booked","slot":[{"reference":"Slot/` + slot + `"}],"participant":[]}`, "Appointment.participant"},
			{"bad KVNR", strings.Replace(strings.Replace(newAppointment, "%s", slot, 1), "S040464113", "S040464114", 1), "Appointment.contained.identifier"},
			{"future birth", strings.Replace(strings.Replace(newAppointment, "%s", slot, 1), "1964-08-12", "2064-08-12", 1), "Appointment.contained.birthDate"},
			{"dangling reference", strings.Replace(strings.Replace(newAppointment, "%s", slot, 1), `"#p"`, `"#q"`, 1), "Appointment.participant[0].actor.reference"},
			{"no slot, no times", `{"resourceType":"Appointment","status":"booked","participant":[]}`, "Appointment.start"},
			{"status", strings.Replace(strings.Replace(newAppointment, "%s", slot, 1), `"booked"`, `"fulfilled"`, 1), "Appointment.status"},
		}
		for _, tc := range tests {
			code, res := e.do("POST", "/fhir/Appointment", tc.body)
			if _, expr := outcome(t, res); code != 400 || expr != tc.expr {
				t.Errorf("%s: %d, expression %q, want 400 %q", tc.name, code, expr, tc.expr)
			}
		}
		if list, _ := db.ListAppointments(ctx, e.tenant.ID, monday, monday.AddDate(0, 1, 0)); len(list) != 0 {
			t.Errorf("invalid requests booked %d appointments", len(list))
		}
	})
}
