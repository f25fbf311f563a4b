package widget

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"unicode/utf8"

	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/request"
	"github.com/tresen/tresen/internal/tenant"
)

// In is a message from the browser.
type In struct {
	Type         string `json:"type"` // consent, say, end, resume
	ID           string `json:"id,omitempty"`
	Text         string `json:"text,omitempty"`
	Conversation string `json:"conversation,omitempty"`
	Token        string `json:"token,omitempty"`
	// Staff is how many of the team's replies the browser has (long-poll only): a poll
	// returns as soon as there are more.
	Staff int `json:"staff,omitempty"`
}

// Out is a message to the browser.
type Out struct {
	// started, resumed, history, ack, reply, staff, summary, error
	Type string `json:"type"`
	// ack, reply, error: the browser's message id; staff: the reply's own id
	ID string `json:"id,omitempty"`
	// started and resumed
	Conversation string `json:"conversation,omitempty"`
	Token        string `json:"token,omitempty"`
	// reply and staff
	Text string `json:"text,omitempty"`
	// reply, and history: the quick replies to the last question
	Choices []string `json:"choices,omitempty"`
	Done    bool     `json:"done,omitempty"`
	// summary
	Items []string `json:"items,omitempty"`
	// history: the conversation so far, sent after resumed
	History []Entry `json:"history,omitempty"`
	// error; Code "resume": the conversation cannot be carried on (unknown, purged or
	// the wrong token), the browser starts anew
	Message string `json:"message,omitempty"`
	Code    string `json:"code,omitempty"`
}

// Entry is one message of a conversation's history.
type Entry struct {
	Who  string `json:"who"` // patient, assistant or staff (the practice team)
	Text string `json:"text"`
	ID   string `json:"id,omitempty"` // staff: the id its staff message has
}

const (
	msgInternal  = "Es ist ein Fehler aufgetreten. Bitte versuchen Sie es später noch einmal oder rufen Sie die Praxis an."
	msgTooFast   = "Bitte nicht so schnell: Sie haben viele Nachrichten in kurzer Zeit geschickt. Bitte warten Sie einen Moment und senden Sie die Nachricht dann noch einmal."
	msgTooLong   = "Die Nachricht ist zu lang (höchstens 2.000 Zeichen). Bitte kürzen Sie sie."
	msgNoConsent = "Bitte stimmen Sie zuerst dem Datenschutzhinweis zu."
	msgEmpty     = "Die Nachricht ist leer."
	msgUnknown   = "Unbekannte Nachricht."
)

// session is one browser's chat with a practice: set at consent or resume.
type session struct {
	practice     tenant.Tenant
	ip           string
	conversation string
	ended        bool
	// staff are the ids of the team's replies the browser was sent with the history.
	staff map[string]bool
}

// handle answers one message of the browser. Everything the patient wrote is stored by
// the reception service before the ack goes out.
func (h *Handler) handle(ctx context.Context, s *session, in In) []Out {
	switch in.Type {
	case "consent":
		if s.conversation != "" {
			return nil // consented already, on this connection
		}
		if !h.perIP.allow(s.ip) {
			return []Out{{Type: "error", Message: msgTooFast}}
		}
		id, greeting, err := h.rec.Start(ctx, s.practice.ID, request.Chat)
		if err != nil {
			return h.fail(err, "")
		}
		token := newToken()
		if err := h.rec.SetResumeHash(ctx, s.practice.ID, id, tokenHash(token)); err != nil {
			return h.fail(err, "")
		}
		s.conversation = id
		return []Out{{Type: "started", Conversation: id, Token: token},
			{Type: "reply", Text: greeting.Text, Choices: greeting.Choices, Done: greeting.Done}}
	case "resume":
		if !h.perIP.allow(s.ip) {
			return []Out{{Type: "error", Message: msgTooFast}}
		}
		ended, err := h.rec.CheckResume(ctx, s.practice.ID, in.Conversation, tokenHash(in.Token))
		if errs.Is(err, errs.Unauthorized) {
			return []Out{{Type: "error", Code: "resume", Message: errs.Message(err)}}
		}
		if err != nil {
			return h.fail(err, "")
		}
		history, err := h.history(ctx, s.practice.ID, in.Conversation)
		if err != nil {
			return h.fail(err, "")
		}
		s.conversation, s.ended = in.Conversation, ended
		s.staff = map[string]bool{}
		for _, e := range history.History {
			if e.ID != "" {
				s.staff[e.ID] = true
			}
		}
		return []Out{{Type: "resumed", Conversation: in.Conversation, Done: ended}, history}
	case "say":
		if s.conversation == "" {
			return []Out{{Type: "error", ID: in.ID, Message: msgNoConsent}}
		}
		if in.ID == "" || len(in.ID) > 64 {
			return []Out{{Type: "error", Message: msgUnknown}}
		}
		switch n := utf8.RuneCountInString(in.Text); {
		case n > MaxText:
			return []Out{{Type: "error", ID: in.ID, Message: msgTooLong}}
		case n == 0:
			return []Out{{Type: "error", ID: in.ID, Message: msgEmpty}}
		}
		if !h.perConv.allow(s.conversation) || !h.perIP.allow(s.ip) {
			return []Out{{Type: "error", ID: in.ID, Message: msgTooFast}}
		}
		m := h.lock(s.conversation)
		if err := m.lock(ctx); err != nil {
			return nil
		}
		reply, err := h.rec.SayOnce(ctx, s.practice.ID, s.conversation, in.ID, in.Text)
		m.unlock()
		if err != nil {
			return h.fail(err, in.ID)
		}
		out := []Out{{Type: "ack", ID: in.ID}, {Type: "reply", ID: in.ID, Text: reply.Text, Choices: reply.Choices, Done: reply.Done}}
		if reply.Done {
			out = append(out, h.end(ctx, s)...)
		}
		return out
	case "end":
		if s.conversation == "" {
			return nil // nothing was stored
		}
		return h.end(ctx, s)
	}
	return []Out{{Type: "error", Message: msgUnknown}}
}

