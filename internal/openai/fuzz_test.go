package openai

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/packages/ssestream"

	"github.com/tresen/tresen/internal/llm"
)

// FuzzCollect feeds arbitrary bytes as the event stream of a chat completion: collect must
// not panic, and whatever it accepts is a proposal the dialogue engine can act on. The
// stream is decoded in memory, without a server, to keep the fuzzer fast.
func FuzzCollect(f *testing.F) {
	done := "data: [DONE]\n\n"
	head := `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,`
	f.Add([]byte(head + `"delta":{"role":"assistant","content":"Guten "},"finish_reason":null}]}` + "\n\n" +
		head + `"delta":{"content":"Tag."},"finish_reason":"stop"}]}` + "\n\n" + done))
	f.Add([]byte(head + `"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"transfer","arguments":""}}]},"finish_reason":null}]}` + "\n\n" +
		head + `"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"reason\":"}}]},"finish_reason":null}]}` + "\n\n" +
		head + `"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Mensch\"}"}}]},"finish_reason":"tool_calls"}]}` + "\n\n" + done))
	f.Add([]byte(head + `"delta":{"tool_calls":[{"index":1,"id":"b","function":{"name":"find_slots","arguments":"{}"}},{"index":0,"id":"a","function":{"name":"transfer","arguments":"{}"}}]},"finish_reason":"tool_calls"}]}` + "\n\n"))
	f.Add([]byte(`data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":3}]}}]}` + "\n\n"))
	f.Add([]byte("event: error\ndata: {\"error\":{}}\n\n"))
	f.Add([]byte(": keep-alive\n\n" + done))
	tools := llm.Tools()
	f.Fuzz(func(t *testing.T, body []byte) {
		res := &http.Response{
			StatusCode: http.StatusOK,
			Header:     http.Header{"Content-Type": {"text/event-stream"}},
			Body:       io.NopCloser(bytes.NewReader(body)),
		}
		stream := ssestream.NewStream[openai.ChatCompletionChunk](ssestream.NewDecoder(res), nil)
		p, err := collect(t.Context(), stream, tools)
		if err != nil {
			return
		}
		if err := p.Check(tools); err != nil {
			t.Fatalf("accepted an unusable proposal %+v: %v", p, err)
		}
		for _, c := range p.Calls {
			var args map[string]any
			if c.ID == "" || json.Unmarshal(c.Arguments, &args) != nil {
				t.Fatalf("accepted call %+v", c)
			}
		}
	})
}
