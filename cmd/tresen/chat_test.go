package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"strings"
	"testing"

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
