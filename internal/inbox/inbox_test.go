package inbox_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/events"
	"github.com/tresen/tresen/internal/inbox"
	"github.com/tresen/tresen/internal/request"
	"github.com/tresen/tresen/internal/retention"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
	"github.com/tresen/tresen/internal/tenant"
)

var ctx = audit.WithActor(context.Background(), audit.Actor{UserID: "test", Source: "test"})

// mustRequest stores a request record as the reception service does.
func mustRequest(t *testing.T, db *store.DB, tenantID string, r request.Request) string {
	t.Helper()
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := db.AddRecord(ctx, tenantID, store.Record{Kind: retention.Request, Data: data}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return rec.ID
}

func TestListAndApply(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		p, err := db.CreateTenant(ctx, tenant.Tenant{Kind: tenant.Practice, Code: "031234567", Name: "Hausarztpraxis Dr. Erika Schneider"})
		if err != nil {
			t.Fatal(err)
		}
		other, err := db.CreateTenant(ctx, tenant.Tenant{Kind: tenant.Practice, Code: "031234568", Name: "Praxis Nebenan"})
		if err != nil {
			t.Fatal(err)
		}
		now := db.Now()
		erika := request.Patient{Name: "Erika Mustermann", BirthDate: "1984-03-12", Phone: "+491701234567"}
		refill := mustRequest(t, db, p.ID, request.Request{ID: "c1-1", Type: request.PrescriptionRefill, Channel: request.Chat, Status: request.Complete,
			Patient: erika, Details: request.Details{Medication: "Ramipril 5 mg", Doctor: "Weber"}, CreatedAt: now.Add(-3 * time.Hour)})
		callback := mustRequest(t, db, p.ID, request.Request{ID: "c2-1", Type: request.Callback, Channel: request.Phone, Status: request.Complete,
			Patient: erika, CreatedAt: now.Add(-time.Hour)})
		urgent := mustRequest(t, db, p.ID, request.Request{ID: "c3-1", Type: request.SickNote, Channel: request.Phone, Status: request.Complete,
			Urgency: request.Urgent, Patient: erika, CreatedAt: now.Add(-2 * time.Hour)})
		emergency := mustRequest(t, db, p.ID, request.Request{ID: "c4-1", Type: request.Message, Channel: request.Chat, Status: request.Incomplete,
			Urgency: request.LifeThreatening, Details: request.Details{Note: "Brustschmerzen"}, CreatedAt: now.Add(-4 * time.Hour)})
		mustRequest(t, db, other.ID, request.Request{ID: "x-1", Type: request.Callback, Channel: request.Phone, Status: request.Complete,
			Patient: request.Patient{Name: "Max Mustermann"}, CreatedAt: now})

		bus := &events.Memory{}
		watch, cancel := bus.Subscribe(p.ID)
		defer cancel()
		clock := storetest.NewClock(now)
		svc := &inbox.Service{Store: db, Now: clock.Now, Events: bus}
		ids := func(items []inbox.Item) []string {
			var out []string
			for _, it := range items {
				out = append(out, it.RecordID)
			}
			return out
		}
		list := func(f inbox.Filter) ([]string, inbox.Counts) {
			t.Helper()
			items, counts, err := svc.List(ctx, p.ID, f)
			if err != nil {
				t.Fatal(err)
			}
			return ids(items), counts
		}

		// Life-threatening, then urgent, then the newest first.
		got, counts := list(inbox.Filter{})
		if diff := cmp.Diff([]string{emergency, urgent, callback, refill}, got); diff != "" {
			t.Errorf("order (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(inbox.Counts{request.HandlingNew: 4, inbox.Waiting: 4, inbox.Urgent: 2}, counts); diff != "" {
			t.Errorf("counts (-want +got):\n%s", diff)
		}
		for _, tc := range []struct {
			f    inbox.Filter
			want []string
		}{
			{inbox.Filter{Type: request.PrescriptionRefill}, []string{refill}},
			{inbox.Filter{Channel: request.Phone}, []string{urgent, callback}},
			{inbox.Filter{Doctor: "Weber"}, []string{refill}},
			{inbox.Filter{Status: inbox.Urgent}, []string{emergency, urgent}},
			{inbox.Filter{Status: request.HandlingDone}, nil},
		} {
			if got, _ := list(tc.f); !cmp.Equal(tc.want, got) {
				t.Errorf("%+v: %v, want %v", tc.f, got, tc.want)
			}
		}

		// The team works on them.
		steps := []inbox.Change{
			{Action: inbox.Assign, UserID: "u-anna"},
			{Action: inbox.Note, UserID: "u-anna", Text: "  Rezept liegt zur Unterschrift bereit.  "},
			{Action: inbox.Escalate, UserID: "u-anna"},
			{Action: inbox.Done, UserID: "u-anna"},
		}
		for _, c := range steps {
			if _, err := svc.Apply(ctx, p.ID, refill, c); err != nil {
				t.Fatalf("%s: %v", c.Action, err)
			}
			select {
			case e := <-watch:
				if e.ID != refill || e.Kind != events.Request {
					t.Errorf("%s: event %+v", c.Action, e)
				}
			default:
				t.Errorf("%s: no event", c.Action)
			}
		}
		it, err := svc.Get(ctx, p.ID, refill)
		if err != nil {
			t.Fatal(err)
		}
		h := it.Handling
		if h.Status != request.HandlingDone || h.Assignee != "u-anna" || !h.Escalated || !h.DoneAt.Equal(now) ||
			len(h.Notes) != 1 || h.Notes[0].Text != "Rezept liegt zur Unterschrift bereit." || h.Notes[0].By != "u-anna" {
			t.Errorf("handling %+v", h)
		}
		if it.Urgent() {
			t.Error("a done request still counts as urgent")
		}
		got, counts = list(inbox.Filter{Status: inbox.Waiting})
		if diff := cmp.Diff([]string{emergency, urgent, callback}, got); diff != "" {
			t.Errorf("waiting (-want +got):\n%s", diff)
		}
		if counts[request.HandlingDone] != 1 || counts[inbox.Waiting] != 3 {
			t.Errorf("counts after done: %v", counts)
		}

		// Reopened, it is the assignee's again; a reply to the patient is a note they see.
		if it, err = svc.Apply(ctx, p.ID, refill, inbox.Change{Action: inbox.Reopen}); err != nil || it.Handling.Status != request.HandlingAssigned || !it.Handling.DoneAt.IsZero() {
			t.Fatalf("reopen: %+v, %v", it.Handling, err)
		}
		<-watch
		if _, err := svc.Apply(ctx, p.ID, refill, inbox.Change{Action: inbox.Reply, UserID: "u-anna", Text: "Sie können das Rezept ab 14 Uhr abholen."}); err != nil {
			t.Fatal(err)
		}
		<-watch
		if e := <-watch; e.Kind != events.Reply || e.ID != "c1" {
			t.Errorf("reply event %+v, want the conversation c1", e)
		}

		// Bad changes say what is wrong and change nothing.
		for _, c := range []inbox.Change{{Action: inbox.Note, Text: "   "}, {Action: inbox.Note, Text: strings.Repeat("x", 4001)}, {Action: "delete"}} {
			if _, err := svc.Apply(ctx, p.ID, callback, c); !errs.Is(err, errs.Invalid) {
				t.Errorf("%+v: %v, want invalid", c.Action, err)
			}
		}
		if it, _ := svc.Get(ctx, p.ID, callback); it.Handling.Status != request.HandlingNew || len(it.Handling.Notes) != 0 {
			t.Errorf("a refused change left %+v", it.Handling)
		}

		// Another practice's request is not found, not listed, not changed.
		if _, err := svc.Apply(ctx, other.ID, refill, inbox.Change{Action: inbox.Done}); !errs.Is(err, errs.NotFound) {
			t.Errorf("other tenant: %v", err)
		}
		if got, _ := list(inbox.Filter{Status: "", Type: request.Callback}); !cmp.Equal([]string{callback}, got) {
			t.Errorf("callbacks %v", got)
		}

		// Every change is in the audit log, with the handling status and never the note.
		entries, err := db.ListAudit(ctx, p.ID, store.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var changes []string
		for _, e := range entries {
			if e.ObjectType == "request" && e.ObjectID == refill && strings.HasPrefix(e.Detail, "handling=") {
				changes = append(changes, e.Detail)
				if strings.Contains(e.Detail, "Rezept") {
					t.Errorf("audit shows the note: %q", e.Detail)
				}
			}
		}
		if len(changes) != 6 {
			t.Errorf("audit of the request: %v, want 6 changes", changes)
		}
	})
}
