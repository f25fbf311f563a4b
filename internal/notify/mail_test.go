package notify_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/notify"
	"github.com/tresen/tresen/internal/notify/notifytest"
)

var sent = time.Date(2026, 11, 20, 15, 4, 5, 0, time.UTC)

func mailer(addr string) *notify.Mailer {
	return &notify.Mailer{
		Addr:    addr,
		From:    "Hausarztpraxis Dr. Erika Schneider <praxis@example.de>",
		Timeout: 5 * time.Second,
		Now:     func() time.Time { return sent },
	}
}

// delivered is a received e-mail taken apart.
type delivered struct {
	Header  mail.Header
	Subject string
	Text    string // with LF line ends
	ICS     []byte
	// The attachment's media type parameters and disposition.
	CalType   string
	CalParams map[string]string
	CalDisp   map[string]string
}

// mustReadMail parses a message as a mail client would, and checks that every line is
// 7-bit and within the 998 octets SMTP allows.
func mustReadMail(t *testing.T, data string) delivered {
	t.Helper()
	for i, line := range strings.Split(data, "\r\n") {
		if len(line) > 998 {
			t.Errorf("line %d has %d octets", i+1, len(line))
		}
		for _, c := range []byte(line) {
			if c >= 0x80 {
				t.Fatalf("line %d is not 7-bit: %q", i+1, line)
			}
		}
	}
	msg, err := mail.ReadMessage(strings.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var d delivered
	d.Header = msg.Header
	if d.Subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil {
		t.Fatalf("Subject: %v", err)
	}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	readText := func(r io.Reader, cte string) {
		if cte != "quoted-printable" {
			t.Errorf("text in %q", cte)
		}
		b, err := io.ReadAll(quotedprintable.NewReader(r))
		if err != nil {
			t.Fatalf("quoted-printable: %v", err)
		}
		d.Text = strings.ReplaceAll(string(b), "\r\n", "\n")
	}
	if mediaType == "text/plain" {
		if params["charset"] != "utf-8" {
			t.Errorf("charset %q", params["charset"])
		}
		readText(msg.Body, msg.Header.Get("Content-Transfer-Encoding"))
		return d
	}
	if mediaType != "multipart/mixed" {
		t.Fatalf("Content-Type %q", mediaType)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for i := 0; ; i++ {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			if i != 2 {
				t.Errorf("%d parts, want 2", i)
			}
			return d
		}
		if err != nil {
			t.Fatal(err)
		}
		pt, pp, err := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if err != nil {
			t.Fatal(err)
		}
		switch pt {
		case "text/plain":
			if pp["charset"] != "utf-8" {
				t.Errorf("charset %q", pp["charset"])
			}
			readText(p, p.Header.Get("Content-Transfer-Encoding"))
		case "text/calendar":
			d.CalType, d.CalParams = pt, pp
			if _, d.CalDisp, err = mime.ParseMediaType(p.Header.Get("Content-Disposition")); err != nil {
				t.Fatal(err)
			}
			if cte := p.Header.Get("Content-Transfer-Encoding"); cte != "base64" {
				t.Errorf("calendar in %q", cte)
			}
			if d.ICS, err = io.ReadAll(base64.NewDecoder(base64.StdEncoding, p)); err != nil {
				t.Fatal(err)
			}
		default:
			t.Errorf("unexpected part %q", pt)
		}
	}
}

func TestMailerSend(t *testing.T) {
	srv := notifytest.NewSMTP(t, notifytest.SMTPOptions{User: "praxis", Password: "pw"})
	m := mailer(srv.Addr())
	m.Username, m.Password = "praxis", "pw" // PlainAuth allows localhost without TLS
	msg := notify.Confirmation(practice, booked())
	if err := m.Send(t.Context(), "Max Mustermann <max.mustermann@example.org>", msg); err != nil {
		t.Fatal(err)
	}
	in := srv.Received(t)
	if diff := cmp.Diff([]string{"praxis@example.de", "max.mustermann@example.org", "praxis"}, append([]string{in.From}, append(in.To, in.Auth)...)); diff != "" {
		t.Errorf("envelope and login (-want +got):\n%s", diff)
	}
	d := mustReadMail(t, in.Data)

	if d.Subject != msg.Subject {
		t.Errorf("Subject = %q, want %q", d.Subject, msg.Subject)
	}
	if raw := d.Header.Get("Subject"); !strings.HasPrefix(raw, "=?utf-8?q?") {
		t.Errorf("Subject not RFC 2047-encoded: %q", raw)
	}
	if got := d.Header.Get("To"); got != "<max.mustermann@example.org>" {
		t.Errorf("To = %q: the display name need not travel", got)
	}
	from, err := d.Header.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Name != "Hausarztpraxis Dr. Erika Schneider" || from[0].Address != "praxis@example.de" {
		t.Errorf("From = %v, %v", from, err)
	}
	if date, err := d.Header.Date(); err != nil || !date.Equal(sent) {
		t.Errorf("Date = %v, %v; want %v", date, err, sent)
	}
	if id := d.Header.Get("Message-ID"); !regexp.MustCompile(`^<[0-9a-f]{32}@example\.de>$`).MatchString(id) {
		t.Errorf("Message-ID = %q", id)
	}
	if v := d.Header.Get("MIME-Version"); v != "1.0" {
		t.Errorf("MIME-Version = %q", v)
	}
	if d.Text != msg.Text {
		t.Errorf("text (-want +got):\n%s", cmp.Diff(msg.Text, d.Text))
	}

	if diff := cmp.Diff(map[string]string{"charset": "utf-8", "method": "REQUEST", "name": "termin.ics"}, d.CalParams); diff != "" {
		t.Errorf("calendar Content-Type parameters (-want +got):\n%s", diff)
	}
	if d.CalDisp["filename"] != "termin.ics" {
		t.Errorf("calendar Content-Disposition %v", d.CalDisp)
	}
	if string(d.ICS) != string(msg.ICS) {
		t.Errorf("attachment changed on the way:\n%q\n%q", d.ICS, msg.ICS)
	}
	e := mustParseICS(t, d.ICS).Subs[0]
	if e.Get("DTSTART") != "20261126T083000Z" || e.Text("UID") != booked().ID {
		t.Errorf("attachment event: DTSTART %s UID %s", e.Get("DTSTART"), e.Text("UID"))
	}
}

func TestMailerCancellationMethod(t *testing.T) {
	srv := notifytest.NewSMTP(t, notifytest.SMTPOptions{})
	a := booked()
	a.Sequence = 1
	if err := mailer(srv.Addr()).Send(t.Context(), "p@example.org", notify.Cancellation(practice, a)); err != nil {
		t.Fatal(err)
	}
	d := mustReadMail(t, srv.Received(t).Data)
	if d.CalParams["method"] != "CANCEL" {
		t.Errorf("method = %q, want CANCEL", d.CalParams["method"])
	}
}

// TestMailerPlainText: a reminder has no invitation and goes as a single text part.
func TestMailerPlainText(t *testing.T) {
	srv := notifytest.NewSMTP(t, notifytest.SMTPOptions{})
	msg := notify.Reminder(practice, booked())
	msg.Text += ".\n.. a line with dots\n"
	if err := mailer(srv.Addr()).Send(t.Context(), "p@example.org", msg); err != nil {
		t.Fatal(err)
	}
	d := mustReadMail(t, srv.Received(t).Data)
	if d.ICS != nil || d.Subject != msg.Subject || d.Text != msg.Text {
		t.Errorf("got %q / %q, want %q / %q", d.Subject, d.Text, msg.Subject, msg.Text)
	}
}

func TestMailerStartTLS(t *testing.T) {
	srv := notifytest.NewSMTP(t, notifytest.SMTPOptions{StartTLS: true, User: "praxis", Password: "pw"})
	m := mailer(srv.Addr())
	m.StartTLS, m.Username, m.Password = true, "praxis", "pw"
	m.TLSConfig = &tls.Config{RootCAs: srv.CertPool()}
	if err := m.Send(t.Context(), "p@example.org", notify.Confirmation(practice, booked())); err != nil {
		t.Fatal(err)
	}
	in := srv.Received(t)
	if !in.TLS || in.Auth != "praxis" {
		t.Errorf("TLS %v, login %q", in.TLS, in.Auth)
	}
	mustReadMail(t, in.Data)
}

func TestMailerImplicitTLS(t *testing.T) {
	srv := notifytest.NewSMTP(t, notifytest.SMTPOptions{ImplicitTLS: true, User: "praxis", Password: "pw"})
	m := mailer(srv.Addr())
	m.TLS, m.Username, m.Password = true, "praxis", "pw"
	m.TLSConfig = &tls.Config{RootCAs: srv.CertPool()}
	if err := m.Send(t.Context(), "p@example.org", notify.Confirmation(practice, booked())); err != nil {
		t.Fatal(err)
	}
	if in := srv.Received(t); !in.TLS || in.Auth != "praxis" {
		t.Errorf("TLS %v, login %q", in.TLS, in.Auth)
	}
}

// TestMailerNoDowngrade: a server that offers no STARTTLS, or one with a certificate the
// mailer does not trust, gets nothing.
func TestMailerNoDowngrade(t *testing.T) {
	t.Run("no STARTTLS", func(t *testing.T) {
		srv := notifytest.NewSMTP(t, notifytest.SMTPOptions{})
		m := mailer(srv.Addr())
		m.StartTLS = true
		err := m.Send(t.Context(), "p@example.org", notify.Confirmation(practice, booked()))
		if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
			t.Errorf("err = %v", err)
		}
		assertNothingReceived(t, srv)
	})
	t.Run("untrusted certificate", func(t *testing.T) {
		srv := notifytest.NewSMTP(t, notifytest.SMTPOptions{StartTLS: true}) // the system's roots do not know its CA
		m := mailer(srv.Addr())
		m.StartTLS = true
		var unknown x509.UnknownAuthorityError
		err := m.Send(t.Context(), "p@example.org", notify.Confirmation(practice, booked()))
		if !errors.As(err, &unknown) {
			t.Errorf("err = %v, want an unknown authority", err)
		}
		assertNothingReceived(t, srv)
	})
	t.Run("password in the clear", func(t *testing.T) {
		// PlainAuth refuses a server that is neither TLS nor localhost; 127.0.0.1 written
		// as an IPv4-mapped IPv6 address is not localhost to it.
		srv := notifytest.NewSMTP(t, notifytest.SMTPOptions{User: "praxis", Password: "pw"})
		_, port, _ := strings.Cut(srv.Addr(), ":")
		m := mailer("[::ffff:127.0.0.1]:" + port)
		m.Username, m.Password = "praxis", "pw"
		err := m.Send(t.Context(), "p@example.org", notify.Confirmation(practice, booked()))
		if err == nil || !strings.Contains(err.Error(), "AUTH") {
			t.Errorf("err = %v", err)
		}
		assertNothingReceived(t, srv)
	})
}

