package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tresen/tresen/internal/alert"
	"github.com/tresen/tresen/internal/articles"
	"github.com/tresen/tresen/internal/assistant"
	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/callflow"
	"github.com/tresen/tresen/internal/demo"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/events"
	"github.com/tresen/tresen/internal/fhirapi"
	"github.com/tresen/tresen/internal/intake"
	"github.com/tresen/tresen/internal/reminder"
	"github.com/tresen/tresen/internal/retax"
	"github.com/tresen/tresen/internal/sip"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/twilio"
	"github.com/tresen/tresen/internal/web"
	"github.com/tresen/tresen/internal/widget"
)

// Main is the running service: the store, the web server and the purge scheduler. Tests
// start it for real on :0.
type Main struct {
	Config  Config
	Addr    string
	SIPAddr string
	SIP     SIPFlags
	Demo    bool
	// demoScans: with --demo, the demo pharmacy gets synthetic scans to read (set by the
	// command line only, so that tests do not pay for OCR they do not look at).
	demoScans bool
	TLSCert   string
	TLSKey    string
	// Articles is the Artikelstamm file for Pharma-Control; with --demo and none given,
	// the synthetic sample.
	Articles string
	// Intake configures how scanned prescriptions come in.
	Intake IntakeFlags

	Out    io.Writer // where the demo prints its logins
	Logger *slog.Logger

	DB  *store.DB
	Web *web.Server
	// PublicURL is where the team opens Tresen, for the links in alert e-mails; empty:
	// this server's address.
	PublicURL string
	// Events is the event bus: new requests for open inboxes (on every node), the team's
	// replies for open chats, alerts of urgent requests.
	Events events.Bus
	alerts *alert.Bus
	sip    *sip.Server
	twilio *twilio.Handler
	bus    *store.EventBus
	widget *widget.Handler
	intake *intake.Service
	ocr    *lazyOCR
	// background are the hot folders' watchers.
	background sync.WaitGroup
	http       *http.Server
	ln         net.Listener
	stop       context.CancelFunc
	done       chan struct{}
}

// NewMain returns a Main with defaults.
func NewMain() *Main {
	return &Main{Addr: ":8080", Out: os.Stdout, Logger: slog.Default(), Intake: IntakeFlags{Workers: defaultOCRWorkers()}}
}

// ParseFlags reads the serve command line.
func (m *Main) ParseFlags(args []string) error {
	fs := newFlags("serve")
	m.Config.register(fs)
	fs.StringVar(&m.Addr, "addr", m.Addr, "HTTP listen address")
	fs.StringVar(&m.SIPAddr, "sip", "", "take SIP calls on UDP and TCP ADDR")
	m.SIP.register(fs)
	fs.StringVar(&m.PublicURL, "public-url", "", "where the team opens Tresen (https://…), for links in alert e-mails; default: this server's address")
	fs.BoolVar(&m.Demo, "demo", false, "create the demo practice and pharmacy (idempotent), the pharmacy with synthetic scans")
	fs.StringVar(&m.TLSCert, "tls-cert", "", "serve HTTPS with this certificate (PEM)")
	fs.StringVar(&m.TLSKey, "tls-key", "", "private key of --tls-cert (PEM)")
	fs.StringVar(&m.Articles, "articles", "", "Artikelstamm (CSV or JSON, docs/artikelstamm.md) for Pharma-Control and prices")
	m.Intake.register(fs)
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("serve: unerwartetes Argument %q", rest[0])
	}
	if (m.TLSCert == "") != (m.TLSKey == "") {
		return usagef("serve: --tls-cert und --tls-key nur zusammen")
	}
	if err := m.Intake.check(); err != nil {
		return err
	}
	m.demoScans = m.Demo
	return m.SIP.check(m)
}

