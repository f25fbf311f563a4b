// Package azuretest is a local server that speaks the WebSocket protocol of Azure Speech's
// streaming recognition (the Speech SDK's), for tests of package azurespeech and of calls
// that use it. It checks what the client sends as the service does (handshake, message
// framing, request ids, time stamps, the WAV header that starts a turn), records it, and
// answers from a script with messages shaped like the service's.
package azuretest

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/coder/websocket"

	"github.com/tresen/tresen/internal/audio"
)

// Path is where the regional hosts serve recognition in conversation mode.
const Path = "/speech/recognition/conversation/cognitiveservices/v1"

// Msg is one message of the service. The server sets its X-RequestId to the running
// turn's.
type Msg struct {
	Path string
	Body string // JSON
	// Raw, when set, is sent as it is instead, as a malformed message would be.
	Raw string
}

// Script is how the server answers one connection.
type Script struct {
	// Replies are sent one after each audio message of a turn (not the WAV header), in
	// order; a zero Msg sends nothing.
	Replies []Msg
	// OnEnd are sent after the empty audio message that ends the audio, before
	// speech.endDetected and turn.end, with which the service ends the turn.
	OnEnd []Msg

	// Auth, when set, is the only credential accepted: the Ocp-Apim-Subscription-Key
	// header or "Authorization: Bearer " and it. Otherwise any credential is; none is
	// refused with 401 as the service does.
	Auth string
	// Status, when set, refuses the WebSocket handshake with this HTTP status.
	Status int
	// EndTurnAfter, when set, ends the turn from the service's side (speech.endDetected,
	// turn.end) after this many audio messages, as the service does after long silence;
	// the client must go on in a new turn.
	EndTurnAfter int
	// HangUpAfter, when set, drops the connection without a close frame after this many
	// audio messages.
	HangUpAfter int
	// CloseAfter, when set, closes the connection with CloseCode and CloseReason after
	// this many audio messages.
	CloseAfter  int
	CloseCode   websocket.StatusCode
	CloseReason string
	// Silent, when set, never answers the end of the audio.
	Silent bool
}

// Conn is what the server got on one connection.
type Conn struct {
	Path   string
	Query  url.Values
	Header http.Header
	Config map[string]any // the body of speech.config
	Texts  []string       // the paths of the text messages, in order
	Turns  []Turn
	// Late counts audio messages of a turn the service had ended, which it drops.
	Late int
	// Violation is the first breach of the protocol, after which the server closed the
	// connection as the service does; "" when there was none.
	Violation string
}

// Turn is the audio of one request id.
type Turn struct {
	RequestID string
	WAV       audio.WAVFormat // as the first audio message declared it
	Audio     []byte          // the PCM after the WAV header, concatenated
	Chunks    []int           // the size of each audio message after the WAV header
	Ended     bool            // the client ended the audio (an empty audio message)
}

// Server is a fake Azure Speech resource.
type Server struct {
	*httptest.Server
	script Script
	mu     sync.Mutex
	conns  []*Conn
}

// NewServer starts a server that answers every connection with script.
func NewServer(tb testing.TB, script Script) *Server {
	tb.Helper()
	s := &Server{script: script}
	s.Server = httptest.NewServer(http.HandlerFunc(s.handle))
	tb.Cleanup(s.Close)
	return s
}

// Endpoint is the server's recognition address, for Settings.STTEndpoint.
func (s *Server) Endpoint() string { return "ws" + strings.TrimPrefix(s.URL, "http") + Path }

// Conns returns what the server got on each connection so far.
func (s *Server) Conns() []Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Conn, len(s.conns))
	for i, c := range s.conns {
		out[i] = *c
		out[i].Texts = slices.Clone(c.Texts)
		out[i].Turns = slices.Clone(c.Turns)
		for j := range out[i].Turns {
			out[i].Turns[j].Audio = bytes.Clone(c.Turns[j].Audio)
			out[i].Turns[j].Chunks = slices.Clone(c.Turns[j].Chunks)
		}
	}
	return out
}

// Only returns what the server got on its single connection, and fails tb when the
// client broke the protocol.
func (s *Server) Only(tb testing.TB) Conn {
	tb.Helper()
	conns := s.Conns()
	if len(conns) != 1 {
		tb.Fatalf("server got %d connections, want 1", len(conns))
	}
	if v := conns[0].Violation; v != "" {
		tb.Errorf("the client broke the protocol: %s", v)
	}
	return conns[0]
}

