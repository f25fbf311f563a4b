// Package widget is the HTTP adapter of the online reception widget that practices embed in
// their websites: the script with its Web Component, the WebSocket (and long-poll fallback)
// that carries a chat to the reception service, and the demo practice website.
//
// Resending without duplicates: the browser keeps every message it has not seen answered
// under its own id and resends it after a reconnect. The reception service stores the id
// and the reply together with the turn itself (reception.Service.SayOnce, last 32 ids per
// conversation), so a resent id gets its stored reply again and never a second turn, on
// whichever node it lands. A conversation is carried on with a random resume token given
// at consent, of which only the SHA-256 hash is stored with the conversation. Resuming
// sends the conversation so far (history), which a reloaded page shows; the team's replies
// from the inbox come as staff messages with ids of their own, over the socket as the
// events bus announces them and with every long-poll answer. See docs/widget.md.
package widget

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/demo"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/events"
	"github.com/tresen/tresen/internal/reception"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/tenant"
)

//go:embed static/widget.js
var widgetJS []byte

//go:embed templates/*.html
var templateFS embed.FS

// Store is what the widget needs of the store besides the reception service.
type Store interface {
	FindTenantByID(ctx context.Context, id string) (tenant.Tenant, error)
	FindTenantByCode(ctx context.Context, kind tenant.Kind, code string) (tenant.Tenant, error)
	Setting(ctx context.Context, tenantID, name string, v any) error
}

// Settings are a practice's widget settings (store.SettingWidget).
type Settings struct {
	// AllowedOrigins are the origins (scheme://host[:port]) of the websites that may embed
	// the practice's widget.
	AllowedOrigins []string `json:"allowed_origins"`
	// PrivacyURL is the practice's Datenschutzerklärung (privacy policy), absolute https.
	PrivacyURL string `json:"privacy_url,omitempty"`
	// Notice replaces the German privacy notice shown before consent; empty: the default.
	Notice string `json:"notice,omitempty"`
	// Color is the widget's main colour, "#rrggbb"; empty: the default. The widget keeps
	// text on it readable (WCAG AA contrast) by choosing black or white.
	Color string `json:"color,omitempty"`
}

// Options configure the handler.
type Options struct {
	Logger *slog.Logger
	// Demo serves the demo practice website under /demo/ and lets the demo practice's
	// widget be embedded by the server's own pages.
	Demo bool
	// Now is the clock of the rate limits; nil: time.Now.
	Now func() time.Time
	// Events, if set, carries the team's replies (events.Reply) into open chats.
	Events events.Bus
}

// Handler serves /widget.js, /widget/… and, with Options.Demo, /demo/….
type Handler struct {
	db      Store
	rec     *reception.Service
	log     *slog.Logger
	demo    bool
	mux     *http.ServeMux
	pages   *template.Template
	perIP   *limiter // messages and new conversations per client address
	perConv *limiter // messages per conversation
	locks   [64]chanMutex
	events  events.Bus
	replies *replyHub // the team's replies to open chats, from events

	// base is cancelled by Close: it ends open sockets and waiting polls.
	base   context.Context
	cancel context.CancelFunc
	mu     sync.Mutex
	closed bool
	active sync.WaitGroup // sockets and poll requests in progress, guarded by mu for Add
}

// Limits: a chat needs few messages a minute, but quick replies make the first ones
// fast (a booking takes about seven); several patients may share one address (a
// practice's waiting room, a carrier's NAT).
const (
	convBurst = 10
	convEvery = 3 * time.Second // 20 a minute
	ipBurst   = 30
	ipEvery   = time.Second // 60 a minute
	// MaxText is the longest message in characters.
	MaxText = 2000
)

// New returns the widget handler.
func New(db Store, rec *reception.Service, o Options) (*Handler, error) {
	h := &Handler{db: db, rec: rec, log: o.Logger, demo: o.Demo, events: o.Events, replies: &replyHub{bus: o.Events},
		perIP: newLimiter(ipBurst, ipEvery, o.Now), perConv: newLimiter(convBurst, convEvery, o.Now)}
	h.base, h.cancel = context.WithCancel(context.Background())
	if h.log == nil {
		h.log = slog.Default()
	}
	for i := range h.locks {
		h.locks[i] = make(chanMutex, 1)
	}
	var err error
	if h.pages, err = template.ParseFS(templateFS, "templates/*.html"); err != nil {
		return nil, err
	}
	h.mux = http.NewServeMux()
	h.mux.HandleFunc("GET /widget.js", h.handleScript)
	h.mux.HandleFunc("GET /widget/config", h.handleConfig)
	h.mux.HandleFunc("GET /widget/ws", h.handleSocket)
	h.mux.HandleFunc("POST /widget/{op}", h.handlePoll)
	h.mux.HandleFunc("OPTIONS /widget/{op}", h.handlePreflight)
	if o.Demo {
		h.mux.HandleFunc("GET /demo/practice-website", h.handleDemoWebsite)
		h.mux.HandleFunc("GET /demo/datenschutz", h.handleDemoPrivacy)
	}
	return h, nil
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "strict-origin")
	h.mux.ServeHTTP(w, r)
}

