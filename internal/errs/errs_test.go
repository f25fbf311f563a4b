package errs

import (
	"errors"
	"fmt"
	"testing"
)

func TestKindAndMessage(t *testing.T) {
	inner := Field("bsnr", "die BSNR fehlt")
	var err error = inner
	Wrap(&err, "CreateTenant")
	wrapped := fmt.Errorf("serve: %w", err)
	tests := []struct {
		err     error
		kind    Kind
		message string
	}{
		{inner, Invalid, "bsnr: die BSNR fehlt"},
		{wrapped, Invalid, "bsnr: die BSNR fehlt"},
		{E(NotFound, "Person nicht gefunden"), NotFound, "Person nicht gefunden"},
		{errors.New("connection refused: 10.0.0.1"), Internal, "Interner Fehler. Bitte später erneut versuchen."},
		{&Error{Kind: Internal, Message: "detail", Err: errors.New("x")}, Internal, "Interner Fehler. Bitte später erneut versuchen."},
	}
	for _, tc := range tests {
		if got := KindOf(tc.err); got != tc.kind {
			t.Errorf("KindOf(%v) = %v, want %v", tc.err, got, tc.kind)
		}
		if got := Message(tc.err); got != tc.message {
			t.Errorf("Message(%v) = %q, want %q", tc.err, got, tc.message)
		}
	}
	if got := wrapped.Error(); got != "serve: CreateTenant: bsnr: die BSNR fehlt" {
		t.Errorf("wrapped error text = %q", got)
	}
	if Is(nil, Internal) {
		t.Error("nil is of no kind")
	}
}