var (
	noDashUUID = regexp.MustCompile(`^[0-9a-fA-F]{32}$`)
	// X-Timestamp: ISO 8601 in UTC with a fraction of a second.
	timestamp = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?Z$`)
)

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	sc := s.script
	rec := &Conn{Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone()}
	s.mu.Lock()
	s.conns = append(s.conns, rec)
	s.mu.Unlock()
	refuse := func(status int, code, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":{"code":%q,"message":%q}}`, code, msg)
	}
	switch {
	case sc.Status != 0:
		refuse(sc.Status, fmt.Sprint(sc.Status), "refused by the test script")
		return
	case r.URL.Path != Path:
		refuse(http.StatusNotFound, "404", "Resource not found")
		return
	case !s.authorized(r.Header):
		refuse(http.StatusUnauthorized, "401", "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.")
		return
	case !noDashUUID.MatchString(cmp.Or(r.Header.Get("X-ConnectionId"), r.URL.Query().Get("X-ConnectionId"))):
		refuse(http.StatusBadRequest, "400", "X-ConnectionId is missing or not a no-dash UUID")
		return
	case r.URL.Query().Get("language") == "" || r.URL.Query().Get("format") == "":
		refuse(http.StatusBadRequest, "400", "language and format are required")
		return
	}
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer conn.CloseNow()
	(&session{srv: s, sc: sc, rec: rec, conn: conn, r: r, finished: map[string]bool{}}).run()
}

func (s *Server) authorized(h http.Header) bool {
	key, bearer := h.Get("Ocp-Apim-Subscription-Key"), strings.TrimPrefix(h.Get("Authorization"), "Bearer ")
	if h.Get("Authorization") == "" {
		bearer = ""
	}
	if s.script.Auth == "" {
		return key != "" || bearer != ""
	}
	return key == s.script.Auth || bearer == s.script.Auth
}

// session is one connection's state.
type session struct {
	srv      *Server
	sc       Script
	rec      *Conn
	conn     *websocket.Conn
	r        *http.Request
	turn     int // index into rec.Turns of the running turn; -1: none
	running  bool
	finished map[string]bool // request ids of turns that ended
	audio    int             // audio messages after WAV headers, on the whole connection
}

func (ss *session) update(f func()) {
	ss.srv.mu.Lock()
	defer ss.srv.mu.Unlock()
	f()
}

// violate records a breach and closes the connection with the status and reason the
// service gives for it.
func (ss *session) violate(code websocket.StatusCode, reason string) {
	ss.update(func() {
		if ss.rec.Violation == "" {
			ss.rec.Violation = reason
		}
	})
	ss.conn.Close(code, reason)
}

func (ss *session) run() {
	ctx := ss.r.Context()
	for {
		typ, msg, err := ss.conn.Read(ctx)
		if err != nil {
			return
		}
		var ok bool
		if typ == websocket.MessageText {
			ok = ss.text(msg)
		} else {
			ok = ss.binary(msg)
		}
		if !ok {
			return
		}
	}
}

// headers checks the header lines of a client message.
func headers(block string) (map[string]string, string) {
	h := map[string]string{}
	for line := range strings.SplitSeq(block, "\r\n") {
		if line == "" {
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, "Incorrect message format. Header line without a name."
		}
		h[strings.ToLower(strings.TrimSpace(name))] = strings.TrimSpace(value)
	}
	switch {
	case h["path"] == "":
		return nil, "Missing/Empty header. Path."
	case h["x-requestid"] == "":
		return nil, "Missing/Empty header. X-RequestId."
	case !noDashUUID.MatchString(h["x-requestid"]):
		return nil, "Invalid request. X-RequestId header value was not specified in no-dash UUID format."
	case !timestamp.MatchString(h["x-timestamp"]):
		return nil, "Invalid request. X-Timestamp header is missing or not in ISO 8601 format."
	}
	return h, ""
}

