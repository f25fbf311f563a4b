package fhirclient_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/berlin"
	"github.com/tresen/tresen/internal/demo"
	"github.com/tresen/tresen/internal/dialogue"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/fhirapi"
	"github.com/tresen/tresen/internal/fhirclient"
	"github.com/tresen/tresen/internal/nlu"
	"github.com/tresen/tresen/internal/person"
	"github.com/tresen/tresen/internal/reception"
	"github.com/tresen/tresen/internal/request"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
	"github.com/tresen/tresen/internal/tenant"
)

var ctx = audit.WithActor(context.Background(), audit.Actor{UserID: "assistant", Source: "test"})

// TestBookThroughFHIR lets the assistant book into a calendar it reaches only over FHIR:
// Tresen's own FHIR API plays the practice's PVS.
func TestBookThroughFHIR(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		pvs, err := db.CreateTenant(ctx, tenant.Tenant{Kind: tenant.Practice, Code: "031234567", Name: "Praxis mit eigenem PVS"})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.SetSchedule(ctx, pvs.ID, demo.PracticeSchedule()); err != nil {
			t.Fatal(err)
		}
		token, _, err := db.CreateAPIToken(ctx, pvs.ID, "Tresen-Assistent", []string{"system/Slot.read", "system/Appointment.write"})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Date(2026, 11, 23, 7, 30, 0, 0, berlin.Location)
		ts := httptest.NewServer(fhirapi.New(db, func() time.Time { return now }))
		defer ts.Close()
		client := &fhirclient.Client{Base: ts.URL + "/fhir/", Token: token, ServiceType: "sprechstunde",
			Schedules: map[string]string{"Schneider": "schneider", "Weber": "weber", "Özdemir": "oezdemir"}}

		p := demo.PracticeInfo()
		e := &dialogue.Engine{NLU: &nlu.Understander{Doctors: p.Doctors}, Practice: p, Slots: client, Now: func() time.Time { return now }}
		c := &dialogue.Conversation{ID: "c", Channel: request.Chat}
		e.Start(c)
		var r dialogue.Reply
		for _, say := range []string{"Ich möchte einen Termin bei Dr. Weber am Mittwoch vormittags", "Erika Mustermann, 12.03.1984", "AOK", "Kontrolle", "ja"} {
			r = e.Handle(ctx, c, say)
		}
		if !strings.Contains(r.Text, "Ich kann Ihnen anbieten: Mittwoch, 25. November") || !strings.Contains(r.Text, "Dr. Weber") {
			t.Fatalf("offers:\n%s", r.Text)
		}
		offer := c.Offers[0]
		r = e.Handle(ctx, c, "der erste passt")
		if !strings.Contains(r.Text, "Ihr Termin ist eingetragen") {
			t.Fatalf("booking:\n%s", r.Text)
		}
		list, err := db.ListAppointments(ctx, pvs.ID, now, now.AddDate(0, 0, 7))
		if err != nil || len(list) != 1 || list[0].Doctor != "weber" || list[0].Source != "fhir" || list[0].Patient.Name != "Erika Mustermann" ||
			!list[0].Start.Equal(offer.Start) {
			t.Fatalf("the PVS holds %+v, %v", list, err)
		}
		// The same slot once more: the PVS says it is taken.
		_, err = client.Book(ctx, request.Request{Patient: request.Patient{Name: "Max Mustermann"}}, offer)
		if !errs.Is(err, errs.Conflict) || !strings.Contains(errs.Message(err), "schon vergeben") {
			t.Errorf("second booking of the slot: %v", err)
		}
		// A wrong token is no calendar.
		bad := *client
		bad.Token = "trs_falsch"
		if _, err := bad.Find(ctx, request.Request{}, now); err == nil || strings.Contains(err.Error(), "trs_falsch") {
			t.Errorf("wrong token: %v", err)
		}
	})
}

