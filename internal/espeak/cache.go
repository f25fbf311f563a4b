package espeak

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/tresen/tresen/internal/speech"
)

// Cache keeps the audio of prompts that never change (the greeting, the menu, "Einen
// Moment bitte."), synthesised once at start, and serves them from memory; other texts
// go to the voice it wraps. It works for any speech.Voice and is safe for concurrent use.
type Cache struct {
	voice speech.Voice
	mu    sync.RWMutex
	audio map[string][]int16
}

var _ speech.Voice = (*Cache)(nil)

// NewCache returns an empty Cache in front of v.
func NewCache(v speech.Voice) *Cache {
	return &Cache{voice: v, audio: map[string][]int16{}}
}

// cacheKey makes texts that differ only in spacing the same prompt.
func cacheKey(text string) string { return strings.Join(strings.Fields(text), " ") }

// Prewarm synthesises the texts not yet cached and keeps their audio.
func (c *Cache) Prewarm(ctx context.Context, texts []string) error {
	for i, t := range texts {
		k := cacheKey(t)
		c.mu.RLock()
		_, ok := c.audio[k]
		c.mu.RUnlock()
		if ok || k == "" {
			continue
		}
		var pcm []int16
		err := c.voice.Speak(ctx, k, func(p []int16) error {
			pcm = append(pcm, p...)
			return nil
		})
		if err != nil {
			return fmt.Errorf("espeak: prewarming prompt %d of %d: %w", i+1, len(texts), err)
		}
		c.mu.Lock()
		c.audio[k] = pcm
		c.mu.Unlock()
	}
	return nil
}

// Len is the number of prompts cached.
func (c *Cache) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.audio)
}

// Provider is the wrapped voice's.
func (c *Cache) Provider() speech.Provider { return c.voice.Provider() }

// Speak hands a cached prompt's audio to out at once, as one copy; other texts are
// synthesised by the wrapped voice.
func (c *Cache) Speak(ctx context.Context, text string, out func(pcm []int16) error) error {
	c.mu.RLock()
	pcm, ok := c.audio[cacheKey(text)]
	c.mu.RUnlock()
	if !ok {
		return c.voice.Speak(ctx, text, out)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return out(append([]int16(nil), pcm...))
}
