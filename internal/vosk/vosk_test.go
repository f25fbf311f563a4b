package vosk_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/speech"
	"github.com/tresen/tresen/internal/speech/speechtest"
	"github.com/tresen/tresen/internal/vosk"
	"github.com/tresen/tresen/internal/vosk/vosktest"
)

// The caller asks for a repeat prescription; these are the words no error may contain.
const said = "ich brauche ein folgerezept für ramipril fünf milligramm"

var words = strings.Fields(said)

// finalMsg is a final result as asr_server.py sends it with words shown.
const finalMsg = `{"result" : [{"conf" : 1.000000, "end" : 0.69, "start" : 0.36, "word" : "ich"},
{"conf" : 0.912345, "end" : 1.02, "start" : 0.69, "word" : "brauche"},
{"conf" : 1.000000, "end" : 1.14, "start" : 1.02, "word" : "ein"},
{"conf" : 0.687654, "end" : 1.89, "start" : 1.14, "word" : "folgerezept"},
{"conf" : 1.000000, "end" : 2.07, "start" : 1.89, "word" : "für"},
{"conf" : 0.400001, "end" : 2.70, "start" : 2.07, "word" : "ramipril"},
{"conf" : 1.000000, "end" : 3.00, "start" : 2.70, "word" : "fünf"},
{"conf" : 1.000000, "end" : 3.54, "start" : 3.00, "word" : "milligramm"}
], "text" : "ich brauche ein folgerezept für ramipril fünf milligramm"}`

func mustNew(t *testing.T, s vosk.Settings) *vosk.Recognizer {
	t.Helper()
	r, err := vosk.New(s)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return r
}

func mustStream(t *testing.T, ctx context.Context, srv *vosktest.Server, timeout time.Duration) speech.Stream {
	t.Helper()
	st, err := mustNew(t, vosk.Settings{URL: srv.WSURL(), Timeout: timeout}).Stream(ctx)
	if err != nil {
		t.Fatalf("Stream: %v", err)
	}
	return st
}

// frames is n telephone frames of a recognisable pattern, sample i of the call being i.
// collect reads Results until it closes.
// noTranscript fails if err's text holds any word the caller said.
func noTranscript(t *testing.T, err error) {
	t.Helper()
	msg := strings.ToLower(err.Error())
	for _, w := range words {
		if len(w) > 3 && strings.Contains(msg, w) {
			t.Errorf("error %q contains the caller's word %q", err, w)
		}
	}
}

