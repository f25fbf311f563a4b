package azurespeech_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/azurespeech"
	"github.com/tresen/tresen/internal/azurespeech/azuretest"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/speech"
	"github.com/tresen/tresen/internal/speech/speechtest"
)

// The caller's words, which no error may quote.
var callerWords = []string{"termin", "zwölften", "ramipril", "müller"}

func sttSettings(srv *azuretest.Server) azurespeech.Settings {
	return azurespeech.Settings{
		Region:        "germanywestcentral",
		Key:           "azure-test-key",
		ZeroRetention: true,
		STTEndpoint:   srv.Endpoint(),
		Timeout:       2 * time.Second,
	}
}

func mustRecognizer(t *testing.T, s azurespeech.Settings, opts ...azurespeech.Option) *azurespeech.Recognizer {
	t.Helper()
	r, err := azurespeech.NewRecognizer(s, opts...)
	if err != nil {
		t.Fatalf("NewRecognizer: %v", err)
	}
	return r
}

func mustStream(t *testing.T, ctx context.Context, s azurespeech.Settings, opts ...azurespeech.Option) speech.Stream {
	t.Helper()
	st, err := mustRecognizer(t, s, opts...).Stream(ctx)
	if err != nil {
		t.Fatalf("Stream: %v", err)
	}
	return st
}

// noTranscript fails when err quotes the caller or the key.
func noTranscript(t *testing.T, err error) {
	t.Helper()
	msg := strings.ToLower(err.Error())
	for _, w := range append(callerWords, "azure-test-key") {
		if strings.Contains(msg, w) {
			t.Errorf("error %q contains %q", err, w)
		}
	}
}

func TestStreamInterimThenFinal(t *testing.T) {
	srv := azuretest.NewServer(t, azuretest.Script{
		Auth: "azure-test-key",
		Replies: []azuretest.Msg{
			azuretest.StartDetected(5_400_000),
			azuretest.Hypothesis("ich hätte", 5_400_000, 6_000_000),
			azuretest.Hypothesis("ich hätte", 5_400_000, 6_100_000), // repeated: not delivered again
			azuretest.Hypothesis("ich hätte gern einen termin", 5_400_000, 14_000_000),
			azuretest.Phrase("Ich hätte gern einen Termin.", 0.9137, 5_400_000, 15_300_000),
			{},
			azuretest.Hypothesis("am zwölften", 21_000_000, 8_000_000),
		},
		OnEnd: []azuretest.Msg{azuretest.Phrase("Am 12.03.", 0.8421, 21_000_000, 12_000_000)},
	})
	st := mustStream(t, t.Context(), sttSettings(srv))
	audio := speechtest.Frames(40) // 800 ms
	speechtest.WriteAll(t, st, audio)
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	got := speechtest.Collect(t, st)
	if err := st.Err(); err != nil {
		t.Fatalf("Err after a normal end: %v", err)
	}
	want := []speech.Result{
		{Text: "ich hätte"},
		{Text: "ich hätte gern einen termin"},
		{Text: "Ich hätte gern einen Termin.", Final: true, Confidence: 0.9137},
		{Text: "am zwölften"},
		{Text: "Am 12.03.", Final: true, Confidence: 0.8421},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}

	conn := srv.Only(t)
	if conn.Path != azuretest.Path {
		t.Errorf("path = %q", conn.Path)
	}
	wantQuery := url.Values{"language": {"de-DE"}, "format": {"detailed"}, "profanity": {"raw"}}
	if diff := cmp.Diff(wantQuery, conn.Query); diff != "" {
		t.Errorf("query (-want +got):\n%s", diff)
	}
	if got := conn.Header.Get("Ocp-Apim-Subscription-Key"); got != "azure-test-key" {
		t.Errorf("Ocp-Apim-Subscription-Key = %q", got)
	}
	if diff := cmp.Diff([]string{"speech.config"}, conn.Texts); diff != "" {
		t.Errorf("text messages (-want +got):\n%s", diff)
	}
	source := conn.Config["context"].(map[string]any)["audio"].(map[string]any)["source"].(map[string]any)
	if source["samplerate"] != 8000.0 || source["type"] != "Phone" {
		t.Errorf("speech.config audio source = %v", source)
	}
	if len(conn.Turns) != 1 {
		t.Fatalf("%d turns, want 1", len(conn.Turns))
	}
	turn := conn.Turns[0]
	if turn.WAV.SampleRate != 8000 || turn.WAV.Channels != 1 {
		t.Errorf("WAV header declares %+v, want 8 kHz mono", turn.WAV)
	}
	if !cmp.Equal(speechtest.PCMBytes(audio), turn.Audio) {
		t.Error("audio on the wire differs from the PCM written (16-bit little-endian)")
	}
	if diff := cmp.Diff([]int{1600, 1600, 1600, 1600, 1600, 1600, 1600, 1600}, turn.Chunks); diff != "" {
		t.Errorf("audio messages (-want +got), want 100 ms each:\n%s", diff)
	}
	if !turn.Ended || conn.Late != 0 {
		t.Errorf("turn ended %t, %d late messages; want the end of the audio once", turn.Ended, conn.Late)
	}
	if err := st.Write(audio[0]); err == nil {
		t.Error("Write after Close succeeded")
	}
}