// assertNothingReceived checks, after a send returned, that the server took nothing: it
// takes a message before it answers DATA, so one sent would be there by now.
func assertNothingReceived(t *testing.T, srv *notifytest.SMTP) {
	t.Helper()
	if got := srv.Messages(); len(got) != 0 {
		t.Errorf("the server received %d messages, the first from %s", len(got), got[0].From)
	}
}

func TestMailerRefuses(t *testing.T) {
	srv := notifytest.NewSMTP(t, notifytest.SMTPOptions{})
	good := notify.Confirmation(practice, booked())
	injected := good
	injected.Subject = "Termin\r\nBcc: alle@example.org"
	lf := good
	lf.Subject = "Termin\nBcc: alle@example.org"
	for _, tt := range []struct {
		name, to string
		msg      notify.Message
	}{
		{"CRLF in recipient", "p@example.org\r\nBcc: alle@example.org", good},
		{"LF in recipient", "p@example.org\nBcc: alle@example.org", good},
		{"CRLF in subject", "p@example.org", injected},
		{"LF in subject", "p@example.org", lf},
		{"not an address", "Max Mustermann", good},
		{"two addresses", "p@example.org, q@example.org", good},
		{"empty", "", good},
	} {
		err := mailer(srv.Addr()).Send(t.Context(), tt.to, tt.msg)
		if !errs.Is(err, errs.Invalid) {
			t.Errorf("%s: %v, want an Invalid error", tt.name, err)
		}
	}
	m := mailer(srv.Addr())
	m.From = "praxis@example.de\r\nBcc: alle@example.org"
	if err := m.Send(t.Context(), "p@example.org", good); !errs.Is(err, errs.Invalid) {
		t.Errorf("CRLF in From: %v, want an Invalid error", err)
	}
	if n := srv.Sessions(); n != 0 {
		t.Errorf("%d connections to the server", n)
	}
}

