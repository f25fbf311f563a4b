package azurespeech_test

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/azurespeech"
	"github.com/tresen/tresen/internal/speech"
)

// A recorded-looking answer of format=detailed for a German caller.
const detailed = `{"RecognitionStatus":"Success","Offset":5400000,"Duration":27300000,"DisplayText":"Ich hätte gern einen Termin am 12.03.","NBest":[` +
	`{"Confidence":0.9137,"Lexical":"ich hätte gern einen termin am zwölften dritten","ITN":"ich hätte gern einen termin am 12.03.","MaskedITN":"ich hätte gern einen termin am 12.03.","Display":"Ich hätte gern einen Termin am 12.03."},` +
	`{"Confidence":0.8421,"Lexical":"ich hätte gern einen termin am zwölften dritten","ITN":"ich hätte gern einen termin am zwölften dritten","MaskedITN":"","Display":"Ich hätte gern einen Termin am zwölften dritten."}]}`

func mustRecognizer(t *testing.T, s azurespeech.Settings) *azurespeech.Recognizer {
	t.Helper()
	r, err := azurespeech.NewRecognizer(s)
	if err != nil {
		t.Fatalf("NewRecognizer: %v", err)
	}
	return r
}

// turn writes pcm in 20 ms frames, closes and collects what comes.
func turn(t *testing.T, r *azurespeech.Recognizer, ctx context.Context, pcm []int16) ([]speech.Result, error) {
	t.Helper()
	st, err := r.Stream(ctx)
	if err != nil {
		t.Fatalf("Stream: %v", err)
	}
	for i := 0; i < len(pcm); i += speech.FrameSize {
		if err := st.Write(pcm[i:min(i+speech.FrameSize, len(pcm))]); err != nil {
			t.Fatalf("Write: %v", err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	var got []speech.Result
	for res := range st.Results() {
		got = append(got, res)
	}
	return got, st.Err()
}

func TestRecognize(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		io.WriteString(w, detailed)
	})
	said := sine(8000, 500, 1500*time.Millisecond, 8000)
	got, err := turn(t, mustRecognizer(t, srv.settings()), t.Context(), said)
	if err != nil {
		t.Fatalf("Err: %v", err)
	}
	want := []speech.Result{{Text: "Ich hätte gern einen Termin am 12.03.", Final: true, Confidence: 0.9137}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}

	req := srv.only(t)
	if req.Method != http.MethodPost || req.Path != "/speech/recognition/conversation/cognitiveservices/v1" {
		t.Errorf("request %s %s", req.Method, req.Path)
	}
	wantQuery := map[string][]string{"language": {"de-DE"}, "format": {"detailed"}, "profanity": {"raw"}}
	if diff := cmp.Diff(wantQuery, req.Query); diff != "" {
		t.Errorf("query (-want +got):\n%s", diff)
	}
	for h, want := range map[string]string{
		"Ocp-Apim-Subscription-Key": "azure-test-key",
		"Content-Type":              "audio/wav; codecs=audio/pcm; samplerate=16000",
		"Accept":                    "application/json",
	} {
		if got := req.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	// The body is a WAV file of the turn at 16 kHz: same length, same tone.
	b := req.Body
	if len(b) < 44 || string(b[0:4]) != "RIFF" || string(b[8:16]) != "WAVEfmt " || string(b[36:40]) != "data" {
		t.Fatalf("body is not a WAV file")
	}
	if rate := binary.LittleEndian.Uint32(b[24:28]); rate != 16000 {
		t.Errorf("WAV rate %d", rate)
	}
	if size := binary.LittleEndian.Uint32(b[40:44]); int(size) != len(b)-44 || int(size) != 4*len(said) {
		t.Errorf("data size %d for %d bytes after the header, want %d", size, len(b)-44, 4*len(said))
	}
	var sum float64
	n := 0
	for i := 44 + 400; i+1 < len(b)-400; i += 2 {
		v := float64(int16(binary.LittleEndian.Uint16(b[i:])))
		sum += v * v
		n++
	}
	if r := math.Sqrt(sum / float64(n)); math.Abs(r-8000/math.Sqrt2) > 300 {
		t.Errorf("RMS at 16 kHz = %.0f, want about %.0f", r, 8000/math.Sqrt2)
	}
}

func TestRecognizeSimpleAndSilent(t *testing.T) {
	for name, tc := range map[string]struct {
		body string
		want []speech.Result
	}{
		"simple":           {`{"RecognitionStatus":"Success","DisplayText":"Ja, bitte.","Offset":1800000,"Duration":9100000}`, []speech.Result{{Text: "Ja, bitte.", Final: true}}},
		"no match":         {`{"RecognitionStatus":"NoMatch","Offset":0,"Duration":0}`, nil},
		"initial silence":  {`{"RecognitionStatus":"InitialSilenceTimeout","Offset":50000000,"Duration":0}`, nil},
		"babble":           {`{"RecognitionStatus":"BabbleTimeout","Offset":0,"Duration":0}`, nil},
		"empty best":       {`{"RecognitionStatus":"Success","NBest":[{"Confidence":0.1,"Display":""}]}`, nil},
		"confidence wrong": {`{"RecognitionStatus":"Success","NBest":[{"Confidence":7,"Display":"Ja."}]}`, []speech.Result{{Text: "Ja.", Final: true}}},
	} {
		t.Run(name, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, tc.body) })
			got, err := turn(t, mustRecognizer(t, srv.settings()), t.Context(), sine(8000, 300, 500*time.Millisecond, 3000))
			if err != nil {
				t.Fatalf("Err: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRecognizeWithoutAudio(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) { t.Error("request without audio") })
	got, err := turn(t, mustRecognizer(t, srv.settings()), t.Context(), nil)
	if err != nil || len(got) != 0 {
		t.Errorf("results %v, err %v", got, err)
	}
}

func TestRecognizeFailures(t *testing.T) {
	for name, tc := range map[string]struct {
		respond func(w http.ResponseWriter, r *http.Request)
		want    string
		status  int
	}{
		"401": {respond: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(401) }, want: "meldet einen Fehler", status: 401},
		"429": {respond: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(429) }, want: "meldet einen Fehler", status: 429},
		"500": {respond: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }, want: "meldet einen Fehler", status: 500},
		"error status": {respond: func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"RecognitionStatus":"Error","Offset":0,"Duration":0}`)
		}, want: "bei der Erkennung"},
		"malformed": {respond: func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"RecognitionStatus":"Success","DisplayText":"Ich hätte gern einen Ter`)
		}, want: "nicht lesbar"},
		"unknown status": {respond: func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"RecognitionStatus":"Wonderful"}`)
		}, want: "unbekannt"},
		"no answer": {respond: func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }, want: "Zeitgrenze"},
		"closed": {respond: func(w http.ResponseWriter, r *http.Request) {
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				conn.Close()
			}
		}, want: "Verbindung zu Azure fehlgeschlagen"},
	} {
		t.Run(name, func(t *testing.T) {
			srv := newServer(t, tc.respond)
			s := srv.settings()
			s.Timeout = 300 * time.Millisecond
			got, err := turn(t, mustRecognizer(t, s), t.Context(), sine(8000, 300, 300*time.Millisecond, 3000))
			if len(got) != 0 {
				t.Errorf("results %v", got)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Err = %v, want %q", err, tc.want)
			}
			if tc.status != 0 {
				var se *azurespeech.StatusError
				if !errors.As(err, &se) || se.StatusCode != tc.status {
					t.Errorf("Err = %v, want StatusError %d", err, tc.status)
				}
			}
			checkClean(t, err)
		})
	}
}

func TestRecognizeCancel(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := turn(t, mustRecognizer(t, srv.settings()), ctx, sine(8000, 300, 300*time.Millisecond, 3000))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("ended after %s", d)
	}
}

func TestRecognizeRefusesOverlongTurn(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, detailed) })
	st, _ := mustRecognizer(t, srv.settings()).Stream(t.Context())
	frame := make([]int16, speech.FrameSize)
	var err error
	for i := 0; i <= int(azurespeech.MaxAudio/speech.FrameLength); i++ {
		if err = st.Write(frame); err != nil {
			break
		}
	}
	if err == nil || !strings.Contains(err.Error(), "60 Sekunden") {
		t.Fatalf("Write past 60 s: %v", err)
	}
}
