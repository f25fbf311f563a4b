package web

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// routes lists every route of the service. Browser routes sit behind cross-origin
// protection (Sec-Fetch-Site/Origin), security headers and, where a session is needed, the
// auth wrapper with its CSRF token check; operations endpoints are plain.
func (s *Server) routes(reg *prometheus.Registry) http.Handler {
	b := http.NewServeMux()
	b.HandleFunc("GET /static/{hash}/{name}", s.handleStatic)
	b.Handle("GET /{$}", s.h(s.handleRoot))

	b.Handle("GET /login", s.h(s.handleLoginForm))
	b.Handle("POST /login", s.h(s.handleLogin))
	b.Handle("GET /login/totp", s.h(s.handleTOTPLoginForm))
	b.Handle("POST /login/totp", s.h(s.handleTOTPLogin))
	b.Handle("GET /reset", s.h(s.handleResetForm))
	b.Handle("POST /reset", s.h(s.handleReset))
	b.Handle("POST /logout", s.auth(anyUser, s.handleLogout))

	b.Handle("GET /start", s.auth(anyUser, s.handleStart))
	b.Handle("GET /account", s.auth(anyUser, s.handleAccount))
	b.Handle("POST /account/password", s.auth(anyUser, s.handlePasswordChange))
	b.Handle("POST /account/totp", s.auth(anyUser, s.handleTOTPBegin))
	b.Handle("POST /account/totp/enable", s.auth(anyUser, s.handleTOTPEnable))

	b.Handle("GET /admin/users", s.auth(owner, s.handleUserList))
	b.Handle("POST /admin/users", s.auth(owner, s.handleUserCreate))
	b.Handle("POST /admin/users/{id}/role", s.auth(owner, s.handleUserRole))
	b.Handle("POST /admin/users/{id}/reset", s.auth(owner, s.handleUserReset))
	b.Handle("POST /admin/users/{id}/delete", s.auth(owner, s.handleUserDelete))
	b.Handle("GET /admin/audit", s.auth(owner, s.handleAuditList))
	b.Handle("GET /admin/retention", s.auth(owner, s.handleRetention))
	b.Handle("POST /admin/retention", s.auth(owner, s.handleRetentionUpdate))
	b.Handle("GET /admin/support", s.auth(owner, s.handleGrantList))
	b.Handle("POST /admin/support", s.auth(owner, s.handleGrantCreate))
	b.Handle("POST /admin/support/{id}/revoke", s.auth(owner, s.handleGrantRevoke))

	b.Handle("GET /support", s.auth(supportOnly, s.handleSupportHome))
	b.Handle("POST /support/enter", s.auth(supportOnly, s.handleSupportEnter))

	browser := s.secureHeaders(http.NewCrossOriginProtection().Handler(b))

	root := http.NewServeMux()
	root.HandleFunc("GET /healthz", s.handleHealthz)
	root.HandleFunc("GET /readyz", s.handleReadyz)
	root.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	root.Handle("/", browser)
	return s.observe(root)
}
