package web

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/user"
)

// maxFormBody bounds request bodies of the staff pages.
const maxFormBody = 1 << 20

// contentSecurityPolicy allows only the service's own scripts, styles, images (plus data:
// images for the TOTP QR code) and call recordings, no framing and no form posts
// elsewhere.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"media-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// secureHeaders sets the security headers of every browser response and limits the body.
func (s *Server) secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
		h.Set("Cache-Control", "no-store")
		if s.secure {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		limit := int64(maxFormBody)
		if r.URL.Path == "/rx/upload" {
			limit = maxUploadBody
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		next.ServeHTTP(w, r)
	})
}

// statusWriter records the status code for logs and metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe logs and counts each request by its route pattern, never by its URL: paths and
// queries may carry tokens.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		d := time.Since(start)
		s.metrics.requests.WithLabelValues(route, strconv.Itoa(sw.status)).Inc()
		s.metrics.duration.WithLabelValues(route).Observe(d.Seconds())
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "http", slog.String("route", route),
			slog.Int("status", sw.status), slog.Duration("took", d))
	})
}

// clientIP is the address the request came from, for the audit log.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// sessionCookie is the cookie name; over TLS the __Host- prefix pins it to this host and
// path and requires Secure.
func (s *Server) sessionCookie() string {
	if s.secure {
		return "__Host-tresen_session"
	}
	return "tresen_session"
}

func (s *Server) setSessionCookie(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{Name: s.sessionCookie(), Value: token, Path: "/", HttpOnly: true,
		Secure: s.secure, SameSite: http.SameSiteStrictMode, MaxAge: int(user.AbsoluteTimeout.Seconds())})
}

func (s *Server) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: s.sessionCookie(), Value: "", Path: "/", HttpOnly: true,
		Secure: s.secure, SameSite: http.SameSiteStrictMode, MaxAge: -1})
}

type ctxKey int

const (
	sessionKey ctxKey = iota
	tokenKey
)

// sessionFrom returns the request's session; only handlers behind s.auth have one.
func sessionFrom(ctx context.Context) *store.Session {
	sess, _ := ctx.Value(sessionKey).(*store.Session)
	return sess
}

func tokenFrom(ctx context.Context) string {
	t, _ := ctx.Value(tokenKey).(string)
	return t
}

// withActor puts the audit actor of the request into its context.
func withActor(r *http.Request, userID string) *http.Request {
	return r.WithContext(audit.WithActor(r.Context(), audit.Actor{UserID: userID, Source: clientIP(r)}))
}

// access is what a route requires of the session's user.
type access int

const (
	anyUser     access = iota // every user of a tenant; support only inside a grant
	ownAccount                // the user's own account: everyone, support outside a grant too
	writer                    // owner or staff
	owner                     // owner only
	supportOnly               // the operator's support, before or inside a grant
)

// auth makes a handler require a session (and a role), checks the CSRF token of every
// state-changing request, and audits each request a support user makes inside a grant.
func (s *Server) auth(need access, h handlerFunc) http.Handler {
	return s.h(func(w http.ResponseWriter, r *http.Request) error {
		c, err := r.Cookie(s.sessionCookie())
		if err != nil {
			return s.toLogin(w, r)
		}
		sess, err := s.db.LookupSession(withActor(r, "anonymous").Context(), c.Value)
		if errs.Is(err, errs.Unauthorized) || errs.Is(err, errs.NotFound) {
			s.clearSessionCookie(w)
			return s.toLogin(w, r)
		}
		if err != nil {
			return err
		}
		if sess.MFAPending {
			http.Redirect(w, r, "/login/totp", http.StatusSeeOther)
			return nil
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if err := parseForm(r); err != nil {
				return err
			}
			if !validCSRF(sess.CSRFToken, r.PostFormValue("csrf")) {
				return errs.E(errs.Forbidden, "Sicherheitsprüfung fehlgeschlagen (CSRF): bitte die Seite neu laden und erneut senden")
			}
		}
		role := sess.User.Role
		switch {
		case need == supportOnly && role != user.Support,
			need == owner && !role.CanAdminister(),
			need == writer && !role.CanWrite(),
			need == anyUser && role == user.Support && sess.GrantID == "":
			return errs.E(errs.Forbidden, "dafür fehlt die Berechtigung")
		}
		// A grant opens a tenant for reading only: inside one, support may change nothing,
		// its own account neither (that is done outside grants), only leave or switch.
		if role == user.Support && sess.GrantID != "" && r.Method != http.MethodGet && r.Method != http.MethodHead &&
			need != supportOnly && r.Pattern != "POST /logout" {
			// The attempt is part of the use of the grant: the tenant sees it in its log.
			if err := s.db.Audit(withActor(r, sess.User.ID).Context(), sess.TenantID, audit.SupportAccess, "route", r.Pattern, "refused: read-only"); err != nil {
				return err
			}
			return errs.E(errs.Forbidden, "der Support-Zugriff ist nur lesend")
		}
		if sess.User.MustChangePassword && !passwordChangeRoutes[r.Pattern] {
			http.Redirect(w, r, "/account", http.StatusSeeOther)
			return nil
		}
		r = withActor(r, sess.User.ID)
		if role == user.Support && sess.GrantID != "" {
			if err := s.db.Audit(r.Context(), sess.TenantID, audit.SupportAccess, "route", r.Pattern, sess.GrantID); err != nil {
				return err
			}
		}
		ctx := context.WithValue(context.WithValue(r.Context(), sessionKey, &sess), tokenKey, c.Value)
		return h(w, r.WithContext(ctx))
	})
}

// passwordChangeRoutes are all that an account that must change its password may use.
var passwordChangeRoutes = map[string]bool{"GET /account": true, "POST /account/password": true, "POST /logout": true}

func (s *Server) toLogin(w http.ResponseWriter, r *http.Request) error {
	if r.Header.Get("HX-Request") == "true" {
		w.Header().Set("HX-Redirect", "/login")
		w.WriteHeader(http.StatusUnauthorized)
		return nil
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}
