package speechapi_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/audio"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/speech"
	"github.com/tresen/tresen/internal/speechapi"
)

const callerText = "Frau Anna Müller, Ihr Termin ist am 12. März um 9:30 Uhr bei Dr. Weber."

// server is a fake Piper/OpenAI speech endpoint. It records each request and answers with
// respond, which writes the audio in pieces.
type server struct {
	*httptest.Server
	mu       sync.Mutex
	requests []recorded
}

type recorded struct {
	Method, Path string
	Header       http.Header
	Body         map[string]any
}

func newServer(t *testing.T, respond func(w http.ResponseWriter, r *http.Request)) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		rec := recorded{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone()}
		if err := json.Unmarshal(raw, &rec.Body); err != nil {
			t.Errorf("request body is not JSON: %v", err)
		}
		s.mu.Lock()
		s.requests = append(s.requests, rec)
		s.mu.Unlock()
		respond(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) only(t *testing.T) recorded {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.requests) != 1 {
		t.Fatalf("server got %d requests, want 1", len(s.requests))
	}
	return s.requests[0]
}

func (s *server) settings() speechapi.Settings {
	return speechapi.Settings{BaseURL: s.URL, Model: "piper", Voice: "de_DE-thorsten-high", APIKey: "test-key"}
}

// sine is amplitude·sin(2π·freq·t) at rate for d.
func sine(rate int, freq float64, d time.Duration, amplitude float64) []int16 {
	n := int(int64(rate) * int64(d) / int64(time.Second))
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(amplitude * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return out
}

func le(pcm []int16) []byte {
	b := make([]byte, 2*len(pcm))
	for i, s := range pcm {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(s))
	}
	return b
}

// wavHeader is what a streaming server writes: the sizes are unknown, so 0xFFFFFFFF, and
// a LIST chunk before "data" as some writers add.
func wavHeader(rate int) []byte {
	var b bytes.Buffer
	w := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	w(uint32(0xFFFFFFFF))
	b.WriteString("WAVEfmt ")
	w(uint32(16))
	w(uint16(1))          // PCM
	w(uint16(1))          // mono
	w(uint32(rate))       // sample rate
	w(uint32(rate * 2))   // byte rate
	w(uint16(2))          // block align
	w(uint16(16))         // bits
	b.WriteString("LIST") // a chunk to skip
	w(uint32(4))          //
	b.WriteString("INFO") //
	b.WriteString("data") //
	w(uint32(0xFFFFFFFF)) // unknown length
	return b.Bytes()
}

// rms is the root mean square of pcm, skipping the filter's edges.
func rms(pcm []int16) float64 {
	if len(pcm) > 200 {
		pcm = pcm[100 : len(pcm)-100]
	}
	var sum float64
	for _, s := range pcm {
		sum += float64(s) * float64(s)
	}
	return math.Sqrt(sum / float64(len(pcm)))
}

// collector gathers what Speak hands out.
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

func mustNew(t *testing.T, s speechapi.Settings) *speechapi.Voice {
	t.Helper()
	v, err := speechapi.New(s)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return v
}

func TestSpeakStreamsWAV(t *testing.T) {
	c := newCollector()
	tone := sine(24000, 440, 600*time.Millisecond, 8000)
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "audio/wav")
		w.Write(wavHeader(24000))
		w.Write(le(tone[:7200])) // 300 ms
		w.(http.Flusher).Flush()
		// The rest comes only once the client has handed the first audio out: streaming.
		select {
		case <-c.first:
		case <-time.After(5 * time.Second):
			t.Error("no audio handed out before the server finished")
		}
		w.Write(le(tone[7200:]))
	})
	if err := mustNew(t, srv.settings()).Speak(t.Context(), callerText, c.out); err != nil {
		t.Fatalf("Speak: %v", err)
	}
	if len(c.chunks) < 2 {
		t.Errorf("audio came in %d chunks, want it streamed in several", len(c.chunks))
	}
	got := c.all()
	if want := 4800; math.Abs(float64(len(got)-want)) > 40 {
		t.Errorf("got %d samples at 8 kHz, want about %d (600 ms)", len(got), want)
	}
	if r := rms(got); math.Abs(r-8000/math.Sqrt2) > 300 {
		t.Errorf("RMS of the 440 Hz tone = %.0f, want about %.0f", r, 8000/math.Sqrt2)
	}

	req := srv.only(t)
	if req.Method != http.MethodPost || req.Path != "/v1/audio/speech" {
		t.Errorf("request = %s %s, want POST /v1/audio/speech", req.Method, req.Path)
	}
	if got := req.Header.Get("Authorization"); got != "Bearer test-key" {
		t.Errorf("Authorization = %q", got)
	}
	if got := req.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q", got)
	}
	want := map[string]any{"model": "piper", "input": callerText, "voice": "de_DE-thorsten-high", "response_format": "wav"}
	if diff := cmp.Diff(want, req.Body); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
}

