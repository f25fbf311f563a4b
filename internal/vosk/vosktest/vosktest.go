// Package vosktest is a local server that speaks the WebSocket protocol of
// alphacep/vosk-server (websocket/asr_server.py), for tests of package vosk and of calls
// that use it. It records what it gets and answers from a script.
package vosktest

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/coder/websocket"
)

// EOF is the message that ends the audio, byte for byte as the server compares it.
const EOF = `{"eof" : 1}`

// Script is how the server answers one connection.
type Script struct {
	// Replies answer the audio messages in order, one each, as the server does; past the
	// end of Replies it answers {"partial" : ""}.
	Replies []string
	// Final answers EOF. The server then closes the connection normally, as asr_server.py
	// does, unless KeepOpen is set, as the C++ server does.
	Final    string
	KeepOpen bool

	// Status, when set, refuses the WebSocket handshake with this HTTP status.
	Status int
	// HangUpAfter, when set, drops the connection without a close frame after this many
	// audio messages.
	HangUpAfter int
	// CloseAfter, when set, closes the connection with CloseCode after this many audio
	// messages.
	CloseAfter int
	CloseCode  websocket.StatusCode
	// Silent, when set, reads but never answers.
	Silent bool
}

// Conn is what the server got on one connection.
type Conn struct {
	Config string   // the first text message
	Audio  []byte   // all binary messages, concatenated
	Chunks [][]byte // each binary message
	EOF    bool     // EOF arrived
	Other  []string // other text messages (there should be none)
}

// Server is a fake Vosk server.
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

// WSURL is the server's address with the ws scheme.
func (s *Server) WSURL() string { return "ws" + strings.TrimPrefix(s.URL, "http") }

// Conns returns what the server got on each connection so far.
func (s *Server) Conns() []Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Conn, len(s.conns))
	for i, c := range s.conns {
		out[i] = *c
		out[i].Audio = bytes.Clone(c.Audio)
		out[i].Chunks = slices.Clone(c.Chunks)
		out[i].Other = slices.Clone(c.Other)
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
	if sc.Status != 0 {
		http.Error(w, "refused", sc.Status)
		return
	}
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer conn.CloseNow()
	rec := &Conn{}
	s.mu.Lock()
	s.conns = append(s.conns, rec)
	s.mu.Unlock()
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
		text := typ == websocket.MessageText
		switch {
		case text && rec.Config == "" && strings.Contains(string(msg), "config"):
			// asr_server.py reads the configuration and answers nothing.
			update(func() { rec.Config = string(msg) })
			continue
		case text && string(msg) == EOF:
			update(func() { rec.EOF = true })
			if sc.Silent {
				continue
			}
			if err := conn.Write(ctx, websocket.MessageText, []byte(sc.Final)); err != nil {
				return
			}
			if sc.KeepOpen {
				// The C++ server closes on the next message or when the client closes.
				conn.Read(ctx)
				return
			}
			conn.Close(websocket.StatusNormalClosure, "")
			return
		case text:
			update(func() { rec.Other = append(rec.Other, string(msg)) })
			continue
		}
		update(func() {
			rec.Audio = append(rec.Audio, msg...)
			rec.Chunks = append(rec.Chunks, bytes.Clone(msg))
		})
		audio++
		if sc.HangUpAfter > 0 && audio >= sc.HangUpAfter {
			conn.CloseNow() // no close frame, as when the server crashes
			return
		}
		if sc.CloseAfter > 0 && audio >= sc.CloseAfter {
			conn.Close(sc.CloseCode, "Fehler")
			return
		}
		if sc.Silent {
			continue
		}
		reply := `{"partial" : ""}`
		if audio <= len(sc.Replies) {
			reply = sc.Replies[audio-1]
		}
		if err := conn.Write(ctx, websocket.MessageText, []byte(reply)); err != nil {
			return
		}
	}
}
