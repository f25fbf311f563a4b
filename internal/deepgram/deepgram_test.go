package deepgram_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/deepgram"
	"github.com/tresen/tresen/internal/deepgram/deepgramtest"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/speech"
	"github.com/tresen/tresen/internal/speech/speechtest"
)

const said = "ich brauche ein folgerezept für ramipril fünf milligramm"

var words = strings.Fields(said)

func settings(srv *deepgramtest.Server) deepgram.Settings {
	return deepgram.Settings{URL: srv.URL, APIKey: "test-key"}
}

func mustNew(t *testing.T, s deepgram.Settings) *deepgram.Recognizer {
	t.Helper()
	r, err := deepgram.New(s)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return r
}

func mustStream(t *testing.T, ctx context.Context, s deepgram.Settings) speech.Stream {
	t.Helper()
	st, err := mustNew(t, s).Stream(ctx)
	if err != nil {
		t.Fatalf("Stream: %v", err)
	}
	return st
}

func noTranscript(t *testing.T, err error) {
	t.Helper()
	msg := strings.ToLower(err.Error())
	for _, w := range words {
		if len(w) > 3 && strings.Contains(msg, w) {
			t.Errorf("error %q contains the caller's word %q", err, w)
		}
	}
}

func TestStreamInterimThenFinal(t *testing.T) {
	srv := deepgramtest.NewServer(t, deepgramtest.Script{
		Replies: []string{
			deepgramtest.SpeechStarted(),
			deepgramtest.Results("", false, false, 0),
			deepgramtest.Results("ich brauche", false, false, 0.81),
			deepgramtest.Results("ich brauche", false, false, 0.84),
			deepgramtest.Results("ich brauche ein folgerezept", false, false, 0.9),
			deepgramtest.Results("ich brauche ein folgerezept", true, false, 0.93),
			deepgramtest.Results("für ramipril", false, false, 0.7),
		},
		OnClose: []string{
			deepgramtest.Results("für ramipril fünf milligramm", true, true, 0.88),
			deepgramtest.UtteranceEnd(),
		},
	})
	st := mustStream(t, t.Context(), settings(srv))
	audio := speechtest.Frames(10)
	speechtest.WriteAll(t, st, audio)
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	got := speechtest.Collect(t, st)
	if err := st.Err(); err != nil {
		t.Fatalf("Err after a normal end: %v", err)
	}
	want := []speech.Result{
		{Text: "ich brauche", Confidence: 0.81},
		{Text: "ich brauche ein folgerezept", Confidence: 0.9},
		{Text: "ich brauche ein folgerezept", Final: true, Confidence: 0.93},
		{Text: "für ramipril", Confidence: 0.7},
		{Text: "für ramipril fünf milligramm", Final: true, Confidence: 0.88},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}

	conn := srv.Only(t)
	if conn.Path != "/v1/listen" {
		t.Errorf("path = %q", conn.Path)
	}
	if got := conn.Header.Get("Authorization"); got != "Token test-key" {
		t.Errorf("Authorization = %q, want the token", got)
	}
	wantQuery := url.Values{
		"encoding": {"linear16"}, "sample_rate": {"8000"}, "channels": {"1"}, "language": {"de"},
		"model": {"nova-2"}, "interim_results": {"true"}, "endpointing": {"300"}, "mip_opt_out": {"true"},
	}
	if diff := cmp.Diff(wantQuery, conn.Query); diff != "" {
		t.Errorf("query (-want +got):\n%s", diff)
	}
	if !cmp.Equal(speechtest.PCMBytes(audio), conn.Audio) {
		t.Error("audio on the wire differs from the PCM written (16-bit little-endian)")
	}
	if len(conn.Chunks) != 10 || len(conn.Chunks[0]) != 2*speech.FrameSize {
		t.Errorf("%d binary messages; want one of %d bytes per frame", len(conn.Chunks), 2*speech.FrameSize)
	}
	if diff := cmp.Diff([]string{`{"type":"CloseStream"}`}, conn.Texts); diff != "" {
		t.Errorf("text messages (-want +got):\n%s", diff)
	}
	if err := st.Write(audio[0]); err == nil {
		t.Error("Write after Close succeeded")
	}
}

