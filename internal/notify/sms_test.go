package notify_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/notify"
)

// gatewayRequest is what the test gateway saw.
type gatewayRequest struct {
	Method, Path, Auth, ContentType string
	Body                            map[string]string
}

func startGateway(t *testing.T, status int) (*httptest.Server, chan gatewayRequest) {
	t.Helper()
	got := make(chan gatewayRequest, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req := gatewayRequest{Method: r.Method, Path: r.URL.Path, Auth: r.Header.Get("Authorization"), ContentType: r.Header.Get("Content-Type")}
		if err := json.Unmarshal(body, &req.Body); err != nil {
			t.Errorf("body %q: %v", body, err)
		}
		got <- req
		w.WriteHeader(status)
		// A gateway that echoes what it got, as some do in their errors.
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func TestHTTPSMS(t *testing.T) {
	srv, got := startGateway(t, http.StatusAccepted)
	s := &notify.HTTPSMS{URL: srv.URL + "/v1/sms", Token: "geheim", Client: srv.Client()}
	text := notify.Confirmation(practice, booked()).SMS
	if err := s.SendSMS(t.Context(), "+491701234567", text); err != nil {
		t.Fatal(err)
	}
	want := gatewayRequest{
		Method: "POST", Path: "/v1/sms", Auth: "Bearer geheim", ContentType: "application/json",
		Body: map[string]string{"to": "+491701234567", "text": text},
	}
	if diff := cmp.Diff(want, <-got); diff != "" {
		t.Errorf("request (-want +got):\n%s", diff)
	}
}

// TestHTTPSMSErrorsKeepSecrets: a refusal is an error that names neither the number nor
// the text, though the gateway's answer holds both.
func TestHTTPSMSErrorsKeepSecrets(t *testing.T) {
	for _, status := range []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusBadGateway} {
		srv, got := startGateway(t, status)
		s := &notify.HTTPSMS{URL: srv.URL, Token: "geheim", Client: srv.Client()}
		err := s.SendSMS(t.Context(), "+491701234567", "Ihr Termin am Do. 26.11.2026")
		<-got
		if err == nil {
			t.Fatalf("status %d: no error", status)
		}
		for _, secret := range []string{"491701234567", "1701234567", "Termin", "geheim"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("status %d: error %q holds %q", status, err, secret)
			}
		}
		if !strings.Contains(err.Error(), http.StatusText(status)) {
			t.Errorf("status %d: error %q does not say it", status, err)
		}
	}
}

func TestHTTPSMSRefusesBadNumbers(t *testing.T) {
	srv, got := startGateway(t, http.StatusOK)
	s := &notify.HTTPSMS{URL: srv.URL, Token: "t", Client: srv.Client()}
	for _, to := range []string{"", "01701234567", "+49 170 1234567", "+0491701234567", "+49", "+4917012345678901", "+49170123456\n"} {
		err := s.SendSMS(t.Context(), to, "Text")
		if !errs.Is(err, errs.Invalid) {
			t.Errorf("%q: %v, want an Invalid error", to, err)
		}
		if to != "" && err != nil && strings.Contains(err.Error(), to) {
			t.Errorf("%q: error %q holds the number", to, err)
		}
	}
	if err := s.SendSMS(t.Context(), "+491701234567", "  "); !errs.Is(err, errs.Invalid) {
		t.Errorf("empty text: %v, want an Invalid error", err)
	}
	select {
	case r := <-got:
		t.Errorf("the gateway got %+v", r)
	default:
	}
}

func TestHTTPSMSCancelled(t *testing.T) {
	srv, _ := startGateway(t, http.StatusOK)
	s := &notify.HTTPSMS{URL: srv.URL, Token: "t", Client: srv.Client()}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.SendSMS(ctx, "+491701234567", "Text"); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}
