package openai_test

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
	"github.com/tresen/tresen/internal/openai"
)

// fakeServer speaks the OpenAI chat-completions wire protocol: POST /v1/chat/completions
// with "stream": true, answered as Server-Sent Events of chat.completion.chunk objects
// and a final "data: [DONE]". It records every request it gets.
type fakeServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests []recorded
}

// recorded is one request as it arrived on the wire.
type recorded struct {
	Method, Path string
	Header       http.Header
	Body         wireRequest
	Raw          map[string]any
}

type wireRequest struct {
	Model    string        `json:"model"`
	Stream   bool          `json:"stream"`
	Messages []wireMessage `json:"messages"`
	Tools    []wireTool    `json:"tools"`
}

type wireMessage struct {
	Role       string         `json:"role"`
	Content    string         `json:"content"`
	ToolCalls  []wireToolCall `json:"tool_calls"`
	ToolCallID string         `json:"tool_call_id"`
}

type wireToolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

type wireTool struct {
	Type     string `json:"type"`
	Function struct {
		Name        string         `json:"name"`
		Description string         `json:"description"`
		Parameters  map[string]any `json:"parameters"`
	} `json:"function"`
}

// newServer starts a fake endpoint whose answers come from respond.
func newServer(t *testing.T, respond func(w http.ResponseWriter, r *http.Request)) *fakeServer {
	t.Helper()
	s := &fakeServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("reading request body: %v", err)
			return
		}
		rec := recorded{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone()}
		if err := json.Unmarshal(body, &rec.Body); err != nil {
			t.Errorf("request body is not a chat-completions request: %v", err)
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
	t.Cleanup(s.Close)
	return s
}

func (s *fakeServer) Requests() []recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]recorded(nil), s.requests...)
}

// only returns the single request the server got.
func (s *fakeServer) only(t *testing.T) recorded {
	t.Helper()
	reqs := s.Requests()
	if len(reqs) != 1 {
		t.Fatalf("server got %d requests, want 1", len(reqs))
	}
	return reqs[0]
}

func (s *fakeServer) settings() llm.Settings {
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

func mustNew(t *testing.T, s llm.Settings) *openai.Model {
	t.Helper()
	m, err := openai.New(s)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return m
}

// streamChunks answers with the given chunk payloads as SSE events, flushing each, and a
// final [DONE].
func streamChunks(chunks ...string) func(http.ResponseWriter, *http.Request) {
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
func chunk(delta map[string]any, finish string) string {
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

func text(s string) map[string]any { return map[string]any{"content": s} }

// toolStart opens tool call index with its id and name and empty arguments.
func toolStart(index int, id, name string) map[string]any {
	return map[string]any{"tool_calls": []any{map[string]any{
		"index": index, "id": id, "type": "function",
		"function": map[string]any{"name": name, "arguments": ""},
	}}}
}

// toolArgs continues tool call index with a fragment of its arguments.
func toolArgs(index int, fragment string) map[string]any {
	return map[string]any{"tool_calls": []any{map[string]any{
		"index": index, "function": map[string]any{"arguments": fragment},
	}}}
}

// fragments splits s into n pieces of about equal length, at rune boundaries.
func fragments(s string, n int) []string {
	r := []rune(s)
	var out []string
	for i := range n {
		lo, hi := i*len(r)/n, (i+1)*len(r)/n
		out = append(out, string(r[lo:hi]))
	}
	return out
}
