package azurespeech

import (
	"encoding/binary"
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/speech"
)

var at = time.Date(2026, 3, 12, 9, 30, 5, 123_456_789, time.FixedZone("CET", 3600))

func TestClientMessages(t *testing.T) {
	got := string(textMessage(pathConfig, "8D8A8D7F1D3A4C3F9D4C3F8E9D4D3A4C", at, contentJSON, []byte(`{"context":{}}`)))
	want := "Path: speech.config\r\nX-RequestId: 8D8A8D7F1D3A4C3F9D4C3F8E9D4D3A4C\r\nX-Timestamp: 2026-03-12T08:30:05.123Z\r\n" +
		"Content-Type: application/json\r\n\r\n{\"context\":{}}"
	if got != want {
		t.Errorf("speech.config:\n%q\nwant\n%q", got, want)
	}

	b := audioMessage("8D8A8D7F1D3A4C3F9D4C3F8E9D4D3A4C", at, "", []byte{1, 2, 3, 4})
	n := int(binary.BigEndian.Uint16(b))
	head := "Path: audio\r\nX-RequestId: 8D8A8D7F1D3A4C3F9D4C3F8E9D4D3A4C\r\nX-Timestamp: 2026-03-12T08:30:05.123Z\r\n"
	if n != len(head) || string(b[2:2+n]) != head || !cmp.Equal(b[2+n:], []byte{1, 2, 3, 4}) {
		t.Errorf("audio message %q", b)
	}
	end := audioMessage("8D8A8D7F1D3A4C3F9D4C3F8E9D4D3A4C", at, "", nil)
	if len(end) != 2+len(head) {
		t.Errorf("end of audio carries %d bytes after the headers", len(end)-2-len(head))
	}
	wav := audioMessage("8D8A8D7F1D3A4C3F9D4C3F8E9D4D3A4C", at, contentWAV, wavHeader())
	n = int(binary.BigEndian.Uint16(wav))
	if string(wav[2+n-len("Content-Type: audio/x-wav\r\n"):2+n]) != "Content-Type: audio/x-wav\r\n" || string(wav[2+n:2+n+4]) != "RIFF" ||
		binary.LittleEndian.Uint32(wav[2+n+24:]) != speech.SampleRate || len(wav)-2-n != 44 {
		t.Errorf("WAV header message %q", wav)
	}
}

func TestNewID(t *testing.T) {
	noDash := regexp.MustCompile(`^[0-9A-F]{32}$`)
	seen := map[string]bool{}
	for range 100 {
		id := newID()
		if !noDash.MatchString(id) || seen[id] {
			t.Fatalf("id %q", id)
		}
		seen[id] = true
	}
}

func TestParseMessage(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want message
	}{
		{"as the service sends it",
			"X-RequestId:8D8A8D7F1D3A4C3F9D4C3F8E9D4D3A4C\r\nPath:speech.hypothesis\r\nContent-Type:application/json; charset=utf-8\r\n\r\n{\"Text\":\"ja\"}",
			message{path: "speech.hypothesis", requestID: "8D8A8D7F1D3A4C3F9D4C3F8E9D4D3A4C", contentType: "application/json; charset=utf-8", body: []byte(`{"Text":"ja"}`)}},
		{"spaces and case",
			"path: Speech.Phrase\r\nx-requestid: abc\r\n\r\n{}",
			message{path: "speech.phrase", requestID: "abc", body: []byte(`{}`)}},
		{"no body, no blank line",
			"Path: turn.end\r\nX-RequestId: abc\r\n",
			message{path: "turn.end", requestID: "abc"}},
		{"a colon in the value",
			"Path:turn.start\r\nX-RequestId:abc\r\nX-Note: a:b\r\n\r\n{\"context\":{}}",
			message{path: "turn.start", requestID: "abc", body: []byte(`{"context":{}}`)}},
	}
	for _, tc := range tests {
		got, err := parseMessage([]byte(tc.in))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(message{})); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
	for _, bad := range []string{"", "\r\n\r\n{}", "X-RequestId: abc\r\n\r\n{}", "Path: turn.end\r\n\r\n", ": x\r\nPath: a\r\nX-RequestId: b\r\n\r\n", "Path: a\r\nX-RequestId: \xff\r\n\r\n"} {
		if m, err := parseMessage([]byte(bad)); err == nil {
			t.Errorf("parseMessage(%q) = %+v", bad, m)
		}
	}
}

func TestSTTURL(t *testing.T) {
	for _, tc := range []struct{ endpoint, want string }{
		{"", "wss://germanywestcentral.stt.speech.microsoft.com/speech/recognition/conversation/cognitiveservices/v1?format=detailed&language=de-DE&profanity=raw"},
		{"https://praxis.cognitiveservices.azure.com/stt/speech/recognition/conversation/cognitiveservices/v1",
			"wss://praxis.cognitiveservices.azure.com/stt/speech/recognition/conversation/cognitiveservices/v1?format=detailed&language=de-DE&profanity=raw"},
		{"http://127.0.0.1:8080/x", "ws://127.0.0.1:8080/x?format=detailed&language=de-DE&profanity=raw"},
		{"wss://germanywestcentral.stt.speech.microsoft.com/x", "wss://germanywestcentral.stt.speech.microsoft.com/x?format=detailed&language=de-DE&profanity=raw"},
	} {
		s := Settings{Region: "germanywestcentral", STTEndpoint: tc.endpoint}
		if got := s.sttURL(); got != tc.want {
			t.Errorf("sttURL(%q) = %q, want %q", tc.endpoint, got, tc.want)
		}
	}
}
