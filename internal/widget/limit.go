package widget

import (
	"sync"
	"time"
)

// limiter is a token bucket per key (a client address, a conversation). It is per node;
// behind a load balancer each node limits on its own, which still bounds the rate.
type limiter struct {
	mu      sync.Mutex
	burst   float64
	every   time.Duration // one token per every
	buckets map[string]*bucket
	now     func() time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

// maxBuckets bounds the memory; buckets that have refilled are dropped when it is reached.
const maxBuckets = 100_000

func newLimiter(burst int, every time.Duration, now func() time.Time) *limiter {
	if now == nil {
		now = time.Now
	}
	return &limiter{burst: float64(burst), every: every, buckets: map[string]*bucket{}, now: now}
}

// allow takes a token for key and reports whether there was one.
func (l *limiter) allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= maxBuckets {
			for k, b := range l.buckets {
				if b.tokens+float64(now.Sub(b.last))/float64(l.every) >= l.burst {
					delete(l.buckets, k)
				}
			}
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	b.tokens = min(l.burst, b.tokens+float64(now.Sub(b.last))/float64(l.every))
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