// TestPatientsFromThePVS matches a caller against the PVS's patients through FHIR; Tresen
// keeps only the reference, not the patient's master data.
func TestPatientsFromThePVS(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		pvs, err := db.CreateTenant(ctx, tenant.Tenant{Kind: tenant.Practice, Code: "031234567", Name: "Praxis mit eigenem PVS"})
		if err != nil {
			t.Fatal(err)
		}
		anna, err := db.CreatePerson(ctx, pvs.ID, person.Person{Name: "Anna Müller", BirthDate: "1984-03-12", KVNR: "S040464113"})
		if err != nil {
			t.Fatal(err)
		}
		token, _, err := db.CreateAPIToken(ctx, pvs.ID, "Tresen-Assistent", []string{"system/Patient.read"})
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(fhirapi.New(db, time.Now))
		defer ts.Close()
		// The practice as Tresen knows it: no patient records of its own.
		pr, err := db.CreateTenant(ctx, tenant.Tenant{Kind: tenant.Practice, Code: "721111100", Name: "Praxis am Markt"})
		if err != nil {
			t.Fatal(err)
		}
		client := fhirclient.New(fhirclient.Settings{Base: ts.URL + "/fhir/", Token: token})
		svc := &reception.Service{Store: db,
			Engine: func(context.Context, string) (*dialogue.Engine, error) {
				return &dialogue.Engine{NLU: &nlu.Understander{}, Practice: dialogue.Practice{Name: pr.Name}}, nil
			},
			Directory: func(context.Context, string) (reception.Directory, error) { return client, nil },
		}
		id, _, err := svc.Start(ctx, pr.ID, request.Chat)
		if err != nil {
			t.Fatal(err)
		}
		for _, say := range []string{"Ich brauche ein Folgerezept für Ramipril 5 mg", "Anna Mueller, 12.3.1984", "AOK", "ja"} {
			if _, err := svc.Say(ctx, pr.ID, id, say); err != nil {
				t.Fatal(err)
			}
		}
		reqs, err := svc.End(ctx, pr.ID, id)
		if err != nil || len(reqs) != 1 {
			t.Fatalf("%+v %v", reqs, err)
		}
		if r := reqs[0]; r.PatientRef != "Patient/"+anna.ID || r.PersonID != "" || r.Match != "matched" {
			t.Errorf("request: %+v", r)
		}
		if born, _ := db.FindPersonsBornOn(ctx, pr.ID, "1984-03-12"); len(born) != 0 {
			t.Errorf("the PVS's patient was stored at the practice: %+v", born)
		}
		// A PVS that cannot be reached leaves the match to the team.
		down := fhirclient.New(fhirclient.Settings{Base: "http://127.0.0.1:1/fhir/"})
		svc.Directory = func(context.Context, string) (reception.Directory, error) { return down, nil }
		id, _, _ = svc.Start(ctx, pr.ID, request.Chat)
		for _, say := range []string{"Ich brauche ein Folgerezept für Ramipril 5 mg", "Anna Müller, 12.3.1984", "AOK", "ja"} {
			if _, err := svc.Say(ctx, pr.ID, id, say); err != nil {
				t.Fatal(err)
			}
		}
		if reqs, _ := svc.End(ctx, pr.ID, id); reqs[0].Match != "unchecked" || !reqs[0].PatientUnclear {
			t.Errorf("PVS away: %+v", reqs[0])
		}
	})
}

// TestSettingsValidate: the PVS's FHIR API is reached over https, or over plain http only
// on this host.
func TestSettingsValidate(t *testing.T) {
	for _, tc := range []struct {
		base string
		ok   bool
	}{
		{"https://pvs.praxis.example/fhir/", true},
		{"http://127.0.0.1:8080/fhir/", true},
		{"http://[::1]:8080/fhir/", true},
		{"http://pvs.praxis.example/fhir/", false},
		{"https://user:secret@pvs.praxis.example/fhir/", false},
		{"", false},
	} {
		err := fhirclient.Settings{Base: tc.base}.Validate()
		if tc.ok != (err == nil) {
			t.Errorf("%q: %v, want ok %t", tc.base, err, tc.ok)
		}
	}
}

// withMetadata puts a server of another kind in front of the FHIR API: it answers
// metadata with body and passes everything else on.
func withMetadata(h http.Handler, contentType, body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/fhir/metadata" {
			h.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", contentType)
		io.WriteString(w, body)
	})
}

