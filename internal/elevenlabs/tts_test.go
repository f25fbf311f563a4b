package elevenlabs_test

import (
	"context"
	"errors"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/audio"
	"github.com/tresen/tresen/internal/elevenlabs"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/speech"
)

const callerText = "Frau Anna Müller, Ihr Termin ist am Montag um 9:30 Uhr bei Dr. Weber."

type collector struct {
	mu     sync.Mutex
	chunks [][]int16
	first  chan struct{}
}

func newCollector() *collector { return &collector{first: make(chan struct{})} }

func (c *collector) out(pcm []int16) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.chunks) == 0 {
		close(c.first)
	}
	c.chunks = append(c.chunks, pcm)
	return nil
}

func (c *collector) all() []int16 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var all []int16
	for _, ch := range c.chunks {
		all = append(all, ch...)
	}
	return all
}

func mustVoice(t *testing.T, s elevenlabs.Settings) *elevenlabs.Voice {
	t.Helper()
	v, err := elevenlabs.NewVoice(s)
	if err != nil {
		t.Fatalf("NewVoice: %v", err)
	}
	return v
}

// ttsServer reads the three client messages of stream-input and records them, then
// answers with the audio pieces, the second only once the client handed the first out.
func ttsServer(t *testing.T, c *collector, pieces [][]byte, got *[]map[string]any) *fake {
	return newFake(t, func(w http.ResponseWriter, r *http.Request) {
		conn := accept(t, w, r)
		if conn == nil {
			return
		}
		defer conn.CloseNow()
		for range 3 {
			*got = append(*got, readJSON(t, conn, r))
		}
		for i, p := range pieces {
			if i == 1 {
				select {
				case <-c.first:
				case <-time.After(5 * time.Second):
					t.Error("no audio handed out before the server finished")
				}
			}
			// Recorded-looking: audio with its alignment.
			writeJSON(conn, r, map[string]any{
				"audio":               b64(p),
				"isFinal":             nil,
				"normalizedAlignment": map[string]any{"charStartTimesMs": []int{0, 70}, "charDurationsMs": []int{70, 50}, "chars": []string{"F", "r"}},
				"alignment":           map[string]any{"charStartTimesMs": []int{0, 70}, "charDurationsMs": []int{70, 50}, "chars": []string{"F", "r"}},
			})
		}
		writeJSON(conn, r, map[string]any{"audio": nil, "isFinal": true, "normalizedAlignment": nil, "alignment": nil})
		conn.Close(websocket.StatusNormalClosure, "")
	})
}

func TestSpeakStreams(t *testing.T) {
	c := newCollector()
	tone := sine(8000, 440, 600*time.Millisecond, 8000)
	var msgs []map[string]any
	srv := ttsServer(t, c, [][]byte{le(tone[:2400]), le(tone[2400:])}, &msgs)
	v := mustVoice(t, srv.settings())
	if err := v.Speak(t.Context(), callerText, c.out); err != nil {
		t.Fatalf("Speak: %v", err)
	}
	if len(c.chunks) != 2 {
		t.Errorf("audio came in %d chunks, want 2", len(c.chunks))
	}
	if diff := cmp.Diff(tone, c.all()); diff != "" {
		t.Errorf("audio (-want +got):\n%s", diff)
	}

	req := srv.only(t)
	if req.URL.Path != "/v1/text-to-speech/Pr4xisWeberKl0n/stream-input" {
		t.Errorf("path = %s", req.URL.Path)
	}
	if got := req.Header.Get("xi-api-key"); got != "xi-test-key" {
		t.Errorf("xi-api-key = %q", got)
	}
	wantQuery := map[string][]string{"model_id": {"eleven_flash_v2_5"}, "output_format": {"pcm_8000"}, "auto_mode": {"true"}, "enable_logging": {"false"}}
	if diff := cmp.Diff(wantQuery, map[string][]string(req.URL.Query())); diff != "" {
		t.Errorf("query (-want +got):\n%s", diff)
	}
	wantMsgs := []map[string]any{
		{"text": " ", "voice_settings": map[string]any{"stability": 0.5, "similarity_boost": 0.75, "speed": 1.0}},
		{"text": callerText + " "},
		{"text": ""},
	}
	if diff := cmp.Diff(wantMsgs, msgs); diff != "" {
		t.Errorf("client messages (-want +got):\n%s", diff)
	}
}

