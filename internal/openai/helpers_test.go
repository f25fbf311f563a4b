package openai_test

import (
	"testing"

	"github.com/tresen/tresen/internal/llm"
	"github.com/tresen/tresen/internal/openai"
)

func mustNew(t *testing.T, s llm.Settings) *openai.Model {
	t.Helper()
	m, err := openai.New(s)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return m
}
