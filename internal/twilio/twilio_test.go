package twilio_test

import (
	"context"
	"encoding/base64"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/tresen/tresen/internal/audio"
	"github.com/tresen/tresen/internal/phone"
	"github.com/tresen/tresen/internal/speech"
	"github.com/tresen/tresen/internal/twilio"
)

const (
	account = "AC0123456789abcdef0123456789abcdef"
	token   = "test-auth-token"
	callSID = "CA11111111111111111111111111111111"
)

// handlerFunc is a phone.Handler in the test.
type handlerFunc func(ctx context.Context, c phone.Call)

func (f handlerFunc) HandleCall(ctx context.Context, c phone.Call) { f(ctx, c) }

// restAPI is Twilio's REST API as the test sees it: the call updates it got.
type restAPI struct {
	mu      sync.Mutex
	updates []url.Values
	auth    []string
}

func (a *restAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	user, pass, _ := r.BasicAuth()
	a.mu.Lock()
	a.updates = append(a.updates, r.PostForm)
	a.auth = append(a.auth, user+":"+pass+" "+r.URL.Path)
	a.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"sid":"` + callSID + `","status":"in-progress"}`))
}

func newServer(t *testing.T, h phone.Handler) (*httptest.Server, *restAPI, *twilio.Handler) {
	t.Helper()
	api := &restAPI{}
	apiSrv := httptest.NewServer(api)
	t.Cleanup(apiSrv.Close)
	var th *twilio.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { th.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	var err error
	th, err = twilio.New(twilio.Options{AccountSID: account, AuthToken: token, PublicURL: srv.URL, API: apiSrv.URL, Handler: h,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { th.Close() })
	return srv, api, th
}

// webhook posts Twilio's incoming-call webhook, signed with key.
func webhook(t *testing.T, srv *httptest.Server, key string, form url.Values) (*http.Response, string) {
	t.Helper()
	return webhookAt(t, srv, "/twilio/voice", key, form)
}

// webhookAt posts a signed webhook to path (with its query, which the signature covers).
func webhookAt(t *testing.T, srv *httptest.Server, path, key string, form url.Values) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", twilio.Signature(key, srv.URL+path, form))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

var incoming = url.Values{"AccountSid": {account}, "CallSid": {callSID}, "From": {"+491701234567"}, "To": {"+494211234567"}, "CallStatus": {"ringing"}}

type response struct {
	Connect struct {
		Stream struct {
			URL    string `xml:"url,attr"`
			Params []struct {
				Name  string `xml:"name,attr"`
				Value string `xml:"value,attr"`
			} `xml:"Parameter"`
		} `xml:"Stream"`
	} `xml:"Connect"`
}

func TestWebhook(t *testing.T) {
	srv, _, _ := newServer(t, handlerFunc(func(context.Context, phone.Call) {}))
	resp, body := webhook(t, srv, token, incoming)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/xml") {
		t.Fatalf("webhook: %d %s", resp.StatusCode, body)
	}
	var r response
	if err := xml.Unmarshal([]byte(body), &r); err != nil {
		t.Fatal(err)
	}
	if want := "ws" + strings.TrimPrefix(srv.URL, "http") + "/twilio/stream"; r.Connect.Stream.URL != want {
		t.Errorf("stream URL %q, want %q", r.Connect.Stream.URL, want)
	}
	secure, err := twilio.New(twilio.Options{AccountSID: account, AuthToken: token, PublicURL: "https://tresen.praxis.example/", Handler: handlerFunc(func(context.Context, phone.Call) {})})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/twilio/voice", strings.NewReader(incoming.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", twilio.Signature(token, "https://tresen.praxis.example/twilio/voice", incoming))
	rec := httptest.NewRecorder()
	secure.ServeHTTP(rec, req)
	if !strings.Contains(rec.Body.String(), `url="wss://tresen.praxis.example/twilio/stream"`) {
		t.Errorf("behind https: %d %s", rec.Code, rec.Body.String())
	}
	if resp, _ := webhook(t, srv, "wrong-token", incoming); resp.StatusCode != http.StatusForbidden {
		t.Errorf("badly signed webhook: %d", resp.StatusCode)
	}
	other := url.Values{"AccountSid": {"ACother"}, "CallSid": {callSID}}
	if resp, _ := webhook(t, srv, token, other); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("another account's call: %d", resp.StatusCode)
	}
}

// ringRouter rings the practice's desk first for calls to its number.
type ringRouter struct{ handlerFunc }

func (ringRouter) RingFirst(_ context.Context, called string) (string, time.Duration, error) {
	if called == "+494211234567" {
		return "+494211234500", 25 * time.Second, nil
	}
	return "", 0, nil
}

// TestWebhookRingsPracticeFirst: during opening hours the practice's phone rings first
// (the caller's call stays unanswered meanwhile); when nobody takes it the stream
// connects, when the practice took it the call ends.
func TestWebhookRingsPracticeFirst(t *testing.T) {
	srv, _, _ := newServer(t, ringRouter{func(context.Context, phone.Call) {}})
	var first struct {
		Dial struct {
			Timeout        int    `xml:"timeout,attr"`
			Action         string `xml:"action,attr"`
			AnswerOnBridge bool   `xml:"answerOnBridge,attr"`
			Number         string `xml:"Number"`
		} `xml:"Dial"`
		Connect *struct{} `xml:"Connect"`
	}
	_, body := webhook(t, srv, token, incoming)
	if err := xml.Unmarshal([]byte(body), &first); err != nil {
		t.Fatal(err)
	}
	d := first.Dial
	if d.Number != "+494211234500" || d.Timeout != 25 || !d.AnswerOnBridge || d.Action != srv.URL+"/twilio/voice?dialed=1" || first.Connect != nil {
		t.Fatalf("first answer %s, want a <Dial> of the practice's phone for 25 s", body)
	}
	after := func(status string) string {
		form := url.Values{}
		for k, v := range incoming {
			form[k] = v
		}
		form.Set("DialCallStatus", status)
		if status == "completed" {
			form.Set("CallStatus", "completed")
		} else {
			form.Set("CallStatus", "in-progress")
		}
		resp, body := webhookAt(t, srv, "/twilio/voice?dialed=1", token, form)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", status, resp.StatusCode, body)
		}
		return body
	}
	for _, status := range []string{"no-answer", "busy", "failed"} {
		var r response
		if body := after(status); xml.Unmarshal([]byte(body), &r) != nil || r.Connect.Stream.URL == "" {
			t.Errorf("after %s: %s, want the stream (the assistant answers)", status, body)
		}
	}
	if body := after("completed"); !strings.Contains(body, "<Hangup></Hangup>") || strings.Contains(body, "Stream") {
		t.Errorf("after the practice took the call: %s, want <Hangup>", body)
	}
	// Another number of the account (no phone to ring first): the stream at once.
	other := url.Values{}
	for k, v := range incoming {
		other[k] = v
	}
	other.Set("To", "+493012345678")
	var r response
	if _, body := webhook(t, srv, token, other); xml.Unmarshal([]byte(body), &r) != nil || r.Connect.Stream.URL == "" {
		t.Errorf("number without ring-first: %s", body)
	}
}

// twilioSide is the test acting as Twilio's media stream.
type twilioSide struct {
	t *testing.T
	c *websocket.Conn
}

func dialStream(t *testing.T, srv *httptest.Server, streamToken string) *twilioSide {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/twilio/stream", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	s := &twilioSide{t: t, c: c}
	s.send(map[string]any{"event": "connected", "protocol": "Call", "version": "1.0.0"})
	s.send(map[string]any{"event": "start", "sequenceNumber": "1", "streamSid": "MZ1", "start": map[string]any{
		"streamSid": "MZ1", "accountSid": account, "callSid": callSID, "tracks": []string{"inbound"},
		"customParameters": map[string]string{"token": streamToken, "from": "+491701234567", "to": "+494211234567"},
		"mediaFormat":      map[string]any{"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}})
	return s
}

func (s *twilioSide) send(v any) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := wsjson.Write(ctx, s.c, v); err != nil {
		s.t.Fatal(err)
	}
}

func (s *twilioSide) read() map[string]any {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var m map[string]any
	if err := wsjson.Read(ctx, s.c, &m); err != nil {
		s.t.Fatalf("reading from Tresen: %v", err)
	}
	return m
}

func streamTokenOf(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	_, body := webhook(t, srv, token, incoming)
	var r response
	if err := xml.Unmarshal([]byte(body), &r); err != nil {
		t.Fatal(err)
	}
	for _, p := range r.Connect.Stream.Params {
		if p.Name == "token" {
			return p.Value
		}
	}
	t.Fatal("no stream token")
	return ""
}

// TestStream: Twilio's audio and keys reach the flow as frames and digits; the flow's
// audio reaches Twilio as µ-law media with marks, whose echo tells how much was played;
// barge-in clears; a transfer goes through the REST API.
func TestStream(t *testing.T) {
	got := make(chan string, 8)
	flow := handlerFunc(func(ctx context.Context, c phone.Call) {
		if c.From() != "+491701234567" || c.To() != "+494211234567" || c.ID() != callSID {
			got <- "wrong call " + c.From() + c.To() + c.ID()
		}
		frames, loud := 0, 0
		for frames < 3 {
			f := <-c.Audio()
			if len(f) != speech.FrameSize {
				got <- "frame size"
			}
			if f[80] > 1000 || f[80] < -1000 {
				loud++
			}
			frames++
		}
		got <- "frames"
		if loud == 0 {
			got <- "silent frames"
		}
		if k := <-c.DTMF(); k != '5' {
			got <- "key " + string(k)
		}
		got <- "key"
		c.Play(make([]int16, 800)) // 100 ms
		for c.Played() < 100*time.Millisecond {
			time.Sleep(5 * time.Millisecond)
		}
		got <- "played"
		c.Play(make([]int16, 800))
		c.Flush()
		if err := c.Transfer(ctx, "+494219999999"); err != nil {
			got <- "transfer: " + err.Error()
		}
		got <- "transferred"
	})
	srv, api, _ := newServer(t, flow)
	tw := dialStream(t, srv, streamTokenOf(t, srv))
	// 60 ms of a loud tone in three 20 ms chunks.
	for i := range 3 {
		pcm := make([]int16, speech.FrameSize)
		for j := range pcm {
			if j%2 == 0 {
				pcm[j] = 8000
			} else {
				pcm[j] = -8000
			}
		}
		tw.send(map[string]any{"event": "media", "sequenceNumber": "2", "streamSid": "MZ1",
			"media": map[string]any{"track": "inbound", "chunk": string(rune('1' + i)), "timestamp": "0", "payload": base64.StdEncoding.EncodeToString(audio.EncodeULaw(nil, pcm))}})
	}
	expect := func(want string) {
		t.Helper()
		select {
		case g := <-got:
			if g != want {
				t.Fatalf("flow: %q, want %q", g, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("flow: nothing, want %q", want)
		}
	}
	expect("frames")
	tw.send(map[string]any{"event": "dtmf", "streamSid": "MZ1", "sequenceNumber": "5", "dtmf": map[string]any{"track": "inbound_track", "digit": "5"}})
	expect("key")
	// Tresen's audio, then its mark, which Twilio echoes once played.
	media := tw.read()
	if media["event"] != "media" || media["streamSid"] != "MZ1" {
		t.Fatalf("first message %v", media)
	}
	payload, _ := base64.StdEncoding.DecodeString(media["media"].(map[string]any)["payload"].(string))
	if len(payload) != 800 {
		t.Errorf("payload of %d bytes, want 800 (100 ms µ-law)", len(payload))
	}
	mark := tw.read()
	if mark["event"] != "mark" {
		t.Fatalf("second message %v", mark)
	}
	tw.send(map[string]any{"event": "mark", "streamSid": "MZ1", "sequenceNumber": "6", "mark": mark["mark"]})
	expect("played")
	tw.read() // media
	tw.read() // mark
	if clear := tw.read(); clear["event"] != "clear" {
		t.Fatalf("barge-in sent %v, want clear", clear)
	}
	expect("transferred")
	api.mu.Lock()
	defer api.mu.Unlock()
	if len(api.updates) != 1 || !strings.Contains(api.updates[0].Get("Twiml"), "<Dial><Number>+494219999999</Number></Dial>") ||
		api.auth[0] != account+":"+token+" /2010-04-01/Accounts/"+account+"/Calls/"+callSID+".json" {
		t.Errorf("REST updates %v %v", api.updates, api.auth)
	}
}

// TestStreamWrongToken: a stream that the webhook did not answer is refused.
func TestStreamWrongToken(t *testing.T) {
	called := make(chan bool, 1)
	srv, _, _ := newServer(t, handlerFunc(func(context.Context, phone.Call) { called <- true }))
	tw := dialStream(t, srv, "forged")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var m map[string]any
	if err := wsjson.Read(ctx, tw.c, &m); websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
		t.Errorf("forged stream: %v", err)
	}
	select {
	case <-called:
		t.Error("a forged stream reached the call flow")
	default:
	}
}