// TestStreamNoMatch: a turn in which Azure heard no words ends with a final result without
// text, and no error.
func TestStreamNoMatch(t *testing.T) {
	for _, status := range []string{"NoMatch", "InitialSilenceTimeout", "BabbleTimeout", "EndOfDictation"} {
		t.Run(status, func(t *testing.T) {
			srv := azuretest.NewServer(t, azuretest.Script{OnEnd: []azuretest.Msg{azuretest.NoMatch(status, 0, 30_000_000)}})
			st := mustStream(t, t.Context(), sttSettings(srv))
			speechtest.WriteAll(t, st, speechtest.Frames(10))
			st.Close()
			got := speechtest.Collect(t, st)
			if err := st.Err(); err != nil {
				t.Fatalf("Err: %v", err)
			}
			if diff := cmp.Diff([]speech.Result{{Final: true}}, got); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
			srv.Only(t)
		})
	}
}

func TestStreamCloseWithoutAudio(t *testing.T) {
	srv := azuretest.NewServer(t, azuretest.Script{OnEnd: []azuretest.Msg{azuretest.NoMatch("InitialSilenceTimeout", 0, 0)}})
	st := mustStream(t, t.Context(), sttSettings(srv))
	st.Close()
	if got := speechtest.Collect(t, st); len(got) != 1 || got[0].Text != "" {
		t.Errorf("results = %+v", got)
	}
	turns := srv.Only(t).Turns
	if len(turns) != 1 || !turns[0].Ended || len(turns[0].Audio) != 0 {
		t.Errorf("turns = %+v; want the WAV header and the end of the audio only", turns)
	}
}

// TestStreamCloseTwice: Close sends the end of the audio once, and answers nil again.
func TestStreamCloseTwice(t *testing.T) {
	srv := azuretest.NewServer(t, azuretest.Script{OnEnd: []azuretest.Msg{azuretest.Phrase("Ja.", 0.9, 0, 5_000_000)}})
	st := mustStream(t, t.Context(), sttSettings(srv))
	speechtest.WriteAll(t, st, speechtest.Frames(7)) // 140 ms: one message of 100 ms, 40 ms sent by Close
	for i := range 3 {
		if err := st.Close(); err != nil {
			t.Fatalf("Close #%d: %v", i+1, err)
		}
	}
	speechtest.Collect(t, st)
	if err := st.Close(); err != nil {
		t.Errorf("Close after the end: %v", err)
	}
	conn := srv.Only(t)
	if len(conn.Turns) != 1 || !conn.Turns[0].Ended || conn.Late != 0 {
		t.Errorf("turns %+v, %d late messages; want one end of the audio", conn.Turns, conn.Late)
	}
	if diff := cmp.Diff([]int{1600, 640}, conn.Turns[0].Chunks); diff != "" {
		t.Errorf("audio messages (-want +got):\n%s", diff)
	}
}

