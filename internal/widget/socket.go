package widget

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// readLimit bounds one message of the browser: 2,000 characters, escaped, and the
// envelope. Longer ones close the connection; the script never sends them.
const readLimit = 32 << 10

// idle is how long a connection may stay silent before the server closes it; the browser
// reconnects and resumes when the patient writes again.
const idle = 30 * time.Minute

// handleSocket carries a chat over a WebSocket: GET /widget/ws?practice=ID.
func (h *Handler) handleSocket(w http.ResponseWriter, r *http.Request) {
	t, status, err := h.practice(r, r.URL.Query().Get("practice"))
	if err != nil {
		http.Error(w, err.Error(), status)
		return
	}
	if !h.perIP.allow(clientIP(r)) {
		http.Error(w, msgTooFast, http.StatusTooManyRequests)
		return
	}
	// The origin is checked above against the practice's allow-list.
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return
	}
	defer c.CloseNow()
	c.SetReadLimit(readLimit)
	ctx := actor(context.WithoutCancel(r.Context()), r)
	s := &session{practice: t, ip: clientIP(r)}
	for {
		rctx, cancel := context.WithTimeout(r.Context(), idle)
		var in In
		err := wsjson.Read(rctx, c, &in)
		cancel()
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn) || errors.As(err, &typ):
			if !h.send(r.Context(), c, []Out{{Type: "error", Message: msgUnknown}}) {
				return
			}
			continue
		case err != nil:
			if websocket.CloseStatus(err) == -1 && !errors.Is(err, io.EOF) && r.Context().Err() == nil && rctx.Err() == nil {
				h.log.Info("widget: socket closed", "err", err)
			}
			c.Close(websocket.StatusNormalClosure, "")
			return
		}
		// A turn is taken to its end even when the browser goes meanwhile: it is stored,
		// and the resent message gets the stored reply.
		if !h.send(r.Context(), c, h.handle(ctx, s, in)) {
			return
		}
	}
}

func (h *Handler) send(ctx context.Context, c *websocket.Conn, out []Out) bool {
	for _, o := range out {
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := wsjson.Write(wctx, c, o)
		cancel()
		if err != nil {
			return false
		}
	}
	return true
}