func TestStreamSettingsOnTheWire(t *testing.T) {
	srv := deepgramtest.NewServer(t, deepgramtest.Script{})
	s := settings(srv)
	s.URL += "/v1/listen"
	s.Model, s.Language, s.Endpointing = "nova-3", "de-CH", time.Second
	st := mustStream(t, t.Context(), s)
	st.Close()
	speechtest.Collect(t, st)
	conn := srv.Only(t)
	if conn.Path != "/v1/listen" || conn.Query.Get("model") != "nova-3" || conn.Query.Get("language") != "de-CH" ||
		conn.Query.Get("endpointing") != "1000" {
		t.Errorf("path %q, query %v", conn.Path, conn.Query)
	}
}

func TestStreamKeepAlive(t *testing.T) {
	srv := deepgramtest.NewServer(t, deepgramtest.Script{})
	r := mustNew(t, settings(srv))
	deepgram.SetKeepAlive(r, 20*time.Millisecond)
	st, err := r.Stream(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(150 * time.Millisecond) // the caller is silent: no audio
	speechtest.WriteAll(t, st, speechtest.Frames(1))
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	speechtest.Collect(t, st)
	texts := srv.Only(t).Texts
	if len(texts) < 3 || texts[0] != `{"type":"KeepAlive"}` || texts[len(texts)-1] != `{"type":"CloseStream"}` {
		t.Errorf("text messages = %q; want KeepAlives during the silence, then CloseStream", texts)
	}
}

func TestStreamCancel(t *testing.T) {
	srv := deepgramtest.NewServer(t, deepgramtest.Script{Silent: true})
	ctx, cancel := context.WithCancel(t.Context())
	st := mustStream(t, ctx, settings(srv))
	speechtest.WriteAll(t, st, speechtest.Frames(5))
	cancel()
	if got := speechtest.Collect(t, st); len(got) != 0 {
		t.Errorf("results after cancel: %+v", got)
	}
	if err := st.Err(); !errors.Is(err, context.Canceled) {
		t.Errorf("Err = %v; want it to wrap context.Canceled", err)
	}
	if err := st.Write(speechtest.Frames(1)[0]); err == nil {
		t.Error("Write after cancel succeeded")
	}
	if err := st.Close(); err != nil {
		t.Errorf("Close after cancel: %v", err)
	}
}

func TestStreamNoFinalInTime(t *testing.T) {
	srv := deepgramtest.NewServer(t, deepgramtest.Script{Silent: true})
	s := settings(srv)
	s.Timeout = 200 * time.Millisecond
	st := mustStream(t, t.Context(), s)
	speechtest.WriteAll(t, st, speechtest.Frames(5))
	st.Close()
	speechtest.Collect(t, st)
	if err := st.Err(); !errors.Is(err, context.DeadlineExceeded) || !errs.Is(err, errs.Internal) {
		t.Errorf("Err = %v; want an internal error wrapping the deadline", err)
	}
}

func TestStreamRefused(t *testing.T) {
	tests := []struct {
		status int
		want   string
	}{
		{401, "API-Schlüssel"},
		{402, "Guthaben"},
		{429, "zu viele"},
		{500, "abgelehnt"},
		{503, "abgelehnt"},
	}
	for _, tc := range tests {
		srv := deepgramtest.NewServer(t, deepgramtest.Script{Status: tc.status})
		_, err := mustNew(t, settings(srv)).Stream(t.Context())
		var se *deepgram.StatusError
		if !errors.As(err, &se) || se.StatusCode != tc.status || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("HTTP %d: err = %v; want a StatusError saying %q", tc.status, err, tc.want)
		}
		if strings.Contains(err.Error(), "test-key") || strings.Contains(err.Error(), "refused") {
			t.Errorf("HTTP %d: err = %v holds the key or the server's text", tc.status, err)
		}
	}
}

