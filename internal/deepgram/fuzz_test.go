package deepgram

import (
	"math"
	"testing"
	"unicode/utf8"

	"github.com/tresen/tresen/internal/deepgram/deepgramtest"
	"github.com/tresen/tresen/internal/speech"
)

// FuzzDeepgramMessage feeds arbitrary messages to the parser: it must not panic, and what
// it accepts is a result the dialogue can use.
func FuzzDeepgramMessage(f *testing.F) {
	f.Add([]byte(deepgramtest.Results("ich brauche ein folgerezept", false, false, 0.9)))
	f.Add([]byte(deepgramtest.Results("für ramipril fünf milligramm", true, true, 0.88)))
	f.Add([]byte(deepgramtest.Results("", true, false, 0)))
	f.Add([]byte(deepgramtest.Metadata()))
	f.Add([]byte(deepgramtest.SpeechStarted()))
	f.Add([]byte(deepgramtest.UtteranceEnd()))
	f.Add([]byte(`{"type":"Results","channel":{"alternatives":[]}}`))
	f.Add([]byte(`{"type":"Results","channel":{"alternatives":[{"transcript":"x","confidence":-1e308}]}}`))
	f.Add([]byte(`{"type":"Error","description":"x"}`))
	f.Add([]byte(`{"type":null}`))
	f.Fuzz(func(t *testing.T, msg []byte) {
		m, err := parseMessage(msg)
		if err != nil {
			return
		}
		r := m.result
		if m.kind != kindResult && r != (speech.Result{}) {
			t.Fatalf("a result from a message of another kind: %+v", m)
		}
		if math.IsNaN(r.Confidence) || r.Confidence < 0 || r.Confidence > 1 {
			t.Fatalf("confidence %v out of [0, 1]", r.Confidence)
		}
		if !utf8.ValidString(r.Text) {
			t.Fatalf("text is not UTF-8: %q", r.Text)
		}
		if r.Text == "" && r.Confidence != 0 {
			t.Fatalf("a confidence for no text: %+v", r)
		}
	})
}
