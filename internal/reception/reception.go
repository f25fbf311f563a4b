// Package reception runs the Rezeption's conversations for its channels (phone, website
// chat, terminal): it loads a conversation, lets the dialogue engine answer one turn and
// stores the conversation and its requests before the reply goes out, so that nothing a
// patient was told was received can be lost.
package reception

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/tresen/tresen/internal/dialogue"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/events"
	"github.com/tresen/tresen/internal/matching"
	"github.com/tresen/tresen/internal/person"
	"github.com/tresen/tresen/internal/request"
	"github.com/tresen/tresen/internal/retention"
	"github.com/tresen/tresen/internal/store"
)

// Store is what reception needs of the store.
type Store interface {
	AddRecord(ctx context.Context, tenantID string, r store.Record, file []byte) (store.Record, error)
	UpdateRecord(ctx context.Context, tenantID, id string, data json.RawMessage) error
	FindRecordByID(ctx context.Context, tenantID, id string) (store.Record, error)
	FindPersonsBornOn(ctx context.Context, tenantID, birthDate string) ([]person.Person, error)
	SetRecordPerson(ctx context.Context, tenantID, id, personID string) error
	Handling(ctx context.Context, tenantID, recordID string) (request.Handling, error)
	ListRecords(ctx context.Context, tenantID string, f store.RecordFilter) ([]store.Record, error)
	RecordFile(ctx context.Context, tenantID, id string) ([]byte, error)
}

// Service holds the conversations of all practices.
type Service struct {
	Store Store
	// Engine returns the dialogue engine of a practice (its doctors, texts, calendar).
	Engine func(ctx context.Context, tenantID string) (*dialogue.Engine, error)
	// Directory returns the patient directory of a practice that keeps its patients in its
	// own system (a PVS reached over FHIR); nil, or a nil directory: Tresen's own records.
	Directory func(ctx context.Context, tenantID string) (Directory, error)
	// Events, if set, hears of every request stored or changed, for the team's live inbox.
	Events events.Bus
}

// Directory is a practice system's patient directory. What it returns is used to match
// the caller and then forgotten: only the patient's reference is kept with the request.
type Directory interface {
	BornOn(ctx context.Context, birthDate string) ([]matching.Candidate, error)
}

// saved is a conversation as stored: its state and the records its requests went to.
type saved struct {
	Conversation dialogue.Conversation `json:"conversation"`
	// Records maps request ids to the ids of their records.
	Records map[string]string `json:"records,omitempty"`
	// ResumeHash is the hash of the secret with which a channel that can lose its
	// connection (the website widget) carries the conversation on; empty: none.
	ResumeHash []byte `json:"resume_hash,omitempty"`
	// Handled are the replies to the last turns a channel sent under its own message id,
	// stored with the turn itself: a turn resent after a lost connection is answered
	// again, never taken twice.
	Handled []handled `json:"handled,omitempty"`
}

// handled is a turn a channel sent under its own id, and the reply it got.
type handled struct {
	Key   string         `json:"key"`
	Reply dialogue.Reply `json:"reply"`
}

// maxHandled bounds the replies kept for resent turns; a channel resends only the few
// turns it sent while its connection was lost.
const maxHandled = 32

// Start opens a conversation on a channel and returns its id (the id of its transcript
// record) and the greeting.
func (s *Service) Start(ctx context.Context, tenantID string, ch request.Channel) (string, dialogue.Reply, error) {
	return s.StartKnown(ctx, tenantID, ch, request.Patient{})
}

// StartKnown is Start with what the channel knows of the patient before a word is said:
// on the phone the caller's number, which every request of the call then carries (the
// team can call back even when the caller hangs up at once), and which the assistant may
// offer to send a confirmation to.
func (s *Service) StartKnown(ctx context.Context, tenantID string, ch request.Channel, known request.Patient) (string, dialogue.Reply, error) {
	e, err := s.Engine(ctx, tenantID)
	if err != nil {
		return "", dialogue.Reply{}, err
	}
	sv := saved{Conversation: dialogue.Conversation{Channel: ch, Known: known}}
	if ch == request.Phone {
		sv.Conversation.Caller = known.Phone
	}
	reply := e.Start(&sv.Conversation)
	data, err := json.Marshal(sv)
	if err != nil {
		return "", reply, err
	}
	rec, err := s.Store.AddRecord(ctx, tenantID, store.Record{Kind: retention.Transcript, Data: data}, nil)
	if err != nil {
		return "", reply, err
	}
	// The conversation is named after its record; its requests after the conversation.
	sv.Conversation.ID = rec.ID
	return rec.ID, reply, s.save(ctx, tenantID, rec.ID, &sv)
}

// Say hands one turn of the patient to the conversation and returns the answer, after the
// turn, the answer and every request are stored.
func (s *Service) Say(ctx context.Context, tenantID, id, text string) (dialogue.Reply, error) {
	return s.SayOnce(ctx, tenantID, id, "", text)
}