// Run opens the store, seeds the demo if asked, and starts serving and the hourly work
// (retention purge, appointment reminders).
// It returns once the server listens; Close stops it.
func (m *Main) Run(ctx context.Context) (err error) {
	if m.DB, err = m.Config.openStore(ctx, true); err != nil {
		return err
	}
	if m.DB.BypassesRLS {
		m.Logger.Warn("the PostgreSQL role bypasses row-level security; connect as a role without SUPERUSER and BYPASSRLS (see README)")
	}
	for _, p := range m.Config.generated {
		m.Logger.Warn("generated a secret next to the data; in production keep master key and pepper elsewhere (see README)", "path", p)
	}
	if m.Demo {
		if err := demo.Seed(audit.WithActor(ctx, audit.Actor{UserID: "system", Source: "demo"}), m.DB, m.Out); err != nil {
			return err
		}
	}
	var cat retax.Articles
	switch {
	case m.Articles != "":
		c, err := articles.LoadFile(m.Articles)
		if err != nil {
			return usagef("serve: --articles %s: %s", m.Articles, errs.Message(err))
		}
		cat = c
	case m.Demo:
		cat = articles.Sample()
	}
	tlsOn := m.TLSCert != ""
	// On PostgreSQL every node's inboxes hear of every node's requests (LISTEN/NOTIFY);
	// urgent ones are also mailed to the team's alert addresses.
	m.bus = m.DB.EventBus(m.Logger)
	m.alerts = assistant.Alerts(m.DB, m.bus, m.Logger)
	m.alerts.BaseURL = strings.TrimSuffix(m.PublicURL, "/")
	bus := m.alerts
	m.Events = bus
	rec := assistant.Reception(m.DB)
	rec.Events = bus
	if m.widget, err = widget.New(m.DB, rec, widget.Options{Logger: m.Logger, Demo: m.Demo, Events: bus}); err != nil {
		return err
	}
	var flow *callflow.Flow
	if m.SIPAddr != "" || os.Getenv("TRESEN_TWILIO_ACCOUNT_SID") != "" {
		if flow, err = m.phoneFlow(ctx, rec); err != nil {
			return err
		}
		if m.twilio, err = m.twilioHandler(flow); err != nil {
			return err
		}
	}
	opts := web.Options{Logger: m.Logger, TLS: tlsOn, Registry: prometheus.NewRegistry(), Articles: cat,
		FHIR: fhirapi.New(m.DB, m.DB.Now), Events: bus, Widget: m.widget}
	if m.twilio != nil {
		opts.Twilio = m.twilio
	}
	if err := m.setUpIntake(cat, &opts); err != nil {
		return err
	}
	if m.Web, err = web.New(m.DB, opts); err != nil {
		return err
	}
	if flow != nil {
		if err := m.startPhone(ctx, flow); err != nil {
			return err
		}
	}
	m.http = m.Web.HTTPServer(m.Addr)
	if tlsOn {
		cert, err := tls.LoadX509KeyPair(m.TLSCert, m.TLSKey)
		if err != nil {
			return usagef("serve: Zertifikat nicht lesbar: %v", err)
		}
		// TLS 1.2 at least; Go prefers 1.3 and offers only AEAD suites for 1.2 by default.
		m.http.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	}
	if m.ln, err = net.Listen("tcp", m.Addr); err != nil {
		return err
	}
	if m.alerts.BaseURL == "" {
		m.alerts.BaseURL = m.URL()
	}
	go func() {
		var err error
		if tlsOn {
			err = m.http.ServeTLS(m.ln, "", "")
		} else {
			err = m.http.Serve(m.ln)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Logger.Error("http server", "err", err)
		}
	}()
	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	m.stop, m.done = stop, make(chan struct{})
	go m.hourly(bg)
	if err := m.startIntake(bg); err != nil {
		return err
	}
	if m.demoScans {
		if err := m.seedDemoScans(ctx); err != nil {
			m.Logger.Warn("demo scans not created (fonts-liberation installed?)", "kind", errs.KindOf(err).String())
		}
	}
	m.Logger.Info("serving", "url", m.URL(), "engine", string(m.DB.Engine))
	return nil
}

// URL is where the server can be reached.
func (m *Main) URL() string {
	scheme := "http"
	if m.TLSCert != "" {
		scheme = "https"
	}
	port := m.ln.Addr().(*net.TCPAddr).Port
	return fmt.Sprintf("%s://localhost:%d", scheme, port)
}

// hourly runs the retention purge and sends the appointment reminders of the hour a day
// ahead, at start and every hour.
func (m *Main) hourly(ctx context.Context) {
	defer close(m.done)
	ctx = audit.WithActor(ctx, audit.Actor{UserID: "system", Source: "scheduler"})
	t := time.NewTicker(reminder.Every)
	defer t.Stop()
	for {
		res, err := m.DB.Purge(ctx)
		if err != nil && ctx.Err() == nil {
			m.Logger.Error("purge", "err", err)
		} else if err == nil {
			m.Logger.Info("purge", "records", res.Total(), "files", res.Files)
		}
		if n, err := reminder.Run(ctx, m.DB, m.Logger, m.DB.Now(), reminder.Every); err != nil && ctx.Err() == nil {
			m.Logger.Error("reminders", "err", err)
		} else if err == nil && n > 0 {
			m.Logger.Info("reminders", "sent", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Close stops serving, waits for requests in flight and closes the store.
func (m *Main) Close() error {
	var errList []error
	if m.widget != nil {
		// Open chats are hijacked connections that Shutdown does not wait for: end them
		// and let their turns be stored while the store is open.
		errList = append(errList, m.widget.Close())
	}
	if m.sip != nil {
		// Calls in progress end; their conversations are closed while the store is open.
		errList = append(errList, m.sip.Close())
	}
	if m.twilio != nil {
		errList = append(errList, m.twilio.Close())
	}
	if m.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		errList = append(errList, m.http.Shutdown(ctx))
		cancel()
	}
	if m.Web != nil {
		m.Web.Close() // scans running beside their requests
	}
	if m.stop != nil {
		m.stop()
		<-m.done
		m.background.Wait()
		m.intake.Wait()
	}
	if m.ocr != nil {
		m.ocr.Close()
	}
	if m.alerts != nil {
		m.alerts.Wait()
	}
	if m.bus != nil {
		m.bus.Close()
	}
	if m.DB != nil {
		errList = append(errList, m.DB.Close())
	}
	return errors.Join(errList...)
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	m := NewMain()
	m.Out = stdout
	m.Logger = slog.New(slog.NewJSONHandler(stderr, nil))
	slog.SetDefault(m.Logger)
	if err := m.ParseFlags(args); err != nil {
		return err
	}
	if err := m.Run(ctx); err != nil {
		m.Close()
		return err
	}
	fmt.Fprintf(stdout, "Tresen läuft auf %s\n", m.URL())
	<-ctx.Done()
	return m.Close()
}