// closeWait bounds how long Close waits for turns in flight.
const closeWait = 5 * time.Second

// Close ends every open socket and waiting poll and waits, at most a few seconds, for the
// turns in flight to be stored; call it before the store closes. A turn cut off here was
// not acknowledged, so the browser resends it to the next server.
func (h *Handler) Close() error {
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
	h.cancel()
	done := make(chan struct{})
	go func() {
		h.active.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-time.After(closeWait):
		return errors.New("widget: connections still open after 5 s")
	}
}

// begin counts a socket or poll request as active until its done is called; false once
// the handler is closed.
func (h *Handler) begin() (done func(), ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, false
	}
	h.active.Add(1)
	return h.active.Done, true
}

// Texts are what the widget shows before the first message: the practice's privacy
// notice, the consent and the link to its Datenschutzerklärung (privacy policy), one
// struct per language.
type Texts struct {
	Notice      string `json:"notice"`
	Consent     string `json:"consent"`
	PrivacyLink string `json:"privacy_link"`
	// PrivacyURL is absolute (https), or relative to the widget's server for the demo
	// practice; empty: no link.
	PrivacyURL string `json:"privacy_url,omitempty"`
}

// texts are the practice's texts: the defaults with its own notice (German, the language
// it writes in; English visitors keep the default) and privacy policy.
func (h *Handler) texts(t tenant.Tenant, s Settings) map[string]Texts {
	out := defaultTexts(t.Name)
	privacy := ""
	switch {
	case s.PrivacyURL != "" && httpsURL(s.PrivacyURL):
		privacy = s.PrivacyURL
	case h.demo && t.Code == demo.PracticeTenant.Code:
		privacy = "/demo/datenschutz"
	}
	for lang, tx := range out {
		tx.PrivacyURL = privacy
		if lang == "de" && s.Notice != "" && !strings.ContainsAny(s.Notice, "<>") {
			tx.Notice = s.Notice
		}
		out[lang] = tx
	}
	return out
}

// defaultTexts are the texts of a practice that has set none.
func defaultTexts(practice string) map[string]Texts {
	return map[string]Texts{
		"de": {
			Notice: "Dieser Chat ist die Online-Rezeption der " + practice + ". Was Sie hier schreiben, " +
				"wird verschlüsselt gespeichert und nur vom Praxisteam gelesen, um Ihr Anliegen zu bearbeiten " +
				"(Art. 9 Abs. 2 lit. a und h DSGVO). Bitte schreiben Sie keine Notfälle: im Notfall rufen Sie 112 an.",
			Consent:     "Ich habe den Hinweis gelesen und willige ein, dass meine Angaben zu diesem Zweck gespeichert werden.",
			PrivacyLink: "Datenschutzerklärung der Praxis",
		},
		"en": {
			Notice: "This chat is the online reception of " + practice + ". What you write here is stored " +
				"encrypted and read only by the practice team to handle your request (Art. 9(2)(a) and (h) GDPR). " +
				"Please do not use it for emergencies: in an emergency call 112.",
			Consent:     "I have read the notice and consent to my details being stored for this purpose.",
			PrivacyLink: "Privacy policy of the practice",
		},
	}
}

// cspWidget: the script is data, executed by the embedding page; the header guards it
// when opened directly.
const cspScript = "default-src 'none'; frame-ancestors 'none'"

func (h *Handler) handleScript(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Content-Security-Policy", cspScript)
	w.Header().Set("Cache-Control", "public, max-age=300")
	// Embedding sites load the script cross-origin; it carries no secrets.
	w.Header().Set("Cross-Origin-Resource-Policy", "cross-origin")
	w.Write(widgetJS)
}

