package vosk

import (
	"math"
	"testing"
	"unicode/utf8"
)

// FuzzVoskMessage feeds arbitrary server answers to the parser: it must not panic, and
// what it accepts is a result the dialogue can use.
func FuzzVoskMessage(f *testing.F) {
	f.Add([]byte(`{"partial" : ""}`))
	f.Add([]byte(`{"partial" : "ich brauche ein folgerezept"}`))
	f.Add([]byte(`{"result" : [{"conf" : 1.000000, "end" : 0.69, "start" : 0.36, "word" : "ich"}], "text" : "ich"}`))
	f.Add([]byte(`{"result" : [ ], "text" : ""}`))
	f.Add([]byte(`{"alternatives" : [{"confidence" : 312.5, "result" : [], "text" : "ramipril fünf milligramm"}]}`))
	f.Add([]byte(`{"text" : "x", "result" : [{"conf" : -3}, {"conf" : 1e308}, {"conf" : 1e308}]}`))
	f.Add([]byte(`{"partial" : null}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, msg []byte) {
		res, err := parseMessage(msg)
		if err != nil {
			return
		}
		if math.IsNaN(res.Confidence) || res.Confidence < 0 || res.Confidence > 1 {
			t.Fatalf("confidence %v out of [0, 1]", res.Confidence)
		}
		if !utf8.ValidString(res.Text) {
			t.Fatalf("text is not UTF-8: %q", res.Text)
		}
		if !res.Final && res.Confidence != 0 {
			t.Fatalf("a partial with a confidence: %+v", res)
		}
	})
}