func (ss *session) text(msg []byte) bool {
	if !utf8.Valid(msg) {
		ss.violate(websocket.StatusInvalidFramePayloadData, "Incorrect message format. Text message decoding into UTF-8 failed.")
		return false
	}
	block, body, found := strings.Cut(string(msg), "\r\n\r\n")
	if !found {
		ss.violate(websocket.StatusInvalidFramePayloadData, "Incorrect message format. Text message contains no header separator.")
		return false
	}
	h, bad := headers(block)
	if bad != "" {
		ss.violate(websocket.StatusProtocolError, bad)
		return false
	}
	path := h["path"]
	first := false
	ss.update(func() {
		first = len(ss.rec.Texts) == 0
		ss.rec.Texts = append(ss.rec.Texts, path)
	})
	switch strings.ToLower(path) {
	case "speech.config":
		var cfg map[string]any
		switch {
		case !first || len(ss.rec.Turns) > 0:
			ss.violate(websocket.StatusProtocolError, "Invalid request. speech.config must be the first message.")
			return false
		case !strings.HasPrefix(h["content-type"], "application/json"):
			ss.violate(websocket.StatusProtocolError, "Invalid request. speech.config needs Content-Type application/json.")
			return false
		case json.Unmarshal([]byte(body), &cfg) != nil || cfg["context"] == nil:
			ss.violate(websocket.StatusInvalidFramePayloadData, "Incorrect message format. speech.config is not a JSON object with a context.")
			return false
		}
		ss.update(func() { ss.rec.Config = cfg })
	case "speech.context", "telemetry":
		if !json.Valid([]byte(body)) {
			ss.violate(websocket.StatusInvalidFramePayloadData, "Incorrect message format. Body is not JSON.")
			return false
		}
	}
	return true
}

func (ss *session) binary(msg []byte) bool {
	if len(msg) < 2 {
		ss.violate(websocket.StatusInvalidFramePayloadData, "Incorrect message format. Binary message has invalid header size prefix.")
		return false
	}
	n := int(binary.BigEndian.Uint16(msg))
	if n > 8192 || 2+n > len(msg) {
		ss.violate(websocket.StatusInvalidFramePayloadData, "Incorrect message format. Binary message has invalid header size.")
		return false
	}
	block, body := msg[2:2+n], msg[2+n:]
	for _, c := range block {
		if c >= 0x80 {
			ss.violate(websocket.StatusInvalidFramePayloadData, "Incorrect message format. Binary message headers are not US-ASCII.")
			return false
		}
	}
	h, bad := headers(string(block))
	if bad != "" {
		ss.violate(websocket.StatusProtocolError, bad)
		return false
	}
	if !strings.EqualFold(h["path"], "audio") {
		ss.violate(websocket.StatusProtocolError, "Invalid request. Unknown binary message path.")
		return false
	}
	if len(body) > 8192 {
		ss.violate(websocket.StatusInvalidFramePayloadData, "Invalid request. Audio chunk larger than 8192 bytes.")
		return false
	}
	id := h["x-requestid"]
	switch {
	case ss.running && strings.EqualFold(id, ss.rec.Turns[ss.turn].RequestID):
	case ss.finished[strings.ToUpper(id)] && h["content-type"] == "":
		ss.update(func() { ss.rec.Late++ })
		return true
	case ss.finished[strings.ToUpper(id)]:
		ss.violate(websocket.StatusProtocolError, "Invalid request. Reuse of request identifiers is not allowed.")
		return false
	default:
		return ss.startTurn(id, h, body)
	}
	if len(body) == 0 {
		ss.update(func() { ss.rec.Turns[ss.turn].Ended = true })
		if ss.sc.Silent {
			return true
		}
		return ss.sendAll(append(slices.Clone(ss.sc.OnEnd), EndDetected(0), turnEnd())) && ss.endTurn()
	}
	ss.update(func() {
		t := &ss.rec.Turns[ss.turn]
		t.Audio = append(t.Audio, body...)
		t.Chunks = append(t.Chunks, len(body))
	})
	ss.audio++
	sc := ss.sc
	switch {
	case sc.HangUpAfter > 0 && ss.audio >= sc.HangUpAfter:
		return false // CloseNow: no close frame, as when the service's host fails
	case sc.CloseAfter > 0 && ss.audio >= sc.CloseAfter:
		ss.conn.Close(sc.CloseCode, sc.CloseReason)
		return false
	case sc.EndTurnAfter > 0 && ss.audio == sc.EndTurnAfter:
		return ss.sendAll([]Msg{EndDetected(0), turnEnd()}) && ss.endTurn()
	case ss.audio <= len(sc.Replies) && sc.Replies[ss.audio-1] != (Msg{}):
		return ss.send(sc.Replies[ss.audio-1])
	}
	return true
}

