package elevenlabs_test

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/elevenlabs"
	"github.com/tresen/tresen/internal/speech"
)

func mustRecognizer(t *testing.T, s elevenlabs.Settings) *elevenlabs.Recognizer {
	t.Helper()
	r, err := elevenlabs.NewRecognizer(s)
	if err != nil {
		t.Fatalf("NewRecognizer: %v", err)
	}
	return r
}

// frames cuts pcm into 20 ms frames, as the phone pipeline writes them.
func frames(pcm []int16) [][]int16 {
	var out [][]int16
	for i := 0; i < len(pcm); i += speech.FrameSize {
		out = append(out, pcm[i:min(i+speech.FrameSize, len(pcm))])
	}
	return out
}

// scribe is a Scribe realtime session as ElevenLabs runs it with commit_strategy=manual:
// session_started, a partial transcript as audio comes in, the committed transcript after
// the chunk that commits. It records the audio and the chunks.
type scribe struct {
	audio   []int16
	chunks  []map[string]any
	partial string
	final   string
}

func (s *scribe) handle(t *testing.T) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		conn := accept(t, w, r)
		if conn == nil {
			return
		}
		defer conn.CloseNow()
		writeJSON(conn, r, map[string]any{"message_type": "session_started", "session_id": "0f8a2c", "config": map[string]any{
			"sample_rate": 8000, "audio_format": "pcm_8000", "language_code": "de", "commit_strategy": "manual", "model_id": "scribe_v2_realtime", "enable_logging": false,
		}})
		for {
			m := readJSON(t, conn, r)
			if m == nil {
				return
			}
			s.chunks = append(s.chunks, m)
			b, err := base64.StdEncoding.DecodeString(m["audio_base_64"].(string))
			if err != nil || len(b)%2 != 0 {
				t.Errorf("audio_base_64 is not 16-bit PCM in base64")
			}
			for i := 0; i+1 < len(b); i += 2 {
				s.audio = append(s.audio, int16(binary.LittleEndian.Uint16(b[i:])))
			}
			if len(s.chunks) == 2 {
				writeJSON(conn, r, map[string]any{"message_type": "partial_transcript", "text": s.partial})
			}
			if m["commit"] == true {
				writeJSON(conn, r, map[string]any{"message_type": "committed_transcript", "text": s.final})
				conn.Read(r.Context()) // the client closes
				return
			}
		}
	}
}