// TestStreamWriteSplits: a long write goes out in messages of 100 ms.
func TestStreamWriteSplits(t *testing.T) {
	srv := azuretest.NewServer(t, azuretest.Script{})
	st := mustStream(t, t.Context(), sttSettings(srv))
	second := make([]int16, speech.SampleRate+80)
	if err := st.Write(second); err != nil {
		t.Fatal(err)
	}
	st.Close()
	speechtest.Collect(t, st)
	chunks := srv.Only(t).Turns[0].Chunks
	if len(chunks) != 11 || chunks[0] != 1600 || chunks[9] != 1600 || chunks[10] != 160 {
		t.Errorf("audio messages = %v", chunks)
	}
}

// TestStreamNextTurn: when Azure ends a turn before the audio ended, the audio goes on in
// a new turn with a new request id and WAV header, and what comes under the old id is
// not taken for the new turn.
func TestStreamNextTurn(t *testing.T) {
	srv := azuretest.NewServer(t, azuretest.Script{
		EndTurnAfter: 3,
		Replies: []azuretest.Msg{
			azuretest.Hypothesis("ja", 0, 3_000_000),
			azuretest.Phrase("Ja.", 0.9, 0, 4_000_000),
			{},
			azuretest.Hypothesis("bitte", 0, 3_000_000),
			{Raw: "X-RequestId:0123456789ABCDEF0123456789ABCDEF\r\nPath:speech.hypothesis\r\n\r\n{\"Text\":\"müller\"}"},
		},
		OnEnd: []azuretest.Msg{azuretest.Phrase("Bitte.", 0.8, 0, 5_000_000)},
	})
	st := mustStream(t, t.Context(), sttSettings(srv))
	speechtest.WriteAll(t, st, speechtest.Frames(15)) // three messages: the service ends the turn
	deadline := time.Now().Add(5 * time.Second)
	for len(srv.Conns()[0].Turns) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("no second turn")
		}
		time.Sleep(5 * time.Millisecond)
	}
	speechtest.WriteAll(t, st, speechtest.Frames(10))
	st.Close()
	got := speechtest.Collect(t, st)
	if err := st.Err(); err != nil {
		t.Fatalf("Err: %v", err)
	}
	want := []speech.Result{
		{Text: "ja"},
		{Text: "Ja.", Final: true, Confidence: 0.9},
		{Text: "bitte"},
		{Text: "Bitte.", Final: true, Confidence: 0.8},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	turns := srv.Only(t).Turns
	if len(turns) != 2 || turns[0].RequestID == turns[1].RequestID || turns[1].WAV.SampleRate != 8000 || !turns[1].Ended {
		t.Errorf("turns = %+v; want a second turn with its own id and WAV header", turns)
	}
	if n := len(turns[0].Audio) + len(turns[1].Audio); n != 2*25*speech.FrameSize {
		t.Errorf("%d bytes of audio in the turns, want %d", n, 2*25*speech.FrameSize)
	}
}

func TestStreamToken(t *testing.T) {
	srv := azuretest.NewServer(t, azuretest.Script{Auth: "eyJ0b2tlbiI6MX0", OnEnd: []azuretest.Msg{azuretest.Phrase("Ja.", 0.9, 0, 1)}})
	token := azurespeech.WithToken(func(context.Context) (string, error) { return "eyJ0b2tlbiI6MX0", nil })
	st := mustStream(t, t.Context(), sttSettings(srv), token)
	st.Close()
	if got := speechtest.Collect(t, st); len(got) != 1 || st.Err() != nil {
		t.Fatalf("results %+v, err %v", got, st.Err())
	}
	h := srv.Only(t).Header
	if h.Get("Authorization") != "Bearer eyJ0b2tlbiI6MX0" || h.Get("Ocp-Apim-Subscription-Key") != "" {
		t.Errorf("Authorization %q, key %q; want the token only", h.Get("Authorization"), h.Get("Ocp-Apim-Subscription-Key"))
	}

	failing := azurespeech.WithToken(func(context.Context) (string, error) { return "", errors.New("token service down") })
	if _, err := mustRecognizer(t, sttSettings(srv), failing).Stream(t.Context()); err == nil || !strings.Contains(err.Error(), "Zugangstoken") {
		t.Errorf("Stream with a failing token source: %v", err)
	}
}

