package whisper_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/speech"
	"github.com/tresen/tresen/internal/speech/speechtest"
	"github.com/tresen/tresen/internal/whisper"
	"github.com/tresen/tresen/internal/whisper/whispertest"
)

const said = "Ich brauche ein Folgerezept für Ramipril fünf Milligramm."

var words = strings.Fields(strings.ToLower(strings.Trim(said, ".")))

func settings(srv *whispertest.Server) whisper.Settings {
	return whisper.Settings{URL: srv.URL, Model: "Systran/faster-whisper-large-v3", APIKey: "test-key"}
}

func mustStream(t *testing.T, ctx context.Context, s whisper.Settings) speech.Stream {
	t.Helper()
	r, err := whisper.New(s)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	st, err := r.Stream(ctx)
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

func TestTranscribe(t *testing.T) {
	srv := whispertest.NewServer(t, whispertest.Text(" "+said))
	st := mustStream(t, t.Context(), settings(srv))
	audio := speechtest.Frames(150) // 3 s
	speechtest.WriteAll(t, st, audio)
	if len(srv.Requests()) != 0 {
		t.Fatal("audio sent before Close")
	}
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	got := speechtest.Collect(t, st)
	if err := st.Err(); err != nil {
		t.Fatalf("Err: %v", err)
	}
	if diff := cmp.Diff([]speech.Result{{Text: said, Final: true}}, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}

	req := srv.Only(t)
	if req.Method != http.MethodPost || req.Path != "/v1/audio/transcriptions" {
		t.Errorf("request = %s %s", req.Method, req.Path)
	}
	if got := req.Header.Get("Authorization"); got != "Bearer test-key" {
		t.Errorf("Authorization = %q", got)
	}
	if !strings.HasPrefix(req.Header.Get("Content-Type"), "multipart/form-data; boundary=") {
		t.Errorf("Content-Type = %q", req.Header.Get("Content-Type"))
	}
	wantFields := map[string]string{"model": "Systran/faster-whisper-large-v3", "language": "de", "response_format": "json"}
	if diff := cmp.Diff(wantFields, req.Fields); diff != "" {
		t.Errorf("form fields (-want +got):\n%s", diff)
	}
	if req.FileName != "audio.wav" || req.FileType != "audio/wav" {
		t.Errorf("file part %q of type %q", req.FileName, req.FileType)
	}
	wav, err := whispertest.ParseWAV(req.File)
	if err != nil {
		t.Fatalf("WAV: %v", err)
	}
	wantWAV := whispertest.WAV{Format: 1, Channels: 1, SampleRate: 8000, ByteRate: 16000, BlockAlign: 2, BitsPerSample: 16, Data: speechtest.PCMBytes(audio)}
	if diff := cmp.Diff(wantWAV, wav); diff != "" {
		t.Errorf("WAV (-want +got):\n%s", diff)
	}
	if err := st.Write(audio[0]); err == nil {
		t.Error("Write after Close succeeded")
	}
}

func TestTranscribeURLForms(t *testing.T) {
	for _, suffix := range []string{"", "/", "/v1", "/v1/", "/v1/audio/transcriptions"} {
		srv := whispertest.NewServer(t, whispertest.Text("ja"))
		s := settings(srv)
		s.URL += suffix
		s.APIKey, s.Language = "", "de-AT"
		st := mustStream(t, t.Context(), s)
		speechtest.WriteAll(t, st, speechtest.Frames(1))
		st.Close()
		speechtest.Collect(t, st)
		req := srv.Only(t)
		if req.Path != "/v1/audio/transcriptions" || req.Header.Get("Authorization") != "" || req.Fields["language"] != "de-AT" {
			t.Errorf("URL %q: path %q, Authorization %q, fields %v", s.URL, req.Path, req.Header.Get("Authorization"), req.Fields)
		}
	}
}

// Nothing heard, nothing sent; an empty transcript is no result.
func TestTranscribeNothing(t *testing.T) {
	srv := whispertest.NewServer(t, whispertest.Text(""))
	st := mustStream(t, t.Context(), settings(srv))
	st.Close()
	if got := speechtest.Collect(t, st); len(got) != 0 || st.Err() != nil || len(srv.Requests()) != 0 {
		t.Errorf("results %+v, Err %v, %d requests; want nothing", got, st.Err(), len(srv.Requests()))
	}
	st = mustStream(t, t.Context(), settings(srv))
	speechtest.WriteAll(t, st, speechtest.Frames(10))
	st.Close()
	if got := speechtest.Collect(t, st); len(got) != 0 || st.Err() != nil {
		t.Errorf("results %+v, Err %v; want none for silence", got, st.Err())
	}
}

func TestCancel(t *testing.T) {
	srv := whispertest.NewServer(t, whispertest.Text(said))
	ctx, cancel := context.WithCancel(t.Context())
	st := mustStream(t, ctx, settings(srv))
	speechtest.WriteAll(t, st, speechtest.Frames(10))
	cancel()
	if got := speechtest.Collect(t, st); len(got) != 0 {
		t.Errorf("results after cancel: %+v", got)
	}
	if err := st.Err(); !errors.Is(err, context.Canceled) {
		t.Errorf("Err = %v; want it to wrap context.Canceled", err)
	}
	if len(srv.Requests()) != 0 {
		t.Error("audio sent after cancel")
	}

	// Cancelled while the server transcribes.
	stall := whispertest.NewServer(t, whispertest.Stall())
	ctx, cancel = context.WithCancel(t.Context())
	st = mustStream(t, ctx, settings(stall))
	speechtest.WriteAll(t, st, speechtest.Frames(10))
	st.Close()
	time.AfterFunc(50*time.Millisecond, cancel)
	speechtest.Collect(t, st)
	if err := st.Err(); !errors.Is(err, context.Canceled) {
		t.Errorf("Err = %v; want it to wrap context.Canceled", err)
	}
}

func TestTimeout(t *testing.T) {
	srv := whispertest.NewServer(t, whispertest.Stall())
	s := settings(srv)
	s.Timeout = 100 * time.Millisecond
	st := mustStream(t, t.Context(), s)
	speechtest.WriteAll(t, st, speechtest.Frames(10))
	st.Close()
	speechtest.Collect(t, st)
	if err := st.Err(); !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "Zeitgrenze") {
		t.Errorf("Err = %v; want the timeout", err)
	}
}

