package web

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// route is one browser route: its pattern, who may use it, and its handler.
type route struct {
	pattern string
	access  access // public routes need no session
	handler handlerFunc
}

// public marks routes that need no session.
const public access = -1

// browserRoutes lists every page and form of the staff UI.
func (s *Server) browserRoutes() []route {
	return []route{
		{"GET /{$}", public, s.handleRoot},
		{"GET /login", public, s.handleLoginForm},
		{"POST /login", public, s.limited(s.handleLogin)},
		{"GET /login/totp", public, s.handleTOTPLoginForm},
		{"POST /login/totp", public, s.limited(s.handleTOTPLogin)},
		{"GET /reset", public, s.handleResetForm},
		{"POST /reset", public, s.limited(s.handleReset)},
		{"POST /logout", ownAccount, s.handleLogout},

		{"GET /start", anyUser, s.handleStart},
		{"GET /account", ownAccount, s.handleAccount},
		{"POST /account/password", ownAccount, s.handlePasswordChange},
		{"POST /account/totp", ownAccount, s.handleTOTPBegin},
		{"POST /account/totp/enable", ownAccount, s.handleTOTPEnable},

		{"GET /admin/users", owner, s.handleUserList},
		{"POST /admin/users", owner, s.handleUserCreate},
		{"POST /admin/users/{id}/role", owner, s.handleUserRole},
		{"POST /admin/users/{id}/reset", owner, s.handleUserReset},
		{"POST /admin/users/{id}/delete", owner, s.handleUserDelete},
		{"GET /admin/audit", owner, s.handleAuditList},
		{"GET /admin/retention", owner, s.handleRetention},
		{"POST /admin/retention", owner, s.handleRetentionUpdate},
		{"GET /admin/persons", owner, s.handlePersonSearch},
		{"GET /admin/persons/{id}/export", owner, s.handlePersonExport},
		{"POST /admin/persons/{id}/erase", owner, s.handlePersonErase},
		{"GET /admin/assistant", owner, s.handleAssistant},
		{"POST /admin/assistant", owner, s.handleAssistantSave},
		{"POST /admin/assistant/llm", owner, s.handleAssistantLLM},
		{"POST /admin/assistant/widget", owner, s.handleWidgetSettings},
		{"POST /admin/assistant/voice", owner, s.handleVoiceSettings},
		{"GET /admin/assistant/preview", owner, s.handleWidgetPreview},
		{"GET /admin/notify", owner, s.handleNotifySettings},
		{"POST /admin/notify", owner, s.handleNotifySettingsSave},
		{"POST /admin/notify/test", owner, s.handleNotifyTest},
		{"GET /admin/fhir", owner, s.handleFHIRSettings},
		{"POST /admin/fhir/tokens", owner, s.handleAPITokenCreate},
		{"POST /admin/fhir/tokens/{id}/revoke", owner, s.handleAPITokenRevoke},
		{"POST /admin/fhir/pvs", owner, s.handlePVSSave},
		{"POST /admin/fhir/pvs/off", owner, s.handlePVSOff},
		{"POST /admin/fhir/check", owner, s.handlePVSCheck},
		{"GET /admin/support", owner, s.handleGrantList},
		{"POST /admin/support", owner, s.handleGrantCreate},
		{"POST /admin/support/{id}/revoke", owner, s.handleGrantRevoke},

		{"GET /rx", anyUser, s.handleRxList},
		{"POST /rx/upload", writer, s.handleRxUpload},
		{"GET /rx/{id}", anyUser, s.handleRxDetail},
		{"GET /scans/forms/{id}", anyUser, s.handleRxFormImage},
		{"POST /rx/{id}/fields/{key}", writer, s.handleRxCorrect},
		{"POST /rx/{id}/confirm", writer, s.handleRxConfirm},
		{"GET /rx/next", anyUser, s.handleRxNext},
		{"POST /scans", writer, s.handleRxScan},
		{"GET /scans/{id}", anyUser, s.handleRxBatch},
		{"GET /scans/pages/{id}", anyUser, s.handleRxPageImage},
		{"GET /rx/{id}/files/{name}", anyUser, s.handleRxFile},
		{"POST /rx/{id}/decide", writer, s.handleRxDecide},
		{"POST /rx/{id}/recheck", writer, s.handleRxRecheck},
		{"GET /rx/export/{format}", anyUser, s.handleRxExport},
		{"GET /rx/settings", owner, s.handleRxSettings},
		{"POST /rx/settings", owner, s.handleRxSettingsSave},

		{"GET /calendar", anyUser, s.handleCalendar},
		{"POST /calendar/appointments", writer, s.handleAppointmentCreate},
		{"POST /calendar/appointments/{id}/move", writer, s.handleAppointmentMove},
		{"POST /calendar/appointments/{id}/cancel", writer, s.handleAppointmentCancel},
		{"GET /calendar/setup", owner, s.handleCalendarSetup},
		{"POST /calendar/feeds", owner, s.handleCalendarFeeds},
		{"GET /calendar/feed/{tenant}/{doctor}/{token}", public, s.handleCalendarFeed},
		{"POST /calendar/setup", owner, s.handleCalendarSetupSave},

		{"GET /inbox", anyUser, s.handleInbox},
		{"GET /inbox/events", anyUser, s.handleInboxEvents},
		{"GET /inbox/{id}", anyUser, s.handleInboxDetail},
		{"GET /inbox/{id}/audio", anyUser, s.handleInboxAudio},
		{"POST /inbox/{id}/{action}", writer, s.handleInboxAction},
		{"GET /inbox/{id}/report", writer, s.handleReportForm},
		{"POST /inbox/{id}/report", writer, s.handleReportCreate},
		{"POST /inbox/{id}/report/{report}/close", writer, s.handleReportClose},

		{"GET /stats", anyUser, s.handleStats},
		{"GET /stats/export.csv", anyUser, s.handleStatsExport},

		{"GET /support", supportOnly, s.handleSupportHome},
		{"POST /support/enter", supportOnly, s.handleSupportEnter},
		{"GET /support/reports/{id}", supportOnly, s.handleSupportReport},
		{"GET /support/review", supportOnly, s.handleReviewHome},
		{"GET /support/review/{tenant}", supportOnly, s.handleReview},
		{"GET /support/review/{tenant}/export.jsonl", supportOnly, s.handleReviewExport},
	}
}

