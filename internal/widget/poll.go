package widget

import (
	"encoding/json"
	"net/http"
	"time"
)

// pollIn is a long-poll request: a message with the practice and, after consent, the
// conversation and its resume token (each request carries its own session).
type pollIn struct {
	In
	Practice string `json:"practice"`
}

// pollWait is how long POST /widget/poll waits for a reply of the team: below the
// server's write timeout and the idle timeouts of common proxies.
const pollWait = 25 * time.Second

// handlePoll is the fallback for networks without WebSockets: POST /widget/consent,
// /widget/resume, /widget/say and /widget/end with the message as JSON, answered with the
// messages the socket would have sent, as {"messages":[…]}, and the team's replies so far.
// POST /widget/poll waits until the team replies (more replies than In.Staff) and returns
// them, or returns none after pollWait.
func (h *Handler) handlePoll(w http.ResponseWriter, r *http.Request) {
	op := r.PathValue("op")
	switch op {
	case "consent", "resume", "say", "end", "poll":
	default:
		http.NotFound(w, r)
		return
	}
	var in pollIn
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, readLimit)).Decode(&in); err != nil {
		http.Error(w, msgUnknown, http.StatusBadRequest)
		return
	}
	t, _, status, err := h.practice(r, in.Practice)
	if err != nil {
		http.Error(w, err.Error(), status)
		return
	}
	h.cors(w, r)
	done, ok := h.begin()
	if !ok {
		http.Error(w, msgInternal, http.StatusServiceUnavailable)
		return
	}
	defer done()
	ctx := actor(r.Context(), r)
	s := &session{practice: t, ip: clientIP(r)}
	if op == "poll" && !h.perIP.allow(s.ip) {
		writeJSON(w, map[string]any{"messages": []Out{{Type: "error", Message: msgTooFast}}})
		return
	}
	if op != "consent" && op != "resume" {
		ended, err := h.rec.CheckResume(ctx, t.ID, in.Conversation, tokenHash(in.Token))
		if err != nil {
			writeJSON(w, map[string]any{"messages": h.fail(err, in.ID)})
			return
		}
		s.conversation, s.ended = in.Conversation, ended
	}
	var out []Out
	switch op {
	case "poll":
		out = h.waitStaff(r, t.ID, s.conversation, in.Staff)
	case "consent", "resume": // a new conversation has no replies; the history has them
		in.Type = op
		out = h.handle(ctx, s, in.In)
	default:
		in.Type = op
		out = append(h.handle(ctx, s, in.In), h.staff(ctx, t.ID, s.conversation, nil)...)
	}
	if out == nil {
		out = []Out{}
	}
	writeJSON(w, map[string]any{"messages": out})
}

// waitStaff returns the team's replies to a conversation as soon as there are more than
// seen, waiting for them at most pollWait; none after that.
func (h *Handler) waitStaff(r *http.Request, tenantID, conversation string, seen int) []Out {
	ctx := actor(r.Context(), r)
	var sig <-chan struct{}
	if h.events != nil {
		ch, unsub := h.replies.watch(tenantID, conversation)
		defer unsub()
		sig = ch
	}
	timeout := time.NewTimer(pollWait)
	defer timeout.Stop()
	for {
		if out := h.staff(ctx, tenantID, conversation, nil); len(out) > seen {
			return out
		}
		select {
		case <-timeout.C:
			return nil
		case <-ctx.Done():
			return nil
		case <-h.base.Done():
			return nil
		case <-sig:
		}
	}
}
