package widget

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
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

// pingEvery keeps the connection alive through proxies and NAT that drop silent ones
// (often after 30 or 60 s), and finds dead ones: a ping unanswered within pingWait
// closes the connection.
const (
	pingEvery = 25 * time.Second
	pingWait  = 15 * time.Second
)

// handleSocket carries a chat over a WebSocket: GET /widget/ws?practice=ID.
func (h *Handler) handleSocket(w http.ResponseWriter, r *http.Request) {
	t, _, status, err := h.practice(r, r.URL.Query().Get("practice"))
	if err != nil {
		http.Error(w, err.Error(), status)
		return
	}
	if !h.perIP.allow(clientIP(r)) {
		http.Error(w, msgTooFast, http.StatusTooManyRequests)
		return
	}
	done, ok := h.begin()
	if !ok {
		http.Error(w, msgInternal, http.StatusServiceUnavailable)
		return
	}
	defer done()
	// The server's read and write timeouts are for pages; a chat stays open for as long
	// as the patient writes. net/http clears them when the connection is hijacked, which
	// this makes explicit rather than relied on.
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(time.Time{})
	rc.SetWriteDeadline(time.Time{})
	// The origin is checked above against the practice's allow-list.
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return
	}
	defer c.CloseNow()
	c.SetReadLimit(readLimit)
	// conn ends with the connection, or when the handler closes.
	conn, cancelConn := context.WithCancel(r.Context())
	defer cancelConn()
	stop := context.AfterFunc(h.base, func() {
		// Tell the browser to reconnect (to the next server), waiting a moment for its
		// answer; the read below ends with the connection.
		// Cancelling the read closes the connection.
		go c.Close(websocket.StatusGoingAway, "")
		time.AfterFunc(time.Second, cancelConn)
	})
	defer stop()
	go h.ping(conn, c)
	ctx := actor(context.WithoutCancel(r.Context()), r)
	s := &session{practice: t, ip: clientIP(r)}
	var stopWatch func() // the watch of the team's replies, once the conversation is known
	defer func() {
		if stopWatch != nil {
			stopWatch()
		}
	}()
	for {
		rctx, cancel := context.WithTimeout(conn, idle)
		var in In
		err := wsjson.Read(rctx, c, &in)
		cancel()
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn) || errors.As(err, &typ):
			if !h.send(conn, c, []Out{{Type: "error", Message: msgUnknown}}) {
				return
			}
			continue
		case err != nil:
			if websocket.CloseStatus(err) == -1 && !errors.Is(err, io.EOF) && conn.Err() == nil && rctx.Err() == nil {
				h.log.Info("widget: socket closed", "err", err)
			}
			c.Close(websocket.StatusNormalClosure, "")
			return
		}
		// A resumed conversation's replies are watched from before it is loaded, so that
		// none written meanwhile is missed; a new one has none yet.
		var sig <-chan struct{}
		var unsub func()
		if h.events != nil && in.Type == "resume" && in.Conversation != "" {
			sig, unsub = h.replies.watch(t.ID, in.Conversation)
		}
		// A turn is taken to its end even when the browser goes meanwhile: it is stored,
		// and the resent message gets the stored reply.
		watched := s.conversation
		ok := h.send(conn, c, h.handle(ctx, s, in))
		if sig == nil && h.events != nil && in.Type == "consent" && s.conversation != "" && s.conversation != watched {
			sig, unsub = h.replies.watch(t.ID, s.conversation)
		}
		if sig != nil {
			if !ok || s.conversation == "" || s.conversation == watched && stopWatch != nil {
				unsub()
			} else {
				if stopWatch != nil {
					stopWatch()
				}
				wctx, cancel := context.WithCancel(conn)
				sent := maps.Clone(s.staff)
				if sent == nil {
					sent = map[string]bool{}
				}
				go h.watch(actor(wctx, r), c, sig, t.ID, s.conversation, sent)
				stopWatch = func() { cancel(); unsub() }
			}
		}
		if !ok {
			return
		}
	}
}

// watch sends the team's replies to a conversation as they are written, each once on the
// connection, until ctx ends.
func (h *Handler) watch(ctx context.Context, c *websocket.Conn, sig <-chan struct{}, tenantID, conversation string, sent map[string]bool) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-sig:
			if !h.send(ctx, c, h.staff(ctx, tenantID, conversation, sent)) {
				return
			}
		}
	}
}

// ping pings the browser until ctx ends; a ping that is not answered closes the
// connection, and the browser reconnects.
func (h *Handler) ping(ctx context.Context, c *websocket.Conn) {
	t := time.NewTicker(pingEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, pingWait)
		err := c.Ping(pctx)
		cancel()
		if err != nil {
			c.CloseNow()
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