func TestSpeakPCMSplitMidSample(t *testing.T) {
	samples := sine(24000, 1000, 300*time.Millisecond, 10000)
	tone := le(samples)
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		// Pieces of odd length, so samples straddle them.
		for i := 0; i < len(tone); i += 1001 {
			w.Write(tone[i:min(i+1001, len(tone))])
			w.(http.Flusher).Flush()
		}
	})
	s := srv.settings()
	s.BaseURL += "/v1/"
	s.Format = speechapi.FormatPCM
	c := newCollector()
	if err := mustNew(t, s).Speak(t.Context(), callerText, c.out); err != nil {
		t.Fatalf("Speak: %v", err)
	}
	got := c.all()
	if want := 2400; math.Abs(float64(len(got)-want)) > 40 {
		t.Errorf("got %d samples, want about %d", len(got), want)
	}
	if r := rms(got); math.Abs(r-10000/math.Sqrt2) > 400 {
		t.Errorf("RMS of the 1 kHz tone = %.0f, want about %.0f: samples split across reads were misread", r, 10000/math.Sqrt2)
	}
	// Converted piece by piece as it arrived, the audio is the same as converted at once.
	if whole, _ := audio.Resample(samples, 24000, 8000); !slices.Equal(got, whole) {
		t.Errorf("audio converted in pieces differs from the audio converted at once")
	}
	req := srv.only(t)
	if req.Path != "/v1/audio/speech" || req.Body["response_format"] != "pcm" {
		t.Errorf("request %s with format %v", req.Path, req.Body["response_format"])
	}
}

func TestSpeakWAVAtTelephoneRate(t *testing.T) {
	tone := sine(8000, 440, 200*time.Millisecond, 5000)
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write(wavHeader(8000))
		w.Write(le(tone))
	})
	c := newCollector()
	if err := mustNew(t, srv.settings()).Speak(t.Context(), callerText, c.out); err != nil {
		t.Fatalf("Speak: %v", err)
	}
	if diff := cmp.Diff(tone, c.all()); diff != "" {
		t.Errorf("8 kHz audio changed on the way (-want +got):\n%s", diff)
	}
}

func TestSpeakHTTPErrors(t *testing.T) {
	for _, code := range []int{http.StatusUnauthorized, http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusTemporaryRedirect} {
		t.Run(http.StatusText(code), func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Location", "https://elsewhere.example/")
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(code)
				// Servers like to echo the input in their errors.
				json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": "could not speak: " + callerText}})
			})
			err := mustNew(t, srv.settings()).Speak(t.Context(), callerText, newCollector().out)
			var se *speechapi.StatusError
			if !errors.As(err, &se) || se.StatusCode != code {
				t.Fatalf("err = %v, want a StatusError %d", err, code)
			}
			checkClean(t, err)
		})
	}
}

// checkClean asserts that err is internal and carries no patient text.
func checkClean(t *testing.T, err error) {
	t.Helper()
	if !errs.Is(err, errs.Internal) {
		t.Errorf("kind = %v, want internal", errs.KindOf(err))
	}
	for _, word := range []string{"Müller", "Termin", "Weber"} {
		if strings.Contains(err.Error(), word) {
			t.Errorf("error %q contains the text", err)
		}
	}
}

func TestSpeakCancelStops(t *testing.T) {
	served := make(chan struct{})
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		defer close(served)
		w.Write(wavHeader(24000))
		w.Write(le(sine(24000, 440, 100*time.Millisecond, 3000)))
		w.(http.Flusher).Flush()
		<-r.Context().Done() // a long sentence still being synthesised
	})
	ctx, cancel := context.WithCancel(t.Context())
	start := time.Now()
	err := mustNew(t, srv.settings()).Speak(ctx, callerText, func([]int16) error {
		cancel() // barge-in: the caller speaks
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Speak returned after %s", d)
	}
	select {
	case <-served:
	case <-time.After(2 * time.Second):
		t.Error("the request to the server was not ended")
	}
}

func TestSpeakOutputError(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write(wavHeader(16000))
		w.Write(le(sine(16000, 440, 100*time.Millisecond, 3000)))
	})
	hungUp := errors.New("call ended")
	err := mustNew(t, srv.settings()).Speak(t.Context(), callerText, func([]int16) error { return hungUp })
	if !errors.Is(err, hungUp) {
		t.Fatalf("err = %v, want the output's error", err)
	}
}

func TestSpeakStalledServer(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write(wavHeader(24000))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	s := srv.settings()
	s.Timeout = 200 * time.Millisecond
	start := time.Now()
	err := mustNew(t, s).Speak(t.Context(), callerText, newCollector().out)
	if err == nil || !strings.Contains(err.Error(), "Zeitgrenze") {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("timed out after %s", d)
	}
	checkClean(t, err)
}

