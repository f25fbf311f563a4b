package notify_test

import (
	"errors"
	"testing"

	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/notify"
)

// TestSettingsSMSGateway: the SMS gateway is reached over https, or over plain http only
// on this host; a refused address is a field error on sms.url.
func TestSettingsSMSGateway(t *testing.T) {
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"https://sms.example.de/send", true},
		{"http://127.0.0.1:8025/send", true},
		{"http://localhost/send", true},
		{"http://sms.example.de/send", false},
		{"https://user:secret@sms.example.de/send", false},
		{"https://sms.example.de/send?token=abc", false},
		{"sms.example.de", false},
	} {
		set := notify.Settings{Practice: notify.Practice{Name: "Hausarztpraxis Dr. Erika Schneider"}, SMS: notify.SMSSettings{URL: tc.url, Token: "t"}}
		err := set.Validate()
		if tc.ok != (err == nil) {
			t.Errorf("%s: %v, want ok %t", tc.url, err, tc.ok)
		}
		if e, isField := errors.AsType[*errs.Error](err); err != nil && (!isField || e.Field != "sms.url" || e.Kind != errs.Invalid) {
			t.Errorf("%s: %v is not an error of the field sms.url", tc.url, err)
		}
	}
}
