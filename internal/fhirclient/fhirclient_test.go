package fhirclient_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

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
