package sip

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/emiago/diago/audio"
)

// runSipp runs a sipp scenario from testdata against s, once, and fails the test when
// sipp reports a failed call. dir is sipp's working directory (for rtp_stream files).
func runSipp(t *testing.T, s *Server, scenario, dir string) {
	t.Helper()
	sipp, err := exec.LookPath("sipp")
	if err != nil {
		t.Fatalf("sipp not installed (Debian package sip-tester; scripts/deps.sh test installs it): %v", err)
	}
	abs, err := filepath.Abs(filepath.Join("testdata", scenario))
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(s.Addr())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, sipp, host+":"+port,
		"-sf", abs, "-m", "1", "-s", "030123456",
		"-i", "127.0.0.1", "-p", freeUDPPort(t), "-mp", freeMediaPort(t),
		"-timeout", "20s", "-timeout_error", "-nostdin", "-trace_err", "-error_file", filepath.Join(dir, "sipp_errors.log"))
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		errs, _ := os.ReadFile(filepath.Join(dir, "sipp_errors.log"))
		t.Fatalf("sipp %s: %v\n%s\n%s", scenario, err, tail(out), errs)
	}
}

func tail(b []byte) []byte {
	if len(b) > 3000 {
		return b[len(b)-3000:]
	}
	return b
}

func freeUDPPort(t *testing.T) string {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, p, _ := net.SplitHostPort(c.LocalAddr().String())
	return p
}

// freeMediaPort is a port for sipp's -mp with the three above it free too: sipp binds
// the audio port, and the video port two above it, whether the scenario has video or not.
func freeMediaPort(t *testing.T) string {
	t.Helper()
	for range 50 {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := c.LocalAddr().(*net.UDPAddr).Port
		conns := []net.PacketConn{c}
		for i := 1; i <= 3 && port+i < 65536; i++ {
			if c, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port+i))); err == nil {
				conns = append(conns, c)
			}
		}
		for _, c := range conns {
			c.Close()
		}
		if len(conns) == 4 {
			return strconv.Itoa(port)
		}
	}
	t.Fatal("no four free UDP ports in a row for sipp's media")
	return ""
}

func TestSippCallALaw(t *testing.T) {
	dir := t.TempDir()
	// 1.5 s of a 300 Hz tone as raw A-law for sipp's rtp_stream.
	tone := sine(1500*time.Millisecond, 300)
	lpcm := make([]byte, 2*len(tone))
	for i, v := range tone {
		lpcm[2*i], lpcm[2*i+1] = byte(v), byte(uint16(v)>>8)
	}
	alaw := make([]byte, len(tone))
	if _, err := audio.EncodeAlawTo(alaw, lpcm); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tone.alaw"), alaw, 0o600); err != nil {
		t.Fatal(err)
	}
	h := newRecorder(sine(time.Second, 440))
	s := startServer(t, Options{Handler: h})
	runSipp(t, s, "sipp_call_alaw.xml", dir)
	select {
	case <-h.ended:
	case <-time.After(5 * time.Second):
		t.Fatal("handler did not end after sipp's BYE")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.loud < 60 {
		t.Errorf("heard %d loud frames of %d from sipp, want ≥ 60 (1.5 s tone)", h.loud, h.frames)
	}
	c := h.calls[0]
	if c.From() != "+4942112345" || c.To() != "+4930123456" {
		t.Errorf("From %q To %q", c.From(), c.To())
	}
}

func TestSippCancelWhileRinging(t *testing.T) {
	h := newRecorder(nil)
	s := startServer(t, Options{Handler: h, RingFor: 10 * time.Second})
	runSipp(t, s, "sipp_cancel.xml", t.TempDir())
	select {
	case <-h.answered:
		t.Fatal("a cancelled call reached the handler")
	default:
	}
	waitNoCalls(t, s)
}

func TestSippMalformedSDP(t *testing.T) {
	h := newRecorder(nil)
	s := startServer(t, Options{Handler: h, RingFor: 10 * time.Second})
	runSipp(t, s, "sipp_bad_sdp.xml", t.TempDir())
	// The server still takes calls.
	runSipp(t, s, "sipp_cancel.xml", t.TempDir())
}