// TestCheck tests connections to a PVS before the assistant relies on them, with
// Tresen's own FHIR API as the PVS: a wrong address, a server of another FHIR version, a
// wrong token and Schedule ids the PVS does not have each say what is wrong.
func TestCheck(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		pvs, err := db.CreateTenant(ctx, tenant.Tenant{Kind: tenant.Practice, Code: "031234567", Name: "Praxis mit eigenem PVS"})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.SetSchedule(ctx, pvs.ID, demo.PracticeSchedule()); err != nil {
			t.Fatal(err)
		}
		token, _, err := db.CreateAPIToken(ctx, pvs.ID, "Tresen-Assistent", []string{"system/Slot.read", "system/Schedule.read", "system/Appointment.write"})
		if err != nil {
			t.Fatal(err)
		}
		slotsOnly, _, err := db.CreateAPIToken(ctx, pvs.ID, "Nur Slots", []string{"system/Slot.read"})
		if err != nil {
			t.Fatal(err)
		}
		api := fhirapi.New(db, time.Now)
		serve := func(h http.Handler) string {
			ts := httptest.NewServer(h)
			t.Cleanup(ts.Close)
			return ts.URL + "/fhir/"
		}
		base := serve(api)
		capability := func(version string) string {
			return `{"resourceType":"CapabilityStatement","status":"active","kind":"instance","fhirVersion":"` + version + `","format":["json"]}`
		}
		two := map[string]string{"Schneider": "schneider", "Weber": "weber"}
		for _, tc := range []struct {
			name      string
			client    fhirclient.Client
			want      fhirclient.Status
			kind      errs.Kind // of the error; none when message is ""
			message   []string  // what the error's message says
			forbidden []string  // what it must not say
		}{
			{name: "ok", client: fhirclient.Client{Base: base, Token: token, ServiceType: "sprechstunde", Schedules: two},
				want: fhirclient.Status{Version: "4.0.1", Schedules: 2, Found: 2}},
			{name: "ok without Schedules", client: fhirclient.Client{Base: base, Token: token},
				want: fhirclient.Status{Version: "4.0.1"}},
			{name: "two doctors, one Schedule", client: fhirclient.Client{Base: base, Token: token, Schedules: map[string]string{"Schneider": "schneider", "Dr. Schneider": "schneider"}},
				want: fhirclient.Status{Version: "4.0.1", Schedules: 2, Found: 2}},
			{name: "a Schedule missing", client: fhirclient.Client{Base: base, Token: token, Schedules: map[string]string{"Schneider": "schneider", "Müller": "sched-9"}},
				want: fhirclient.Status{Version: "4.0.1", Schedules: 2, Found: 1},
				kind: errs.NotFound, message: []string{"„sched-9“", "Schedule-ID prüfen"}, forbidden: []string{"schneider", "Müller"}},
			{name: "two Schedules missing", client: fhirclient.Client{Base: base, Token: token, Schedules: map[string]string{"Schneider": "sched-1", "Weber": "sched-2", "Özdemir": "oezdemir"}},
				want: fhirclient.Status{Version: "4.0.1", Schedules: 3, Found: 1},
				kind: errs.NotFound, message: []string{"„sched-1“, „sched-2“", "Schedule-IDs prüfen"}, forbidden: []string{"oezdemir"}},
			{name: "wrong token", client: fhirclient.Client{Base: base, Token: "trs_falsch", Schedules: two},
				want: fhirclient.Status{Version: "4.0.1", Schedules: 2},
				kind: errs.Forbidden, message: []string{"Der FHIR-Server hat den Zugriffsschlüssel abgelehnt", "Slot"}, forbidden: []string{"trs_falsch"}},
			{name: "no token", client: fhirclient.Client{Base: base},
				want: fhirclient.Status{Version: "4.0.1"},
				kind: errs.Forbidden, message: []string{"Zugriffsschlüssel abgelehnt"}},
			{name: "token may not read Schedules", client: fhirclient.Client{Base: base, Token: slotsOnly, Schedules: two},
				want: fhirclient.Status{Version: "4.0.1", Schedules: 2},
				kind: errs.Forbidden, message: []string{"Zugriffsschlüssel abgelehnt", "system/Schedule.read", "„schneider“, Schedule"}},
			{name: "R5", client: fhirclient.Client{Base: serve(withMetadata(api, "application/fhir+json", capability("5.0.0"))), Token: token},
				kind: errs.Invalid, message: []string{"FHIR R5 (Version 5.0.0)", "FHIR R4 (Version 4.0.x)"}},
			{name: "R4B", client: fhirclient.Client{Base: serve(withMetadata(api, "application/fhir+json", capability("4.3.0"))), Token: token},
				kind: errs.Invalid, message: []string{"R4B"}},
			{name: "no version", client: fhirclient.Client{Base: serve(withMetadata(api, "application/fhir+json", capability(""))), Token: token},
				kind: errs.Invalid, message: []string{"nennt keine FHIR-Version"}},
			{name: "a version that is none", client: fhirclient.Client{Base: serve(withMetadata(api, "application/fhir+json", capability("<b>4.0.1</b>"))), Token: token},
				kind: errs.Invalid, message: []string{"unbekannte FHIR-Version"}, forbidden: []string{"<b>"}},
			{name: "no CapabilityStatement", client: fhirclient.Client{Base: serve(withMetadata(api, "application/fhir+json", `{"resourceType":"Patient","id":"p"}`)), Token: token},
				kind: errs.Invalid, message: []string{"kein FHIR-Server", "CapabilityStatement"}},
			{name: "a web page", client: fhirclient.Client{Base: serve(withMetadata(api, "text/html", "<!doctype html><html><body>Willkommen</body></html>")), Token: token},
				kind: errs.Invalid, message: []string{"kein FHIR-Server", "Adresse prüfen"}},
			{name: "wrong path", client: fhirclient.Client{Base: strings.TrimSuffix(base, "fhir/") + "r4/", Token: token},
				kind: errs.Invalid, message: []string{"kein FHIR-Server"}},
			{name: "unreachable", client: fhirclient.Client{Base: "http://127.0.0.1:1/fhir/", Token: token},
				kind: errs.Internal, message: []string{"nicht erreichbar", "metadata"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := tc.client.Check(ctx)
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("status (-want +got):\n%s", diff)
				}
				if tc.message == nil {
					if err != nil {
						t.Fatalf("error %v, want none", err)
					}
					return
				}
				if !errs.Is(err, tc.kind) {
					t.Fatalf("error %v of kind %v, want %v", err, errs.KindOf(err), tc.kind)
				}
				var e *errs.Error
				if !errors.As(err, &e) {
					t.Fatalf("error %v has no message for the owner", err)
				}
				for _, s := range tc.message {
					if !strings.Contains(e.Message, s) {
						t.Errorf("message %q lacks %q", e.Message, s)
					}
				}
				for _, s := range append(tc.forbidden, token, slotsOnly) {
					if strings.Contains(err.Error(), s) {
						t.Errorf("error %q shows %q", err, s)
					}
				}
			})
		}
	})
}

