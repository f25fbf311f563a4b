package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/tresen/tresen/internal/demo"
	"github.com/tresen/tresen/internal/openai/openaitest"
	"github.com/tresen/tresen/internal/vault"
)

// TestChat holds a whole conversation in the terminal, as a person would, and finds the
// request stored for the practice team; a conversation cut off half-way (end of input)
// still leaves a request with what was said.
func TestChat(t *testing.T) {
	t.Setenv("TRESEN_MASTER_KEY", vault.NewMasterKeyText("k1"))
	t.Setenv("TRESEN_PEPPER", base64.StdEncoding.EncodeToString([]byte("chat-test-pepper-0123456789")))
	dir := t.TempDir()
	chat := func(input string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if code := run(context.Background(), []string{"chat", "--data", dir}, strings.NewReader(input), &out, &errOut); code != 0 {
			t.Fatalf("chat: exit %d: %s", code, errOut.String())
		}
		return out.String()
	}
	out := chat("Hallo, ich brauche ein Folgerezept\nAnna Müller, geboren 12.3.1984\nRamipril 5 mg\nich bin bei der TK\nja\nnein danke\n")
	for _, want := range []string{"Tresen: Guten Tag", "Folgerezept für Ramipril 5 mg für Anna Müller", "gespeichert: 1 Anliegen", "Folgerezept: Ramipril 5 mg\nAnna Müller, geb. 12.03.1984, GKV [complete]"} {
		if !strings.Contains(out, want) {
			t.Errorf("conversation lacks %q:\n%s", want, out)
		}
	}
	out = chat("ich brauche eine Überweisung zum Orthopäden\nMax Mustermann\n")
	if !strings.Contains(out, "gespeichert: 1 Anliegen") || !strings.Contains(out, "Max Mustermann") || !strings.Contains(out, "[incomplete]") {
		t.Errorf("cut-off conversation:\n%s", out)
	}
}

// TestChatWithModel switches the demo practice to a language model on the command line
// (a local server speaking the OpenAI protocol) and talks to it; when the model fails
// half-way, the conversation goes on without it and the request is complete.
func TestChatWithModel(t *testing.T) {
	t.Setenv("TRESEN_MASTER_KEY", vault.NewMasterKeyText("k1"))
	t.Setenv("TRESEN_PEPPER", base64.StdEncoding.EncodeToString([]byte("chat-test-pepper-0123456789")))
	dir := t.TempDir()
	srv := openaitest.NewServer(t, openaitest.Script(t,
		openaitest.Reply("Sehr gern. Wie ist Ihr Name und Ihr Geburtsdatum?"),
		openaitest.Fail(http.StatusServiceUnavailable),
	))
	cmd := func(stdin string, args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if code := run(context.Background(), append(args, "--data", dir), strings.NewReader(stdin), &out, &errOut); code != 0 {
			t.Fatalf("%s: exit %d: %s", args, code, errOut.String())
		}
		return out.String()
	}
	cmd("", "chat") // seeds the demo practice
	var id string
	for line := range strings.Lines(cmd("", "tenant", "list")) {
		if strings.Contains(line, demo.PracticeTenant.Name) {
			id, _, _ = strings.Cut(line, "\t")
		}
	}
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"tenant", "llm", id, "--data", dir, "--base-url", srv.URL + "/v1", "--model", "m", "--eu-hosted"}, strings.NewReader(""), &out, &errOut)
	if code != 2 || !strings.Contains(errOut.String(), "Zero Retention") {
		t.Errorf("without zero-retention confirmation: exit %d, %s", code, errOut.String())
	}
	cmd("sk-tresen-test\n", "tenant", "llm", id, "--base-url", srv.URL+"/v1", "--model", "m", "--api-key-stdin", "--eu-hosted", "--zero-retention")
	if got := cmd("", "tenant", "llm", id); !strings.Contains(got, "Sprachmodell: an") || strings.Contains(got, "sk-tresen-test") {
		t.Errorf("tenant llm shows:\n%s", got)
	}

	got := cmd("Ich brauche ein Folgerezept\nAnna Müller, geboren 12.3.1984\nRamipril 5 mg\nTK\nja\nnein danke\n", "chat")
	for _, want := range []string{"Sehr gern. Wie ist Ihr Name", "gespeichert: 1 Anliegen", "Folgerezept: Ramipril 5 mg\nAnna Müller, geb. 12.03.1984, GKV [complete]"} {
		if !strings.Contains(got, want) {
			t.Errorf("conversation lacks %q:\n%s", want, got)
		}
	}
	reqs := srv.Requests()
	if len(reqs) != 2 || reqs[0].Header.Get("Authorization") != "Bearer sk-tresen-test" {
		t.Errorf("model got %d requests", len(reqs))
	}

	cmd("", "tenant", "llm", id, "--off")
	cmd("Wann haben Sie geöffnet?\n", "chat")
	if len(srv.Requests()) != 2 {
		t.Error("the model was asked after LLM mode was switched off")
	}
}
