package web

import (
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	now := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	l := newLimiter(3, 10*time.Second)
	l.now = func() time.Time { return now }
	for i := range 3 {
		if !l.allow("192.0.2.1") {
			t.Fatalf("request %d refused within burst", i+1)
		}
	}
	if l.allow("192.0.2.1") {
		t.Fatal("fourth request allowed")
	}
	if !l.allow("192.0.2.2") {
		t.Fatal("another address was limited too")
	}
	now = now.Add(10 * time.Second)
	if !l.allow("192.0.2.1") || l.allow("192.0.2.1") {
		t.Fatal("refill is not one token per 10 s")
	}
	now = now.Add(time.Hour)
	l.sweep(now)
	if len(l.buckets) != 0 {
		t.Errorf("sweep kept %d full buckets", len(l.buckets))
	}
}
