// Package deepgramtest is a local server that speaks Deepgram's live streaming protocol
// (/v1/listen over WebSocket), for tests of package deepgram and of calls that use it. It
// records what it gets and answers from a script.
package deepgramtest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"

	"github.com/coder/websocket"
)

// Script is how the server answers one connection.
type Script struct {
	// Replies are sent one after each audio message, in order; "" sends nothing.
	Replies []string
	// OnClose are sent after CloseStream, before the Metadata message and the normal
	// closure with which Deepgram ends a stream.
	OnClose []string

	// Status, when set, refuses the WebSocket handshake with this HTTP status, as Deepgram
	// does with a wrong key (401) or too many connections (429).
	Status int
	// HangUpAfter, when set, drops the connection without a close frame after this many
	// audio messages.
	HangUpAfter int
	// CloseAfter, when set, closes the connection with CloseCode and CloseReason after
	// this many audio messages, as Deepgram reports errors (1011 NET-0001 …).
	CloseAfter  int
	CloseCode   websocket.StatusCode
	CloseReason string
	// Silent, when set, never answers and never closes.
	Silent bool
}

// Conn is what the server got on one connection.
type Conn struct {
	Path   string
	Query  url.Values
	Header http.Header
	Audio  []byte   // all binary messages, concatenated
	Chunks [][]byte // each binary message
	Texts  []string // text messages: KeepAlive, CloseStream
}

// Server is a fake Deepgram.
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

// Conns returns what the server got on each connection so far.
func (s *Server) Conns() []Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Conn, len(s.conns))
	for i, c := range s.conns {
		out[i] = *c
		out[i].Audio = bytes.Clone(c.Audio)
		out[i].Chunks = slices.Clone(c.Chunks)
		out[i].Texts = slices.Clone(c.Texts)
	}
	return out
}

// Only returns what the server got on its single connection.
func (s *Server) Only(tb testing.TB) Conn {
	tb.Helper()
	conns := s.Conns()
	if len(conns) != 1 {
		tb.Fatalf("server got %d connections, want 1", len(conns))
	}
	return conns[0]
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	sc := s.script
	rec := &Conn{Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone()}
	s.mu.Lock()
	s.conns = append(s.conns, rec)
	s.mu.Unlock()
	if sc.Status != 0 {
		w.Header().Set("dg-error", "test refusal")
		http.Error(w, `{"err_code":"TEST","err_msg":"refused","request_id":"00000000-0000-0000-0000-000000000000"}`, sc.Status)
		return
	}
	if r.URL.Path != "/v1/listen" {
		http.NotFound(w, r)
		return
	}
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer conn.CloseNow()
	update := func(f func()) {
		s.mu.Lock()
		defer s.mu.Unlock()
		f()
	}
	ctx := r.Context()
	audio := 0
	for {
		typ, msg, err := conn.Read(ctx)
		if err != nil {
			return
		}
		if typ == websocket.MessageText {
			update(func() { rec.Texts = append(rec.Texts, string(msg)) })
			var m struct{ Type string }
			json.Unmarshal(msg, &m)
			if m.Type != "CloseStream" || sc.Silent {
				continue
			}
			for _, reply := range append(slices.Clone(sc.OnClose), Metadata()) {
				if err := conn.Write(ctx, websocket.MessageText, []byte(reply)); err != nil {
					return
				}
			}
			conn.Close(websocket.StatusNormalClosure, "")
			return
		}
		update(func() {
			rec.Audio = append(rec.Audio, msg...)
			rec.Chunks = append(rec.Chunks, bytes.Clone(msg))
		})
		audio++
		if sc.HangUpAfter > 0 && audio >= sc.HangUpAfter {
			return // CloseNow: no close frame, as when the server crashes
		}
		if sc.CloseAfter > 0 && audio >= sc.CloseAfter {
			conn.Close(sc.CloseCode, sc.CloseReason)
			return
		}
		if sc.Silent || audio > len(sc.Replies) || sc.Replies[audio-1] == "" {
			continue
		}
		if err := conn.Write(ctx, websocket.MessageText, []byte(sc.Replies[audio-1])); err != nil {
			return
		}
	}
}

// Results is a Results message as Deepgram sends it for a transcript of the first
// channel.
func Results(transcript string, isFinal, speechFinal bool, confidence float64) string {
	type word struct {
		Word       string  `json:"word"`
		Start      float64 `json:"start"`
		End        float64 `json:"end"`
		Confidence float64 `json:"confidence"`
	}
	words := []word{}
	for i, w := range bytes.Fields([]byte(transcript)) {
		words = append(words, word{Word: string(w), Start: 0.4 * float64(i), End: 0.4*float64(i) + 0.35, Confidence: confidence})
	}
	m := map[string]any{
		"type":          "Results",
		"channel_index": []int{0, 1},
		"duration":      1.02,
		"start":         0.0,
		"is_final":      isFinal,
		"speech_final":  speechFinal,
		"channel": map[string]any{"alternatives": []any{map[string]any{
			"transcript": transcript,
			"confidence": confidence,
			"words":      words,
		}}},
		"metadata": map[string]any{
			"request_id": "5d7ff50e-aad9-4ef4-b08a-a8446365baf7",
			"model_info": map[string]any{"name": "2-general-nova", "version": "2024-01-18.26916", "arch": "nova-2"},
			"model_uuid": "c0d1a568-ce81-4fea-97e7-bd45cb1fdf3c",
		},
		"from_finalize": false,
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// Metadata is the message with which Deepgram ends a stream.
func Metadata() string {
	return `{"type":"Metadata","transaction_key":"deprecated","request_id":"5d7ff50e-aad9-4ef4-b08a-a8446365baf7",` +
		`"sha256":"6e7c3b6b1f5a3c0f2f0e1d8b5c6a7e9f0a1b2c3d4e5f60718293a4b5c6d7e8f9","created":"2026-11-30T08:01:12.345Z",` +
		`"duration":3.54,"channels":1,"models":["c0d1a568-ce81-4fea-97e7-bd45cb1fdf3c"],` +
		`"model_info":{"c0d1a568-ce81-4fea-97e7-bd45cb1fdf3c":{"name":"2-general-nova","version":"2024-01-18.26916","arch":"nova-2"}}}`
}

// SpeechStarted and UtteranceEnd are Deepgram's voice activity messages.
func SpeechStarted() string { return `{"type":"SpeechStarted","channel":[0,1],"timestamp":0.36}` }
func UtteranceEnd() string  { return `{"type":"UtteranceEnd","channel":[0,1],"last_word_end":3.54}` }