func TestSpeakClosedMidStream(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write(wavHeader(24000))
		w.Write(le(sine(24000, 440, 100*time.Millisecond, 3000)))
		w.(http.Flusher).Flush()
		// The server dies: the chunked body never ends properly.
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	})
	c := newCollector()
	err := mustNew(t, srv.settings()).Speak(t.Context(), callerText, c.out)
	if err == nil || !strings.Contains(err.Error(), "abgebrochen") {
		t.Fatalf("err = %v, want the connection reported broken", err)
	}
	checkClean(t, err)
}

func TestSpeakMalformedWAV(t *testing.T) {
	for name, body := range map[string][]byte{
		"json":   []byte(`{"detail":"voice not found"}`),
		"stereo": append(bytes.Replace(wavHeader(24000), []byte{1, 0, 1, 0}, []byte{1, 0, 2, 0}, 1), 0, 0, 0, 0),
		"8-bit":  bytes.Replace(wavHeader(24000), []byte{2, 0, 16, 0}, []byte{1, 0, 8, 0}, 1),
		"empty":  nil,
	} {
		t.Run(name, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) { w.Write(body) })
			err := mustNew(t, srv.settings()).Speak(t.Context(), callerText, newCollector().out)
			if err == nil || !strings.Contains(err.Error(), "WAV") {
				t.Fatalf("err = %v, want the answer refused as WAV", err)
			}
			checkClean(t, err)
		})
	}
}

func TestSpeakRefusesOverlongText(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) { t.Error("request sent") })
	err := mustNew(t, srv.settings()).Speak(t.Context(), strings.Repeat("a", speechapi.MaxText+1), newCollector().out)
	if !errs.Is(err, errs.Invalid) {
		t.Fatalf("err = %v, want invalid", err)
	}
}

func TestSettings(t *testing.T) {
	ok := speechapi.Settings{BaseURL: "http://127.0.0.1:5000", Model: "piper", Voice: "de_DE-thorsten-high"}
	for name, tc := range map[string]struct {
		mod       func(*speechapi.Settings)
		field     string
		wantLocal bool
	}{
		"loopback http":            {mod: func(*speechapi.Settings) {}, wantLocal: true},
		"localhost":                {mod: func(s *speechapi.Settings) { s.BaseURL = "http://localhost:5000/v1" }, wantLocal: true},
		"private https":            {mod: func(s *speechapi.Settings) { s.BaseURL = "https://10.1.2.3" }, wantLocal: true},
		"private http":             {mod: func(s *speechapi.Settings) { s.BaseURL = "http://192.168.1.20:5000" }, field: "base_url"},
		"remote unconfirmed":       {mod: func(s *speechapi.Settings) { s.BaseURL = "https://tts.example.de" }, field: "eu_residency"},
		"remote no zero retention": {mod: func(s *speechapi.Settings) { s.BaseURL = "https://tts.example.de"; s.EUResidency = true }, field: "zero_retention"},
		"remote confirmed": {mod: func(s *speechapi.Settings) {
			s.BaseURL, s.EUResidency, s.ZeroRetention = "https://tts.example.de", true, true
		}},
		"remote http":    {mod: func(s *speechapi.Settings) { s.BaseURL = "http://tts.example.de" }, field: "base_url"},
		"credentials":    {mod: func(s *speechapi.Settings) { s.BaseURL = "https://u:p@tts.example.de" }, field: "base_url"},
		"query":          {mod: func(s *speechapi.Settings) { s.BaseURL = "http://127.0.0.1:5000?x=1" }, field: "base_url"},
		"no voice":       {mod: func(s *speechapi.Settings) { s.Voice = " " }, field: "voice"},
		"no model":       {mod: func(s *speechapi.Settings) { s.Model = "" }, field: "model"},
		"key with space": {mod: func(s *speechapi.Settings) { s.APIKey = "a b" }, field: "api_key"},
		"format":         {mod: func(s *speechapi.Settings) { s.Format = "mp3" }, field: "format"},
		"pcm rate":       {mod: func(s *speechapi.Settings) { s.Format, s.SampleRate = "pcm", 4000 }, field: "sample_rate"},
		"timeout":        {mod: func(s *speechapi.Settings) { s.Timeout = time.Hour }, field: "timeout"},
	} {
		t.Run(name, func(t *testing.T) {
			s := ok
			tc.mod(&s)
			v, err := speechapi.New(s)
			if tc.field != "" {
				var e *errs.Error
				if !errors.As(err, &e) || e.Kind != errs.Invalid || e.Field != tc.field {
					t.Fatalf("New = %v, want invalid %s", err, tc.field)
				}
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			want := speech.Provider{Name: "speechapi", Local: tc.wantLocal, EUResidency: true, ZeroRetention: true}
			if diff := cmp.Diff(want, v.Provider()); diff != "" {
				t.Errorf("provider (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSettingsHideKey(t *testing.T) {
	s := speechapi.Settings{BaseURL: "https://tts.example.de", APIKey: "sk-secret"}
	for _, got := range []string{s.String(), s.GoString(), s.LogValue().String()} {
		if strings.Contains(got, "sk-secret") {
			t.Errorf("%q shows the key", got)
		}
	}
}
