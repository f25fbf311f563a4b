package azurespeech

import (
	"encoding/xml"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseRecognition feeds arbitrary answers of the recognition endpoint: no panic, and
// an accepted result is final, has text and a confidence between 0 and 1.
func FuzzParseRecognition(f *testing.F) {
	f.Add([]byte(`{"RecognitionStatus":"Success","DisplayText":"Ja.","NBest":[{"Confidence":0.91,"Display":"Ja."}]}`))
	f.Add([]byte(`{"RecognitionStatus":"Success","DisplayText":"Ja, bitte."}`))
	f.Add([]byte(`{"RecognitionStatus":"NoMatch"}`))
	f.Add([]byte(`{"RecognitionStatus":"Success","NBest":[{"Confidence":"hoch"}]}`))
	f.Add([]byte(`{"RecognitionStatus":"Success","NBest":[{"Confidence":1e309,"Display":"x"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		res, ok, err := parseRecognition(body)
		if err != nil || !ok {
			if ok {
				t.Fatal("ok with an error")
			}
			return
		}
		if !res.Final || res.Text == "" || res.Confidence < 0 || res.Confidence > 1 {
			t.Fatalf("accepted %+v", res)
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
