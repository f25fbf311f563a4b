package azurespeech

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/tresen/tresen/internal/audio"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/speech"
)

// MaxAudio is the longest turn the REST recognition takes.
const MaxAudio = 60 * time.Second

// maxSamples is MaxAudio in telephone samples.
const maxSamples = int(MaxAudio/time.Second) * speech.SampleRate

// wireRate is the one sample rate Azure documents for WAV on the short-audio endpoint;
// telephone audio is doubled to it.
const wireRate = 16000

// Recognizer transcribes a caller's turn with Azure's recognition for short audio.
type Recognizer struct {
	client   *http.Client
	url      string
	key      string
	timeout  time.Duration
	provider speech.Provider
}

var _ speech.Recognizer = (*Recognizer)(nil)

// NewRecognizer returns a Recognizer for s, or the error of s.Validate.
func NewRecognizer(s Settings) (*Recognizer, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &Recognizer{client: newClient(), url: s.sttURL(), key: s.Key, timeout: s.timeout(), provider: s.provider()}, nil
}

// Provider says where the region is and what the practice confirmed.
func (r *Recognizer) Provider() speech.Provider { return r.provider }

// Stream starts a turn. Nothing is sent before Close.
func (r *Recognizer) Stream(ctx context.Context) (speech.Stream, error) {
	return &stream{r: r, ctx: ctx, results: make(chan speech.Result, 1)}, nil
}

type stream struct {
	r       *Recognizer
	ctx     context.Context
	results chan speech.Result

	mu     sync.Mutex
	pcm    []int16
	closed bool
	err    error
}

func (s *stream) Write(pcm []int16) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errs.E(errs.Internal, "Spracherkennung: Audio nach dem Ende der Aufnahme")
	}
	if err := s.ctx.Err(); err != nil {
		return fault("Spracherkennung: abgebrochen", err)
	}
	if len(s.pcm)+len(pcm) > maxSamples {
		return fault("Spracherkennung: die Äußerung ist länger als 60 Sekunden", nil)
	}
	s.pcm = append(s.pcm, pcm...)
	return nil
}

// Close posts the turn; the result follows on Results, which then closes.
func (s *stream) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	pcm := s.pcm
	s.pcm = nil
	go func() {
		res, ok, err := s.recognize(pcm)
		if ok {
			s.results <- res
		}
		s.mu.Lock()
		s.err = err
		s.mu.Unlock()
		close(s.results)
	}()
	return nil
}

func (s *stream) Results() <-chan speech.Result { return s.results }

func (s *stream) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// recognize posts pcm and returns the final result; ok is false when nothing was said.
func (s *stream) recognize(pcm []int16) (_ speech.Result, ok bool, err error) {
	defer errs.Wrap(&err, "azurespeech.Recognize")
	const what = "Spracherkennung"
	if len(pcm) == 0 {
		return speech.Result{}, false, nil
	}
	ctx, cancel := context.WithTimeoutCause(s.ctx, s.r.timeout, errTimeout)
	defer cancel()
	wire, err := audio.Resample(pcm, speech.SampleRate, wireRate)
	if err != nil {
		return speech.Result{}, false, fault(what+": Audio nicht umsetzbar", nil)
	}
	var wav bytes.Buffer
	if err := audio.WriteWAV(&wav, wire, wireRate); err != nil {
		return speech.Result{}, false, fault(what+": Audio nicht umsetzbar", nil)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.r.url, &wav)
	if err != nil {
		return speech.Result{}, false, fault(what+": Anfrage nicht darstellbar", nil)
	}
	req.Header.Set("Ocp-Apim-Subscription-Key", s.r.key)
	req.Header.Set("Content-Type", "audio/wav; codecs=audio/pcm; samplerate=16000")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "Tresen")
	res, err := s.r.client.Do(req)
	if err != nil {
		return speech.Result{}, false, transportError(ctx, what, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return speech.Result{}, false, fault(what+": Azure meldet einen Fehler", &StatusError{StatusCode: res.StatusCode})
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return speech.Result{}, false, transportError(ctx, what, err)
	}
	return parseRecognition(body)
}

// recognition is the answer of the short-audio endpoint with format=detailed.
type recognition struct {
	RecognitionStatus string  `json:"RecognitionStatus"`
	DisplayText       *string `json:"DisplayText"`
	NBest             []struct {
		Confidence float64 `json:"Confidence"`
		Display    string  `json:"Display"`
	} `json:"NBest"`
}

// parseRecognition reads Azure's answer: the best hypothesis (Display, with numbers and
// dates written as such) and its confidence; ok is false when Azure heard no speech.
func parseRecognition(body []byte) (_ speech.Result, ok bool, err error) {
	const what = "Spracherkennung"
	var r recognition
	if err := json.Unmarshal(body, &r); err != nil {
		return speech.Result{}, false, fault(what+": Antwort von Azure nicht lesbar", nil)
	}
	switch r.RecognitionStatus {
	case "Success":
	case "NoMatch", "InitialSilenceTimeout", "BabbleTimeout":
		return speech.Result{}, false, nil // the turn held no words
	case "Error":
		return speech.Result{}, false, fault(what+": Azure meldet einen Fehler bei der Erkennung", nil)
	default:
		return speech.Result{}, false, fault(what+": Antwort von Azure unbekannt", nil)
	}
	res := speech.Result{Final: true}
	switch {
	case len(r.NBest) > 0:
		res.Text = r.NBest[0].Display
		if c := r.NBest[0].Confidence; c > 0 && c <= 1 && !math.IsNaN(c) {
			res.Confidence = c
		}
	case r.DisplayText != nil:
		res.Text = *r.DisplayText
	default:
		return speech.Result{}, false, fault(what+": Antwort von Azure ohne Text", nil)
	}
	if res.Text == "" {
		return speech.Result{}, false, nil
	}
	return res, true, nil
}