func TestFailures(t *testing.T) {
	tests := []struct {
		name    string
		respond whispertest.Responder
		want    string
		status  int
	}{
		{"401", whispertest.Fail(401), "API-Schlüssel", 401},
		{"413", whispertest.Fail(413), "zu groß", 413},
		{"429", whispertest.Fail(429), "ausgelastet", 429},
		{"500", whispertest.Fail(500), "meldet einen Fehler", 500},
		{"500 echoing the text", whispertest.Raw(500, "text/plain", "failed: "+said), "meldet einen Fehler", 500},
		{"redirect", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://elsewhere.example.org/v1/audio/transcriptions", http.StatusTemporaryRedirect)
		}, "meldet einen Fehler", 307},
		{"malformed JSON", whispertest.Raw(200, "application/json", `{"text":"`+said), "nicht lesbar", 0},
		{"text as a list", whispertest.Raw(200, "application/json", `{"text":["`+said+`"]}`), "nicht lesbar", 0},
		{"no text", whispertest.Raw(200, "application/json", `{"segments":[{"text":"`+said+`"}]}`), "ohne Text", 0},
		{"plain text", whispertest.Raw(200, "text/plain", said), "nicht lesbar", 0},
		{"hang-up", func(w http.ResponseWriter, r *http.Request) {
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
		}, "Verbindung zum Dienst fehlgeschlagen", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := whispertest.NewServer(t, tc.respond)
			st := mustStream(t, t.Context(), settings(srv))
			speechtest.WriteAll(t, st, speechtest.Frames(10))
			st.Close()
			if got := speechtest.Collect(t, st); len(got) != 0 {
				t.Errorf("results = %+v", got)
			}
			err := st.Err()
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errs.Is(err, errs.Internal) {
				t.Fatalf("Err = %v; want an internal error with %q", err, tc.want)
			}
			if tc.status != 0 {
				var se *whisper.StatusError
				if !errors.As(err, &se) || se.StatusCode != tc.status {
					t.Errorf("Err = %v; want a StatusError %d", err, tc.status)
				}
			}
			noTranscript(t, err)
		})
	}
}

