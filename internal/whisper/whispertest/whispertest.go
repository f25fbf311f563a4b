// Package whispertest is a local server that speaks the OpenAI-compatible transcription
// protocol (POST /v1/audio/transcriptions, multipart/form-data), as self-hosted Whisper
// servers do, for tests of package whisper and of calls that use it. It records every
// request it gets and answers from a responder.
package whispertest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Recorded is one request as it arrived.
type Recorded struct {
	Method, Path string
	Header       http.Header
	Fields       map[string]string // the form's text fields
	FileName     string
	FileType     string // the file part's Content-Type
	File         []byte
}

// Responder answers one transcription request.
type Responder = func(w http.ResponseWriter, r *http.Request)

// Server is a fake transcription server.
type Server struct {
	*httptest.Server
	mu       sync.Mutex
	requests []Recorded
}

// NewServer starts a server whose answers come from respond.
func NewServer(tb testing.TB, respond Responder) *Server {
	tb.Helper()
	s := &Server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := Recorded{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Fields: map[string]string{}}
		if err := r.ParseMultipartForm(32 << 20); err != nil {
			tb.Errorf("request is not multipart/form-data: %v", err)
		} else {
			for k, v := range r.MultipartForm.Value {
				rec.Fields[k] = v[0]
			}
			if fhs := r.MultipartForm.File["file"]; len(fhs) > 0 {
				rec.FileName, rec.FileType = fhs[0].Filename, fhs[0].Header.Get("Content-Type")
				if f, err := fhs[0].Open(); err == nil {
					rec.File, _ = io.ReadAll(f)
					f.Close()
				}
			}
		}
		s.mu.Lock()
		s.requests = append(s.requests, rec)
		s.mu.Unlock()
		if r.Method != http.MethodPost || r.URL.Path != "/v1/audio/transcriptions" {
			Fail(http.StatusNotFound)(w, r)
			return
		}
		respond(w, r)
	}))
	tb.Cleanup(s.Close)
	return s
}

func (s *Server) Requests() []Recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Recorded(nil), s.requests...)
}

// Only returns the single request the server got.
func (s *Server) Only(tb testing.TB) Recorded {
	tb.Helper()
	reqs := s.Requests()
	if len(reqs) != 1 {
		tb.Fatalf("server got %d requests, want 1", len(reqs))
	}
	return reqs[0]
}

// Text answers with the json response format.
func Text(text string) Responder {
	return Raw(http.StatusOK, "application/json", fmt.Sprintf(`{"text":%q}`, text))
}

// Raw answers with status, content type and body as given.
func Raw(status int, contentType, body string) Responder {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

// Fail answers with an HTTP error status and an OpenAI error object.
func Fail(status int) Responder {
	return Raw(status, "application/json",
		fmt.Sprintf(`{"error":{"message":"test failure %d","type":"server_error","param":null,"code":null}}`, status))
}

// Stall answers nothing until the client gives up.
func Stall() Responder {
	return func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }
}

// WAV is a parsed WAV file: its format and its samples.
type WAV struct {
	Format, Channels, BitsPerSample uint16
	SampleRate, ByteRate            uint32
	BlockAlign                      uint16
	Data                            []byte
}

// ParseWAV reads a canonical 44-byte-header WAV file and checks its sizes.
func ParseWAV(b []byte) (WAV, error) {
	le := binary.LittleEndian
	if len(b) < 44 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" || string(b[12:16]) != "fmt " ||
		string(b[36:40]) != "data" {
		return WAV{}, errors.New("not a canonical RIFF/WAVE file")
	}
	if int(le.Uint32(b[4:8])) != len(b)-8 {
		return WAV{}, fmt.Errorf("RIFF size %d, file has %d bytes after it", le.Uint32(b[4:8]), len(b)-8)
	}
	if le.Uint32(b[16:20]) != 16 {
		return WAV{}, fmt.Errorf("fmt chunk of %d bytes, want 16", le.Uint32(b[16:20]))
	}
	w := WAV{
		Format: le.Uint16(b[20:22]), Channels: le.Uint16(b[22:24]),
		SampleRate: le.Uint32(b[24:28]), ByteRate: le.Uint32(b[28:32]),
		BlockAlign: le.Uint16(b[32:34]), BitsPerSample: le.Uint16(b[34:36]),
		Data: b[44:],
	}
	if int(le.Uint32(b[40:44])) != len(w.Data) {
		return WAV{}, fmt.Errorf("data size %d, file has %d bytes of data", le.Uint32(b[40:44]), len(w.Data))
	}
	return w, nil
}
