package llm_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/llm"
)

func TestCheckMessages(t *testing.T) {
	sys := llm.Message{Role: llm.RoleSystem, Content: llm.SystemPrompt("Praxis", llm.Facts{})}
	user := llm.Message{Role: llm.RoleUser, Content: "Hallo"}
	call := llm.ToolCall{ID: "c1", Name: llm.ToolTransfer, Arguments: json.RawMessage(`{"reason":"x"}`)}
	tests := []struct {
		name string
		msgs []llm.Message
		ok   bool
	}{
		{"system and user", []llm.Message{sys, user}, true},
		{"tool round", []llm.Message{sys, user, {Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{call}},
			{Role: llm.RoleTool, ToolCallID: "c1", Content: "ok"}, user}, true},
		{"empty", nil, false},
		{"no system", []llm.Message{user}, false},
		{"empty system", []llm.Message{{Role: llm.RoleSystem}, user}, false},
		{"second system", []llm.Message{sys, user, {Role: llm.RoleSystem, Content: "Neue Regeln"}}, false},
		{"unknown role", []llm.Message{sys, {Role: "developer", Content: "Neue Regeln"}}, false},
		{"tool result without id", []llm.Message{sys, user, {Role: llm.RoleTool, Content: "ok"}}, false},
		{"call without id", []llm.Message{sys, user, {Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{Name: "transfer"}}}}, false},
		{"calls from the user", []llm.Message{sys, {Role: llm.RoleUser, ToolCalls: []llm.ToolCall{call}}}, false},
	}
	for _, tc := range tests {
		err := llm.CheckMessages(tc.msgs)
		if tc.ok && err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
		if !tc.ok && !errs.Is(err, errs.Invalid) {
			t.Errorf("%s: err = %v, want invalid", tc.name, err)
		}
	}
}

func TestProposalCheck(t *testing.T) {
	tools := llm.Tools()
	call := func(name, args string) llm.ToolCall {
		return llm.ToolCall{ID: "c", Name: name, Arguments: json.RawMessage(args)}
	}
	tests := []struct {
		name string
		p    llm.Proposal
		ok   bool
	}{
		{"reply", llm.Proposal{Reply: "Gern."}, true},
		{"call", llm.Proposal{Calls: []llm.ToolCall{call("find_slots", ` {"type":"appointment_book"}`)}}, true},
		{"empty", llm.Proposal{}, false},
		{"unknown tool", llm.Proposal{Calls: []llm.ToolCall{call("delete_all", `{}`)}}, false},
		{"arguments not JSON", llm.Proposal{Calls: []llm.ToolCall{call("transfer", `{"reason":`)}}, false},
		{"arguments an array", llm.Proposal{Calls: []llm.ToolCall{call("transfer", `["x"]`)}}, false},
		{"no arguments", llm.Proposal{Calls: []llm.ToolCall{call("transfer", ``)}}, false},
	}
	for _, tc := range tests {
		if err := tc.p.Check(tools); (err == nil) != tc.ok {
			t.Errorf("%s: Check = %v", tc.name, err)
		}
	}
}

func TestStringArgs(t *testing.T) {
	got, err := llm.ToolCall{Arguments: json.RawMessage(`{"type":"sick_note","date":"2026-03-12","doctor":null}`)}.StringArgs()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"type": "sick_note", "date": "2026-03-12"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, bad := range []string{`{"date":12}`, `{"x":{"y":"z"}}`, `["a"]`, `null`, ``, `{`} {
		if _, err := (llm.ToolCall{Arguments: json.RawMessage(bad)}).StringArgs(); err == nil {
			t.Errorf("StringArgs(%s) succeeded", bad)
		}
	}
}

func TestTools(t *testing.T) {
	tools := llm.Tools()
	var names []string
	for _, tool := range tools {
		names = append(names, tool.Name)
		if tool.Description == "" {
			t.Errorf("%s has no description", tool.Name)
		}
		// The schema is a JSON object schema that encoding/json can send.
		if _, err := json.Marshal(tool.Parameters); err != nil {
			t.Errorf("%s: %v", tool.Name, err)
		}
		if tool.Parameters["type"] != "object" || tool.Parameters["additionalProperties"] != false {
			t.Errorf("%s: parameters are not a closed object schema", tool.Name)
		}
		props := tool.Parameters["properties"].(map[string]any)
		for _, req := range tool.Parameters["required"].([]string) {
			if _, ok := props[req]; !ok {
				t.Errorf("%s requires undefined %s", tool.Name, req)
			}
		}
		for name, p := range props {
			if p.(map[string]any)["type"] != "string" {
				t.Errorf("%s.%s is not a string", tool.Name, name)
			}
		}
	}
	if diff := cmp.Diff([]string{"find_slots", "create_request", "transfer"}, names); diff != "" {
		t.Errorf("tool names (-want +got):\n%s", diff)
	}
	props := func(tool llm.Tool) []string {
		var out []string
		for k := range tool.Parameters["properties"].(map[string]any) {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	if diff := cmp.Diff([]string{"date", "daypart", "doctor", "time", "type"}, props(llm.FindSlotsTool())); diff != "" {
		t.Errorf("find_slots (-want +got):\n%s", diff)
	}
	wantSlots := []string{"birth_date", "date", "daypart", "doctor", "insurance", "kvnr", "medication", "name", "phone", "reason", "slot_id", "time", "type"}
	if diff := cmp.Diff(wantSlots, props(llm.CreateRequestTool())); diff != "" {
		t.Errorf("create_request (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"reason"}, props(llm.TransferTool())); diff != "" {
		t.Errorf("transfer (-want +got):\n%s", diff)
	}
	// Each call builds new maps: a caller changing its copy changes nobody else's.
	tools[0].Parameters["type"] = "changed"
	if llm.Tools()[0].Parameters["type"] != "object" {
		t.Error("Tools shares its maps between calls")
	}
}
