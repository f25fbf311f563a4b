package azurespeech

import (
	"encoding/xml"
	"math"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tresen/tresen/internal/azurespeech/azuretest"
	"github.com/tresen/tresen/internal/speech"
)

// FuzzParseMessage feeds arbitrary text messages of the service to the parser and to
// what reads their results: no panic, and an accepted result is one the dialogue can use.
func FuzzParseMessage(f *testing.F) {
	const id = "X-RequestId:8D8A8D7F1D3A4C3F9D4C3F8E9D4D3A4C\r\n"
	for _, m := range []azuretest.Msg{
		azuretest.StartDetected(7300000),
		azuretest.Hypothesis("ich hätte gern", 7300000, 14400000),
		azuretest.Phrase("Ich hätte gern einen Termin am 12.03.", 0.91, 7300000, 27600000),
		azuretest.NoMatch("InitialSilenceTimeout", 0, 0),
		azuretest.EndDetected(38700000),
	} {
		f.Add([]byte(id + "Path:" + m.Path + "\r\nContent-Type:application/json; charset=utf-8\r\n\r\n" + m.Body))
	}
	f.Add([]byte(id + "Path:turn.end\r\n"))
	f.Add([]byte("Path: speech.phrase\r\nX-RequestId: 8d8a\r\n\r\n{\"RecognitionStatus\":\"Success\",\"DisplayText\":\"Ja.\"}"))
	f.Add([]byte(id + "Path:speech.phrase\r\n\r\n{\"RecognitionStatus\":\"Success\",\"NBest\":[{\"Confidence\":\"hoch\"}]}"))
	f.Add([]byte(id + "Path:speech.phrase\r\n\r\n{\"RecognitionStatus\":\"Success\",\"NBest\":[{\"Confidence\":-1e308,\"Display\":\"x\"}]}"))
	f.Add([]byte(id + "Path:speech.hypothesis\r\n\r\n{\"Text\":null}"))
	f.Add([]byte(":\r\n\r\n"))
	f.Add([]byte("\xff\xfe"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parseMessage(data)
		if err != nil {
			return
		}
		if m.path == "" || m.requestID == "" {
			t.Fatalf("accepted a message without path or request id: %+v", m)
		}
		k, r, err := m.interpret()
		if err != nil {
			return
		}
		if (k == kindInterim || k == kindOther || k == kindTurnEnd) && r.Final || k == kindFinal && !r.Final {
			t.Fatalf("kind %d with %+v", k, r)
		}
		if k != kindInterim && k != kindFinal && r != (speech.Result{}) {
			t.Fatalf("a result from a message of kind %d: %+v", k, r)
		}
		if math.IsNaN(r.Confidence) || r.Confidence < 0 || r.Confidence > 1 {
			t.Fatalf("confidence %v out of [0, 1]", r.Confidence)
		}
		if r.Text == "" && r.Confidence != 0 {
			t.Fatalf("a confidence for no text: %+v", r)
		}
		if !utf8.ValidString(r.Text) || r.Text != strings.TrimSpace(r.Text) {
			t.Fatalf("text %q", r.Text)
		}
	})
}

// FuzzSSML checks that any text stays text: the SSML parses, holds one voice, and no
// element inside it.
func FuzzSSML(f *testing.F) {
	f.Add("Guten Tag, Frau Müller.")
	f.Add(`</voice><voice name='en-US-GuyNeural'>x</voice>`)
	f.Add(`<break time="5s"/> & &amp; ]]> <![CDATA[x]]> <?pi?>`)
	f.Add("\x00\x1b\ufffe")
	f.Fuzz(func(t *testing.T, text string) {
		var d struct {
			Voices []struct {
				Name  string `xml:"name,attr"`
				Text  string `xml:",chardata"`
				Inner []struct {
					XMLName xml.Name
				} `xml:",any"`
			} `xml:"voice"`
		}
		b := ssml("de-DE", "de-DE-KatjaNeural", text)
		if err := xml.Unmarshal(b, &d); err != nil {
			t.Fatalf("SSML does not parse: %v\n%q", err, b)
		}
		if len(d.Voices) != 1 || d.Voices[0].Name != "de-DE-KatjaNeural" || len(d.Voices[0].Inner) != 0 {
			t.Fatalf("markup from text: %+v", d)
		}
		if utf8.ValidString(text) && !strings.ContainsFunc(text, func(r rune) bool { return r < 0x20 || r == 0xFFFE || r == 0xFFFF || r == 0xFFFD }) {
			if got := strings.ReplaceAll(d.Voices[0].Text, "\r", ""); got != strings.ReplaceAll(text, "\r", "") {
				t.Fatalf("text %q came out as %q", text, got)
			}
		}
	})
}
