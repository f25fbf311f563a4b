// Package openai implements llm.Model for any OpenAI-compatible chat-completions endpoint —
// OpenAI, Azure OpenAI, Mistral, vLLM, Ollama — chosen by base URL, with streamed replies
// and tool calls.
package openai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/param"
	"github.com/openai/openai-go/v3/packages/respjson"
	"github.com/openai/openai-go/v3/packages/ssestream"
	"github.com/openai/openai-go/v3/shared"

	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/llm"
)

// Model proposes turns through one chat-completions endpoint. It is safe for concurrent use.
type Model struct {
	chat    openai.ChatCompletionService
	model   string
	timeout time.Duration
}

var _ llm.Model = (*Model)(nil)

// New returns a Model for s. It refuses settings that are disabled or do not Validate, so
// that no data is sent before the practice has confirmed EU hosting and zero retention.
func New(s llm.Settings) (*Model, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if !s.Enabled {
		return nil, errs.Field("enabled", "Das Sprachmodell ist nicht eingeschaltet.")
	}
	client := &http.Client{
		// A redirect would carry health data to an address the practice never confirmed.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	opts := []option.RequestOption{
		option.WithBaseURL(s.BaseURL),
		option.WithHTTPClient(client),
		// The dialogue engine falls back at once; a retry would only keep the caller waiting.
		option.WithMaxRetries(0),
	}
	if s.APIKey != "" {
		opts = append(opts, option.WithAPIKey(s.APIKey))
	}
	// The service is built directly, not through openai.NewClient, which would pick up
	// OPENAI_* variables (base URL, key, organisation, extra headers) from the environment:
	// the practice's settings alone say where data goes.
	return &Model{
		chat:    openai.NewChatCompletionService(opts...),
		model:   s.Model,
		timeout: s.EffectiveTimeout(),
	}, nil
}

// Propose sends msgs and tools to the endpoint and accumulates the streamed answer into a
// reply and complete tool calls. Every user message passes through llm.Sanitize, and msgs
// that fail llm.CheckMessages are refused (errs.Invalid) before anything is sent. Other
// errors are errs.Internal and carry no prompt, caller text or provider message, which may
// echo them; a timeout or cancellation wraps the context's error. On any error the caller
// continues on the deterministic engine.
func (m *Model) Propose(ctx context.Context, msgs []llm.Message, tools []llm.Tool) (p llm.Proposal, err error) {
	defer errs.Wrap(&err, "openai.Propose")
	if err := llm.CheckMessages(msgs); err != nil {
		return llm.Proposal{}, err
	}
	params := openai.ChatCompletionNewParams{
		Model:    shared.ChatModel(m.model),
		Messages: messages(msgs),
		Tools:    toolParams(tools),
	}
	ctx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()

	stream := m.chat.NewStreaming(ctx, params)
	defer stream.Close()
	return collect(ctx, stream, tools)
}

// collect accumulates the streamed chunks into a proposal: the reply text and complete tool
// calls, checked against the tools offered.
func collect(ctx context.Context, stream *ssestream.Stream[openai.ChatCompletionChunk], tools []llm.Tool) (p llm.Proposal, err error) {
	var acc openai.ChatCompletionAccumulator
	finish := ""
	for stream.Next() {
		chunk := stream.Current()
		if !wellFormed(chunk) || !acc.AddChunk(chunk) {
			return llm.Proposal{}, fault("Sprachmodell: ungültiger Teil der Antwort", nil)
		}
		for _, c := range chunk.Choices {
			if c.Index == 0 && c.FinishReason != "" {
				finish = c.FinishReason
			}
		}
	}
	if err := stream.Err(); err != nil {
		return llm.Proposal{}, streamError(ctx, err)
	}
	switch finish {
	case "stop", "tool_calls", "function_call":
	case "":
		return llm.Proposal{}, fault("Sprachmodell: Antwort unvollständig (ohne Abschluss)", nil)
	case "length", "model_length":
		return llm.Proposal{}, fault("Sprachmodell: Antwort abgeschnitten", nil)
	default:
		return llm.Proposal{}, fault("Sprachmodell: Antwort abgebrochen ("+safeToken(finish)+")", nil)
	}
	if len(acc.Choices) == 0 {
		return llm.Proposal{}, fault("Sprachmodell: leere Antwort", nil)
	}
	msg := acc.Choices[0].Message
	if msg.Refusal != "" {
		return llm.Proposal{}, fault("Sprachmodell: Antwort verweigert", nil)
	}
	p.Reply = strings.TrimSpace(msg.Content)
	for i, tc := range msg.ToolCalls {
		if tc.Type != "" && tc.Type != "function" {
			return llm.Proposal{}, fault("Sprachmodell: Werkzeugaufruf einer unbekannten Art", nil)
		}
		id := tc.ID
		if id == "" { // some local servers send no ids; later turns need one to answer
			id = fmt.Sprintf("tresen_call_%d", i)
		}
		args := strings.TrimSpace(tc.Function.Arguments)
		if args == "" {
			args = "{}"
		}
		p.Calls = append(p.Calls, llm.ToolCall{ID: id, Name: tc.Function.Name, Arguments: json.RawMessage(args)})
	}
	if err := p.Check(tools); err != nil {
		return llm.Proposal{}, err
	}
	return p, nil
}

