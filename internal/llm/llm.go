// Package llm is the contract between the dialogue engine and an optional large language
// model: messages, tools and proposals, the practice's settings with their DSGVO
// confirmations, and the fixed system instructions. It holds no HTTP; adapters such as
// package openai implement Model.
package llm

import (
	"bytes"
	"context"
	"encoding/json"

	"github.com/tresen/tresen/internal/errs"
)

// Role is who wrote a message.
type Role string

const (
	RoleSystem    Role = "system"    // the fixed instructions from SystemPrompt
	RoleUser      Role = "user"      // the caller or chat visitor, always passed through Sanitize
	RoleAssistant Role = "assistant" // an earlier proposal of the model
	RoleTool      Role = "tool"      // the engine's result for one tool call
)

// Message is one turn of the conversation as the model sees it.
type Message struct {
	Role       Role       `json:"role"`
	Content    string     `json:"content,omitempty"`
	ToolCalls  []ToolCall `json:"tool_calls,omitempty"`   // only for RoleAssistant: the calls it proposed
	ToolCallID string     `json:"tool_call_id,omitempty"` // only for RoleTool: the call this result answers
}

// Tool is a function the model may propose to call.
type Tool struct {
	Name        string
	Description string
	Parameters  map[string]any // JSON schema of the arguments
}

// ToolCall is the model's proposal to call a tool. Arguments is a JSON object that the
// dialogue engine validates value by value before it acts on it.
type ToolCall struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
}

// Proposal is what the model suggests for the next turn: a reply to speak or show, tool
// calls, or both. It is a suggestion only; the deterministic engine decides.
type Proposal struct {
	Reply string
	Calls []ToolCall
}

// Model proposes the next turn of a conversation. msgs starts with the system message;
// an implementation refuses anything else (see CheckMessages).
type Model interface {
	Propose(ctx context.Context, msgs []Message, tools []Tool) (Proposal, error)
}

// CheckMessages reports whether msgs is a conversation an adapter may send: exactly one
// system message, in first place, so that nothing else — in particular nothing the caller
// said — can ever reach the model as an instruction.
func CheckMessages(msgs []Message) error {
	if len(msgs) == 0 || msgs[0].Role != RoleSystem || msgs[0].Content == "" {
		return errs.E(errs.Invalid, "Sprachmodell: das Gespräch muss mit den Systemanweisungen beginnen")
	}
	for _, m := range msgs[1:] {
		switch m.Role {
		case RoleSystem:
			return errs.E(errs.Invalid, "Sprachmodell: Systemanweisungen sind nur als erste Nachricht erlaubt")
		case RoleUser:
		case RoleAssistant:
			for _, c := range m.ToolCalls {
				if c.ID == "" || c.Name == "" {
					return errs.E(errs.Invalid, "Sprachmodell: ein Werkzeugaufruf ohne ID oder Namen")
				}
			}
		case RoleTool:
			if m.ToolCallID == "" {
				return errs.E(errs.Invalid, "Sprachmodell: ein Werkzeugergebnis ohne ID des Aufrufs")
			}
		default:
			return errs.E(errs.Invalid, "Sprachmodell: unbekannte Rolle einer Nachricht")
		}
		if m.Role != RoleAssistant && len(m.ToolCalls) > 0 {
			return errs.E(errs.Invalid, "Sprachmodell: Werkzeugaufrufe gibt es nur in Antworten des Modells")
		}
	}
	return nil
}

// Check reports whether every call in p names one of tools and carries a JSON object as
// arguments. The messages name no tool and no value: they come from the model and may
// hold anything.
func (p Proposal) Check(tools []Tool) error {
	if p.Reply == "" && len(p.Calls) == 0 {
		return errs.E(errs.Internal, "Sprachmodell: leere Antwort")
	}
	for _, c := range p.Calls {
		known := false
		for _, t := range tools {
			known = known || t.Name == c.Name
		}
		if !known {
			return errs.E(errs.Internal, "Sprachmodell: Aufruf eines nicht angebotenen Werkzeugs")
		}
		args := bytes.TrimSpace(c.Arguments)
		if !json.Valid(args) || len(args) == 0 || args[0] != '{' {
			return errs.E(errs.Internal, "Sprachmodell: Argumente eines Werkzeugaufrufs sind kein JSON-Objekt")
		}
	}
	return nil
}

// StringArgs decodes the arguments of c, which the tools of this package define as an
// object of strings. A null value counts as absent; any other non-string is refused.
func (c ToolCall) StringArgs() (map[string]string, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(c.Arguments, &raw); err != nil || raw == nil {
		return nil, errs.E(errs.Invalid, "Sprachmodell: Argumente sind kein JSON-Objekt")
	}
	args := make(map[string]string, len(raw))
	for k, v := range raw {
		if string(bytes.TrimSpace(v)) == "null" {
			continue
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, errs.E(errs.Invalid, "Sprachmodell: ein Argument ist kein Text")
		}
		args[k] = s
	}
	return args, nil
}
