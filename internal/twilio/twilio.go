// Package twilio is the second phone carrier: Twilio calls the practice's number, asks
// Tresen's TwiML webhook what to do, and is told to connect the call to a Media Streams
// WebSocket, over which µ-law audio, keys and marks flow both ways. Each stream becomes a
// phone.Call for the call flow.
package twilio

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/tresen/tresen/internal/phone"
)

// Options configure the handler. One Twilio account serves the operator's numbers.
type Options struct {
	AccountSID string
	AuthToken  string // signs Twilio's requests and the stream tokens
	// PublicURL is where Twilio reaches Tresen ("https://tresen.example.de"): the
	// webhook's signature covers it, and the stream URL is derived from it (wss://).
	PublicURL string
	// API is Twilio's REST API for transfers and hang-ups; empty: https://api.twilio.com.
	API     string
	Handler phoneHandler
	Logger  *slog.Logger
	HTTP    *http.Client
}

// Handler serves POST /twilio/voice (TwiML) and GET /twilio/stream (Media Streams).
type Handler struct {
	o    Options
	mux  *http.ServeMux
	wg   sync.WaitGroup
	base context.Context
	stop context.CancelFunc
}

// New returns the handler.
func New(o Options) (*Handler, error) {
	if o.AccountSID == "" || o.AuthToken == "" || o.PublicURL == "" {
		return nil, fmt.Errorf("twilio: account SID, auth token and public URL are needed")
	}
	u, err := url.Parse(o.PublicURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("twilio: public URL %q is no http(s) URL", o.PublicURL)
	}
	o.PublicURL = strings.TrimSuffix(o.PublicURL, "/")
	if o.API == "" {
		o.API = "https://api.twilio.com"
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.HTTP == nil {
		o.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	h := &Handler{o: o, mux: http.NewServeMux()}
	h.base, h.stop = context.WithCancel(context.Background())
	h.mux.HandleFunc("POST /twilio/voice", h.handleVoice)
	h.mux.HandleFunc("GET /twilio/stream", h.handleStream)
	return h, nil
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// Close ends every call in progress and waits for their flows.
func (h *Handler) Close() error {
	h.stop()
	h.wg.Wait()
	return nil
}

// Signature is Twilio's X-Twilio-Signature of a request to url with form params:
// base64(HMAC-SHA1(token, url + each key and value, keys sorted)).
func Signature(token, url string, params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString(url)
	for _, k := range keys {
		for _, v := range params[k] {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	m := hmac.New(sha1.New, []byte(token))
	m.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// streamToken binds a stream to the call the webhook answered.
func (h *Handler) streamToken(callSID string) string {
	m := hmac.New(sha256.New, []byte(h.o.AuthToken))
	m.Write([]byte("twilio-stream|" + callSID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// twiML is the answer to the voice webhook: connect the call to the stream, or first
// ring the practice's own phone, or hang up.
type twiML struct {
	XMLName xml.Name  `xml:"Response"`
	Dial    *dial     `xml:"Dial,omitempty"`
	Connect *connect  `xml:"Connect,omitempty"`
	Hangup  *struct{} `xml:"Hangup,omitempty"`
}

type connect struct {
	Stream struct {
		URL    string      `xml:"url,attr"`
		Params []parameter `xml:"Parameter"`
	} `xml:"Stream"`
}

// dial rings a number or SIP URI; Twilio asks Action what next when the dialled call
// ends or was not answered. answerOnBridge leaves the caller's call unanswered (ringing,
// nothing charged) until someone picks up.
type dial struct {
	Timeout        int    `xml:"timeout,attr,omitempty"`
	Action         string `xml:"action,attr,omitempty"`
	AnswerOnBridge bool   `xml:"answerOnBridge,attr,omitempty"`
	Number         string `xml:"Number,omitempty"`
	SIP            string `xml:"Sip,omitempty"`
}

// dialTo dials a number or a SIP URI.
func dialTo(target string) *dial {
	if strings.HasPrefix(target, "sip:") || strings.HasPrefix(target, "sips:") {
		return &dial{SIP: target}
	}
	return &dial{Number: target}
}

type parameter struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

// handleVoice answers Twilio's webhook for an incoming call: during opening hours ring
// the practice's own phone first (when the handler is a phone.Router that names one),
// otherwise, or when nobody there answered, connect the call to the stream.
func (h *Handler) handleVoice(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	want := Signature(h.o.AuthToken, h.o.PublicURL+r.URL.RequestURI(), r.PostForm)
	if subtle.ConstantTimeCompare([]byte(want), []byte(r.Header.Get("X-Twilio-Signature"))) != 1 {
		http.Error(w, "invalid signature", http.StatusForbidden)
		return
	}
	call := r.PostForm.Get("CallSid")
	if call == "" || r.PostForm.Get("AccountSid") != h.o.AccountSID {
		http.Error(w, "unknown call or account", http.StatusBadRequest)
		return
	}
	var t twiML
	switch afterDial := r.URL.Query().Has("dialed"); {
	case afterDial && (r.PostForm.Get("DialCallStatus") == "completed" || r.PostForm.Get("CallStatus") == "completed"):
		// The practice took the call (or the caller gave up): it is over.
		t.Hangup = &struct{}{}
	case !afterDial && h.ringFirst(r, &t):
	default:
		if afterDial {
			h.o.Logger.Info("the practice did not take the call, the assistant answers", "call", call, "status", r.PostForm.Get("DialCallStatus"))
		}
		t.Connect = &connect{}
		// https://host → wss://host (http only for tests and local set-ups).
		t.Connect.Stream.URL = "ws" + strings.TrimPrefix(h.o.PublicURL, "http") + "/twilio/stream"
		t.Connect.Stream.Params = []parameter{
			{"token", h.streamToken(call)},
			{"from", r.PostForm.Get("From")},
			{"to", r.PostForm.Get("To")},
		}
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.Write([]byte(xml.Header))
	xml.NewEncoder(w).Encode(t)
}

// ringFirst fills t with a <Dial> to the practice's own phone when the handler wants
// the call to ring there first; it reports whether it did.
func (h *Handler) ringFirst(r *http.Request, t *twiML) bool {
	router, ok := h.o.Handler.(phone.Router)
	if !ok {
		return false
	}
	target, wait, err := router.RingFirst(r.Context(), r.PostForm.Get("To"))
	if err != nil {
		h.o.Logger.Error("ring first: no routing, the assistant answers", "call", r.PostForm.Get("CallSid"), "err", err)
		return false
	}
	if target == "" {
		return false
	}
	d := dialTo(target)
	d.Timeout, d.Action, d.AnswerOnBridge = max(int(wait/time.Second), 1), h.o.PublicURL+"/twilio/voice?dialed=1", true
	t.Dial = d
	return true
}

// handleStream takes a Media Streams WebSocket and holds the call flow on it.
func (h *Handler) handleStream(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(time.Time{})
	rc.SetWriteDeadline(time.Time{})
	// Twilio is no browser: the stream token in its start message is the check.
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return
	}
	defer c.CloseNow()
	c.SetReadLimit(64 << 10)
	ctx, cancel := context.WithCancel(h.base)
	defer cancel()
	go func() {
		select {
		case <-r.Context().Done():
			cancel()
		case <-ctx.Done():
		}
	}()
	call, err := h.open(ctx, c)
	if err != nil {
		h.o.Logger.Warn("twilio: stream refused", "err", err)
		c.Close(websocket.StatusPolicyViolation, "refused")
		return
	}
	h.wg.Add(1)
	defer h.wg.Done()
	go call.read(ctx)
	h.o.Handler.HandleCall(ctx, call)
	call.end()
	c.Close(websocket.StatusNormalClosure, "")
}