func TestTooLong(t *testing.T) {
	srv := whispertest.NewServer(t, whispertest.Text(said))
	st := mustStream(t, t.Context(), settings(srv))
	minute := make([]int16, 60*speech.SampleRate)
	for range 5 {
		if err := st.Write(minute); err != nil {
			t.Fatalf("Write within the limit: %v", err)
		}
	}
	if err := st.Write(speechtest.Frames(1)[0]); err == nil || !strings.Contains(err.Error(), "länger als 5 Minuten") {
		t.Errorf("Write past the limit: %v", err)
	}
	st.Close()
	speechtest.Collect(t, st)
}

func TestProvider(t *testing.T) {
	tests := []struct {
		s    whisper.Settings
		want speech.Provider
	}{
		{whisper.Settings{URL: "http://localhost:8000"}, speech.Provider{Name: "whisper", Local: true, EUResidency: true, ZeroRetention: true}},
		{whisper.Settings{URL: "http://127.0.0.1:8000"}, speech.Provider{Name: "whisper", Local: true, EUResidency: true, ZeroRetention: true}},
		{whisper.Settings{URL: "https://192.168.10.5:8000"}, speech.Provider{Name: "whisper", Local: true, EUResidency: true, ZeroRetention: true}},
		{whisper.Settings{URL: "https://whisper.example.org"}, speech.Provider{Name: "whisper"}},
		{whisper.Settings{URL: "https://whisper.praxis.lan", Local: true}, speech.Provider{Name: "whisper", Local: true, EUResidency: true, ZeroRetention: true}},
		{whisper.Settings{URL: "https://stt.example.eu", EUResidency: true}, speech.Provider{Name: "whisper", EUResidency: true}},
		{whisper.Settings{URL: "https://stt.example.eu", EUResidency: true, ZeroRetention: true}, speech.Provider{Name: "whisper", EUResidency: true, ZeroRetention: true}},
	}
	for _, tc := range tests {
		tc.s.Model = "whisper-1"
		r, err := whisper.New(tc.s)
		if err != nil {
			t.Fatalf("New(%v): %v", tc.s, err)
		}
		if diff := cmp.Diff(tc.want, r.Provider()); diff != "" {
			t.Errorf("%v: Provider (-want +got):\n%s", tc.s, diff)
		}
	}
}

func TestSettingsValidate(t *testing.T) {
	valid := whisper.Settings{URL: "http://localhost:8000", Model: "Systran/faster-whisper-large-v3"}
	tests := []struct {
		name  string
		edit  func(*whisper.Settings)
		field string
	}{
		{"local", func(*whisper.Settings) {}, ""},
		{"https elsewhere with key", func(s *whisper.Settings) { s.URL, s.APIKey = "https://whisper.praxis-weber.de/v1", "k" }, ""},
		{"IPv6 loopback", func(s *whisper.Settings) { s.URL = "http://[::1]:8000" }, ""},
		{"language and timeout", func(s *whisper.Settings) { s.Language, s.Timeout = "de-DE", time.Minute }, ""},
		{"no URL", func(s *whisper.Settings) { s.URL = "" }, "url"},
		{"plain http on the LAN", func(s *whisper.Settings) { s.URL = "http://192.168.1.20:8000" }, "url"},
		{"plain http to a host", func(s *whisper.Settings) { s.URL = "http://whisper.praxis.lan" }, "url"},
		{"localhost look-alike", func(s *whisper.Settings) { s.URL = "http://localhost.example.org" }, "url"},
		{"ws scheme", func(s *whisper.Settings) { s.URL = "ws://localhost:8000" }, "url"},
		{"credentials", func(s *whisper.Settings) { s.URL = "https://u:p@whisper.example.org" }, "url"},
		{"query", func(s *whisper.Settings) { s.URL = "https://whisper.example.org/?x=1" }, "url"},
		{"no model", func(s *whisper.Settings) { s.Model = " " }, "model"},
		{"model with newline", func(s *whisper.Settings) { s.Model = "m\nx" }, "model"},
		{"language", func(s *whisper.Settings) { s.Language = "Deutsch!" }, "language"},
		{"key with space", func(s *whisper.Settings) { s.APIKey = "a b" }, "api_key"},
		{"timeout too long", func(s *whisper.Settings) { s.Timeout = time.Hour }, "timeout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := valid
			tc.edit(&s)
			_, err := whisper.New(s)
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
	s := whisper.Settings{APIKey: "sk-secret-key"}
	if out := fmt.Sprintf("%v %+v %#v %s", s, s, s, s); strings.Contains(out, "sk-secret-key") {
		t.Errorf("printed settings show the key: %s", out)
	}
}