// handleConfig returns the practice's name, texts and colour to an allowed origin.
func (h *Handler) handleConfig(w http.ResponseWriter, r *http.Request) {
	t, set, status, err := h.practice(r, r.URL.Query().Get("practice"))
	// Also a refusal is readable to the embedding page: the widget shows it there, so
	// that whoever put it on a website not allowed learns why it does not work. It tells
	// nothing the script tag did not.
	h.cors(w, r)
	if err != nil {
		http.Error(w, err.Error(), status)
		return
	}
	color := ""
	if colorRE.MatchString(set.Color) {
		color = set.Color
	}
	writeJSON(w, map[string]any{"practice": t.Name, "texts": h.texts(t, set), "color": color})
}

// practice finds the practice a request is for, with its widget settings, and checks that
// its origin may embed the widget; the error is the German message for the browser with
// its HTTP status.
func (h *Handler) practice(r *http.Request, id string) (tenant.Tenant, Settings, int, error) {
	ctx := r.Context()
	var s Settings
	if id == "" {
		return tenant.Tenant{}, s, http.StatusBadRequest, errs.E(errs.Invalid, "Die Praxis ist nicht angegeben (data-practice).")
	}
	t, err := h.db.FindTenantByID(ctx, id)
	if err != nil || t.Kind != tenant.Practice {
		if err != nil && !errs.Is(err, errs.NotFound) && !errs.Is(err, errs.Invalid) {
			h.log.Error("widget: practice", "err", err)
			return t, s, http.StatusInternalServerError, errs.E(errs.Internal, msgInternal)
		}
		return t, s, http.StatusNotFound, errs.E(errs.NotFound, "Diese Praxis bietet keine Online-Rezeption an.")
	}
	if err := h.db.Setting(ctx, t.ID, store.SettingWidget, &s); err != nil && !errs.Is(err, errs.NotFound) {
		h.log.Error("widget: settings", "err", err)
		return t, s, http.StatusInternalServerError, errs.E(errs.Internal, msgInternal)
	}
	origin := r.Header.Get("Origin")
	if origin == "" && r.Header.Get("Sec-Fetch-Site") == "same-origin" {
		// Browsers send no Origin with same-origin GETs (the script's config).
		origin = "http://" + r.Host
	}
	if !allowed(r, s, origin) {
		return t, s, http.StatusForbidden, errs.E(errs.Forbidden, "Diese Website darf die Online-Rezeption der Praxis nicht einbinden.")
	}
	return t, s, 0, nil
}

// allowed reports whether origin may embed a practice's widget: one of the origins of its
// settings, or the server's own origin, where the practice team previews its widget on
// Tresen's pages. A request without Origin (no browser) is refused.
//
// The own origin is taken from the Host header with either scheme, rather than from
// r.TLS or X-Forwarded-Proto: behind a TLS-terminating proxy the request arrives over
// http, and a forwarded header would have to be trusted. Browsers do not let a page of
// another site send this server's host as its Origin, and clients that are not browsers
// can send any Origin anyway; the check keeps foreign websites' browsers out.
func allowed(r *http.Request, s Settings, origin string) bool {
	if origin == "" || origin == "null" {
		return false
	}
	if strings.EqualFold(origin, "http://"+r.Host) || strings.EqualFold(origin, "https://"+r.Host) {
		return true
	}
	for _, o := range s.AllowedOrigins {
		if strings.EqualFold(strings.TrimSuffix(o, "/"), origin) {
			return true
		}
	}
	return false
}

// cors lets the (already checked) origin read the response. Same-origin requests
// without an Origin header need no CORS header.
func (h *Handler) cors(w http.ResponseWriter, r *http.Request) {
	w.Header().Add("Vary", "Origin")
	if o := r.Header.Get("Origin"); o != "" {
		w.Header().Set("Access-Control-Allow-Origin", o)
	}
}

// handlePreflight answers CORS preflights of the long-poll fallback for allowed origins.
func (h *Handler) handlePreflight(w http.ResponseWriter, r *http.Request) {
	if _, _, status, err := h.practice(r, r.URL.Query().Get("practice")); err != nil {
		http.Error(w, err.Error(), status)
		return
	}
	h.cors(w, r)
	w.Header().Set("Access-Control-Allow-Methods", "POST")
	w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
	w.Header().Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}

// actor is who the store records for the widget's writes: the patient's address.
func actor(ctx context.Context, r *http.Request) context.Context {
	return audit.WithActor(ctx, audit.Actor{UserID: "widget", Source: clientIP(r)})
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(v)
}

// chanMutex is a mutex that a waiting turn can give up on when its client goes.
type chanMutex chan struct{}

func (m chanMutex) lock(ctx context.Context) error {
	select {
	case m <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (m chanMutex) unlock() { <-m }
