package main

import (
	"encoding/binary"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// recognizer is a local server that speaks the WebSocket protocol of alphacep/vosk-server
// (as internal/vosk talks to it; internal/vosk/vosktest is the same for tests, with one
// answer for every connection) and answers each turn at once: the moment the server's
// {"eof" : 1} comes, it sends the final result, the transcript of the turn the marker at
// the start of the audio names. A real recogniser needs time for the last words; that
// time is the recogniser's, not Tresen's, and is left out here on purpose.
type recognizer struct {
	script []string // transcript of each turn
	srv    *http.Server
	ln     net.Listener

	mu      sync.Mutex
	turns   map[turnKey]recognized
	unknown int // turns without a marker (answered with an empty result)
	conns   int
}

type turnKey struct{ tag, turn int }

// recognized is when the recogniser got a turn's end and answered it.
type recognized struct {
	eof   time.Time     // {"eof" : 1} arrived
	final time.Time     // the final result went out
	audio time.Duration // audio received for the turn
}

func newRecognizer(addr string, script []string) (*recognizer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	r := &recognizer{script: script, ln: ln, turns: map[turnKey]recognized{}}
	r.srv = &http.Server{Handler: http.HandlerFunc(r.handle), ReadHeaderTimeout: 5 * time.Second}
	go r.srv.Serve(ln)
	return r, nil
}

// URL is the address to configure in the practice's voice settings.
func (r *recognizer) URL() string { return "ws://" + r.ln.Addr().String() }

func (r *recognizer) Close() error { return r.srv.Close() }

// take returns and forgets what the recogniser noted for a call's turn; ok is false when
// the turn has not reached it.
func (r *recognizer) take(tag, turn int) (recognized, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := turnKey{tag, turn}
	v, ok := r.turns[k]
	delete(r.turns, k)
	return v, ok
}

// forget drops what the recogniser noted for a call's turns, before its tag is reused.
func (r *recognizer) forget(tag int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for turn := range maxTurns {
		delete(r.turns, turnKey{tag, turn})
	}
}

func (r *recognizer) stats() (conns, unknown int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.conns, r.unknown
}

const eofMessage = `{"eof" : 1}`

func (r *recognizer) handle(w http.ResponseWriter, req *http.Request) {
	conn, err := websocket.Accept(w, req, nil)
	if err != nil {
		return
	}
	defer conn.CloseNow()
	r.mu.Lock()
	r.conns++
	r.mu.Unlock()
	ctx := req.Context()
	var pcm []int16
	// The marker is read as soon as a second of audio is in (it is within the first
	// 300 ms of pre-roll and 240 ms of tones), so that the answer to EOF is only a write.
	var turn, tag int
	decoded, ok := false, false
	for {
		typ, msg, err := conn.Read(ctx)
		if err != nil {
			return
		}
		if typ == websocket.MessageText {
			if string(msg) != eofMessage {
				continue // the configuration; asr_server.py answers nothing
			}
			eof := time.Now()
			if !decoded {
				turn, tag, ok = decodeMarker(pcm)
			}
			text := ""
			if ok && turn < len(r.script) {
				text = r.script[turn]
			}
			final, _ := json.Marshal(struct {
				Text string `json:"text"`
			}{text})
			// Noted before the answer goes out, so that it is there when the server acts on it.
			r.mu.Lock()
			if ok {
				r.turns[turnKey{tag, turn}] = recognized{eof: eof, final: time.Now(),
					audio: time.Duration(len(pcm)) * time.Second / markerRate}
			} else {
				r.unknown++
			}
			r.mu.Unlock()
			err := conn.Write(ctx, websocket.MessageText, final)
			if err == nil {
				conn.Close(websocket.StatusNormalClosure, "")
			}
			return
		}
		for i := 0; i+1 < len(msg); i += 2 {
			pcm = append(pcm, int16(binary.LittleEndian.Uint16(msg[i:])))
		}
		if !decoded && len(pcm) >= markerRate {
			turn, tag, ok = decodeMarker(pcm)
			decoded = true
		}
		if err := conn.Write(ctx, websocket.MessageText, []byte(`{"partial" : ""}`)); err != nil {
			return
		}
	}
}

// transcript is what a recogniser would make of a sentence: lower case, without
// punctuation.
func transcript(sentence string) string {
	f := strings.FieldsFunc(strings.ToLower(sentence), func(r rune) bool {
		return strings.ContainsRune(" ,.!?;:", r)
	})
	return strings.Join(f, " ")
}