// TestForbidden: the PVS refusing the token is errs.Forbidden for every request, with a
// German message that does not repeat the token, even if the server echoed it.
func TestForbidden(t *testing.T) {
	for _, status := range []int{http.StatusUnauthorized, http.StatusForbidden} {
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/fhir+json")
			w.WriteHeader(status)
			io.WriteString(w, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"security","diagnostics":"bad token `+r.Header.Get("Authorization")+`"}]}`)
		}))
		client := fhirclient.New(fhirclient.Settings{Base: ts.URL + "/fhir/", Token: "geheim-123"})
		_, ferr := client.Find(ctx, request.Request{}, time.Now())
		_, berr := client.BornOn(ctx, "1984-03-12")
		for _, err := range []error{ferr, berr} {
			if !errs.Is(err, errs.Forbidden) || errs.Message(err) != "Der FHIR-Server hat den Zugriffsschlüssel abgelehnt. Seine Begründung: „bad token Bearer …“" ||
				strings.Contains(err.Error(), "geheim-123") || strings.Contains(err.Error(), "1984") {
				t.Errorf("status %d: %v (%v)", status, err, errs.KindOf(err))
			}
		}
		ts.Close()
	}
}

// TestDiagnostics: what a server says in an OperationOutcome reaches the error bounded,
// on one line and without the token.
func TestDiagnostics(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		w.WriteHeader(http.StatusInternalServerError)
		d := "Fehler\nim " + r.Header.Get("Authorization") + strings.Repeat(" und so weiter", 100)
		json.NewEncoder(w).Encode(map[string]any{"resourceType": "OperationOutcome",
			"issue": []map[string]string{{"severity": "error", "code": "exception", "diagnostics": d}}})
	}))
	defer ts.Close()
	_, err := fhirclient.New(fhirclient.Settings{Base: ts.URL + "/fhir/", Token: "geheim-123"}).Find(ctx, request.Request{}, time.Now())
	msg := errs.Message(err)
	if !errs.Is(err, errs.Internal) || strings.Contains(err.Error(), "geheim-123") || strings.Contains(err.Error(), "\n") ||
		!strings.HasPrefix(err.Error(), "Fehler im Bearer …") || utf8.RuneCountInString(err.Error()) > 301 {
		t.Errorf("error %q (%q)", err, msg)
	}
}
