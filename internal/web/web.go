// Package web is Tresen's HTTP adapter: the staff pages (server-rendered HTML with htmx),
// health and metrics endpoints. Browser routes get sessions, CSRF protection and strict
// security headers; handlers return errors that one place renders.
package web

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"github.com/tresen/tresen/internal/berlin"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tresen/tresen/internal/events"
	"github.com/tresen/tresen/internal/inbox"
	"github.com/tresen/tresen/internal/intake"
	"github.com/tresen/tresen/internal/reception"
	"github.com/tresen/tresen/internal/retax"
	"github.com/tresen/tresen/internal/rxcheck"
	"github.com/tresen/tresen/internal/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Server serves the staff UI. Create it with New.
type Server struct {
	db      *store.DB
	log     *slog.Logger
	secure  bool // served over TLS: cookies get Secure and the __Host- prefix, HSTS is sent
	pages   map[string]*template.Template
	assets  map[string]string // file name → URL with content hash
	metrics *metrics
	handler http.Handler
	logins  *limiter // password and code attempts per client address
	rx      *rxcheck.Service
	intake  *intake.Service // nil: scanned prescriptions are not taken
	scan    Scan            // nil: no scanner
	scans   scanRuns
	events  events.Bus
	inbox   *inbox.Service
	// conversations reads the assistant's conversations for the inbox's transcripts.
	conversations *reception.Service
	// ownerTests bounds what each practice's owner sets off from the settings pages
	// towards outside servers: test messages (each may cost an SMS) and PVS connection
	// tests. Keyed by what is tested and the tenant.
	ownerTests *limiter
}

// Options configure a Server.
type Options struct {
	Logger   *slog.Logger
	TLS      bool
	Registry *prometheus.Registry // metrics go here; nil for a private one
	// Articles is the pharmacies' Artikelstamm for Pharma-Control; nil: not checked.
	Articles retax.Articles
	// FHIR serves the practice calendar's FHIR API under /fhir/; nil: none.
	FHIR http.Handler
	// Widget serves the online reception widget (/widget.js, /widget/…) and the demo
	// practice website (/demo/…); nil: none.
	Widget http.Handler
	// Twilio serves the phone carrier's webhook and media streams (/twilio/…); nil: none.
	Twilio http.Handler
	// Intake takes scanned paper prescriptions (upload, and the scanner when Scan is
	// set); nil: only E-Rezept files are checked. Its Checks must be the pharmacy checks
	// of this server's store.
	Intake *intake.Service
	Scan   Scan
	// Events carries new and changed requests to the practice team's open inbox; nil: the
	// inbox shows what is there when it is loaded.
	Events events.Bus
}

// New parses the templates (failing fast) and builds the routes.
func New(db *store.DB, o Options) (*Server, error) {
	s := &Server{db: db, log: o.Logger, secure: o.TLS, logins: newLimiter(loginBurst, loginEvery),
		rx: &rxcheck.Service{Store: db, Articles: o.Articles, Now: db.Now}, events: o.Events, intake: o.Intake, scan: o.Scan,
		inbox: &inbox.Service{Store: db, Now: db.Now, Events: o.Events}, conversations: &reception.Service{Store: db},
		ownerTests: newLimiter(ownerTestBurst, ownerTestEvery)}
	if s.log == nil {
		s.log = slog.Default()
	}
	if err := s.loadAssets(); err != nil {
		return nil, err
	}
	if err := s.loadTemplates(); err != nil {
		return nil, err
	}
	reg := o.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	s.metrics = newMetrics(reg)
	s.handler = s.routes(reg, o.FHIR, o.Widget, o.Twilio)
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// HTTPServer returns an http.Server for the handler with limits that cut off slow clients
// and oversized headers.
func (s *Server) HTTPServer(addr string) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.Background() },
	}
}

func (s *Server) loadAssets() error {
	s.assets = map[string]string{}
	return fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		s.assets[path.Base(p)] = "/static/" + hex.EncodeToString(sum[:6]) + "/" + path.Base(p)
		return nil
	})
}

// handleStatic serves embedded assets under their content-hashed URL, cached for a year.
func (s *Server) handleStatic(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if s.assets[name] != r.URL.Path {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	http.ServeFileFS(w, r, staticFS, "static/"+name)
}

func (s *Server) loadTemplates() error {
	funcs := template.FuncMap{
		"asset": func(name string) (string, error) {
			u, ok := s.assets[name]
			if !ok {
				return "", fmt.Errorf("no asset %q", name)
			}
			return u, nil
		},
		"datetime": func(t time.Time) string {
			if t.IsZero() {
				return "–"
			}
			return t.In(berlin.Location).Format("02.01.2006 15:04")
		},
		"join":  strings.Join,
		"euro":  retax.Euro,
		"light": rxcheck.LightLabel,
		"day": func(iso string) string {
			if t, err := time.Parse(time.DateOnly, iso); err == nil {
				return t.Format("02.01.2006")
			}
			return "–"
		},
		"add":     func(a, b int) int { return a + b },
		"percent": func(f float64) string { return fmt.Sprintf("%.0f %%", f*100) },
		"sub":     func(a, b int) int { return a - b },
	}
	s.pages = map[string]*template.Template{}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return err
	}
	for _, n := range names {
		base := path.Base(n)
		if base == "layout.html" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", n)
		if err != nil {
			return fmt.Errorf("web: template %s: %w", base, err)
		}
		s.pages[strings.TrimSuffix(base, ".html")] = t
	}
	return nil
}
