package widget

import (
	"encoding/json"
	"net/http"
)

// pollIn is a long-poll request: a message with the practice and, after consent, the
// conversation and its resume token (each request carries its own session).
type pollIn struct {
	In
	Practice string `json:"practice"`
}

// handlePoll is the fallback for networks without WebSockets: POST /widget/consent,
// /widget/say and /widget/end with the message as JSON, answered with the messages the
// socket would have sent, as {"messages":[…]}.
func (h *Handler) handlePoll(w http.ResponseWriter, r *http.Request) {
	op := r.PathValue("op")
	if op != "consent" && op != "say" && op != "end" {
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
	if op != "consent" {
		ended, err := h.rec.CheckResume(ctx, t.ID, in.Conversation, tokenHash(in.Token))
		if err != nil {
			writeJSON(w, map[string]any{"messages": h.fail(err, in.ID)})
			return
		}
		s.conversation, s.ended = in.Conversation, ended
	}
	in.Type = op
	writeJSON(w, map[string]any{"messages": h.handle(ctx, s, in.In)})
}