// end closes the conversation and lists what the team received.
func (h *Handler) end(ctx context.Context, s *session) []Out {
	m := h.lock(s.conversation)
	if err := m.lock(ctx); err != nil {
		return nil
	}
	reqs, err := h.rec.End(ctx, s.practice.ID, s.conversation)
	m.unlock()
	if err != nil {
		return h.fail(err, "")
	}
	s.ended = true
	items := []string{}
	for i := range reqs {
		items = append(items, reqs[i].Summary())
	}
	return []Out{{Type: "summary", Items: items}}
}

// history is the conversation so far, the patient's and the assistant's turns and the
// team's replies in the order they were written, for a browser that resumes it after a
// reload (it shows them) or a lost connection (it knows them).
func (h *Handler) history(ctx context.Context, tenantID, id string) (Out, error) {
	c, err := h.rec.Conversation(ctx, tenantID, id)
	if err != nil {
		return Out{}, err
	}
	notes, err := h.rec.Replies(ctx, tenantID, id)
	if err != nil {
		return Out{}, err
	}
	out := Out{Type: "history", History: []Entry{}}
	if !c.Ended {
		out.Choices = c.Choices
	}
	for _, tu := range c.Turns {
		for len(notes) > 0 && notes[0].At.Before(tu.At) {
			out.History = append(out.History, Entry{Who: "staff", ID: staffID(notes[0]), Text: notes[0].Text})
			notes = notes[1:]
		}
		out.History = append(out.History, Entry{Who: string(tu.Who), Text: tu.Text})
	}
	for _, n := range notes {
		out.History = append(out.History, Entry{Who: "staff", ID: staffID(n), Text: n.Text})
	}
	return out, nil
}

// staff returns the team's replies to a conversation that the browser has not been sent
// (sent, updated; nil: all), as staff messages.
func (h *Handler) staff(ctx context.Context, tenantID, id string, sent map[string]bool) []Out {
	notes, err := h.rec.Replies(ctx, tenantID, id)
	if err != nil {
		if !errs.Is(err, errs.NotFound) {
			h.log.Error("widget: team replies", "err", err)
		}
		return nil
	}
	var out []Out
	for _, n := range notes {
		sid := staffID(n)
		if sent != nil {
			if sent[sid] {
				continue
			}
			sent[sid] = true
		}
		out = append(out, Out{Type: "staff", ID: sid, Text: n.Text})
	}
	return out
}

// staffID names a team reply for the browser to recognise it when it comes again: the
// time it was written and its text, which are stored with it and never change.
func staffID(n request.Note) string {
	f := fnv.New32a()
	f.Write([]byte(n.Text))
	return fmt.Sprintf("staff-%d-%08x", n.At.UnixNano(), f.Sum32())
}

// fail turns an error into the message the patient sees; only internal errors are
// logged, and never with what the patient wrote.
func (h *Handler) fail(err error, id string) []Out {
	switch errs.KindOf(err) {
	case errs.Invalid, errs.NotFound, errs.Unauthorized, errs.Forbidden, errs.Conflict:
		return []Out{{Type: "error", ID: id, Message: errs.Message(err)}}
	}
	h.log.Error("widget", "err", err)
	return []Out{{Type: "error", ID: id, Message: msgInternal}}
}

// lock returns the lock of a conversation's turns on this node: turns of one conversation
// are taken one after another (reception loads, answers and stores each).
func (h *Handler) lock(conversation string) chanMutex {
	f := fnv.New32a()
	f.Write([]byte(conversation))
	return h.locks[f.Sum32()%uint32(len(h.locks))]
}

func newToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func tokenHash(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}