func TestStreamFailures(t *testing.T) {
	interim := []string{
		deepgramtest.Results("ich brauche ein folgerezept", false, false, 0.9),
		deepgramtest.Results("ich brauche ein folgerezept für ramipril", false, false, 0.9),
	}
	tests := []struct {
		name   string
		script deepgramtest.Script
		want   string
		cause  error
	}{
		{"hang-up", deepgramtest.Script{Replies: interim, HangUpAfter: 3}, "Verbindung zum Dienst unterbrochen", nil},
		{"NET-0001", deepgramtest.Script{Replies: interim, CloseAfter: 3, CloseCode: websocket.StatusInternalError, CloseReason: "NET-0001"},
			"mit einem Fehler beendet", &deepgram.CloseError{Code: 1011, Reason: "NET-0001"}},
		{"DATA-0000", deepgramtest.Script{Replies: interim, CloseAfter: 3, CloseCode: websocket.StatusPolicyViolation, CloseReason: "DATA-0000"},
			"mit einem Fehler beendet", &deepgram.CloseError{Code: 1008, Reason: "DATA-0000"}},
		{"reason with text", deepgramtest.Script{Replies: interim, CloseAfter: 3, CloseCode: websocket.StatusInternalError, CloseReason: "failed on: ramipril"},
			"mit einem Fehler beendet", &deepgram.CloseError{Code: 1011}},
		{"normal close before the end", deepgramtest.Script{Replies: interim, CloseAfter: 3, CloseCode: websocket.StatusNormalClosure},
			"vorzeitig beendet", nil},
		{"malformed JSON", deepgramtest.Script{Replies: append(interim, `{"type":"Results","channel":{"alternatives":[{"transcript":"ich brauche ein folgerezept für`)},
			"nicht lesbar", nil},
		{"wrong type", deepgramtest.Script{Replies: append(interim, `{"type":"Results","is_final":"ja","channel":{"alternatives":[{"transcript":"ramipril"}]}}`)},
			"nicht lesbar", nil},
		{"no type", deepgramtest.Script{Replies: append(interim, `{"channel":{"alternatives":[{"transcript":"ramipril"}]}}`)},
			"ohne Typ", nil},
		{"error message", deepgramtest.Script{Replies: append(interim, `{"type":"Error","description":"ramipril","message":"x","variant":"y"}`)},
			"meldet einen Fehler", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := deepgramtest.NewServer(t, tc.script)
			st := mustStream(t, t.Context(), settings(srv))
			go func() {
				for _, f := range speechtest.Frames(50) {
					if st.Write(f) != nil {
						return
					}
					time.Sleep(time.Millisecond)
				}
			}()
			got := speechtest.Collect(t, st)
			if len(got) != 2 || got[1].Text != "ich brauche ein folgerezept für ramipril" {
				t.Errorf("results = %+v; want the two interim results", got)
			}
			err := st.Err()
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errs.Is(err, errs.Internal) {
				t.Fatalf("Err = %v; want an internal error with %q", err, tc.want)
			}
			if tc.cause != nil {
				var ce *deepgram.CloseError
				if !errors.As(err, &ce) || !cmp.Equal(tc.cause, ce) {
					t.Errorf("cause = %#v, want %#v", ce, tc.cause)
				}
			}
			noTranscript(t, err)
		})
	}
}

