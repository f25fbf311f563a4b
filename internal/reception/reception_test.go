package reception_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/dialogue"
	"github.com/tresen/tresen/internal/events"
	"github.com/tresen/tresen/internal/nlu"
	"github.com/tresen/tresen/internal/person"
	"github.com/tresen/tresen/internal/reception"
	"github.com/tresen/tresen/internal/request"
	"github.com/tresen/tresen/internal/retention"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
	"github.com/tresen/tresen/internal/tenant"
)

var ctx = audit.WithActor(context.Background(), audit.Actor{UserID: "test", Source: "test"})

// TestTurnByTurn: every turn is stored before its answer is returned, so a conversation
// cut off half-way leaves its request with what the patient said.
func TestTurnByTurn(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		p, err := db.CreateTenant(ctx, tenant.Tenant{Kind: tenant.Practice, Code: "031234567", Name: "Hausarztpraxis Dr. Erika Schneider"})
		if err != nil {
			t.Fatal(err)
		}
		svc := &reception.Service{Store: db, Engine: func(context.Context, string) (*dialogue.Engine, error) {
			return &dialogue.Engine{NLU: &nlu.Understander{}, Practice: dialogue.Practice{Name: p.Name}}, nil
		}}
		id, _, err := svc.Start(ctx, p.ID, request.Chat)
		if err != nil {
			t.Fatal(err)
		}
		requests := func() []request.Request {
			t.Helper()
			kind := retention.Request
			recs, err := db.ListRecords(ctx, p.ID, store.RecordFilter{Kind: &kind})
			if err != nil {
				t.Fatal(err)
			}
			var out []request.Request
			for _, r := range recs {
				var req request.Request
				if err := json.Unmarshal(r.Data, &req); err != nil {
					t.Fatal(err)
				}
				out = append(out, req)
			}
			return out
		}
		if _, err := svc.Say(ctx, p.ID, id, "Ich brauche ein Folgerezept für Ramipril 5 mg"); err != nil {
			t.Fatal(err)
		}
		// Stored already, before the conversation ends.
		got := requests()
		if len(got) != 1 || got[0].Details.Medication != "Ramipril 5 mg" || got[0].Status != request.Open {
			t.Fatalf("after the first turn: %+v", got)
		}
		if _, err := svc.Say(ctx, p.ID, id, "Anna Müller, geboren am 12.3.1984"); err != nil {
			t.Fatal(err)
		}
		// The caller hangs up: the request stays, incomplete, with everything said.
		if _, err := svc.End(ctx, p.ID, id); err != nil {
			t.Fatal(err)
		}
		got = requests()
		if len(got) != 1 || got[0].Patient.Name != "Anna Müller" || got[0].Patient.BirthDate != "1984-03-12" || got[0].Status != request.Incomplete {
			t.Fatalf("after hang-up: %+v", got)
		}
		rec, err := db.FindRecordByID(ctx, p.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		var saved struct {
			Conversation dialogue.Conversation `json:"conversation"`
		}
		if err := json.Unmarshal(rec.Data, &saved); err != nil {
			t.Fatal(err)
		}
		if n := len(saved.Conversation.Turns); n < 4 || !saved.Conversation.Ended {
			t.Errorf("transcript has %d turns, ended %v", n, saved.Conversation.Ended)
		}
	})
}

// TestPatientMatching links a finished request to the patient record it is clearly about,
// and leaves an unclear one to the team.
func TestPatientMatching(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		p, err := db.CreateTenant(ctx, tenant.Tenant{Kind: tenant.Practice, Code: "031234567", Name: "Hausarztpraxis Dr. Erika Schneider"})
		if err != nil {
			t.Fatal(err)
		}
		anna, err := db.CreatePerson(ctx, p.ID, person.Person{Name: "Anna Müller", BirthDate: "1984-03-12"})
		if err != nil {
			t.Fatal(err)
		}
		for _, twin := range []string{"Max Mustermann", "Max Mustermann"} {
			if _, err := db.CreatePerson(ctx, p.ID, person.Person{Name: twin, BirthDate: "1990-02-01"}); err != nil {
				t.Fatal(err)
			}
		}
		svc := &reception.Service{Store: db, Engine: func(context.Context, string) (*dialogue.Engine, error) {
			return &dialogue.Engine{NLU: &nlu.Understander{}, Practice: dialogue.Practice{Name: p.Name}}, nil
		}}
		refill := func(name, birth string) request.Request {
			t.Helper()
			id, _, err := svc.Start(ctx, p.ID, request.Chat)
			if err != nil {
				t.Fatal(err)
			}
			for _, say := range []string{"Ich brauche ein Folgerezept für Ramipril 5 mg", name + ", " + birth, "AOK", "ja"} {
				if _, err := svc.Say(ctx, p.ID, id, say); err != nil {
					t.Fatal(err)
				}
			}
			reqs, err := svc.End(ctx, p.ID, id)
			if err != nil || len(reqs) != 1 {
				t.Fatalf("requests %+v %v", reqs, err)
			}
			return reqs[0]
		}
		// "Mueller" as speech-to-text writes it is still Anna Müller.
		r := refill("Anna Mueller", "12.3.1984")
		if r.Match != "matched" || r.PersonID != anna.ID || r.PatientUnclear {
			t.Errorf("Anna: %+v", r)
		}
		recs, err := db.ListRecords(ctx, p.ID, store.RecordFilter{PersonID: &anna.ID})
		if err != nil || len(recs) != 1 {
			t.Errorf("Anna's records: %d %v", len(recs), err)
		}
		if r := refill("Max Mustermann", "1.2.1990"); r.Match != "ambiguous" || r.PersonID != "" || !r.PatientUnclear {
			t.Errorf("two records fit, the team decides: %+v", r)
		}
		if r := refill("Erika Musterfrau", "5.6.1977"); r.Match != "new" || r.PersonID != "" {
			t.Errorf("a new patient: %+v", r)
		}
	})
}

