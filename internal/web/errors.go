package web

import (
	"crypto/subtle"
	"log/slog"
	"net/http"

	"github.com/tresen/tresen/internal/errs"
)

// handlerFunc is a handler that returns its error for h to render.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// statusOf maps error kinds to HTTP status codes, in this one place.
func statusOf(err error) int {
	switch errs.KindOf(err) {
	case errs.Invalid:
		return http.StatusUnprocessableEntity
	case errs.NotFound:
		return http.StatusNotFound
	case errs.Conflict:
		return http.StatusConflict
	case errs.Unauthorized:
		return http.StatusUnauthorized
	case errs.Forbidden:
		return http.StatusForbidden
	case errs.TooMany:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

// h adapts a handlerFunc: an error becomes an error page with the user-facing message;
// only internal errors are logged, without personal data (messages never carry any).
func (s *Server) h(fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := fn(w, r)
		if err == nil {
			return
		}
		status := statusOf(err)
		if status == http.StatusInternalServerError {
			s.log.Error("request failed", slog.String("route", r.Pattern), slog.Any("err", err))
		}
		s.render(w, r, status, "error", page{Title: "Fehler", Error: errs.Message(err)})
	})
}

func validCSRF(want, got string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}
