package main

import (
	"bytes"
	"encoding/binary"
	"net"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseSippStats(t *testing.T) {
	// The statistics file of a one-call run of sipp 3.6.1 with the scenario.
	f, err := os.Open("testdata/sipp_stats.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := parseSippStats(f)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, name := range []string{"TotalCallCreated", "SuccessfulCall(C)", "FailedCall(C)", "CurrentCall", "Retransmissions(C)"} {
		got[name] = st.count(name)
	}
	want := map[string]int64{"TotalCallCreated": 1, "SuccessfulCall(C)": 1, "FailedCall(C)": 0, "CurrentCall": 0, "Retransmissions(C)": 0}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("counts (-want +got):\n%s", d)
	}
	if f := st.failures(); len(f) != 0 {
		t.Errorf("failures = %q, want none", f)
	}

	// The last complete report counts; a line sipp is still writing does not.
	const text = "TotalCallCreated;CurrentCall;FailedCall(P);FailedCall(C);FailedTimeoutOnRecv(C);FailedCallRejected(C);FailedMaxUDPRetrans(C);\n" +
		"10;10;0;0;0;0;0;\n" +
		"25;3;1;3;2;0;1;\n" +
		"26;2;0\n"
	st, err = parseSippStats(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if n := st.count("TotalCallCreated"); n != 25 {
		t.Errorf("TotalCallCreated = %d, want 25 (of the last complete report)", n)
	}
	if d := cmp.Diff([]string{"FailedMaxUDPRetrans 1", "FailedTimeoutOnRecv 2"}, st.failures()); d != "" {
		t.Errorf("failures (-want +got):\n%s", d)
	}
	if n := st.count("NoSuchColumn"); n != 0 {
		t.Errorf("count of a missing column = %d", n)
	}

	for _, bad := range []string{"", "TotalCallCreated;CurrentCall;\n", "TotalCallCreated;CurrentCall;\n1\n"} {
		if _, err := parseSippStats(strings.NewReader(bad)); err == nil {
			t.Errorf("parseSippStats(%q): no error", bad)
		}
	}
}

func TestParseSippLog(t *testing.T) {
	// As sipp 3.6.1 writes <log message="[field1] WHAT [timestamp]"/>; the last line
	// without its newline, as sipp may leave it.
	const text = "20000 answered 2026-11-30\t22:20:53.847324\t1796077253.847324\n" +
		"20000 key 2 2026-11-30\t22:21:22.853447\t1796077282.853447\n" +
		"In pcap /usr/share/sip-tester/dtmf_2833_2.pcap, npkts 10\n" +
		"\n" +
		"x key 2 2026-11-30\t22:21:22.853447\t1796077282.853447\n" +
		"20002 key # 2026-11-30\t22:21:35.698290\t1796077295.6\n" +
		"20002 server hung up 2026-11-30\t22:21:42.519024\t1796077302.519024"
	events, skipped, err := parseSippLog(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	want := []sippEvent{
		{20000, "answered", time.Unix(1796077253, 847324000)},
		{20000, "key 2", time.Unix(1796077282, 853447000)},
		{20002, "key #", time.Unix(1796077295, 600000000)},
		{20002, "server hung up", time.Unix(1796077302, 519024000)},
	}
	if d := cmp.Diff(want, events, cmp.AllowUnexported(sippEvent{})); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
	if skipped != 2 {
		t.Errorf("skipped = %d, want 2", skipped)
	}
	for _, bad := range []string{
		"20000 answered\t22:20:53.847324\t1796077253.847324",     // no date: no event name
		"70000 answered 2026-11-30\t22:20:53.847324\t1796077253", // no such port
		"20000 answered 2026-11-30\t22:20:53.847324\t17960772x3.8",
		"20000 answered 2026-11-30\t22:20:53.847324\t1796077253.1234567890",
		"20000 answered 2026-11-30 22:20:53.847324 1796077253.847324",
	} {
		if ev, ok := parseSippEvent(bad); ok {
			t.Errorf("parseSippEvent(%q) = %+v, want no event", bad, ev)
		}
	}
}

// rtpPacket builds an RTP packet: version 2, the given first-byte flags (CSRC count,
// extension, padding bits) and extra header bytes before the payload.
func rtpPacket(first byte, marker bool, pt uint8, seq uint16, extra, payload []byte, pad int) []byte {
	b := []byte{0x80 | first, pt, 0, 0, 0, 0, 0, 160, 1, 2, 3, 4}
	if marker {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], seq)
	b = append(b, extra...)
	b = append(b, payload...)
	if pad > 0 {
		b = append(b, make([]byte, pad-1)...)
		b = append(b, byte(pad))
	}
	return b
}

func TestParseRTP(t *testing.T) {
	payload := bytes.Repeat([]byte{0xD5}, 160)
	csrc := []byte{9, 9, 9, 9}
	ext := []byte{0xBE, 0xDE, 0, 1, 1, 2, 3, 4} // one word of extension
	for _, c := range []struct {
		name string
		pkt  []byte
		want rtpHeader
	}{
		{"plain", rtpPacket(0, false, 8, 7, nil, payload, 0), rtpHeader{pt: 8, seq: 7, ts: 160, ssrc: 0x01020304}},
		{"marker, CSRC, extension, padding", rtpPacket(0x01|0x10|0x20, true, 101, 65535, append(csrc, ext...), payload, 4),
			rtpHeader{pt: 101, marker: true, seq: 65535, ts: 160, ssrc: 0x01020304}},
	} {
		h, p, err := parseRTP(c.pkt)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if h != c.want {
			t.Errorf("%s: header %+v, want %+v", c.name, h, c.want)
		}
		if !bytes.Equal(p, payload) {
			t.Errorf("%s: payload of %d bytes, want the 160 of A-law silence", c.name, len(p))
		}
	}
	rtcp := []byte{0x80, 200, 0, 6, 1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0} // a sender report
	for name, pkt := range map[string][]byte{
		"short":             make([]byte, 11),
		"version 1":         append([]byte{0x40}, make([]byte, 20)...),
		"RTCP":              rtcp,
		"CSRCs beyond":      rtpPacket(0x0f, false, 8, 1, nil, make([]byte, 8), 0),
		"extension beyond":  rtpPacket(0x10, false, 8, 1, []byte{0xBE, 0xDE, 0, 9}, nil, 0),
		"padding too large": append(rtpPacket(0x20, false, 8, 1, nil, nil, 0), 40),
	} {
		if _, _, err := parseRTP(pkt); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func FuzzParseRTP(f *testing.F) {
	f.Add(rtpPacket(0, false, 8, 7, nil, make([]byte, 160), 0))
	f.Add(rtpPacket(0x31, true, 101, 1, []byte{1, 2, 3, 4, 0xBE, 0xDE, 0, 0}, []byte{2, 0x8a, 0, 160}, 2))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, p, err := parseRTP(b)
		if err == nil && len(p) > len(b)-12 {
			t.Fatalf("payload of %d bytes from a packet of %d", len(p), len(b))
		}
	})
}

func FuzzParseSippLog(f *testing.F) {
	f.Add("20000 key 2 2026-11-30\t22:21:22.853447\t1796077282.853447\n")
	f.Add("1 a b\t\t.")
	f.Fuzz(func(t *testing.T, s string) {
		events, _, err := parseSippLog(strings.NewReader(s))
		if err != nil {
			return
		}
		for _, ev := range events {
			if ev.port <= 0 || ev.port > 65535 || ev.what == "" {
				t.Fatalf("event %+v from %q", ev, s)
			}
		}
	})
}

func FuzzParseSippStats(f *testing.F) {
	f.Add("TotalCallCreated;FailedCall(C);\n3;1;\n")
	f.Add(";\n;;\n")
	f.Fuzz(func(t *testing.T, s string) {
		st, err := parseSippStats(strings.NewReader(s))
		if err == nil {
			st.failures()
		}
	})
}

func TestCheckCall(t *testing.T) {
	t0 := time.Unix(1796077253, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	run := func(from, to, speech int) audibleRun { return audibleRun{start: at(from), end: at(to), speech: speech} }
	// A call as the server plays it: the greeting and menu in runs of audio from 20 ms
	// to 26.5 s after the answer, the birth date prompt 13 ms after key 2, the goodbye
	// 20 ms after the eighth digit.
	runs := []audibleRun{
		run(20, 9000, 400), run(9300, 18000, 400), run(18200, 26500, 400),
		run(29013, 33000, 190), run(33200, 37700, 200),
		run(41550, 44000, 110), run(44300, 46300, 90),
	}
	events := map[string]time.Time{
		evAnswered: at(0), evKey2: at(29000), evBirth: at(39500), evLastDigit: at(41530), evHash: at(41820), evHungUp: at(47000),
	}
	with := func(what string, t time.Time) map[string]time.Time {
		m := map[string]time.Time{}
		for k, v := range events {
			m[k] = v
		}
		if t.IsZero() {
			delete(m, what)
		} else {
			m[what] = t
		}
		return m
	}
	const gap, wait = time.Second, 5 * time.Second

	ch := checkCall(events, runs, gap, wait)
	want := callCheck{greeting: 20 * time.Millisecond, key2: 13 * time.Millisecond, digit: 20 * time.Millisecond,
		menu: 26480 * time.Millisecond, goodbye: 200, silence: 1800 * time.Millisecond}
	if d := cmp.Diff(want, ch, cmp.AllowUnexported(callCheck{})); d != "" {
		t.Errorf("a good call (-want +got):\n%s", d)
	}

	for _, c := range []struct {
		name   string
		events map[string]time.Time
		runs   []audibleRun
		failed string
	}{
		{"not answered", with(evAnswered, time.Time{}), runs, "not answered"},
		{"keys not sent", with(evLastDigit, time.Time{}), runs, "sipp did not key"},
		{"silent server", events, nil, "no audio"},
		{"key 2 during the menu", with(evKey2, at(26900)), runs, "key 2 while the greeting and menu played"},
		{"no birth date prompt", events, runs[:3], "no birth date prompt within"},
		{"birth date prompt late", events, append(runs[:3:3], run(34100, 37700, 300)), "no birth date prompt within"},
		{"digits during the prompt", with(evBirth, at(38000)), runs, "birth date keyed while its prompt played"},
		{"no goodbye", events, runs[:5], "no goodbye within"},
		{"no BYE", with(evHungUp, time.Time{}), runs, "no BYE"},
		{"short goodbye", events, append(runs[:5:5], run(41550, 42000, 20)), "goodbye too short"},
	} {
		got := checkCall(c.events, c.runs, gap, wait).failed
		if !strings.HasPrefix(got, c.failed) {
			t.Errorf("%s: failed %q, want %q…", c.name, got, c.failed)
		}
	}
}

func TestArrivalStamps(t *testing.T) {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := enableStamps(conn); err != nil {
		t.Fatal(err)
	}
	if _, ok := stampOf(nil); ok {
		t.Error("stampOf(nil): a stamp")
	}
	out, err := net.DialUDP("udp", nil, conn.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	sent := time.Now()
	if _, err := out.Write(rtpPacket(0, false, 8, 1, nil, make([]byte, 160), 0)); err != nil {
		t.Fatal(err)
	}
	buf, oob := make([]byte, 2048), make([]byte, 128)
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, oobn, _, _, err := conn.ReadMsgUDP(buf, oob)
	read := time.Now()
	if err != nil {
		t.Fatal(err)
	}
	at, ok := stampOf(oob[:oobn])
	if runtime.GOOS != "linux" {
		if ok {
			t.Errorf("a stamp on %s", runtime.GOOS)
		}
		return
	}
	if !ok {
		t.Fatalf("no arrival stamp in %d bytes of control messages", oobn)
	}
	if at.Before(sent.Add(-time.Millisecond)) || at.After(read) {
		t.Errorf("stamp %v not between the send %v and the read %v", at, sent, read)
	}
}