func TestStreamRefused(t *testing.T) {
	tests := []struct {
		name   string
		script azuretest.Script
		path   string
		status int
		want   string
	}{
		{"wrong key", azuretest.Script{Auth: "the-right-key"}, "", 401, "Schlüssel"},
		{"forbidden", azuretest.Script{Status: 403}, "", 403, "Schlüssel"},
		{"wrong path", azuretest.Script{}, "/speech/recognition/dictation/v9", 404, "Endpunkt"},
		{"too many", azuretest.Script{Status: 429}, "", 429, "zu viele"},
		{"server error", azuretest.Script{Status: 503}, "", 503, "abgelehnt"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := azuretest.NewServer(t, tc.script)
			s := sttSettings(srv)
			if tc.path != "" {
				s.STTEndpoint = strings.TrimSuffix(s.STTEndpoint, azuretest.Path) + tc.path
			}
			_, err := mustRecognizer(t, s).Stream(t.Context())
			var se *azurespeech.StatusError
			if !errors.As(err, &se) || se.StatusCode != tc.status || !strings.Contains(err.Error(), tc.want) || !errs.Is(err, errs.Internal) {
				t.Fatalf("err = %v; want an internal error with StatusError %d saying %q", err, tc.status, tc.want)
			}
			if strings.Contains(err.Error(), "Access denied") || strings.Contains(err.Error(), "refused") {
				t.Errorf("err = %v quotes the service's answer", err)
			}
			noTranscript(t, err)
		})
	}
}

