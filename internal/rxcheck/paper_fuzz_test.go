package rxcheck

import (
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/muster16"
)

// FuzzPaperValue: whatever a person types into a field of the review, the value is either
// refused with an error of that field or taken in the form `tresen rx ocr` reports, which
// the same field takes again unchanged.
func FuzzPaperValue(f *testing.F) {
	for _, s := range []string{"A123456780", "a 123 456 780", "12,34", "1.234,5", "02.11.2026", "2026-11-02", "true", "1000000", "", " ", "01234562", "Ibuprofen 400 mg N1"} {
		f.Add(uint8(0), s)
	}
	f.Fuzz(func(t *testing.T, n uint8, in string) {
		field := muster16.Fields[int(n)%len(muster16.Fields)]
		v, err := paperValue(field, in)
		if err != nil {
			if e, ok := errors.AsType[*errs.Error](err); !ok || e.Kind != errs.Invalid || e.Field != field.Key {
				t.Fatalf("%s: %q refused with %v, not as an error of the field", field.Key, in, err)
			}
			return
		}
		if !utf8.ValidString(v) || utf8.RuneCountInString(v) > maxPaperText {
			t.Fatalf("%s: %q taken as %q", field.Key, in, v)
		}
		again, err := paperValue(field, v)
		if err != nil || again != v {
			t.Fatalf("%s: %q taken as %q, which gives %q, %v", field.Key, in, v, again, err)
		}
	})
}