func TestSpeakPCM16000(t *testing.T) {
	c := newCollector()
	tone := sine(16000, 1000, 500*time.Millisecond, 10000)
	var msgs []map[string]any
	b := le(tone)
	// Pieces of odd length: samples straddle messages.
	srv := ttsServer(t, c, [][]byte{b[:3001], b[3001:]}, &msgs)
	s := srv.settings()
	s.OutputFormat = elevenlabs.PCM16000
	s.Stability, s.SimilarityBoost, s.Speed = 0.3, 0.9, 1.1
	if err := mustVoice(t, s).Speak(t.Context(), callerText, c.out); err != nil {
		t.Fatalf("Speak: %v", err)
	}
	got := c.all()
	if math.Abs(float64(len(got)-4000)) > 40 {
		t.Errorf("got %d samples, want about 4000 (500 ms at 8 kHz)", len(got))
	}
	if r := rms(got); math.Abs(r-10000/math.Sqrt2) > 300 {
		t.Errorf("RMS of the 1 kHz tone = %.0f, want about %.0f", r, 10000/math.Sqrt2)
	}
	// Converted message by message, the audio is the same as converted at once.
	if whole, _ := audio.Resample(tone, 16000, 8000); !slices.Equal(got, whole) {
		t.Errorf("audio converted in pieces differs from the audio converted at once")
	}
	if q := srv.only(t).URL.Query().Get("output_format"); q != "pcm_16000" {
		t.Errorf("output_format = %q", q)
	}
	if diff := cmp.Diff(map[string]any{"stability": 0.3, "similarity_boost": 0.9, "speed": 1.1}, msgs[0]["voice_settings"]); diff != "" {
		t.Errorf("voice settings (-want +got):\n%s", diff)
	}
}

func TestSpeakULaw(t *testing.T) {
	c := newCollector()
	var msgs []map[string]any
	// µ-law: 0xFF and 0x7F are zero, 0x80 and 0x00 the extremes.
	srv := ttsServer(t, c, [][]byte{{0xFF, 0x80}, {0x00, 0x7F, 0xFE, 0xEF}}, &msgs)
	s := srv.settings()
	s.OutputFormat = elevenlabs.ULaw8000
	if err := mustVoice(t, s).Speak(t.Context(), callerText, c.out); err != nil {
		t.Fatalf("Speak: %v", err)
	}
	if diff := cmp.Diff([]int16{0, 32124, -32124, 0, 8, 132}, c.all()); diff != "" {
		t.Errorf("decoded µ-law (-want +got):\n%s", diff)
	}
}

func TestSpeakHandshakeRefused(t *testing.T) {
	for _, code := range []int{http.StatusUnauthorized, http.StatusTooManyRequests, http.StatusInternalServerError} {
		t.Run(http.StatusText(code), func(t *testing.T) {
			srv := newFake(t, func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, `{"detail":{"status":"invalid_api_key","message":"Invalid API key"}}`, code)
			})
			err := mustVoice(t, srv.settings()).Speak(t.Context(), callerText, newCollector().out)
			var se *elevenlabs.StatusError
			if !errors.As(err, &se) || se.StatusCode != code {
				t.Fatalf("err = %v, want StatusError %d", err, code)
			}
			checkClean(t, err)
		})
	}
}

// serve reads the client's three messages and then runs script.
func serve(t *testing.T, script func(conn *websocket.Conn, r *http.Request)) *fake {
	return newFake(t, func(w http.ResponseWriter, r *http.Request) {
		conn := accept(t, w, r)
		if conn == nil {
			return
		}
		defer conn.CloseNow()
		for range 3 {
			readJSON(t, conn, r)
		}
		script(conn, r)
	})
}

