package widget_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/widget"
)

func TestSettingsValidate(t *testing.T) {
	long := make([]rune, widget.MaxNotice+1)
	for i := range long {
		long[i] = 'a'
	}
	for _, tc := range []struct {
		name  string
		in    widget.Settings
		want  widget.Settings // after normalising, when valid
		field string          // the field at fault; empty: valid
	}{
		{name: "empty", in: widget.Settings{}, want: widget.Settings{}},
		{
			name: "normalised",
			in: widget.Settings{
				AllowedOrigins: []string{" HTTPS://WWW.Praxis-Mustermann.example/ ", "", "https://www.praxis-mustermann.example",
					"https://praxis.example:443", "https://praxis.example:8443", "http://localhost:8080", "http://127.0.0.1", "http://[::1]:3000"},
				PrivacyURL: " https://www.praxis-mustermann.example/datenschutz?x=1 ",
				Notice:     " Unser Hinweis: Wir speichern Ihre Angaben. ",
				Color:      "#0B5563",
			},
			want: widget.Settings{
				AllowedOrigins: []string{"https://www.praxis-mustermann.example", "https://praxis.example", "https://praxis.example:8443",
					"http://localhost:8080", "http://127.0.0.1", "http://[::1]:3000"},
				PrivacyURL: "https://www.praxis-mustermann.example/datenschutz?x=1",
				Notice:     "Unser Hinweis: Wir speichern Ihre Angaben.",
				Color:      "#0b5563",
			},
		},
		{name: "http origin", in: widget.Settings{AllowedOrigins: []string{"http://www.praxis.example"}}, field: "allowed_origins"},
		{name: "path", in: widget.Settings{AllowedOrigins: []string{"https://www.praxis.example/kontakt"}}, field: "allowed_origins"},
		{name: "query", in: widget.Settings{AllowedOrigins: []string{"https://www.praxis.example?a=b"}}, field: "allowed_origins"},
		{name: "fragment", in: widget.Settings{AllowedOrigins: []string{"https://www.praxis.example#x"}}, field: "allowed_origins"},
		{name: "no scheme", in: widget.Settings{AllowedOrigins: []string{"www.praxis.example"}}, field: "allowed_origins"},
		{name: "other scheme", in: widget.Settings{AllowedOrigins: []string{"ftp://www.praxis.example"}}, field: "allowed_origins"},
		{name: "user", in: widget.Settings{AllowedOrigins: []string{"https://a@www.praxis.example"}}, field: "allowed_origins"},
		{name: "port", in: widget.Settings{AllowedOrigins: []string{"https://www.praxis.example:99999"}}, field: "allowed_origins"},
		{name: "javascript", in: widget.Settings{AllowedOrigins: []string{"javascript:alert(1)"}}, field: "allowed_origins"},
		{name: "privacy http", in: widget.Settings{PrivacyURL: "http://www.praxis.example/datenschutz"}, field: "privacy_url"},
		{name: "privacy relative", in: widget.Settings{PrivacyURL: "/datenschutz"}, field: "privacy_url"},
		{name: "privacy javascript", in: widget.Settings{PrivacyURL: "javascript:alert(1)"}, field: "privacy_url"},
		{name: "notice long", in: widget.Settings{Notice: string(long)}, field: "notice"},
		{name: "notice html", in: widget.Settings{Notice: "Hallo <b>Welt</b>"}, field: "notice"},
		{name: "color name", in: widget.Settings{Color: "red"}, field: "color"},
		{name: "color short", in: widget.Settings{Color: "#abc"}, field: "color"},
		{name: "color css", in: widget.Settings{Color: "#000000; background: url(x)"}, field: "color"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.in
			err := s.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				if diff := cmp.Diff(tc.want, s); diff != "" {
					t.Errorf("normalised (-want +got):\n%s", diff)
				}
				return
			}
			var e *errs.Error
			if !errs.Is(err, errs.Invalid) || !errors.As(err, &e) || e.Field != tc.field || e.Message == "" {
				t.Errorf("Validate: %v, want an error on %s", err, tc.field)
			}
		})
	}
}
