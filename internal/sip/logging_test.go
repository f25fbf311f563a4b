package sip

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a log sink shared by the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A message sipgo cannot parse is logged without its text: neither the caller's name nor
// a number reaches the log.
func TestLogsWithoutPersonalData(t *testing.T) {
	var logs lockedBuffer
	s, err := New(Options{Addr: "127.0.0.1:0", Handler: newRecorder(nil), Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	conn, err := net.Dial("udp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// A header line without a colon: sipgo's parser gives up on the message.
	bad := "INVITE sip:+4942112345678@127.0.0.1 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK-1\r\n" +
		"From: \"Erika Mustermann\" <sip:+4917012345678@127.0.0.1>;tag=1\r\n" +
		"To: <sip:+4942112345678@127.0.0.1>\r\n" +
		"Call-ID: logs-1\r\nCSeq: 1 INVITE\r\nGeburtsdatum 12.03.1984\r\nContent-Length: 0\r\n\r\n"
	if _, err := conn.Write([]byte(bad)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "parse") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	out := logs.String()
	if !strings.Contains(out, "parse") {
		t.Fatalf("sipgo's parse error did not reach the server's log:\n%s", out)
	}
	for _, secret := range []string{"Mustermann", "4917012345678", "4942112345678", "12.03.1984"} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains %q:\n%s", secret, out)
		}
	}
}

func TestRedactDigits(t *testing.T) {
	for in, want := range map[string]string{
		"from +49 170 1234567 at":   "from … at",
		"born 12.03.1984":           "born …",
		"port 5060 and code 4711":   "port 5060 and code 4711",
		"kvnr A123456780":           "kvnr A…",
		"status 486 after 3 tries.": "status 486 after 3 tries.",
	} {
		if got := redact(slog.String("error", in)).Value.String(); got != want {
			t.Errorf("%q → %q, want %q", in, got, want)
		}
	}
}
