// Package errs is Tresen's error vocabulary: a few kinds that every layer uses and that the
// web adapter maps to HTTP status in one place.
package errs

import (
	"errors"
	"fmt"
)

// Kind classifies an error by what the caller can do about it.
type Kind int

const (
	Internal     Kind = iota // a fault of ours; logged, never shown in detail
	Invalid                  // the input is wrong; the message says what and where
	NotFound                 // no such object (in this tenant)
	Conflict                 // the object exists or changed meanwhile
	Unauthorized             // not logged in, or wrong credentials
	Forbidden                // logged in, but not allowed
	TooMany                  // too many attempts; try again later
)

func (k Kind) String() string {
	switch k {
	case Invalid:
		return "invalid"
	case NotFound:
		return "not found"
	case Conflict:
		return "conflict"
	case Unauthorized:
		return "unauthorized"
	case Forbidden:
		return "forbidden"
	case TooMany:
		return "too many"
	default:
		return "internal"
	}
}

// Error is an error with a kind and a message meant for the user (German, no personal data).
// Field names the input field at fault, where there is one.
type Error struct {
	Kind    Kind
	Field   string
	Message string
	Err     error // underlying cause, never shown to users
}

func (e *Error) Error() string {
	s := e.Message
	if e.Field != "" {
		s = e.Field + ": " + s
	}
	if e.Err != nil {
		if s == "" {
			return e.Err.Error()
		}
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// E builds an error of kind k with a user-facing message.
func E(k Kind, format string, args ...any) error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

// Field builds an Invalid error that names the offending input field.
func Field(field, format string, args ...any) error {
	return &Error{Kind: Invalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// KindOf reports the kind of err: the kind of the outermost *Error in its chain, Internal
// when there is none.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// Is reports whether err is of kind k.
func Is(err error, k Kind) bool { return err != nil && KindOf(err) == k }

// Message returns what a user may see of err: the message of its *Error, or a generic text
// for internal errors, whose details stay in the log.
func Message(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Kind != Internal {
		if e.Field != "" {
			return e.Field + ": " + e.Message
		}
		return e.Message
	}
	return "Interner Fehler. Bitte später erneut versuchen."
}

// Wrap annotates *errp with an operation name, keeping its kind. Use as
// defer errs.Wrap(&err, "store.CreateUser").
func Wrap(errp *error, format string, args ...any) {
	if *errp != nil {
		*errp = fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), *errp)
	}
}
