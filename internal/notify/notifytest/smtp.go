package notifytest

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

// SMTPOptions say what a test SMTP server asks of its clients; the zero value takes any
// message over plain SMTP without a login.
type SMTPOptions struct {
	// StartTLS offers STARTTLS; ImplicitTLS speaks TLS from the first byte (port 465
	// style). Either way with a certificate for 127.0.0.1 and localhost that only
	// SMTP.CertPool trusts.
	StartTLS    bool
	ImplicitTLS bool
	// User and Password, if set, must be given with AUTH PLAIN before MAIL.
	User     string
	Password string
	// Reject is a recipient that RCPT answers with 550.
	Reject string
	// Silent accepts connections and says nothing, like a server that hangs.
	Silent bool
}

// Mail is a message the server took.
type Mail struct {
	From string   // MAIL FROM
	To   []string // RCPT TO
	Data string   // the message as sent after DATA, dot-unstuffed, with CRLF line ends
	TLS  bool     // it came over TLS, implicit or after STARTTLS
	Auth string   // the user who logged in; "": nobody
}

// SMTP is a running test SMTP server on 127.0.0.1. It speaks EHLO/HELO, STARTTLS,
// AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP and QUIT, and keeps each message it takes.
type SMTP struct {
	opts SMTPOptions
	addr string
	tls  *tls.Config
	pool *x509.CertPool
	tb   testing.TB

	mu       sync.Mutex
	got      []Mail
	next     int           // the first message Received has not returned
	arrived  chan struct{} // signalled when a message is taken
	sessions int
	conns    map[net.Conn]bool
}

// NewSMTP starts a test SMTP server on 127.0.0.1:0 with opts; it stops at the end of the
// test. A client that breaks the protocol in DATA (a bare LF) fails the test.
func NewSMTP(tb testing.TB, opts SMTPOptions) *SMTP {
	tb.Helper()
	cert, pool := mustCert(tb)
	s := &SMTP{opts: opts, pool: pool, tb: tb, arrived: make(chan struct{}, 1), conns: map[net.Conn]bool{},
		tls: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	if opts.ImplicitTLS {
		ln = tls.NewListener(ln, s.tls)
	}
	s.addr = ln.Addr().String()
	var wg sync.WaitGroup
	tb.Cleanup(func() {
		ln.Close()
		s.mu.Lock()
		for c := range s.conns {
			c.Close() // a client still connected does not hold up the end of the test
		}
		s.mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.sessions++
			s.conns[conn] = true
			s.mu.Unlock()
			wg.Go(func() {
				defer func() {
					conn.Close()
					s.mu.Lock()
					delete(s.conns, conn)
					s.mu.Unlock()
				}()
				conn.SetDeadline(time.Now().Add(10 * time.Second))
				if opts.Silent {
					conn.Read(make([]byte, 1)) // until the client hangs up
					return
				}
				s.serve(conn, opts.ImplicitTLS)
			})
		}
	})
	return s
}

// Addr is the server's host:port.
func (s *SMTP) Addr() string { return s.addr }

// CertPool trusts the server's certificate, for clients that verify it:
// &tls.Config{RootCAs: srv.CertPool()}.
func (s *SMTP) CertPool() *x509.CertPool { return s.pool }

// Sessions is the number of connections the server accepted.
func (s *SMTP) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions
}

// Messages returns the messages taken so far, oldest first. A message is taken before the
// server answers the end of DATA, so once a client's send has returned, this holds it.
func (s *SMTP) Messages() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.got...)
}

// Received returns the next message that Received has not returned yet, waiting for it
// up to 5 seconds; then it fails the test.
func (s *SMTP) Received(tb testing.TB) Mail {
	tb.Helper()
	timeout := time.After(5 * time.Second)
	for {
		s.mu.Lock()
		if s.next < len(s.got) {
			m := s.got[s.next]
			s.next++
			s.mu.Unlock()
			return m
		}
		s.mu.Unlock()
		select {
		case <-s.arrived:
		case <-timeout:
			tb.Fatal("the SMTP server received no message")
			return Mail{}
		}
	}
}

func (s *SMTP) take(m Mail) {
	s.mu.Lock()
	s.got = append(s.got, m)
	s.mu.Unlock()
	select {
	case s.arrived <- struct{}{}:
	default:
	}
}

