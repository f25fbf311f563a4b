package sip

import (
	"slices"
	"sync"
	"testing"
	"time"
)

func TestSippByeDuringPrompt(t *testing.T) {
	const prompt = 10 * time.Second
	h := newRecorder(sine(prompt, 440))
	s := startServer(t, Options{Handler: h})
	runSipp(t, s, "sipp_bye_during_prompt.xml", t.TempDir()) // fails unless the BYE got 200
	c := <-h.answered
	select {
	case <-h.ended:
	case <-time.After(5 * time.Second):
		t.Fatal("handler still running 5 s after the caller's BYE was answered")
	}
	select {
	case <-c.Done():
	default:
		t.Fatal("Done not closed after BYE")
	}
	// The handler returns only once Audio and DTMF are closed, so the call's reader has
	// stopped; the server drops a call from its map only after its writer has stopped too.
	waitNoCalls(t, s)
	if p := c.Played(); p <= 0 || p >= prompt {
		t.Errorf("Played() = %v, want the prompt cut short by the BYE (0 < played < %v)", p, prompt)
	}
	if err := c.Play(sine(time.Second, 440)); err == nil {
		t.Error("Play after BYE succeeded")
	}
}

func TestSippReInviteHoldResume(t *testing.T) {
	h := newRecorder(sine(10*time.Second, 440))
	s := startServer(t, Options{Handler: h})

	// Watch the server's view of the call while sipp holds and resumes it.
	var (
		mu     sync.Mutex
		states []bool // the call's held flag, each change once
	)
	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			s.mu.Lock()
			for _, c := range s.calls {
				held := c.held.Load()
				mu.Lock()
				if len(states) == 0 || states[len(states)-1] != held {
					states = append(states, held)
				}
				mu.Unlock()
			}
			s.mu.Unlock()
		}
	}()
	// sipp checks the answers: a=recvonly to a=sendonly, a=sendrecv to a=sendrecv.
	runSipp(t, s, "sipp_reinvite_hold.xml", t.TempDir())
	close(stop)
	<-watched
	select {
	case <-h.ended:
	case <-time.After(5 * time.Second):
		t.Fatal("handler did not end after sipp's BYE")
	}
	waitNoCalls(t, s)
	mu.Lock()
	defer mu.Unlock()
	if want := []bool{false, true, false}; !slices.Equal(states, want) {
		t.Errorf("held went %v, want %v (answered, on hold, resumed)", states, want)
	}
}

func TestSippMalformedSIP(t *testing.T) {
	h := newRecorder(nil)
	h.hangup = 200 * time.Millisecond
	s := startServer(t, Options{Handler: h})
	// sipp checks each 4xx and its reason.
	runSipp(t, s, "sipp_bad_sip.xml", t.TempDir())
	// The server still answers a call, and only that one reached the handler.
	expectCallWorks(t, s, h, "udp")
	expectCalls(t, h, 1)
}