func TestSpeakFailures(t *testing.T) {
	piece := b64(le(sine(8000, 440, 100*time.Millisecond, 3000)))
	for name, tc := range map[string]struct {
		script func(conn *websocket.Conn, r *http.Request)
		want   string // in the error
		code   string // ServerError code, if any
	}{
		"error message": {
			script: func(conn *websocket.Conn, r *http.Request) {
				writeJSON(conn, r, map[string]any{"message": "Quota exceeded for: " + callerText, "error": "quota_exceeded", "code": 1008})
				<-r.Context().Done()
			},
			want: "meldet einen Fehler", code: "quota_exceeded",
		},
		"policy close": {
			script: func(conn *websocket.Conn, r *http.Request) {
				writeJSON(conn, r, map[string]any{"audio": piece})
				conn.Close(websocket.StatusPolicyViolation, "Invalid voice: "+callerText)
			},
			want: "beendet", code: "close_1008",
		},
		"malformed json": {
			script: func(conn *websocket.Conn, r *http.Request) {
				conn.Write(r.Context(), websocket.MessageText, []byte(`{"audio": "AAAA`))
				<-r.Context().Done()
			},
			want: "nicht lesbar",
		},
		"bad base64": {
			script: func(conn *websocket.Conn, r *http.Request) {
				writeJSON(conn, r, map[string]any{"audio": "not base64!"})
				<-r.Context().Done()
			},
			want: "nicht lesbar",
		},
		"binary message": {
			script: func(conn *websocket.Conn, r *http.Request) {
				conn.Write(r.Context(), websocket.MessageBinary, []byte{1, 2, 3})
				<-r.Context().Done()
			},
			want: "unerwartete Nachricht",
		},
		"closed mid-stream": {
			script: func(conn *websocket.Conn, r *http.Request) {
				writeJSON(conn, r, map[string]any{"audio": piece})
				time.Sleep(50 * time.Millisecond)
				conn.CloseNow() // no close frame: the server died
			},
			want: "unterbrochen",
		},
		"silent server": {
			script: func(conn *websocket.Conn, r *http.Request) { <-r.Context().Done() },
			want:   "Zeitgrenze",
		},
	} {
		t.Run(name, func(t *testing.T) {
			srv := serve(t, tc.script)
			s := srv.settings()
			s.Timeout = 300 * time.Millisecond
			err := mustVoice(t, s).Speak(t.Context(), callerText, newCollector().out)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if tc.code != "" {
				var se *elevenlabs.ServerError
				if !errors.As(err, &se) || se.Code != tc.code {
					t.Errorf("err = %v, want ServerError %s", err, tc.code)
				}
			}
			checkClean(t, err)
		})
	}
}