// messages converts the conversation. Caller text goes only into user messages, and only
// sanitised.
func messages(msgs []llm.Message) []openai.ChatCompletionMessageParamUnion {
	out := make([]openai.ChatCompletionMessageParamUnion, 0, len(msgs))
	for _, m := range msgs {
		switch m.Role {
		case llm.RoleSystem:
			out = append(out, openai.SystemMessage(m.Content))
		case llm.RoleUser:
			out = append(out, openai.UserMessage(llm.Sanitize(m.Content)))
		case llm.RoleAssistant:
			var a openai.ChatCompletionAssistantMessageParam
			if m.Content != "" || len(m.ToolCalls) == 0 {
				a.Content.OfString = param.NewOpt(m.Content)
			}
			for _, c := range m.ToolCalls {
				args := string(c.Arguments)
				if args == "" {
					args = "{}"
				}
				a.ToolCalls = append(a.ToolCalls, openai.ChatCompletionMessageToolCallUnionParam{
					OfFunction: &openai.ChatCompletionMessageFunctionToolCallParam{
						ID:       c.ID,
						Function: openai.ChatCompletionMessageFunctionToolCallFunctionParam{Name: c.Name, Arguments: args},
					},
				})
			}
			out = append(out, openai.ChatCompletionMessageParamUnion{OfAssistant: &a})
		case llm.RoleTool:
			out = append(out, openai.ToolMessage(m.Content, m.ToolCallID))
		}
	}
	return out
}

// wellFormed reports whether every field of c that Propose reads had the type the protocol
// gives it. The SDK decodes leniently — an array where a string belongs becomes its JSON
// text — and a reply must not be built from such a chunk.
func wellFormed(c openai.ChatCompletionChunk) bool {
	bad := func(f respjson.Field) bool { return !f.Valid() && f.Raw() != "" && f.Raw() != respjson.Null }
	if bad(c.JSON.Choices) {
		return false
	}
	for _, ch := range c.Choices {
		d := ch.Delta
		if bad(ch.JSON.Index) || bad(ch.JSON.Delta) || bad(ch.JSON.FinishReason) ||
			bad(d.JSON.Content) || bad(d.JSON.Refusal) || bad(d.JSON.Role) || bad(d.JSON.ToolCalls) {
			return false
		}
		for _, tc := range d.ToolCalls {
			if bad(tc.JSON.Index) || bad(tc.JSON.ID) || bad(tc.JSON.Type) || bad(tc.JSON.Function) ||
				bad(tc.Function.JSON.Name) || bad(tc.Function.JSON.Arguments) {
				return false
			}
		}
	}
	return true
}

func toolParams(tools []llm.Tool) []openai.ChatCompletionToolUnionParam {
	var out []openai.ChatCompletionToolUnionParam
	for _, t := range tools {
		def := shared.FunctionDefinitionParam{Name: t.Name, Parameters: shared.FunctionParameters(t.Parameters)}
		if t.Description != "" {
			def.Description = openai.String(t.Description)
		}
		out = append(out, openai.ChatCompletionFunctionTool(def))
	}
	return out
}

// StatusError is the cause of a Propose error when the endpoint answered with an HTTP
// error status. It keeps the status only: the provider's message and the request it holds
// may contain the prompt.
type StatusError struct {
	StatusCode int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("HTTP %d %s", e.StatusCode, http.StatusText(e.StatusCode))
}

// streamError translates an error of the SDK into one without personal data.
func streamError(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fault("Sprachmodell: keine Antwort in der Zeitgrenze oder abgebrochen", ctxErr)
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return fault("Sprachmodell: keine Antwort in der Zeitgrenze oder abgebrochen", err)
	}
	if apiErr, ok := errors.AsType[*openai.Error](err); ok {
		return fault("Sprachmodell: der Dienst meldet einen Fehler", &StatusError{StatusCode: apiErr.StatusCode})
	}
	if _, ok := errors.AsType[*ssestream.StreamError](err); ok {
		return fault("Sprachmodell: der Dienst meldet einen Fehler im Datenstrom", nil)
	}
	if urlErr, ok := errors.AsType[*url.Error](err); ok {
		// Dial, TLS and connection errors name the endpoint, never the data.
		return fault("Sprachmodell: Verbindung zum Dienst fehlgeschlagen", urlErr)
	}
	// Decoding errors may quote what the server sent, so only the fact is kept.
	return fault("Sprachmodell: Antwort nicht lesbar", nil)
}

func fault(msg string, cause error) error {
	return &errs.Error{Kind: errs.Internal, Message: msg, Err: cause}
}

// safeToken keeps a provider's finish reason printable and short for the error text.
func safeToken(s string) string {
	if len(s) > 32 {
		s = s[:32]
	}
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		return -1
	}, s)
}