func TestStreamFailures(t *testing.T) {
	interim := []azuretest.Msg{
		azuretest.Hypothesis("ich brauche ein rezept", 0, 9_000_000),
		azuretest.Hypothesis("ich brauche ein rezept für ramipril", 0, 14_000_000),
	}
	with := func(m azuretest.Msg) []azuretest.Msg { return append(interim[:2:2], m) }
	tests := []struct {
		name   string
		script azuretest.Script
		want   string
		cause  error
	}{
		{"hang-up", azuretest.Script{Replies: interim, HangUpAfter: 3}, "Verbindung zum Dienst unterbrochen", nil},
		{"error close", azuretest.Script{Replies: interim, CloseAfter: 3, CloseCode: websocket.StatusInternalError, CloseReason: "Failed on: ramipril"},
			"mit einem Fehler beendet", &azurespeech.CloseError{Code: 1011}},
		{"audio refused", azuretest.Script{Replies: interim, CloseAfter: 3, CloseCode: websocket.StatusInvalidFramePayloadData, CloseReason: "Unsupported audio format"},
			"mit einem Fehler beendet", &azurespeech.CloseError{Code: 1007}},
		{"normal close before the end", azuretest.Script{Replies: interim, CloseAfter: 3, CloseCode: websocket.StatusNormalClosure},
			"vorzeitig beendet", nil},
		{"malformed JSON", azuretest.Script{Replies: with(azuretest.Msg{Path: "speech.phrase", Body: `{"RecognitionStatus":"Success","DisplayText":"Ich brauche ein Rezept für Rami`})},
			"nicht lesbar", nil},
		{"wrong type", azuretest.Script{Replies: with(azuretest.Msg{Path: "speech.hypothesis", Body: `{"Text":["ramipril"]}`})},
			"nicht lesbar", nil},
		{"error status", azuretest.Script{Replies: with(azuretest.Msg{Path: "speech.phrase", Body: `{"RecognitionStatus":"Error","DisplayText":"ramipril"}`})},
			"Fehler bei der Erkennung", nil},
		{"too many requests", azuretest.Script{Replies: with(azuretest.Msg{Path: "speech.phrase", Body: `{"RecognitionStatus":"TooManyRequests"}`})},
			"zu viele", nil},
		{"unknown status", azuretest.Script{Replies: with(azuretest.Msg{Path: "speech.phrase", Body: `{"RecognitionStatus":"Ramipril"}`})},
			"unbekannter Erkennungsstatus", nil},
		{"no path", azuretest.Script{Replies: with(azuretest.Msg{Raw: "X-RequestId:0123456789ABCDEF0123456789ABCDEF\r\n\r\n{\"Text\":\"ramipril\"}"})},
			"ohne Path", nil},
		{"no request id", azuretest.Script{Replies: with(azuretest.Msg{Raw: "Path:speech.hypothesis\r\n\r\n{\"Text\":\"ramipril\"}"})},
			"ohne X-RequestId", nil},
		{"header without colon", azuretest.Script{Replies: with(azuretest.Msg{Raw: "Path speech.phrase\r\n\r\n{\"Text\":\"ramipril\"}"})},
			"Kopfzeile", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := azuretest.NewServer(t, tc.script)
			st := mustStream(t, t.Context(), sttSettings(srv))
			go func() {
				for _, f := range speechtest.Frames(100) {
					if st.Write(f) != nil {
						return
					}
					time.Sleep(time.Millisecond)
				}
			}()
			got := speechtest.Collect(t, st)
			if len(got) != 2 || got[1].Text != "ich brauche ein rezept für ramipril" {
				t.Errorf("results = %+v; want the two interim results", got)
			}
			err := st.Err()
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errs.Is(err, errs.Internal) {
				t.Fatalf("Err = %v; want an internal error with %q", err, tc.want)
			}
			if tc.cause != nil {
				var ce *azurespeech.CloseError
				if !errors.As(err, &ce) || !cmp.Equal(tc.cause, ce) {
					t.Errorf("cause = %#v, want %#v", ce, tc.cause)
				}
			}
			noTranscript(t, err)
			if err := st.Write(speechtest.Frames(1)[0]); err == nil {
				t.Error("Write after the failure succeeded")
			}
			if err := st.Close(); err != nil {
				t.Errorf("Close after the failure: %v", err)
			}
		})
	}
}

func TestStreamCancel(t *testing.T) {
	srv := azuretest.NewServer(t, azuretest.Script{Silent: true})
	ctx, cancel := context.WithCancel(t.Context())
	st := mustStream(t, ctx, sttSettings(srv))
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
	srv := azuretest.NewServer(t, azuretest.Script{Silent: true})
	s := sttSettings(srv)
	s.Timeout = 200 * time.Millisecond
	st := mustStream(t, t.Context(), s)
	speechtest.WriteAll(t, st, speechtest.Frames(5))
	start := time.Now()
	st.Close()
	speechtest.Collect(t, st)
	if err := st.Err(); !errors.Is(err, context.DeadlineExceeded) || !errs.Is(err, errs.Internal) {
		t.Errorf("Err = %v; want an internal error wrapping the deadline", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("ended after %s", d)
	}
}

func TestRecognizerProvider(t *testing.T) {
	srv := azuretest.NewServer(t, azuretest.Script{})
	for region, eu := range map[string]bool{"germanywestcentral": true, "westeurope": true, "swedencentral": true} {
		s := sttSettings(srv)
		s.Region = region
		want := speech.Provider{Name: "azurespeech", EUResidency: eu, ZeroRetention: true}
		if diff := cmp.Diff(want, mustRecognizer(t, s).Provider()); diff != "" {
			t.Errorf("%s: provider (-want +got):\n%s", region, diff)
		}
	}
	s := sttSettings(srv)
	s.Region = "uksouth"
	if _, err := azurespeech.NewRecognizer(s); !errs.Is(err, errs.Invalid) {
		t.Errorf("NewRecognizer outside the EU: %v", err)
	}
}
