// Package inbox is the practice team's view of the requests (Anliegen) that the assistant
// took on the phone and in the website chat: which are waiting, which are urgent, who
// handles them, and what the team did with them.
package inbox

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/events"
	"github.com/tresen/tresen/internal/request"
	"github.com/tresen/tresen/internal/retention"
	"github.com/tresen/tresen/internal/store"
)

// Store is what the inbox needs of the store.
type Store interface {
	ListRecords(ctx context.Context, tenantID string, f store.RecordFilter) ([]store.Record, error)
	FindRecordByID(ctx context.Context, tenantID, id string) (store.Record, error)
	Handlings(ctx context.Context, tenantID string) (map[string]request.Handling, error)
	Handling(ctx context.Context, tenantID, recordID string) (request.Handling, error)
	SetHandling(ctx context.Context, tenantID, recordID string, h request.Handling) error
}

// Item is one request in the inbox: the record it is stored in, what the patient asked
// for, and how the team handles it.
type Item struct {
	RecordID string
	Request  request.Request
	Handling request.Handling
}

// Urgent reports whether the item needs the team first: an urgent or life-threatening
// request, or one a team member escalated, that is not done.
func (it Item) Urgent() bool {
	return it.Handling.Status != request.HandlingDone && (it.Request.Urgency != request.Routine || it.Handling.Escalated)
}

// Conversation is the id of the conversation the request came from (its transcript
// record): request ids are the conversation's id and a number.
func (it Item) Conversation() string {
	id := it.Request.ID
	for i := len(id) - 1; i >= 0; i-- {
		if id[i] == '-' {
			return id[:i]
		}
	}
	return ""
}

// Filter selects items; empty fields select all.
type Filter struct {
	Type     request.Type
	Status   string // a handling status, or Waiting for new and assigned
	Channel  request.Channel
	Doctor   string // the doctor's surname as the request names it
	Assignee string // user id
	// Since bounds the arrival time; zero: Window back from now.
	Since time.Time
}

// Waiting selects the items not done yet.
const Waiting = "waiting"

// Window is how far back the inbox looks; requests are purged after their retention
// period anyway.
const Window = 120 * 24 * time.Hour

// maxItems bounds one listing: a practice takes some hundred requests a day.
const maxItems = 5000

// Counts are the numbers of items per handling status (and Waiting, Urgent), over every
// item that the other filters select.
type Counts map[string]int

// Urgent counts the urgent items (Item.Urgent).
const Urgent = "urgent"

// Service lists and changes the inbox of a practice.
type Service struct {
	Store Store
	Now   func() time.Time
	// Events, if set, hears of every change, so that other open inboxes show it and an
	// open chat shows the team's reply.
	Events events.Bus
}

// List returns the items a filter selects, urgent ones first, then the newest, with the
// counts per status.
func (s *Service) List(ctx context.Context, tenantID string, f Filter) (items []Item, counts Counts, err error) {
	defer errs.Wrap(&err, "inbox.List")
	kind := retention.Request
	since := f.Since
	if since.IsZero() {
		since = s.Now().Add(-Window)
	}
	recs, err := s.Store.ListRecords(ctx, tenantID, store.RecordFilter{Kind: &kind, Since: &since, Limit: maxItems})
	if err != nil {
		return nil, nil, err
	}
	handlings, err := s.Store.Handlings(ctx, tenantID)
	if err != nil {
		return nil, nil, err
	}
	counts = Counts{}
	for _, rec := range recs {
		it, err := item(rec, handlings)
		if err != nil {
			return nil, nil, err
		}
		if (f.Type != "" && it.Request.Type != f.Type) || (f.Channel != "" && it.Request.Channel != f.Channel) ||
			(f.Doctor != "" && it.Request.Details.Doctor != f.Doctor) || (f.Assignee != "" && it.Handling.Assignee != f.Assignee) {
			continue
		}
		counts[it.Handling.Status]++
		if it.Handling.Status != request.HandlingDone {
			counts[Waiting]++
		}
		if it.Urgent() {
			counts[Urgent]++
		}
		switch f.Status {
		case "":
		case Waiting:
			if it.Handling.Status == request.HandlingDone {
				continue
			}
		case Urgent:
			if !it.Urgent() {
				continue
			}
		default:
			if it.Handling.Status != f.Status {
				continue
			}
		}
		items = append(items, it)
	}
	slices.SortStableFunc(items, func(a, b Item) int {
		if a.Urgent() != b.Urgent() {
			if a.Urgent() {
				return -1
			}
			return 1
		}
		if a.Urgent() && a.Request.Urgency != b.Request.Urgency {
			// Life-threatening before urgent before escalated.
			return cmp.Compare(rank(a.Request.Urgency), rank(b.Request.Urgency))
		}
		return b.Request.CreatedAt.Compare(a.Request.CreatedAt)
	})
	return items, counts, nil
}