func TestStreamPartialsThenFinal(t *testing.T) {
	srv := vosktest.NewServer(t, vosktest.Script{
		Replies: []string{
			`{"partial" : ""}`,
			`{"partial" : "ich brauche"}`,
			`{"partial" : "ich brauche"}`,
			`{"partial" : "ich brauche ein folgerezept"}`,
			`{"partial" : "ich brauche ein folgerezept für ramipril"}`,
		},
		Final: finalMsg,
	})
	st := mustStream(t, t.Context(), srv, 0)
	audio := speechtest.Frames(27) // 540 ms: five chunks of 100 ms, 40 ms left for Close
	speechtest.WriteAll(t, st, audio)
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	got := speechtest.Collect(t, st)
	if err := st.Err(); err != nil {
		t.Fatalf("Err after a normal end: %v", err)
	}
	want := []speech.Result{
		{Text: "ich brauche"},
		{Text: "ich brauche ein folgerezept"},
		{Text: "ich brauche ein folgerezept für ramipril"},
		{Text: said, Final: true, Confidence: (1 + 0.912345 + 1 + 0.687654 + 1 + 0.400001 + 1 + 1) / 8},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}

	conn := srv.Only(t)
	var config map[string]any
	if err := json.Unmarshal([]byte(conn.Config), &config); err != nil {
		t.Fatalf("config %q: %v", conn.Config, err)
	}
	if diff := cmp.Diff(map[string]any{"config": map[string]any{"sample_rate": 8000.0}}, config); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(speechtest.PCMBytes(audio), conn.Audio); diff != "" {
		t.Errorf("audio on the wire differs from the PCM written (16-bit little-endian)")
	}
	var sizes []int
	for _, c := range conn.Chunks {
		sizes = append(sizes, len(c))
	}
	if diff := cmp.Diff([]int{1600, 1600, 1600, 1600, 1600, 640}, sizes); diff != "" {
		t.Errorf("message sizes (-want +got):\n%s", diff)
	}
	if !conn.EOF || len(conn.Other) != 0 {
		t.Errorf("EOF = %t, other text messages %q; want EOF only", conn.EOF, conn.Other)
	}
	if err := st.Write(audio[0]); err == nil {
		t.Error("Write after Close succeeded")
	}
	if err := st.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// The server ends an utterance on its own when the caller pauses; the next one starts over.
func TestStreamTwoUtterances(t *testing.T) {
	srv := vosktest.NewServer(t, vosktest.Script{
		Replies: []string{
			`{"partial" : "guten tag"}`,
			`{"result" : [{"conf" : 1.0, "end" : 0.9, "start" : 0.1, "word" : "guten"}, {"conf" : 0.5, "end" : 1.2, "start" : 0.9, "word" : "tag"}], "text" : "guten tag"}`,
			`{"partial" : ""}`,
			`{"partial" : "ich brauche"}`,
		},
		Final: finalMsg,
	})
	st := mustStream(t, t.Context(), srv, 0)
	speechtest.WriteAll(t, st, speechtest.Frames(20))
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	got := speechtest.Collect(t, st)
	want := []speech.Result{
		{Text: "guten tag"},
		{Text: "guten tag", Final: true, Confidence: 0.75},
		{Text: "ich brauche"},
		{Text: said, Final: true, Confidence: got[len(got)-1].Confidence},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if st.Err() != nil {
		t.Errorf("Err: %v", st.Err())
	}
}

// The C++ server answers {"eof" : 1} but leaves the connection open: the answer count ends
// the stream.
func TestStreamServerKeepsConnectionOpen(t *testing.T) {
	srv := vosktest.NewServer(t, vosktest.Script{
		Replies:  []string{`{"partial" : "ich brauche"}`, `{"partial" : "ich brauche ein"}`},
		Final:    finalMsg,
		KeepOpen: true,
	})
	st := mustStream(t, t.Context(), srv, 2*time.Second)
	speechtest.WriteAll(t, st, speechtest.Frames(10))
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	got := speechtest.Collect(t, st)
	if len(got) != 3 || !got[2].Final || got[2].Text != said {
		t.Errorf("results = %+v; want two partials and the final", got)
	}
	if st.Err() != nil {
		t.Errorf("Err: %v", st.Err())
	}
}

// An empty final replaces a partial the listener has; without one it is left out.
func TestStreamEmptyFinal(t *testing.T) {
	srv := vosktest.NewServer(t, vosktest.Script{
		Replies: []string{`{"partial" : "äh"}`},
		Final:   `{"result" : [ ], "text" : ""}`,
	})
	st := mustStream(t, t.Context(), srv, 0)
	speechtest.WriteAll(t, st, speechtest.Frames(5))
	st.Close()
	if diff := cmp.Diff([]speech.Result{{Text: "äh"}, {Final: true}}, speechtest.Collect(t, st)); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}

	silent := vosktest.NewServer(t, vosktest.Script{Final: `{"text" : ""}`})
	st = mustStream(t, t.Context(), silent, 0)
	st.Close() // no audio at all
	if got := speechtest.Collect(t, st); len(got) != 0 || st.Err() != nil {
		t.Errorf("results = %+v, Err = %v; want none and no error", got, st.Err())
	}
}

func TestStreamCancel(t *testing.T) {
	srv := vosktest.NewServer(t, vosktest.Script{Silent: true})
	ctx, cancel := context.WithCancel(t.Context())
	st := mustStream(t, ctx, srv, 0)
	speechtest.WriteAll(t, st, speechtest.Frames(10))
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
	srv := vosktest.NewServer(t, vosktest.Script{Silent: true})
	st := mustStream(t, t.Context(), srv, 200*time.Millisecond)
	speechtest.WriteAll(t, st, speechtest.Frames(5))
	start := time.Now()
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	speechtest.Collect(t, st)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Results closed after %s; want about the 200 ms timeout", d)
	}
	err := st.Err()
	if !errors.Is(err, context.DeadlineExceeded) || !errs.Is(err, errs.Internal) {
		t.Errorf("Err = %v; want an internal error wrapping the deadline", err)
	}
}

func TestStreamRefused(t *testing.T) {
	for _, status := range []int{401, 403, 429, 500, 503} {
		srv := vosktest.NewServer(t, vosktest.Script{Status: status})
		_, err := mustNew(t, vosk.Settings{URL: srv.WSURL()}).Stream(t.Context())
		var se *vosk.StatusError
		if !errors.As(err, &se) || se.StatusCode != status {
			t.Errorf("HTTP %d: err = %v; want a StatusError with the status", status, err)
			continue
		}
		if !errs.Is(err, errs.Internal) || !strings.Contains(err.Error(), "Spracherkennung (Vosk)") {
			t.Errorf("HTTP %d: err = %v", status, err)
		}
	}
}

func TestStreamServerUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, err = mustNew(t, vosk.Settings{URL: "ws://" + addr}).Stream(t.Context())
	if err == nil || !strings.Contains(err.Error(), "Verbindung zum Server fehlgeschlagen") {
		t.Errorf("err = %v", err)
	}
}