// serve speaks SMTP on one connection.
func (s *SMTP) serve(conn net.Conn, isTLS bool) {
	tp := textproto.NewConn(conn)
	tp.PrintfLine("220 test.local ESMTP")
	m := Mail{TLS: isTLS}
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			ext := []string{"test.local", "8BITMIME", "PIPELINING"}
			if s.opts.StartTLS && !m.TLS {
				ext = append(ext, "STARTTLS")
			}
			if s.opts.User != "" {
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
			if !s.opts.StartTLS || m.TLS {
				tp.PrintfLine("454 TLS not available")
				continue
			}
			tp.PrintfLine("220 go ahead")
			tc := tls.Server(conn, s.tls)
			if err := tc.Handshake(); err != nil {
				return
			}
			conn, tp = tc, textproto.NewConn(tc)
			m = Mail{TLS: true} // RFC 3207: forget everything said before
		case "AUTH":
			mech, resp, _ := strings.Cut(arg, " ")
			if s.opts.User == "" || !strings.EqualFold(mech, "PLAIN") {
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
			if len(parts) != 3 || parts[1] != s.opts.User || parts[2] != s.opts.Password {
				tp.PrintfLine("535 authentication failed")
				continue
			}
			m.Auth = parts[1]
			tp.PrintfLine("235 ok")
		case "MAIL":
			if s.opts.User != "" && m.Auth == "" {
				tp.PrintfLine("530 authentication required")
				continue
			}
			m.From = angle(arg)
			tp.PrintfLine("250 ok")
		case "RCPT":
			if m.From == "" {
				tp.PrintfLine("503 need MAIL first")
				continue
			}
			to := angle(arg)
			if to == s.opts.Reject {
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
			data, ok := s.readDot(tp.R)
			if !ok {
				return
			}
			m.Data = data
			s.take(m)
			tp.PrintfLine("250 queued")
			m = Mail{TLS: m.TLS, Auth: m.Auth}
		case "RSET":
			m = Mail{TLS: m.TLS, Auth: m.Auth}
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

// readDot reads DATA up to the line ".", undoing dot-stuffing and keeping CRLF. A line
// that ends in a bare LF fails the test: SMTP allows none (RFC 5321 §2.3.8).
func (s *SMTP) readDot(r *bufio.Reader) (string, bool) {
	var b strings.Builder
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return "", false
		}
		if !strings.HasSuffix(line, "\r\n") {
			s.tb.Errorf("SMTP server: a bare LF in DATA: %q", line)
			return "", false
		}
		if line == ".\r\n" {
			return b.String(), true
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

// Content is a message as a mail program shows it: headers, the decoded subject, the
// text and the attachments.
type Content struct {
	Header      mail.Header
	Subject     string            // decoded from RFC 2047
	Text        string            // the text/plain body or part, decoded, with LF line ends
	Attachments map[string][]byte // decoded, by file name
}

// Content reads the message as a mail program would: a text/plain message, or a
// multipart one with a text/plain part and attachments, in quoted-printable, base64 or
// plain. Anything it cannot read fails the test.
func (m Mail) Content(tb testing.TB) Content {
	tb.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(m.Data))
	if err != nil {
		tb.Fatalf("mail: %v", err)
	}
	c := Content{Header: msg.Header, Attachments: map[string][]byte{}}
	if c.Subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil {
		tb.Fatalf("mail: Subject: %v", err)
	}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		tb.Fatalf("mail: Content-Type: %v", err)
	}
	if mediaType == "text/plain" {
		c.Text = strings.ReplaceAll(string(decode(tb, msg.Body, msg.Header.Get("Content-Transfer-Encoding"))), "\r\n", "\n")
		return c
	}
	if !strings.HasPrefix(mediaType, "multipart/") {
		tb.Fatalf("mail: Content-Type %q", mediaType)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			return c
		}
		if err != nil {
			tb.Fatalf("mail: %v", err)
		}
		body := decode(tb, p, p.Header.Get("Content-Transfer-Encoding"))
		disp, dparams, _ := mime.ParseMediaType(p.Header.Get("Content-Disposition"))
		pt, pparams, err := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if err != nil {
			tb.Fatalf("mail: part Content-Type: %v", err)
		}
		switch {
		case disp == "attachment":
			name := dparams["filename"]
			if name == "" {
				name = pparams["name"]
			}
			c.Attachments[name] = body
		case pt == "text/plain" && c.Text == "":
			c.Text = strings.ReplaceAll(string(body), "\r\n", "\n")
		default:
			tb.Fatalf("mail: an unexpected part %q", pt)
		}
	}
}

// decode undoes a Content-Transfer-Encoding.
func decode(tb testing.TB, r io.Reader, cte string) []byte {
	tb.Helper()
	switch strings.ToLower(cte) {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, r)
	case "", "7bit", "8bit":
	default:
		tb.Fatalf("mail: Content-Transfer-Encoding %q", cte)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		tb.Fatalf("mail: %s: %v", cte, err)
	}
	return b
}