func rank(u request.Urgency) int {
	switch u {
	case request.LifeThreatening:
		return 0
	case request.Urgent:
		return 1
	}
	return 2
}

// Get returns one item.
func (s *Service) Get(ctx context.Context, tenantID, recordID string) (it Item, err error) {
	defer errs.Wrap(&err, "inbox.Get")
	rec, err := s.Store.FindRecordByID(ctx, tenantID, recordID)
	if err != nil {
		return it, err
	}
	if rec.Kind != retention.Request {
		return it, errs.E(errs.NotFound, "Anliegen nicht gefunden")
	}
	h, err := s.Store.Handling(ctx, tenantID, recordID)
	if err != nil {
		return it, err
	}
	return item(rec, map[string]request.Handling{recordID: h})
}

func item(rec store.Record, handlings map[string]request.Handling) (Item, error) {
	it := Item{RecordID: rec.ID}
	if err := json.Unmarshal(rec.Data, &it.Request); err != nil {
		return it, fmt.Errorf("request record %s: %w", rec.ID, err)
	}
	it.Handling = request.Handling{Status: request.HandlingNew}
	if h, ok := handlings[rec.ID]; ok {
		it.Handling = h
	}
	return it, nil
}

// maxNote is the longest note in characters.
const maxNote = 4000

// Change is what a team member does with an item.
type Change struct {
	// Action is one of Assign, Unassign, Done, Reopen, Note, Reply, Escalate, Deescalate.
	Action string
	// UserID is who does it; Assign assigns to Assignee, or to UserID when empty.
	UserID   string
	Assignee string
	Text     string // the note or reply
}

// Actions on items.
const (
	Assign     = "assign"
	Unassign   = "unassign"
	Done       = "done"
	Reopen     = "reopen"
	Note       = "note"
	Reply      = "reply" // a note the patient reads in the chat while it is open
	Escalate   = "escalate"
	Deescalate = "deescalate"
)

// Apply makes a change and returns the item as it is then; the store audits it.
func (s *Service) Apply(ctx context.Context, tenantID, recordID string, c Change) (it Item, err error) {
	defer errs.Wrap(&err, "inbox.Apply")
	if it, err = s.Get(ctx, tenantID, recordID); err != nil {
		return it, err
	}
	h := it.Handling
	now := s.Now()
	switch c.Action {
	case Assign:
		h.Assignee = cmp.Or(c.Assignee, c.UserID)
		if h.Status != request.HandlingDone {
			h.Status = request.HandlingAssigned
		}
	case Unassign:
		h.Assignee = ""
		if h.Status == request.HandlingAssigned {
			h.Status = request.HandlingNew
		}
	case Done:
		h.Status, h.DoneAt = request.HandlingDone, now
	case Reopen:
		h.Status, h.DoneAt = request.HandlingNew, time.Time{}
		if h.Assignee != "" {
			h.Status = request.HandlingAssigned
		}
	case Note, Reply:
		text := strings.TrimSpace(c.Text)
		switch n := len([]rune(text)); {
		case n == 0:
			return it, errs.Field("text", "Bitte eine Notiz eingeben.")
		case n > maxNote:
			return it, errs.Field("text", "Die Notiz ist zu lang (höchstens %d Zeichen).", maxNote)
		}
		h.Notes = append(h.Notes, request.Note{By: c.UserID, At: now, Text: text, ToPatient: c.Action == Reply})
	case Escalate:
		h.Escalated = true
	case Deescalate:
		h.Escalated = false
	default:
		return it, errs.Field("action", "unbekannte Aktion")
	}
	if err := s.Store.SetHandling(ctx, tenantID, recordID, h); err != nil {
		return it, err
	}
	it.Handling = h
	if s.Events != nil {
		s.Events.Publish(ctx, events.Event{TenantID: tenantID, Kind: events.Request, ID: recordID, Urgent: it.Urgent()})
		if c.Action == Reply {
			s.Events.Publish(ctx, events.Event{TenantID: tenantID, Kind: events.Reply, ID: it.Conversation()})
		}
	}
	return it, nil
}