// TestSayOnce: a turn resent under the same key (after a lost connection) gets the same
// reply and is not taken a second time; a conversation resumes only with its secret.
func TestSayOnce(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		p, err := db.CreateTenant(ctx, tenant.Tenant{Kind: tenant.Practice, Code: "031234567", Name: "Hausarztpraxis Dr. Erika Schneider"})
		if err != nil {
			t.Fatal(err)
		}
		svc := &reception.Service{Store: db, Engine: func(context.Context, string) (*dialogue.Engine, error) {
			return &dialogue.Engine{NLU: &nlu.Understander{}, Practice: dialogue.Practice{Name: p.Name}}, nil
		}}
		id, _, err := svc.Start(ctx, p.ID, request.Chat)
		if err != nil {
			t.Fatal(err)
		}
		turns := func() int {
			t.Helper()
			rec, err := db.FindRecordByID(ctx, p.ID, id)
			if err != nil {
				t.Fatal(err)
			}
			var saved struct {
				Conversation dialogue.Conversation `json:"conversation"`
			}
			if err := json.Unmarshal(rec.Data, &saved); err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, tu := range saved.Conversation.Turns {
				if tu.Who == dialogue.Patient {
					n++
				}
			}
			return n
		}
		first, err := svc.SayOnce(ctx, p.ID, id, "m1", "Ich brauche ein Folgerezept für Ramipril 5 mg")
		if err != nil {
			t.Fatal(err)
		}
		again, err := svc.SayOnce(ctx, p.ID, id, "m1", "Ich brauche ein Folgerezept für Ramipril 5 mg")
		if err != nil {
			t.Fatal(err)
		}
		if again.Text != first.Text || turns() != 1 {
			t.Fatalf("resent turn: reply %q (first %q), %d patient turns", again.Text, first.Text, turns())
		}
		if _, err := svc.SayOnce(ctx, p.ID, id, "m2", "Anna Müller, geboren am 12.3.1984"); err != nil {
			t.Fatal(err)
		}
		if n := turns(); n != 2 {
			t.Fatalf("%d patient turns, want 2", n)
		}

		if _, err := svc.CheckResume(ctx, p.ID, id, []byte("secret-hash")); err == nil {
			t.Fatal("resumed without a secret set")
		}
		if err := svc.SetResumeHash(ctx, p.ID, id, []byte("secret-hash")); err != nil {
			t.Fatal(err)
		}
		if ended, err := svc.CheckResume(ctx, p.ID, id, []byte("secret-hash")); err != nil || ended {
			t.Fatalf("resume: ended %v, %v", ended, err)
		}
		if _, err := svc.CheckResume(ctx, p.ID, id, []byte("wrong-hash")); err == nil {
			t.Fatal("resumed with a wrong secret")
		}
	})
}

// TestEvents: the team's open inbox hears of each request when it is stored and when it
// changes, with its urgency and without its contents.
func TestEvents(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		p, err := db.CreateTenant(ctx, tenant.Tenant{Kind: tenant.Practice, Code: "031234567", Name: "Hausarztpraxis Dr. Erika Schneider"})
		if err != nil {
			t.Fatal(err)
		}
		bus := &events.Memory{}
		watch, cancel := bus.Subscribe(p.ID)
		defer cancel()
		other, cancelOther := bus.Subscribe("another-tenant")
		defer cancelOther()
		svc := &reception.Service{Store: db, Events: bus, Engine: func(context.Context, string) (*dialogue.Engine, error) {
			return &dialogue.Engine{NLU: &nlu.Understander{}, Practice: dialogue.Practice{Name: p.Name}}, nil
		}}
		id, _, err := svc.Start(ctx, p.ID, request.Chat)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Say(ctx, p.ID, id, "Ich habe starke Brustschmerzen und bekomme keine Luft"); err != nil {
			t.Fatal(err)
		}
		select {
		case e := <-watch:
			if e.Kind != events.Request || !e.Urgent || e.TenantID != p.ID {
				t.Fatalf("event %+v", e)
			}
			if _, err := db.FindRecordByID(ctx, p.ID, e.ID); err != nil {
				t.Fatalf("event names no record: %v", err)
			}
		default:
			t.Fatal("no event for the emergency request")
		}
		select {
		case e := <-other:
			t.Fatalf("another tenant heard %+v", e)
		default:
		}
	})
}