// Failures mid-stream close Results with a clear error that holds nothing the caller said,
// although the partials before them did.
func TestStreamFailures(t *testing.T) {
	partials := []string{`{"partial" : "ich brauche ein folgerezept"}`, `{"partial" : "ich brauche ein folgerezept für ramipril"}`}
	tests := []struct {
		name   string
		script vosktest.Script
		want   string
		check  func(error) bool
	}{
		{"hang-up", vosktest.Script{Replies: partials, HangUpAfter: 3}, "Verbindung zum Server unterbrochen", nil},
		{"internal error", vosktest.Script{Replies: partials, CloseAfter: 3, CloseCode: websocket.StatusInternalError},
			"mit einem Fehler beendet", func(err error) bool {
				var ce *vosk.CloseError
				return errors.As(err, &ce) && ce.Code == 1011
			}},
		{"normal close before the end", vosktest.Script{Replies: partials, CloseAfter: 3, CloseCode: websocket.StatusNormalClosure},
			"vorzeitig beendet", nil},
		{"malformed JSON", vosktest.Script{Replies: append(partials, `{"partial" : "ich brauche ein folgerezept für ramipril fünf`)},
			"nicht lesbar", nil},
		{"not an answer", vosktest.Script{Replies: append(partials, `{"text_de" : "ich brauche ein folgerezept"}`)},
			"ohne Ergebnis", nil},
		{"wrong type", vosktest.Script{Replies: append(partials, `{"partial" : ["ramipril"]}`)},
			"nicht lesbar", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := vosktest.NewServer(t, tc.script)
			st := mustStream(t, t.Context(), srv, 0)
			go func() {
				for _, f := range speechtest.Frames(50) {
					if st.Write(f) != nil {
						return
					}
				}
			}()
			got := speechtest.Collect(t, st)
			if len(got) != 2 || got[1].Text != "ich brauche ein folgerezept für ramipril" {
				t.Errorf("results = %+v; want the two partials", got)
			}
			err := st.Err()
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errs.Is(err, errs.Internal) {
				t.Fatalf("Err = %v; want an internal error with %q", err, tc.want)
			}
			if tc.check != nil && !tc.check(err) {
				t.Errorf("Err = %#v", err)
			}
			noTranscript(t, err)
			if err := st.Write(speechtest.Frames(1)[0]); err == nil {
				t.Error("Write after the failure succeeded")
			}
		})
	}
}

func TestProvider(t *testing.T) {
	r := mustNew(t, vosk.Settings{URL: "ws://localhost:2700"})
	want := speech.Provider{Name: "vosk", Local: true, EUResidency: true, ZeroRetention: true}
	if diff := cmp.Diff(want, r.Provider()); diff != "" {
		t.Errorf("Provider (-want +got):\n%s", diff)
	}
}

func TestSettingsValidate(t *testing.T) {
	tests := []struct {
		name  string
		s     vosk.Settings
		field string // "" when valid
	}{
		{"localhost", vosk.Settings{URL: "ws://localhost:2700"}, ""},
		{"127.0.0.1", vosk.Settings{URL: "ws://127.0.0.1:2700"}, ""},
		{"IPv6 loopback", vosk.Settings{URL: "ws://[::1]:2700"}, ""},
		{"wss elsewhere", vosk.Settings{URL: "wss://vosk.praxis-weber.de/asr"}, ""},
		{"https elsewhere", vosk.Settings{URL: "https://vosk.praxis-weber.de"}, ""},
		{"timeout", vosk.Settings{URL: "ws://localhost:2700", Timeout: 10 * time.Second}, ""},
		{"empty", vosk.Settings{}, "url"},
		{"plain ws on the LAN", vosk.Settings{URL: "ws://192.168.1.20:2700"}, "url"},
		{"plain ws to a host", vosk.Settings{URL: "ws://vosk.praxis.lan:2700"}, "url"},
		{"localhost look-alike", vosk.Settings{URL: "ws://localhost.example.org:2700"}, "url"},
		{"other scheme", vosk.Settings{URL: "ftp://localhost:2700"}, "url"},
		{"no scheme", vosk.Settings{URL: "localhost:2700"}, "url"},
		{"credentials", vosk.Settings{URL: "wss://u:p@vosk.example.org"}, "url"},
		{"query", vosk.Settings{URL: "wss://vosk.example.org/?x=1"}, "url"},
		{"negative timeout", vosk.Settings{URL: "ws://localhost:2700", Timeout: -1}, "timeout"},
		{"long timeout", vosk.Settings{URL: "ws://localhost:2700", Timeout: time.Hour}, "timeout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := vosk.New(tc.s)
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