// routes builds the handler. Browser routes sit behind cross-origin protection
// (Sec-Fetch-Site/Origin), security headers and, where a session is needed, the auth
// wrapper with its CSRF token check; operations endpoints, the FHIR API, the widget and
// the phone carrier bring their own protection.
func (s *Server) routes(reg *prometheus.Registry, fhir, widget, twilio http.Handler) http.Handler {
	b := http.NewServeMux()
	b.HandleFunc("GET /static/{hash}/{name}", s.handleStatic)
	for _, rt := range s.browserRoutes() {
		if rt.access == public {
			b.Handle(rt.pattern, s.h(rt.handler))
		} else {
			b.Handle(rt.pattern, s.auth(rt.access, rt.handler))
		}
	}
	browser := s.secureHeaders(http.NewCrossOriginProtection().Handler(b))

	root := http.NewServeMux()
	root.HandleFunc("GET /healthz", s.handleHealthz)
	root.HandleFunc("GET /readyz", s.handleReadyz)
	root.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	if fhir != nil {
		// The FHIR API is for systems, not browsers: bearer tokens, no cookies or CSRF.
		root.Handle("/fhir/", fhir)
	}
	if widget != nil {
		// The widget is embedded in practice websites: its own origin checks, CSP and limits.
		root.Handle("/widget.js", widget)
		root.Handle("/widget/", widget)
		root.Handle("/demo/", widget)
	}
	if twilio != nil {
		// Twilio's webhook is signed with the account's token, its streams carry a token
		// bound to the call.
		root.Handle("/twilio/", twilio)
	}
	root.Handle("/", browser)
	return s.observe(root)
}

// Routes returns the patterns of all browser routes, for tests that must cover each.
func (s *Server) Routes() []string {
	var out []string
	for _, rt := range s.browserRoutes() {
		out = append(out, rt.pattern)
	}
	return out
}
