package notify_test

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// component is a parsed iCalendar component (VCALENDAR, VEVENT …).
type component struct {
	Name  string
	Props []prop
	Subs  []*component
}

// prop is a content line: NAME;PARAM=V:VALUE, the value still escaped.
type prop struct {
	Name   string
	Params map[string]string
	Value  string
}

// Get returns the raw value of the first property called name.
func (c *component) Get(name string) string {
	for _, p := range c.Props {
		if p.Name == name {
			return p.Value
		}
	}
	return ""
}

// Text returns the first property called name as unescaped TEXT.
func (c *component) Text(name string) string { return unescape(c.Get(name)) }

func (c *component) Has(name string) bool {
	for _, p := range c.Props {
		if p.Name == name {
			return true
		}
	}
	return false
}

// physicalLines splits an iCalendar stream into its physical lines, checking that each
// ends with CRLF, is at most 75 octets and is valid UTF-8 on its own.
func physicalLines(tb testing.TB, b []byte) []string {
	tb.Helper()
	s := string(b)
	if !strings.HasSuffix(s, "\r\n") {
		tb.Fatalf("does not end with CRLF: %q", s)
	}
	lines := strings.Split(strings.TrimSuffix(s, "\r\n"), "\r\n")
	for i, l := range lines {
		switch {
		case len(l) > 75:
			tb.Errorf("line %d has %d octets: %q", i+1, len(l), l)
		case !utf8.ValidString(l):
			tb.Errorf("line %d is not valid UTF-8: %q", i+1, l)
		case strings.ContainsAny(l, "\r\n"):
			tb.Errorf("line %d has a bare CR or LF: %q", i+1, l)
		}
	}
	return lines
}

// unfold joins folded lines (RFC 5545 §3.1): CRLF followed by a space or tab is removed.
func unfold(b []byte) []string {
	s := strings.NewReplacer("\r\n ", "", "\r\n\t", "").Replace(string(b))
	return strings.Split(strings.TrimSuffix(s, "\r\n"), "\r\n")
}

// mustParseICS parses an iCalendar object the way a small RFC 5545 reader would.
func mustParseICS(tb testing.TB, b []byte) *component {
	tb.Helper()
	physicalLines(tb, b)
	var stack []*component
	var root *component
	for _, line := range unfold(b) {
		p, err := parseLine(line)
		if err != nil {
			tb.Fatalf("%v in %q", err, line)
		}
		switch p.Name {
		case "BEGIN":
			c := &component{Name: p.Value}
			if len(stack) > 0 {
				top := stack[len(stack)-1]
				top.Subs = append(top.Subs, c)
			} else if root == nil {
				root = c
			} else {
				tb.Fatalf("second top-level component %s", p.Value)
			}
			stack = append(stack, c)
		case "END":
			if len(stack) == 0 || stack[len(stack)-1].Name != p.Value {
				tb.Fatalf("END:%s does not close the open component", p.Value)
			}
			stack = stack[:len(stack)-1]
		default:
			if len(stack) == 0 {
				tb.Fatalf("property outside a component: %q", line)
			}
			top := stack[len(stack)-1]
			top.Props = append(top.Props, p)
		}
	}
	if root == nil || len(stack) != 0 {
		tb.Fatalf("unbalanced components")
	}
	return root
}

// parseLine splits a content line into name, parameters and value; the value starts after
// the first colon outside a quoted parameter value.
func parseLine(line string) (prop, error) {
	p := prop{Params: map[string]string{}}
	i := strings.IndexAny(line, ";:")
	if i <= 0 {
		return p, errors.New("no name")
	}
	p.Name = strings.ToUpper(line[:i])
	for line[i] == ';' {
		rest := line[i+1:]
		eq := strings.IndexByte(rest, '=')
		if eq <= 0 {
			return p, errors.New("parameter without =")
		}
		name, rest := strings.ToUpper(rest[:eq]), rest[eq+1:]
		var value string
		var n int
		if strings.HasPrefix(rest, `"`) {
			end := strings.IndexByte(rest[1:], '"')
			if end < 0 {
				return p, errors.New("unterminated quote")
			}
			value, n = rest[1:end+1], end+2
		} else {
			n = strings.IndexAny(rest, ";:")
			if n < 0 {
				return p, errors.New("no value")
			}
			value = rest[:n]
		}
		p.Params[name] = value
		i += 1 + eq + 1 + n
		if i >= len(line) {
			return p, errors.New("no value")
		}
	}
	p.Value = line[i+1:]
	return p, nil
}

// unescape reads a TEXT value (RFC 5545 §3.3.11).
func unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case 'n', 'N':
			b.WriteByte('\n')
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// smtpServer is a small SMTP server for tests: EHLO, STARTTLS, AUTH PLAIN, MAIL, RCPT,
// DATA, RSET, NOOP, QUIT. It records each message it accepts.
type smtpServer struct {
	Addr     string
	TLS      *tls.Config // offered by STARTTLS, if set
	User     string      // if set, AUTH PLAIN with User and Pass is required
	Pass     string
	Reject   string // RCPT for this address is answered 550
	Silent   bool   // accept connections and say nothing
	received chan mailIn

	mu       sync.Mutex
	sessions int
}