func TestRecognize(t *testing.T) {
	sc := &scribe{partial: "Ich hätte gern", final: "Ich hätte gern einen Termin am Montag."}
	srv := newFake(t, sc.handle(t))
	st, err := mustRecognizer(t, srv.settings()).Stream(t.Context())
	if err != nil {
		t.Fatalf("Stream: %v", err)
	}
	said := sine(8000, 300, time.Second, 6000)
	fs := frames(said)
	for _, f := range fs[:25] {
		if err := st.Write(f); err != nil {
			t.Fatalf("Write: %v", err)
		}
	}
	// The partial result comes while the caller still speaks.
	select {
	case res := <-st.Results():
		if diff := cmp.Diff(partial("Ich hätte gern"), res); diff != "" {
			t.Errorf("partial (-want +got):\n%s", diff)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no partial result before Close")
	}
	for _, f := range fs[25:] {
		if err := st.Write(f); err != nil {
			t.Fatalf("Write: %v", err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	var got []string
	for res := range st.Results() {
		if !res.Final {
			t.Errorf("a partial after Close: %+v", res)
		}
		got = append(got, res.Text)
	}
	if err := st.Err(); err != nil {
		t.Fatalf("Err: %v", err)
	}
	if diff := cmp.Diff([]string{"Ich hätte gern einen Termin am Montag."}, got); diff != "" {
		t.Errorf("final results (-want +got):\n%s", diff)
	}

	req := srv.only(t)
	if req.URL.Path != "/v1/speech-to-text/realtime" || req.Header.Get("xi-api-key") != "xi-test-key" {
		t.Errorf("handshake %s, key %q", req.URL.Path, req.Header.Get("xi-api-key"))
	}
	wantQuery := map[string][]string{"model_id": {"scribe_v2_realtime"}, "audio_format": {"pcm_8000"}, "language_code": {"de"},
		"commit_strategy": {"manual"}, "enable_logging": {"false"}}
	if diff := cmp.Diff(wantQuery, map[string][]string(req.URL.Query())); diff != "" {
		t.Errorf("query (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(said, sc.audio); diff != "" {
		t.Errorf("audio on the wire (-want +got):\n%s", diff)
	}
	for i, c := range sc.chunks {
		last := i == len(sc.chunks)-1
		if c["message_type"] != "input_audio_chunk" || c["sample_rate"] != 8000.0 || c["commit"] != last {
			t.Errorf("chunk %d = %v %v commit=%v", i, c["message_type"], c["sample_rate"], c["commit"])
		}
	}
	if n := len(sc.chunks); n < 5 || n > 12 {
		t.Errorf("one second went out in %d chunks, want it batched to about 100 ms", n)
	}
}

func partial(text string) speech.Result { return speech.Result{Text: text} }

func TestRecognizeCloseWithoutAudio(t *testing.T) {
	srv := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		conn := accept(t, w, r)
		if conn == nil {
			return
		}
		defer conn.CloseNow()
		if _, data, err := conn.Read(r.Context()); err == nil {
			t.Errorf("client sent %s without audio", data)
		}
	})
	st, err := mustRecognizer(t, srv.settings()).Stream(t.Context())
	if err != nil {
		t.Fatalf("Stream: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for res := range st.Results() {
		t.Errorf("result %+v", res)
	}
	if err := st.Err(); err != nil {
		t.Errorf("Err = %v", err)
	}
}

func TestRecognizeNothingHeard(t *testing.T) {
	srv := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		conn := accept(t, w, r)
		if conn == nil {
			return
		}
		defer conn.CloseNow()
		for {
			m := readJSON(t, conn, r)
			if m == nil {
				return
			}
			if m["commit"] == true {
				writeJSON(conn, r, map[string]any{"message_type": "insufficient_audio_activity", "error": "Insufficient audio activity"})
				conn.Read(r.Context())
				return
			}
		}
	})
	st, err := mustRecognizer(t, srv.settings()).Stream(t.Context())
	if err != nil {
		t.Fatalf("Stream: %v", err)
	}
	st.Write(make([]int16, speech.FrameSize))
	st.Close()
	for res := range st.Results() {
		t.Errorf("result %+v", res)
	}
	if err := st.Err(); err != nil {
		t.Errorf("Err = %v, want a turn without words to end normally", err)
	}
}

func TestRecognizeFailures(t *testing.T) {
	for name, tc := range map[string]struct {
		script func(conn *websocket.Conn, r *http.Request)
		want   string
		code   string
	}{
		"auth error": {
			script: func(conn *websocket.Conn, r *http.Request) {
				writeJSON(conn, r, map[string]any{"message_type": "auth_error", "error": "Invalid API key"})
				conn.Read(r.Context())
			},
			want: "meldet einen Fehler", code: "auth_error",
		},
		"quota": {
			script: func(conn *websocket.Conn, r *http.Request) {
				readJSON(t, conn, r)
				writeJSON(conn, r, map[string]any{"message_type": "quota_exceeded", "error": "Quota exceeded"})
				conn.Read(r.Context())
			},
			want: "meldet einen Fehler", code: "quota_exceeded",
		},
		"malformed": {
			script: func(conn *websocket.Conn, r *http.Request) {
				conn.Write(r.Context(), websocket.MessageText, []byte(`{"message_type":"partial_transcript","text":`))
				conn.Read(r.Context())
			},
			want: "nicht lesbar",
		},
		"transcript without text": {
			script: func(conn *websocket.Conn, r *http.Request) {
				writeJSON(conn, r, map[string]any{"message_type": "committed_transcript"})
				conn.Read(r.Context())
			},
			want: "nicht lesbar",
		},
		"closed mid-stream": {
			script: func(conn *websocket.Conn, r *http.Request) {
				writeJSON(conn, r, map[string]any{"message_type": "partial_transcript", "text": "Ich hätte"})
				time.Sleep(50 * time.Millisecond)
				conn.CloseNow()
			},
			want: "unterbrochen",
		},
		"no final": {
			script: func(conn *websocket.Conn, r *http.Request) {
				for {
					if _, _, err := conn.Read(r.Context()); err != nil {
						return
					}
				}
			},
			want: "Zeitgrenze",
		},
	} {
		t.Run(name, func(t *testing.T) {
			srv := newFake(t, func(w http.ResponseWriter, r *http.Request) {
				conn := accept(t, w, r)
				if conn == nil {
					return
				}
				defer conn.CloseNow()
				tc.script(conn, r)
			})
			s := srv.settings()
			s.Timeout = 300 * time.Millisecond
			st, err := mustRecognizer(t, s).Stream(t.Context())
			if err != nil {
				t.Fatalf("Stream: %v", err)
			}
			for _, f := range frames(sine(8000, 300, 200*time.Millisecond, 6000)) {
				if st.Write(f) != nil {
					break
				}
			}
			st.Close()
			for range st.Results() {
			}
			err = st.Err()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Err = %v, want %q", err, tc.want)
			}
			if tc.code != "" {
				var se *elevenlabs.ServerError
				if !errors.As(err, &se) || se.Code != tc.code {
					t.Errorf("Err = %v, want ServerError %s", err, tc.code)
				}
			}
			checkClean(t, err)
			if st.Write(make([]int16, speech.FrameSize)) == nil {
				t.Error("Write succeeded on a failed stream")
			}
		})
	}
}

func TestRecognizeHandshakeRefused(t *testing.T) {
	srv := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"detail":"invalid_api_key"}`, http.StatusUnauthorized)
	})
	_, err := mustRecognizer(t, srv.settings()).Stream(t.Context())
	var se *elevenlabs.StatusError
	if !errors.As(err, &se) || se.StatusCode != http.StatusUnauthorized {
		t.Fatalf("err = %v, want StatusError 401", err)
	}
	checkClean(t, err)
}

func TestRecognizeCancel(t *testing.T) {
	srv := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		conn := accept(t, w, r)
		if conn == nil {
			return
		}
		defer conn.CloseNow()
		conn.Read(r.Context())
		conn.Read(r.Context())
	})
	ctx, cancel := context.WithCancel(t.Context())
	st, err := mustRecognizer(t, srv.settings()).Stream(ctx)
	if err != nil {
		t.Fatalf("Stream: %v", err)
	}
	cancel() // the caller hung up
	select {
	case _, ok := <-st.Results():
		if ok {
			t.Error("a result after cancel")
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Results stayed open after cancel")
	}
	if !errors.Is(st.Err(), context.Canceled) {
		t.Errorf("Err = %v, want context.Canceled", st.Err())
	}
}
