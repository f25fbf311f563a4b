package elevenlabs_test

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/tresen/tresen/internal/elevenlabs"
	"github.com/tresen/tresen/internal/errs"
)

// fake is a local server that speaks ElevenLabs' WebSocket protocols; each test scripts
// the conversation in handle. It records the handshake requests.
type fake struct {
	*httptest.Server
	mu       sync.Mutex
	requests []*http.Request
}

func newFake(t *testing.T, handle func(w http.ResponseWriter, r *http.Request)) *fake {
	t.Helper()
	f := &fake{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests = append(f.requests, r.Clone(r.Context()))
		f.mu.Unlock()
		handle(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fake) only(t *testing.T) *http.Request {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) != 1 {
		t.Fatalf("server got %d handshakes, want 1", len(f.requests))
	}
	return f.requests[0]
}

// settings point at the fake, as a private deployment the practice confirmed.
func (f *fake) settings() elevenlabs.Settings {
	return elevenlabs.Settings{
		BaseURL:       "ws" + strings.TrimPrefix(f.URL, "http"),
		APIKey:        "xi-test-key",
		VoiceID:       "Pr4xisWeberKl0n",
		EUResidency:   true,
		ZeroRetention: true,
		Timeout:       2 * time.Second,
	}
}

func accept(t *testing.T, w http.ResponseWriter, r *http.Request) *websocket.Conn {
	t.Helper()
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		t.Errorf("accept: %v", err)
		return nil
	}
	c.SetReadLimit(1 << 20)
	return c
}

func readJSON(t *testing.T, c *websocket.Conn, r *http.Request) map[string]any {
	t.Helper()
	_, data, err := c.Read(r.Context())
	if err != nil {
		t.Errorf("server read: %v", err)
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Errorf("client message is not JSON: %s", data)
	}
	return m
}

func writeJSON(c *websocket.Conn, r *http.Request, v any) error {
	b, _ := json.Marshal(v)
	return c.Write(r.Context(), websocket.MessageText, b)
}

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

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

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

// checkClean asserts that err is internal and carries no patient text.
func checkClean(t *testing.T, err error) {
	t.Helper()
	if !errs.Is(err, errs.Internal) {
		t.Errorf("kind = %v, want internal", errs.KindOf(err))
	}
	for _, word := range []string{"Müller", "Termin", "Montag", "Weber", "xi-test-key"} {
		if strings.Contains(err.Error(), word) {
			t.Errorf("error %q contains %q", err, word)
		}
	}
}