func TestProvider(t *testing.T) {
	tests := []struct {
		s    deepgram.Settings
		want speech.Provider
	}{
		{deepgram.Settings{APIKey: "k"}, speech.Provider{Name: "deepgram"}},
		{deepgram.Settings{APIKey: "k", ZeroRetention: true}, speech.Provider{Name: "deepgram", ZeroRetention: true}},
		{deepgram.Settings{URL: deepgram.EUURL, APIKey: "k"}, speech.Provider{Name: "deepgram", EUResidency: true}},
		{deepgram.Settings{URL: "wss://API.EU.deepgram.com/v1/listen", APIKey: "k", ZeroRetention: true},
			speech.Provider{Name: "deepgram", EUResidency: true, ZeroRetention: true}},
		// A look-alike is not the EU endpoint.
		{deepgram.Settings{URL: "wss://api.eu.deepgram.com.example.org", APIKey: "k"}, speech.Provider{Name: "deepgram"}},
		{deepgram.Settings{URL: "wss://api.deepgram.com/eu", APIKey: "k"}, speech.Provider{Name: "deepgram"}},
		// Self-hosted Deepgram.
		{deepgram.Settings{URL: "ws://localhost:8080"}, speech.Provider{Name: "deepgram", Local: true}},
		{deepgram.Settings{URL: "wss://10.0.0.7:8443"}, speech.Provider{Name: "deepgram", Local: true}},
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, mustNew(t, tc.s).Provider()); diff != "" {
			t.Errorf("%v: Provider (-want +got):\n%s", tc.s, diff)
		}
	}
}

func TestSettingsValidate(t *testing.T) {
	valid := deepgram.Settings{URL: deepgram.EUURL, APIKey: "dg-key"}
	tests := []struct {
		name  string
		edit  func(*deepgram.Settings)
		field string
	}{
		{"EU endpoint", func(*deepgram.Settings) {}, ""},
		{"default endpoint", func(s *deepgram.Settings) { s.URL = "" }, ""},
		{"https", func(s *deepgram.Settings) { s.URL = "https://api.eu.deepgram.com" }, ""},
		{"self-hosted on localhost without key", func(s *deepgram.Settings) { s.URL, s.APIKey = "ws://127.0.0.1:8080", "" }, ""},
		{"all set", func(s *deepgram.Settings) {
			s.Model, s.Language, s.Endpointing, s.Timeout = "nova-3", "de-DE", 500*time.Millisecond, 10*time.Second
		}, ""},
		{"no key", func(s *deepgram.Settings) { s.APIKey = "" }, "api_key"},
		{"key with newline", func(s *deepgram.Settings) { s.APIKey = "k\r\nX-Evil: 1" }, "api_key"},
		{"plain ws to Deepgram", func(s *deepgram.Settings) { s.URL = "ws://api.eu.deepgram.com" }, "url"},
		{"plain ws on the LAN", func(s *deepgram.Settings) { s.URL = "ws://10.0.0.7:8080" }, "url"},
		{"other scheme", func(s *deepgram.Settings) { s.URL = "ftp://api.deepgram.com" }, "url"},
		{"query", func(s *deepgram.Settings) { s.URL = "wss://api.deepgram.com/v1/listen?model=x" }, "url"},
		{"credentials", func(s *deepgram.Settings) { s.URL = "wss://u:p@api.deepgram.com" }, "url"},
		{"model with space", func(s *deepgram.Settings) { s.Model = "nova 2" }, "model"},
		{"language", func(s *deepgram.Settings) { s.Language = "deutsch&x=1" }, "language"},
		{"endpointing too short", func(s *deepgram.Settings) { s.Endpointing = time.Millisecond }, "endpointing"},
		{"endpointing too long", func(s *deepgram.Settings) { s.Endpointing = time.Minute }, "endpointing"},
		{"negative timeout", func(s *deepgram.Settings) { s.Timeout = -1 }, "timeout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := valid
			tc.edit(&s)
			_, err := deepgram.New(s)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			var e *errs.Error
			if !errors.As(err, &e) || e.Kind != errs.Invalid || e.Field != tc.field || e.Message == "" {
				t.Errorf("err = %v; want an Invalid error for field %q", err, tc.field)
			}
		})
	}
}

func TestSettingsHideAPIKey(t *testing.T) {
	s := deepgram.Settings{APIKey: "dg-secret-key"}
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s", s, s, s, s)} {
		if strings.Contains(out, "dg-secret-key") {
			t.Errorf("printed settings show the key: %s", out)
		}
	}
}