// SayOnce is Say for a channel that may send a turn again when it does not know whether it
// arrived: a turn under a key already handled is answered with its stored reply and not
// taken again. The key is stored together with the turn. An empty key is never repeated.
// Callers serialize the turns of one conversation.
func (s *Service) SayOnce(ctx context.Context, tenantID, id, key, text string) (dialogue.Reply, error) {
	sv, e, err := s.load(ctx, tenantID, id)
	if err != nil {
		return dialogue.Reply{}, err
	}
	if key != "" {
		for _, h := range sv.Handled {
			if h.Key == key {
				return h.Reply, nil
			}
		}
	}
	reply := e.Handle(ctx, &sv.Conversation, text)
	if reply.Done && !sv.Conversation.Ended {
		sv.Conversation.Close(e.Now())
	}
	if key != "" {
		sv.Handled = append(sv.Handled, handled{Key: key, Reply: reply})
		if n := len(sv.Handled); n > maxHandled {
			sv.Handled = sv.Handled[n-maxHandled:]
		}
	}
	return reply, s.save(ctx, tenantID, id, sv)
}

// SetResumeHash stores the hash of the conversation's resume secret.
func (s *Service) SetResumeHash(ctx context.Context, tenantID, id string, hash []byte) error {
	sv, _, err := s.load(ctx, tenantID, id)
	if err != nil {
		return err
	}
	sv.ResumeHash = hash
	return s.save(ctx, tenantID, id, sv)
}

// CheckResume reports whether the conversation has ended, after checking the hash of the
// secret it is carried on with; errs.Unauthorized when it does not match.
func (s *Service) CheckResume(ctx context.Context, tenantID, id string, hash []byte) (ended bool, err error) {
	sv, _, err := s.load(ctx, tenantID, id)
	if errs.Is(err, errs.NotFound) {
		return false, errs.E(errs.Unauthorized, "Das Gespräch kann nicht fortgesetzt werden.")
	}
	if err != nil {
		return false, err
	}
	if len(sv.ResumeHash) == 0 || subtle.ConstantTimeCompare(sv.ResumeHash, hash) != 1 {
		return false, errs.E(errs.Unauthorized, "Das Gespräch kann nicht fortgesetzt werden.")
	}
	return sv.Conversation.Ended, nil
}

// End closes a conversation, as when the caller hangs up: requests still being collected
// are kept as incomplete, with what the patient said.
func (s *Service) End(ctx context.Context, tenantID, id string) ([]request.Request, error) {
	sv, e, err := s.load(ctx, tenantID, id)
	if err != nil {
		return nil, err
	}
	sv.Conversation.Close(e.Now())
	return sv.Conversation.Requests, s.save(ctx, tenantID, id, sv)
}

func (s *Service) load(ctx context.Context, tenantID, id string) (*saved, *dialogue.Engine, error) {
	e, err := s.Engine(ctx, tenantID)
	if err != nil {
		return nil, nil, err
	}
	sv, err := s.read(ctx, tenantID, id)
	if err != nil {
		return nil, nil, err
	}
	if e.Now == nil {
		e.Now = time.Now
	}
	return sv, e, nil
}

func (s *Service) read(ctx context.Context, tenantID, id string) (*saved, error) {
	rec, err := s.Store.FindRecordByID(ctx, tenantID, id)
	if err != nil {
		return nil, err
	}
	if rec.Kind != retention.Transcript {
		return nil, errs.E(errs.NotFound, "Gespräch nicht gefunden")
	}
	var sv saved
	if err := json.Unmarshal(rec.Data, &sv); err != nil {
		return nil, fmt.Errorf("conversation %s: %w", id, err)
	}
	return &sv, nil
}

// Conversation returns a stored conversation as it stands, for the team to read.
func (s *Service) Conversation(ctx context.Context, tenantID, id string) (dialogue.Conversation, error) {
	sv, err := s.read(ctx, tenantID, id)
	if err != nil {
		return dialogue.Conversation{}, err
	}
	return sv.Conversation, nil
}

// SaveAudio keeps a call's recording (a WAV file) with its conversation: sealed like every
// file, and deleted with the practice's retention period for call audio.
func (s *Service) SaveAudio(ctx context.Context, tenantID, id string, wav []byte) error {
	data, err := json.Marshal(map[string]string{"conversation": id})
	if err != nil {
		return err
	}
	_, err = s.Store.AddRecord(ctx, tenantID, store.Record{Kind: retention.CallAudio, Lookup: id, Data: data}, wav)
	return err
}

