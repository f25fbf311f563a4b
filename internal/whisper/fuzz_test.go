package whisper

import (
	"testing"
	"unicode/utf8"
)

// FuzzWhisperResponse feeds arbitrary response bodies to the parser: it must not panic,
// and what it accepts is trimmed UTF-8 text.
func FuzzWhisperResponse(f *testing.F) {
	f.Add([]byte(`{"text":" Ich brauche ein Folgerezept für Ramipril fünf Milligramm."}`))
	f.Add([]byte(`{"text":""}`))
	f.Add([]byte(`{"text":null}`))
	f.Add([]byte(`{"task":"transcribe","language":"german","duration":3.5,"text":"Ja.","segments":[]}`))
	f.Add([]byte(`{"error":{"message":"x"}}`))
	f.Add([]byte(`Ich brauche ein Folgerezept.`))
	f.Fuzz(func(t *testing.T, body []byte) {
		text, err := parseResponse(body)
		if err != nil {
			if text != "" {
				t.Fatalf("text %q with error %v", text, err)
			}
			return
		}
		if !utf8.ValidString(text) {
			t.Fatalf("text is not UTF-8: %q", text)
		}
		if len(text) > 0 && (text[0] == ' ' || text[len(text)-1] == ' ') {
			t.Fatalf("text not trimmed: %q", text)
		}
	})
}