// mailIn is a message the server took.
type mailIn struct {
	From string
	To   []string
	Data string // the message, with CRLF line ends
	TLS  bool   // the message came over TLS
	Auth string // the user who authenticated
}

// startSMTP starts s on 127.0.0.1:0; implicitTLS wraps the listener in TLS (port 465
// style).
func startSMTP(tb testing.TB, s *smtpServer, implicitTLS *tls.Config) *smtpServer {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	if implicitTLS != nil {
		ln = tls.NewListener(ln, implicitTLS)
	}
	s.Addr = ln.Addr().String()
	s.received = make(chan mailIn, 10)
	var wg sync.WaitGroup
	tb.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer conn.Close()
				conn.SetDeadline(time.Now().Add(10 * time.Second))
				s.mu.Lock()
				s.sessions++
				s.mu.Unlock()
				if s.Silent {
					conn.Read(make([]byte, 1)) // until the client hangs up
					return
				}
				_, isTLS := conn.(*tls.Conn)
				s.serve(conn, isTLS)
			})
		}
	})
	return s
}

func (s *smtpServer) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions
}

// Received returns the next message the server took, or fails after a while.
func (s *smtpServer) Received(tb testing.TB) mailIn {
	tb.Helper()
	select {
	case m := <-s.received:
		return m
	case <-time.After(5 * time.Second):
		tb.Fatal("the server received no message")
		return mailIn{}
	}
}

func (s *smtpServer) serve(conn net.Conn, isTLS bool) {
	tp := textproto.NewConn(conn)
	tp.PrintfLine("220 test.local ESMTP")
	var m mailIn
	m.TLS = isTLS
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			ext := []string{"test.local", "8BITMIME", "PIPELINING"}
			if s.TLS != nil && !m.TLS {
				ext = append(ext, "STARTTLS")
			}
			if s.User != "" {
				ext = append(ext, "AUTH PLAIN")
			}
			for i, e := range ext {
				sep := "-"
				if i == len(ext)-1 {
					sep = " "
				}
				tp.PrintfLine("250%s%s", sep, e)
			}
		case "STARTTLS":
			if s.TLS == nil || m.TLS {
				tp.PrintfLine("454 TLS not available")
				continue
			}
			tp.PrintfLine("220 go ahead")
			tc := tls.Server(conn, s.TLS)
			if err := tc.Handshake(); err != nil {
				return
			}
			conn, tp = tc, textproto.NewConn(tc)
			m = mailIn{TLS: true} // RFC 3207: forget everything said before
		case "AUTH":
			mech, resp, _ := strings.Cut(arg, " ")
			if !strings.EqualFold(mech, "PLAIN") {
				tp.PrintfLine("504 unknown mechanism")
				continue
			}
			if resp == "" {
				tp.PrintfLine("334 ")
				if resp, err = tp.ReadLine(); err != nil {
					return
				}
			}
			dec, _ := base64.StdEncoding.DecodeString(resp)
			parts := strings.Split(string(dec), "\x00")
			if len(parts) != 3 || parts[1] != s.User || parts[2] != s.Pass {
				tp.PrintfLine("535 authentication failed")
				continue
			}
			m.Auth = parts[1]
			tp.PrintfLine("235 ok")
		case "MAIL":
			if s.User != "" && m.Auth == "" {
				tp.PrintfLine("530 authentication required")
				continue
			}
			m.From = angle(arg)
			tp.PrintfLine("250 ok")
		case "RCPT":
			to := angle(arg)
			if to == s.Reject {
				tp.PrintfLine("550 5.1.1 <%s>: no such user", to)
				continue
			}
			m.To = append(m.To, to)
			tp.PrintfLine("250 ok")
		case "DATA":
			if m.From == "" || len(m.To) == 0 {
				tp.PrintfLine("503 need MAIL and RCPT")
				continue
			}
			tp.PrintfLine("354 go ahead")
			data, err := readDot(tp.R)
			if err != nil {
				return
			}
			m.Data = data
			s.received <- m
			tp.PrintfLine("250 queued")
			m = mailIn{TLS: m.TLS, Auth: m.Auth}
		case "RSET":
			m = mailIn{TLS: m.TLS, Auth: m.Auth}
			tp.PrintfLine("250 ok")
		case "NOOP":
			tp.PrintfLine("250 ok")
		case "QUIT":
			tp.PrintfLine("221 bye")
			return
		default:
			tp.PrintfLine("502 not implemented")
		}
	}
}

// readDot reads DATA up to the line ".", undoing dot-stuffing and keeping CRLF.
func readDot(r *bufio.Reader) (string, error) {
	var b strings.Builder
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return "", err
		}
		if !strings.HasSuffix(line, "\r\n") {
			return "", fmt.Errorf("bare LF in DATA: %q", line)
		}
		if line == ".\r\n" {
			return b.String(), nil
		}
		b.WriteString(strings.TrimPrefix(line, "."))
	}
}

// angle takes the address out of "FROM:<a@b> BODY=8BITMIME".
func angle(arg string) string {
	_, rest, _ := strings.Cut(arg, "<")
	addr, _, _ := strings.Cut(rest, ">")
	return addr
}

// mustCert makes a self-signed certificate for 127.0.0.1 and localhost, and a pool that
// trusts it.
func mustCert(tb testing.TB) (tls.Certificate, *x509.CertPool) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "test SMTP"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, pool
}