// Audio returns the recording of a conversation; errs.NotFound when there is none.
func (s *Service) Audio(ctx context.Context, tenantID, id string) ([]byte, error) {
	kind := retention.CallAudio
	recs, err := s.Store.ListRecords(ctx, tenantID, store.RecordFilter{Kind: &kind, Lookup: &id, Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, errs.E(errs.NotFound, "Keine Aufnahme zu diesem Gespräch")
	}
	return s.Store.RecordFile(ctx, tenantID, recs[0].ID)
}

// Conversations returns the conversations that began since a time, newest first.
func (s *Service) Conversations(ctx context.Context, tenantID string, since time.Time) ([]dialogue.Conversation, error) {
	kind := retention.Transcript
	recs, err := s.Store.ListRecords(ctx, tenantID, store.RecordFilter{Kind: &kind, Since: &since, Limit: store.MaxRecordList})
	if err != nil {
		return nil, err
	}
	out := make([]dialogue.Conversation, 0, len(recs))
	for _, rec := range recs {
		var sv saved
		if err := json.Unmarshal(rec.Data, &sv); err != nil {
			return nil, fmt.Errorf("conversation %s: %w", rec.ID, err)
		}
		out = append(out, sv.Conversation)
	}
	return out, nil
}

// Replies returns what the team replied to the patient on the conversation's requests
// (notes marked for the patient), oldest first.
func (s *Service) Replies(ctx context.Context, tenantID, id string) ([]request.Note, error) {
	sv, err := s.read(ctx, tenantID, id)
	if err != nil {
		return nil, err
	}
	var out []request.Note
	for _, recID := range sv.Records {
		h, err := s.Store.Handling(ctx, tenantID, recID)
		if errs.Is(err, errs.NotFound) {
			continue // purged or erased
		}
		if err != nil {
			return nil, err
		}
		for _, n := range h.Notes {
			if n.ToPatient {
				out = append(out, n)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b request.Note) int { return a.At.Compare(b.At) })
	return out, nil
}

// save stores each request that holds any data as a record of its own (for the team's
// inbox), then the conversation with the request records' ids.
func (s *Service) save(ctx context.Context, tenantID, id string, sv *saved) error {
	if sv.Records == nil {
		sv.Records = map[string]string{}
	}
	for i := range sv.Conversation.Requests {
		r := &sv.Conversation.Requests[i]
		if !r.HasData() && r.Status == request.Open {
			continue
		}
		if r.Status != request.Open && r.Match == "" && r.Patient.BirthDate != "" {
			if err := s.match(ctx, tenantID, r); err != nil {
				return err
			}
			if recID, ok := sv.Records[r.ID]; ok && r.PersonID != "" {
				if err := s.Store.SetRecordPerson(ctx, tenantID, recID, r.PersonID); err != nil {
					return err
				}
			}
		}
		data, err := json.Marshal(r)
		if err != nil {
			return err
		}
		if recID, ok := sv.Records[r.ID]; ok {
			if err := s.Store.UpdateRecord(ctx, tenantID, recID, data); err != nil {
				return err
			}
			s.publish(ctx, tenantID, recID, r)
			continue
		}
		rec, err := s.Store.AddRecord(ctx, tenantID, store.Record{Kind: retention.Request, PersonID: r.PersonID, Data: data}, nil)
		if err != nil {
			return err
		}
		sv.Records[r.ID] = rec.ID
		s.publish(ctx, tenantID, rec.ID, r)
	}
	data, err := json.Marshal(sv)
	if err != nil {
		return err
	}
	return s.Store.UpdateRecord(ctx, tenantID, id, data)
}

// match links a finished request to the practice's patient record it is clearly about.
// An ambiguous or weak match is never taken: the team checks it ("Patient unklar"); no
// match at all marks a new patient.
func (s *Service) match(ctx context.Context, tenantID string, r *request.Request) error {
	var dir Directory
	if s.Directory != nil {
		var err error
		if dir, err = s.Directory(ctx, tenantID); err != nil {
			return err
		}
	}
	var candidates []matching.Candidate
	if dir != nil {
		found, err := dir.BornOn(ctx, r.Patient.BirthDate)
		if err != nil {
			// The practice system is away: the team matches by hand, nothing is lost.
			r.Match, r.PatientUnclear = "unchecked", true
			return nil
		}
		candidates = found
	} else {
		born, err := s.Store.FindPersonsBornOn(ctx, tenantID, r.Patient.BirthDate)
		if err != nil {
			return err
		}
		for _, p := range born {
			candidates = append(candidates, matching.Candidate{ID: p.ID, Name: p.Name, BirthDate: p.BirthDate, KVNR: p.KVNR, Phone: p.Phone})
		}
	}
	res := matching.Find(matching.Query{Name: r.Patient.Name, BirthDate: r.Patient.BirthDate, KVNR: r.Patient.KVNR, Phone: r.Patient.Phone}, candidates)
	switch {
	case res.Status == matching.Matched && dir != nil:
		r.PatientRef, r.Match = "Patient/"+res.Best.ID, string(matching.Matched)
	case res.Status == matching.Matched:
		r.PersonID, r.Match = res.Best.ID, string(matching.Matched)
	case res.Status == matching.None:
		r.Match = "new"
	default:
		r.Match, r.PatientUnclear = string(res.Status), true
	}
	return nil
}

func (s *Service) publish(ctx context.Context, tenantID, recordID string, r *request.Request) {
	if s.Events != nil {
		s.Events.Publish(ctx, events.Event{TenantID: tenantID, Kind: events.Request, ID: recordID, Urgent: r.Urgency != request.Routine})
	}
}
