package azurespeech

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tresen/tresen/internal/speech"
)

// Azure's streaming recognition speaks the WebSocket protocol of the Speech SDK. Every
// message carries HTTP-like header lines, each ended by CRLF. A text message puts a blank
// line and its body (JSON) after them; a binary message starts with the length of its
// headers as two big-endian bytes, and the audio follows the headers directly. The client
// sends speech.config and audio (the first audio of a turn is a WAV header, an empty one
// ends the audio); the service answers turn.start, speech.startDetected,
// speech.hypothesis (interim text), speech.phrase (a final result), speech.endDetected and
// turn.end, each with the X-RequestId of the turn.
const (
	pathConfig     = "speech.config"
	pathAudio      = "audio"
	pathTurnStart  = "turn.start"
	pathTurnEnd    = "turn.end"
	pathHypothesis = "speech.hypothesis"
	pathFragment   = "speech.fragment" // interim text in some modes, read as a hypothesis
	pathPhrase     = "speech.phrase"

	contentJSON = "application/json"
	contentWAV  = "audio/x-wav"

	// maxHeaders bounds the headers of one message, as the service does.
	maxHeaders = 8192
)

// newID returns a request or connection id: a random UUID without dashes, as the service
// requires ("no-dash" form; it closes the connection on any other).
func newID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

// timestamp is the X-Timestamp of a message sent at t: UTC, ISO 8601 with milliseconds.
func timestamp(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

func appendHeaders(b []byte, path, requestID string, t time.Time, contentType string) []byte {
	b = append(b, "Path: "+path+"\r\n"...)
	b = append(b, "X-RequestId: "+requestID+"\r\n"...)
	b = append(b, "X-Timestamp: "+timestamp(t)+"\r\n"...)
	if contentType != "" {
		b = append(b, "Content-Type: "+contentType+"\r\n"...)
	}
	return b
}

// textMessage is a text message of the client.
func textMessage(path, requestID string, t time.Time, contentType string, body []byte) []byte {
	b := appendHeaders(make([]byte, 0, 160+len(body)), path, requestID, t, contentType)
	b = append(b, "\r\n"...)
	return append(b, body...)
}

// audioMessage is a binary audio message; contentType is set on the first of a turn (the
// WAV header) only, and no audio ends the turn's audio.
func audioMessage(requestID string, t time.Time, contentType string, audio []byte) []byte {
	b := make([]byte, 2, 2+160+len(audio))
	b = appendHeaders(b, pathAudio, requestID, t, contentType)
	binary.BigEndian.PutUint16(b, uint16(len(b)-2))
	return append(b, audio...)
}

// message is a text message of the service.
type message struct {
	path        string
	requestID   string
	contentType string
	body        []byte
}

// parseMessage splits a text message of the service into its headers and its body. Header
// names are matched without regard to case; a message without a body (turn.end) may lack
// the blank line.
func parseMessage(data []byte) (message, error) {
	if !utf8.Valid(data) {
		return message{}, sttFault("Nachricht des Dienstes ist kein UTF-8", nil)
	}
	head, body, _ := bytes.Cut(data, []byte("\r\n\r\n"))
	if len(head) > maxHeaders {
		return message{}, sttFault("Kopfzeilen des Dienstes zu lang", nil)
	}
	var m message
	for _, line := range strings.FieldsFunc(string(head), func(r rune) bool { return r == '\r' || r == '\n' }) {
		name, value, ok := strings.Cut(line, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return message{}, sttFault("Kopfzeile des Dienstes nicht lesbar", nil)
		}
		value = strings.TrimSpace(value)
		switch strings.ToLower(name) {
		case "path":
			m.path = strings.ToLower(value)
		case "x-requestid":
			m.requestID = value
		case "content-type":
			m.contentType = value
		}
	}
	switch {
	case m.path == "":
		return message{}, sttFault("Nachricht des Dienstes ohne Path", nil)
	case m.requestID == "":
		return message{}, sttFault("Nachricht des Dienstes ohne X-RequestId", nil)
	}
	m.body = body
	return m, nil
}

// kind is what a message of the service means to a stream.
type kind int

const (
	kindOther   kind = iota // turn.start, speech.startDetected, speech.endDetected, paths yet to come
	kindInterim             // a hypothesis
	kindFinal               // a phrase, with text or (no speech recognised) without
	kindTurnEnd
)

// interpret reads the result a message carries. A phrase is final: its best hypothesis
// (Display: with punctuation, numbers and dates written as such) and its confidence; a
// phrase in which Azure heard no words (NoMatch, InitialSilenceTimeout, BabbleTimeout,
// EndOfDictation) is a final result without text. A phrase with an error status fails the
// stream. Errors never quote the message: it may hold what the caller said.
func (m message) interpret() (kind, speech.Result, error) {
	switch m.path {
	case pathTurnEnd:
		return kindTurnEnd, speech.Result{}, nil
	case pathHypothesis, pathFragment:
		var h struct {
			Text string `json:"Text"`
		}
		if err := json.Unmarshal(m.body, &h); err != nil {
			return 0, speech.Result{}, sttFault("Zwischenergebnis des Dienstes nicht lesbar", nil)
		}
		return kindInterim, speech.Result{Text: strings.TrimSpace(h.Text)}, nil
	case pathPhrase:
		return parsePhrase(m.body)
	}
	return kindOther, speech.Result{}, nil
}

func parsePhrase(body []byte) (kind, speech.Result, error) {
	var p struct {
		RecognitionStatus string `json:"RecognitionStatus"`
		DisplayText       string `json:"DisplayText"`
		NBest             []struct {
			Confidence  float64 `json:"Confidence"`
			Display     string  `json:"Display"`
			DisplayText string  `json:"DisplayText"`
		} `json:"NBest"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return 0, speech.Result{}, sttFault("Ergebnis des Dienstes nicht lesbar", nil)
	}
	res := speech.Result{Final: true}
	switch p.RecognitionStatus {
	case "Success":
	case "NoMatch", "InitialSilenceTimeout", "BabbleTimeout", "EndOfDictation":
		return kindFinal, res, nil
	case "Error":
		return 0, speech.Result{}, sttFault("der Dienst meldet einen Fehler bei der Erkennung", nil)
	case "TooManyRequests":
		return 0, speech.Result{}, sttFault("zu viele gleichzeitige Erkennungen für die Ressource", nil)
	case "BadRequest":
		return 0, speech.Result{}, sttFault("der Dienst lehnt Parameter oder Audioformat ab", nil)
	case "Forbidden":
		return 0, speech.Result{}, sttFault("der Dienst verweigert die Erkennung (Kontingent der Ressource erschöpft?)", nil)
	default:
		return 0, speech.Result{}, sttFault("unbekannter Erkennungsstatus des Dienstes", nil)
	}
	if len(p.NBest) > 0 {
		best := p.NBest[0]
		res.Text = strings.TrimSpace(cmp.Or(best.Display, best.DisplayText))
		if res.Text != "" {
			res.Confidence = clamp(best.Confidence)
		}
	} else {
		res.Text = strings.TrimSpace(p.DisplayText)
	}
	return kindFinal, res, nil
}

func clamp(f float64) float64 {
	if math.IsNaN(f) || f < 0 {
		return 0
	}
	return min(f, 1)
}