// startTurn begins a turn with the client's first audio message of a new request id,
// which must declare the audio with a WAV header.
func (ss *session) startTurn(id string, h map[string]string, body []byte) bool {
	if h["content-type"] != "audio/x-wav" {
		ss.violate(websocket.StatusInvalidFramePayloadData, "Invalid request. The first audio message of a turn needs Content-Type audio/x-wav.")
		return false
	}
	r := bytes.NewReader(body)
	f, err := audio.ReadWAVHeader(r)
	if err != nil || f.Channels != 1 || (f.SampleRate != 8000 && f.SampleRate != 16000) {
		ss.violate(websocket.StatusInvalidFramePayloadData, "Invalid request. Unsupported audio format: 16-bit PCM, mono, 8 or 16 kHz.")
		return false
	}
	rest := body[len(body)-r.Len():]
	ss.update(func() {
		ss.rec.Turns = append(ss.rec.Turns, Turn{RequestID: strings.ToUpper(id), WAV: f, Audio: bytes.Clone(rest)})
		ss.turn, ss.running = len(ss.rec.Turns)-1, true
	})
	return ss.send(turnStart())
}

func (ss *session) endTurn() bool {
	ss.finished[ss.rec.Turns[ss.turn].RequestID] = true
	ss.running = false
	return true
}

func (ss *session) sendAll(msgs []Msg) bool {
	for _, m := range msgs {
		if !ss.send(m) {
			return false
		}
	}
	return true
}

// send writes m as the service does: X-RequestId, Path and Content-Type without a space
// after the colon, a blank line, the JSON body.
func (ss *session) send(m Msg) bool {
	data := m.Raw
	if data == "" {
		id := ss.rec.Turns[ss.turn].RequestID
		data = "X-RequestId:" + id + "\r\nPath:" + m.Path + "\r\nContent-Type:application/json; charset=utf-8\r\n\r\n" + m.Body
	}
	return ss.conn.Write(ss.r.Context(), websocket.MessageText, []byte(data)) == nil
}

func turnStart() Msg {
	return Msg{Path: "turn.start", Body: `{"context":{"serviceTag":"9431ef96ef4e4f28b1147d0feeb18dfc"}}`}
}

func turnEnd() Msg { return Msg{Path: "turn.end", Body: "{}"} }

// StartDetected and EndDetected are the service's voice activity messages; offsets are in
// ticks of 100 ns from the start of the audio.
func StartDetected(offset int64) Msg {
	return Msg{Path: "speech.startDetected", Body: fmt.Sprintf(`{"Offset":%d}`, offset)}
}

func EndDetected(offset int64) Msg {
	return Msg{Path: "speech.endDetected", Body: fmt.Sprintf(`{"Offset":%d}`, offset)}
}

// Hypothesis is an interim result: lower case and without punctuation, as the service
// sends them.
func Hypothesis(text string, offset, duration int64) Msg {
	return Msg{Path: "speech.hypothesis", Body: marshal(map[string]any{
		"Id": "f9c914484c27405793913009420dc81b", "Text": text, "Offset": offset, "Duration": duration,
		"PrimaryLanguage": map[string]any{"Language": "de-DE"}, "Channel": 0,
	})}
}

// Phrase is a final result of format=detailed: display is the best hypothesis as it is
// shown (punctuation, numbers), the other forms are derived from it, and a second,
// weaker hypothesis follows.
func Phrase(display string, confidence float64, offset, duration int64) Msg {
	lexical := strings.ToLower(strings.Map(func(r rune) rune {
		if strings.ContainsRune(".,?!", r) {
			return -1
		}
		return r
	}, display))
	return Msg{Path: "speech.phrase", Body: marshal(map[string]any{
		"Id": "7c52f1647ea74715ae12ed8483dfd80e", "RecognitionStatus": "Success", "Offset": offset, "Duration": duration,
		"Channel": 0, "DisplayText": display,
		"NBest": []any{
			map[string]any{"Confidence": confidence, "Lexical": lexical, "ITN": lexical, "MaskedITN": lexical, "Display": display},
			map[string]any{"Confidence": confidence / 2, "Lexical": lexical, "ITN": lexical, "MaskedITN": lexical, "Display": lexical},
		},
	})}
}

// NoMatch is a phrase in which the service heard no words; status is NoMatch,
// InitialSilenceTimeout, BabbleTimeout or EndOfDictation.
func NoMatch(status string, offset, duration int64) Msg {
	return Msg{Path: "speech.phrase", Body: marshal(map[string]any{
		"Id": "0b0cf5e4d2a44bd6a0a4c28f6a7c9e21", "RecognitionStatus": status, "Offset": offset, "Duration": duration, "Channel": 0,
	})}
}

func marshal(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
