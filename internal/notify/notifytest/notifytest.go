// Package notifytest runs local stand-ins for the services package notify sends through,
// for tests of any package: an SMTP server (NewSMTP) and an SMS gateway (StartGateway),
// each speaking the real protocol and keeping the messages it took.
package notifytest

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/tresen/tresen/internal/notify"
)

// SMS is one message the gateway took.
type SMS struct {
	To   string `json:"to"`
	Text string `json:"text"`
}

// Gateway is a running stand-in SMS gateway.
type Gateway struct {
	URL   string
	Token string

	mu  sync.Mutex
	got []SMS
}

// StartGateway starts a gateway that takes messages with its token, as a real one does:
// POST, "Authorization: Bearer TOKEN", a JSON body {"to": E.164, "text": …}, answered
// 202. A request that breaks the protocol fails the test and is answered 400; a wrong
// token is answered 401. The gateway stops at the end of the test.
func StartGateway(tb testing.TB) *Gateway {
	tb.Helper()
	g := &Gateway{Token: "sms-geheim"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+g.Token {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		var m SMS
		body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if err == nil {
			err = json.Unmarshal(body, &m)
		}
		if r.Method != http.MethodPost || ct != "application/json" || err != nil || m.To == "" || m.Text == "" {
			tb.Errorf("SMS gateway: a request that breaks the protocol: %s, %s, body error %v", r.Method, ct, err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		g.mu.Lock()
		g.got = append(g.got, m)
		g.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	tb.Cleanup(srv.Close)
	g.URL = srv.URL
	return g
}

// Settings returns a practice's settings for sending SMS through the gateway.
func (g *Gateway) Settings(p notify.Practice) notify.Settings {
	return notify.Settings{Practice: p, SMS: notify.SMSSettings{URL: g.URL, Token: g.Token}}
}

// Messages returns the messages taken so far, oldest first.
func (g *Gateway) Messages() []SMS {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]SMS(nil), g.got...)
}