func TestSpeakCancelStops(t *testing.T) {
	closed := make(chan struct{})
	srv := serve(t, func(conn *websocket.Conn, r *http.Request) {
		writeJSON(conn, r, map[string]any{"audio": b64(le(sine(8000, 440, 100*time.Millisecond, 3000)))})
		conn.Read(r.Context()) // until the client goes
		close(closed)
	})
	ctx, cancel := context.WithCancel(t.Context())
	start := time.Now()
	err := mustVoice(t, srv.settings()).Speak(ctx, callerText, func([]int16) error {
		cancel() // barge-in
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Speak returned after %s", d)
	}
	select {
	case <-closed:
	case <-time.After(2 * time.Second):
		t.Error("the connection to ElevenLabs stayed open")
	}
}

func TestSpeakOutputError(t *testing.T) {
	srv := serve(t, func(conn *websocket.Conn, r *http.Request) {
		writeJSON(conn, r, map[string]any{"audio": b64(le(sine(8000, 440, 100*time.Millisecond, 3000)))})
		conn.Read(r.Context())
	})
	hungUp := errors.New("call ended")
	err := mustVoice(t, srv.settings()).Speak(t.Context(), callerText, func([]int16) error { return hungUp })
	if !errors.Is(err, hungUp) {
		t.Fatalf("err = %v, want the output's error", err)
	}
}

func TestSettings(t *testing.T) {
	ok := elevenlabs.Settings{APIKey: "xi-key", VoiceID: "21m00Tcm4TlvDq8ikWAM", ZeroRetention: true}
	for name, tc := range map[string]struct {
		mod   func(*elevenlabs.Settings)
		field string
	}{
		"eu default":          {mod: func(*elevenlabs.Settings) {}},
		"eu explicit":         {mod: func(s *elevenlabs.Settings) { s.BaseURL = elevenlabs.EUURL + "/" }},
		"global":              {mod: func(s *elevenlabs.Settings) { s.BaseURL = elevenlabs.GlobalURL }, field: "base_url"},
		"global even if told": {mod: func(s *elevenlabs.Settings) { s.BaseURL, s.EUResidency = elevenlabs.GlobalURL, true }, field: "base_url"},
		"private deployment":  {mod: func(s *elevenlabs.Settings) { s.BaseURL, s.EUResidency = "wss://tts.praxis-weber.de", true }},
		"private unconfirmed": {mod: func(s *elevenlabs.Settings) { s.BaseURL = "wss://tts.praxis-weber.de" }, field: "base_url"},
		"no zero retention":   {mod: func(s *elevenlabs.Settings) { s.ZeroRetention = false }, field: "zero_retention"},
		"plain ws remote":     {mod: func(s *elevenlabs.Settings) { s.BaseURL = "ws://api.eu.residency.elevenlabs.io" }, field: "base_url"},
		"https scheme":        {mod: func(s *elevenlabs.Settings) { s.BaseURL = "https://api.eu.residency.elevenlabs.io" }, field: "base_url"},
		"no key":              {mod: func(s *elevenlabs.Settings) { s.APIKey = "" }, field: "api_key"},
		"voice path":          {mod: func(s *elevenlabs.Settings) { s.VoiceID = "../../v1/user" }, field: "voice_id"},
		"model":               {mod: func(s *elevenlabs.Settings) { s.Model = "x&y=1" }, field: "model"},
		"format":              {mod: func(s *elevenlabs.Settings) { s.OutputFormat = "mp3_44100_128" }, field: "output_format"},
		"language":            {mod: func(s *elevenlabs.Settings) { s.Language = "de-DE" }, field: "language"},
		"speed":               {mod: func(s *elevenlabs.Settings) { s.Speed = 2 }, field: "speed"},
		"stability":           {mod: func(s *elevenlabs.Settings) { s.Stability = 1.5 }, field: "stability"},
		"timeout":             {mod: func(s *elevenlabs.Settings) { s.Timeout = time.Hour }, field: "timeout"},
	} {
		t.Run(name, func(t *testing.T) {
			s := ok
			tc.mod(&s)
			v, err := elevenlabs.NewVoice(s)
			if tc.field != "" {
				var e *errs.Error
				if !errors.As(err, &e) || e.Kind != errs.Invalid || e.Field != tc.field {
					t.Fatalf("NewVoice = %v, want invalid %s", err, tc.field)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewVoice: %v", err)
			}
			if diff := cmp.Diff(speech.Provider{Name: "elevenlabs", EUResidency: true, ZeroRetention: true}, v.Provider()); diff != "" {
				t.Errorf("provider (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := elevenlabs.NewVoice(elevenlabs.Settings{APIKey: "k", ZeroRetention: true}); !errs.Is(err, errs.Invalid) {
		t.Errorf("a Voice without a voice id: %v", err)
	}
	s := ok
	s.APIKey = "xi-secret"
	for _, got := range []string{s.String(), s.GoString(), s.LogValue().String()} {
		if strings.Contains(got, "xi-secret") {
			t.Errorf("%q shows the key", got)
		}
	}
}