// TestMailerRecipientRefused: a mailbox the server does not know is the caller's to fix,
// and the error does not quote the address back.
func TestMailerRecipientRefused(t *testing.T) {
	srv := notifytest.NewSMTP(t, notifytest.SMTPOptions{Reject: "weg@example.org"})
	err := mailer(srv.Addr()).Send(t.Context(), "weg@example.org", notify.Confirmation(practice, booked()))
	if !errs.Is(err, errs.Invalid) {
		t.Fatalf("err = %v, want an Invalid error", err)
	}
	if strings.Contains(err.Error(), "weg@") {
		t.Errorf("error %q holds the address", err)
	}
	assertNothingReceived(t, srv)
}

// TestMailerTimeout: a server that never answers costs Timeout, not forever; cancelling
// the context ends the conversation as soon.
func TestMailerTimeout(t *testing.T) {
	srv := notifytest.NewSMTP(t, notifytest.SMTPOptions{Silent: true})
	m := mailer(srv.Addr())
	m.Timeout = 200 * time.Millisecond
	began := time.Now()
	err := m.Send(t.Context(), "p@example.org", notify.Confirmation(practice, booked()))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want DeadlineExceeded", err)
	}
	if d := time.Since(began); d > 3*time.Second {
		t.Errorf("took %v", d)
	}

	m.Timeout = time.Minute
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(100*time.Millisecond, cancel)
	began = time.Now()
	err = m.Send(ctx, "p@example.org", notify.Confirmation(practice, booked()))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want Canceled", err)
	}
	if d := time.Since(began); d > 3*time.Second {
		t.Errorf("took %v", d)
	}
}
