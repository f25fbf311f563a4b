package azurespeech_test

import (
	"context"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/azurespeech"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/speech"
)

const callerText = "Frau Anna Müller, Ihr Termin ist am Montag um 9:30 Uhr bei Dr. Weber."

// server is a fake Azure Speech resource for text to speech at /cognitiveservices/v1, as
// the regional hosts serve it (recognition is azuretest's). It records every request.
type server struct {
	*httptest.Server
	mu       sync.Mutex
	requests []recorded
}

type recorded struct {
	Method, Path string
	Query        map[string][]string
	Header       http.Header
	Body         []byte
}

func newServer(t *testing.T, respond func(w http.ResponseWriter, r *http.Request)) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.requests = append(s.requests, recorded{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body})
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

func (s *server) settings() azurespeech.Settings {
	return azurespeech.Settings{
		Region:        "germanywestcentral",
		Key:           "azure-test-key",
		ZeroRetention: true,
		TTSEndpoint:   s.URL + "/cognitiveservices/v1",
		Timeout:       2 * time.Second,
	}
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

func checkClean(t *testing.T, err error) {
	t.Helper()
	if !errs.Is(err, errs.Internal) {
		t.Errorf("kind = %v, want internal", errs.KindOf(err))
	}
	for _, word := range []string{"Müller", "Termin", "Montag", "Weber", "azure-test-key"} {
		if strings.Contains(err.Error(), word) {
			t.Errorf("error %q contains %q", err, word)
		}
	}
}

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

func mustVoice(t *testing.T, s azurespeech.Settings) *azurespeech.Voice {
	t.Helper()
	v, err := azurespeech.NewVoice(s)
	if err != nil {
		t.Fatalf("NewVoice: %v", err)
	}
	return v
}

// ssmlDoc is the SSML as Azure parses it.
type ssmlDoc struct {
	XMLName xml.Name `xml:"http://www.w3.org/2001/10/synthesis speak"`
	Version string   `xml:"version,attr"`
	Lang    string   `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
	Voices  []struct {
		Name     string `xml:"name,attr"`
		Text     string `xml:",chardata"`
		Elements []struct {
			XMLName xml.Name
		} `xml:",any"`
	} `xml:"voice"`
}

func parseSSML(t *testing.T, b []byte) ssmlDoc {
	t.Helper()
	var d ssmlDoc
	if err := xml.Unmarshal(b, &d); err != nil {
		t.Fatalf("SSML does not parse: %v\n%s", err, b)
	}
	return d
}

func TestSpeakStreams(t *testing.T) {
	c := newCollector()
	tone := sine(8000, 440, 600*time.Millisecond, 8000)
	b := le(tone)
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "audio/x-wav") // what Azure sends for raw PCM
		w.Write(b[:2401])                             // odd: a sample straddles the chunks
		w.(http.Flusher).Flush()
		select {
		case <-c.first:
		case <-time.After(5 * time.Second):
			t.Error("no audio handed out before the server finished")
		}
		w.Write(b[2401:])
	})
	if err := mustVoice(t, srv.settings()).Speak(t.Context(), callerText, c.out); err != nil {
		t.Fatalf("Speak: %v", err)
	}
	if len(c.chunks) < 2 {
		t.Errorf("audio came in %d chunks, want it streamed", len(c.chunks))
	}
	if diff := cmp.Diff(tone, c.all()); diff != "" {
		t.Errorf("audio (-want +got):\n%s", diff)
	}

	req := srv.only(t)
	if req.Method != http.MethodPost || req.Path != "/cognitiveservices/v1" {
		t.Errorf("request %s %s", req.Method, req.Path)
	}
	for h, want := range map[string]string{
		"Ocp-Apim-Subscription-Key": "azure-test-key",
		"Content-Type":              "application/ssml+xml",
		"X-Microsoft-OutputFormat":  "raw-8khz-16bit-mono-pcm",
		"User-Agent":                "Tresen",
	} {
		if got := req.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	d := parseSSML(t, req.Body)
	if d.Version != "1.0" || d.Lang != "de-DE" || len(d.Voices) != 1 || d.Voices[0].Name != "de-DE-KatjaNeural" || d.Voices[0].Text != callerText {
		t.Errorf("SSML = %+v\n%s", d, req.Body)
	}
}

// TestSpeakEscapesSSML sends text that tries to become markup: another voice, an audio
// element, a break. It must arrive as text, in the practice's voice.
func TestSpeakEscapesSSML(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) { w.Write(le(make([]int16, 160))) })
	evil := `Müller & Söhne </voice><voice name='en-US-GuyNeural'>pwned</voice><audio src="https://evil.example/a.wav"/><break time='60s'/> "zitiert" 'einfach' ]]> <!-- -->`
	if err := mustVoice(t, srv.settings()).Speak(t.Context(), evil, newCollector().out); err != nil {
		t.Fatalf("Speak: %v", err)
	}
	d := parseSSML(t, srv.only(t).Body)
	if len(d.Voices) != 1 || d.Voices[0].Name != "de-DE-KatjaNeural" {
		t.Fatalf("voices = %+v", d.Voices)
	}
	if len(d.Voices[0].Elements) != 0 {
		t.Errorf("the text became elements: %+v", d.Voices[0].Elements)
	}
	if d.Voices[0].Text != evil {
		t.Errorf("text = %q, want it unchanged", d.Voices[0].Text)
	}
}

func TestSpeakHTTPErrors(t *testing.T) {
	for _, code := range []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusFound} {
		t.Run(http.StatusText(code), func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Location", "https://elsewhere.example/")
				w.WriteHeader(code)
				io.WriteString(w, "Bad SSML near: "+callerText)
			})
			err := mustVoice(t, srv.settings()).Speak(t.Context(), callerText, newCollector().out)
			var se *azurespeech.StatusError
			if !errors.As(err, &se) || se.StatusCode != code {
				t.Fatalf("err = %v, want StatusError %d", err, code)
			}
			checkClean(t, err)
		})
	}
}

func TestSpeakCancelStops(t *testing.T) {
	served := make(chan struct{})
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		defer close(served)
		w.Write(le(sine(8000, 440, 100*time.Millisecond, 3000)))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	ctx, cancel := context.WithCancel(t.Context())
	start := time.Now()
	err := mustVoice(t, srv.settings()).Speak(ctx, callerText, func([]int16) error { cancel(); return nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Speak returned after %s", d)
	}
	select {
	case <-served:
	case <-time.After(2 * time.Second):
		t.Error("the request was not ended")
	}
}

func TestSpeakStalledAndBroken(t *testing.T) {
	for name, tc := range map[string]struct {
		respond func(w http.ResponseWriter, r *http.Request)
		want    string
	}{
		"stalled": {func(w http.ResponseWriter, r *http.Request) {
			w.Write(le(make([]int16, 80)))
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}, "Zeitgrenze"},
		"no answer": {func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }, "Zeitgrenze"},
		"closed mid-stream": {func(w http.ResponseWriter, r *http.Request) {
			w.Write(le(make([]int16, 800)))
			w.(http.Flusher).Flush()
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				conn.Close()
			}
		}, "während der Antwort abgebrochen"},
	} {
		t.Run(name, func(t *testing.T) {
			srv := newServer(t, tc.respond)
			s := srv.settings()
			s.Timeout = 300 * time.Millisecond
			err := mustVoice(t, s).Speak(t.Context(), callerText, newCollector().out)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			checkClean(t, err)
		})
	}
}

func TestSettings(t *testing.T) {
	ok := azurespeech.Settings{Region: "westeurope", Key: "k", ZeroRetention: true}
	for name, tc := range map[string]struct {
		mod   func(*azurespeech.Settings)
		field string
	}{
		"eu":                {mod: func(*azurespeech.Settings) {}},
		"germany":           {mod: func(s *azurespeech.Settings) { s.Region = "germanywestcentral" }},
		"custom voice":      {mod: func(s *azurespeech.Settings) { s.Voice = "de-DE-Seraphina:DragonHDLatestNeural" }},
		"us":                {mod: func(s *azurespeech.Settings) { s.Region = "eastus" }, field: "region"},
		"switzerland":       {mod: func(s *azurespeech.Settings) { s.Region = "switzerlandnorth" }, field: "region"},
		"host injection":    {mod: func(s *azurespeech.Settings) { s.Region = "evil.example/x" }, field: "region"},
		"no zero retention": {mod: func(s *azurespeech.Settings) { s.ZeroRetention = false }, field: "zero_retention"},
		"no key":            {mod: func(s *azurespeech.Settings) { s.Key = "" }, field: "key"},
		"voice markup":      {mod: func(s *azurespeech.Settings) { s.Voice = "x'><audio" }, field: "voice"},
		"language":          {mod: func(s *azurespeech.Settings) { s.Language = "deutsch" }, field: "language"},
		"http endpoint":     {mod: func(s *azurespeech.Settings) { s.TTSEndpoint = "http://tts.example.de/cognitiveservices/v1" }, field: "tts_endpoint"},
		"endpoint query":    {mod: func(s *azurespeech.Settings) { s.STTEndpoint = "https://x.example.de/v1?language=en-US" }, field: "stt_endpoint"},
		"stt wss endpoint": {mod: func(s *azurespeech.Settings) {
			s.STTEndpoint = "wss://praxis.cognitiveservices.azure.com/stt/speech/recognition/conversation/cognitiveservices/v1"
		}},
		"stt ws on this host": {mod: func(s *azurespeech.Settings) { s.STTEndpoint = "ws://127.0.0.1:9000/speech" }},
		"stt ws remote":       {mod: func(s *azurespeech.Settings) { s.STTEndpoint = "ws://stt.example.de/speech" }, field: "stt_endpoint"},
		"tts wss":             {mod: func(s *azurespeech.Settings) { s.TTSEndpoint = "wss://tts.example.de/cognitiveservices/v1" }, field: "tts_endpoint"},
		"stt in another region": {mod: func(s *azurespeech.Settings) {
			s.STTEndpoint = "wss://eastus.stt.speech.microsoft.com/speech/recognition/conversation/cognitiveservices/v1"
		}, field: "stt_endpoint"},
		"tts in another region": {mod: func(s *azurespeech.Settings) {
			s.TTSEndpoint = "https://EastUS.tts.speech.microsoft.com./cognitiveservices/v1"
		}, field: "tts_endpoint"},
		"own region's host": {mod: func(s *azurespeech.Settings) {
			s.STTEndpoint = "wss://westeurope.stt.speech.microsoft.com/speech/recognition/conversation/cognitiveservices/v1"
		}},
		"timeout": {mod: func(s *azurespeech.Settings) { s.Timeout = time.Hour }, field: "timeout"},
	} {
		t.Run(name, func(t *testing.T) {
			s := ok
			tc.mod(&s)
			v, err := azurespeech.NewVoice(s)
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
			if diff := cmp.Diff(speech.Provider{Name: "azurespeech", EUResidency: true, ZeroRetention: true}, v.Provider()); diff != "" {
				t.Errorf("provider (-want +got):\n%s", diff)
			}
		})
	}
	s := ok
	s.Key = "azure-secret"
	for _, got := range []string{s.String(), s.GoString(), s.LogValue().String()} {
		if strings.Contains(got, "azure-secret") {
			t.Errorf("%q shows the key", got)
		}
	}
}
