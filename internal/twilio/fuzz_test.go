package twilio

import (
	"encoding/json"
	"testing"
)

// FuzzMessage: whatever arrives on the stream, handling it never panics, frames stay
// whole, and played time never goes backwards.
func FuzzMessage(f *testing.F) {
	for _, s := range []string{
		`{"event":"media","media":{"track":"inbound","payload":"//////////8="}}`,
		`{"event":"dtmf","dtmf":{"digit":"5"}}`,
		`{"event":"mark","mark":{"name":"g0-100"}}`,
		`{"event":"mark","mark":{"name":"g-1--5"}}`,
		`{"event":"stop","stop":{"callSid":"CA1"}}`,
		`{"event":"media","media":{"payload":"not base64"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c := &call{audio: make(chan []int16, 4), dtmf: make(chan rune, 4), done: make(chan struct{})}
		var m message
		if json.Unmarshal(data, &m) != nil {
			return
		}
		before := c.Played()
		c.handle(m)
		c.handle(m)
		if c.Played() < before || c.Played() < 0 {
			t.Errorf("played went from %s to %s", before, c.Played())
		}
		if len(c.pending) >= 160 {
			t.Errorf("%d samples left unframed", len(c.pending))
		}
		for len(c.audio) > 0 {
			if f := <-c.audio; len(f) != 160 {
				t.Errorf("frame of %d samples", len(f))
			}
		}
	})
}
