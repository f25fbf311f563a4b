package widget

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
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
}

// Out is a message to the browser.
type Out struct {
	Type string `json:"type"` // started, resumed, ack, reply, summary, error
	ID   string `json:"id,omitempty"`
	// started and resumed
	Conversation string `json:"conversation,omitempty"`
	Token        string `json:"token,omitempty"`
	// reply
	Text    string   `json:"text,omitempty"`
	Choices []string `json:"choices,omitempty"`
	Done    bool     `json:"done,omitempty"`
	// summary
	Items []string `json:"items,omitempty"`
	// error
	Message string `json:"message,omitempty"`
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
		if err != nil {
			return h.fail(err, "")
		}
		s.conversation, s.ended = in.Conversation, ended
		return []Out{{Type: "resumed", Conversation: in.Conversation, Done: ended}}
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
