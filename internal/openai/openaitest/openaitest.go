// Package openaitest is a local server that speaks the OpenAI chat-completions wire
// protocol (streamed Server-Sent Events, tool calls), for tests of package openai and of
// conversations in LLM mode. It records every request it gets and answers from a script.
package openaitest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/tresen/tresen/internal/llm"
)

// Server speaks the OpenAI chat-completions wire protocol: POST /v1/chat/completions
// with "stream": true, answered as Server-Sent Events of chat.completion.chunk objects
// and a final "data: [DONE]". It records every request it gets.
type Server struct {
	*httptest.Server
	mu       sync.Mutex
	requests []Recorded
}

// Recorded is one request as it arrived on the wire.
type Recorded struct {
	Method, Path string
	Header       http.Header
	Body         WireRequest
	Raw          map[string]any
}

type WireRequest struct {
	Model    string        `json:"model"`
	Stream   bool          `json:"stream"`
	Messages []WireMessage `json:"messages"`
	Tools    []WireTool    `json:"tools"`
}

type WireMessage struct {
	Role       string         `json:"role"`
	Content    string         `json:"content"`
	ToolCalls  []WireToolCall `json:"tool_calls"`
	ToolCallID string         `json:"tool_call_id"`
}

type WireToolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

type WireTool struct {
	Type     string `json:"type"`
	Function struct {
		Name        string         `json:"name"`
		Description string         `json:"description"`
		Parameters  map[string]any `json:"parameters"`
	} `json:"function"`
}

// NewServer starts a fake endpoint whose answers come from respond.
func NewServer(tb testing.TB, respond func(w http.ResponseWriter, r *http.Request)) *Server {
	tb.Helper()
	s := &Server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			tb.Errorf("reading request body: %v", err)
			return
		}
		rec := Recorded{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone()}
		if err := json.Unmarshal(body, &rec.Body); err != nil {
			tb.Errorf("request body is not a chat-completions request: %v", err)
		}
		_ = json.Unmarshal(body, &rec.Raw)
		s.mu.Lock()
		s.requests = append(s.requests, rec)
		s.mu.Unlock()
		if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
			http.Error(w, `{"error":{"message":"not found","type":"invalid_request_error"}}`, http.StatusNotFound)
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

// only returns the single request the server got.
func (s *Server) Only(tb testing.TB) Recorded {
	tb.Helper()
	reqs := s.Requests()
	if len(reqs) != 1 {
		tb.Fatalf("server got %d requests, want 1", len(reqs))
	}
	return reqs[0]
}

func (s *Server) Settings() llm.Settings {
	return llm.Settings{
		Enabled:       true,
		BaseURL:       s.URL + "/v1",
		Model:         "mistral-small-latest",
		APIKey:        "test-key",
		EUHosted:      true,
		ZeroRetention: true,
		Timeout:       5 * time.Second,
	}
}

// StreamChunks answers with the given chunk payloads as SSE events, flushing each, and a
// final [DONE].
func StreamChunks(chunks ...string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		w.WriteHeader(http.StatusOK)
		for _, c := range chunks {
			fmt.Fprintf(w, "data: %s\n\n", c)
			w.(http.Flusher).Flush()
		}
		fmt.Fprint(w, "data: [DONE]\n\n")
	}
}

// chunk builds one chat.completion.chunk with a single choice. finish "" is sent as null,
// as OpenAI does for every chunk but the last.
func Chunk(delta map[string]any, finish string) string {
	var reason any
	if finish != "" {
		reason = finish
	}
	c := map[string]any{
		"id":                 "chatcmpl-tresen-test",
		"object":             "chat.completion.chunk",
		"created":            1767225600,
		"model":              "mistral-small-latest",
		"system_fingerprint": "fp_test",
		"choices": []any{map[string]any{
			"index":         0,
			"delta":         delta,
			"logprobs":      nil,
			"finish_reason": reason,
		}},
	}
	b, err := json.Marshal(c)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func Text(s string) map[string]any { return map[string]any{"content": s} }

// ToolStart opens tool call index with its id and name and empty arguments.
func ToolStart(index int, id, name string) map[string]any {
	return map[string]any{"tool_calls": []any{map[string]any{
		"index": index, "id": id, "type": "function",
		"function": map[string]any{"name": name, "arguments": ""},
	}}}
}

// ToolArgs continues tool call index with a fragment of its arguments.
func ToolArgs(index int, fragment string) map[string]any {
	return map[string]any{"tool_calls": []any{map[string]any{
		"index": index, "function": map[string]any{"arguments": fragment},
	}}}
}

// fragments splits s into n pieces of about equal length, at rune boundaries.
func Fragments(s string, n int) []string {
	r := []rune(s)
	var out []string
	for i := range n {
		lo, hi := i*len(r)/n, (i+1)*len(r)/n
		out = append(out, string(r[lo:hi]))
	}
	return out
}

// Responder answers one chat-completions request.
type Responder = func(w http.ResponseWriter, r *http.Request)

// Script answers the n-th request with steps[n], so that a test plays a whole conversation
// with the model; a request beyond the script fails the test and gets an error status.
func Script(tb testing.TB, steps ...Responder) Responder {
	var mu sync.Mutex
	n := 0
	return func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		i := n
		n++
		mu.Unlock()
		if i >= len(steps) {
			tb.Errorf("model asked %d times, the script has %d answers", i+1, len(steps))
			Fail(http.StatusInternalServerError)(w, r)
			return
		}
		steps[i](w, r)
	}
}

// Reply answers with a streamed text in three chunks and finish_reason "stop".
func Reply(s string) Responder {
	var chunks []string
	for _, f := range Fragments(s, 3) {
		chunks = append(chunks, Chunk(Text(f), ""))
	}
	return StreamChunks(append(chunks, Chunk(map[string]any{}, "stop"))...)
}

// Call is a tool call the model makes: Arguments is its JSON text.
type Call struct {
	ID, Name, Arguments string
}

// Calls answers with tool calls, each streamed as its start and its arguments in two
// fragments, and finish_reason "tool_calls"; reply, when set, comes first as text.
func Calls(reply string, calls ...Call) Responder {
	var chunks []string
	if reply != "" {
		chunks = append(chunks, Chunk(Text(reply), ""))
	}
	for i, c := range calls {
		chunks = append(chunks, Chunk(ToolStart(i, c.ID, c.Name), ""))
		for _, f := range Fragments(c.Arguments, 2) {
			chunks = append(chunks, Chunk(ToolArgs(i, f), ""))
		}
	}
	return StreamChunks(append(chunks, Chunk(map[string]any{}, "tool_calls"))...)
}

// Fail answers with an HTTP error status and an OpenAI error object.
func Fail(status int) Responder {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":{"message":"test failure %d","type":"server_error","param":null,"code":null}}`, status)
	}
}

// Stall answers nothing until the client gives up.
func Stall() Responder {
	return func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}
}
