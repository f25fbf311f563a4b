package notifytest_test

import (
	"crypto/tls"
	"net/smtp"
	"net/textproto"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/notify/notifytest"
)

// TestSMTP drives the server with Go's SMTP client: it wants the login before MAIL,
// refuses a wrong password, takes messages over STARTTLS dot-unstuffed and in order, and
// reads them back as a mail program would.
func TestSMTP(t *testing.T) {
	srv := notifytest.NewSMTP(t, notifytest.SMTPOptions{StartTLS: true, User: "praxis", Password: "pw"})
	dial := func() *smtp.Client {
		t.Helper()
		c, err := smtp.Dial(srv.Addr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if err := c.StartTLS(&tls.Config{ServerName: "127.0.0.1", RootCAs: srv.CertPool()}); err != nil {
			t.Fatalf("STARTTLS: %v", err)
		}
		return c
	}
	code := func(err error) int {
		if te, ok := err.(*textproto.Error); ok {
			return te.Code
		}
		return 0
	}
	// net/smtp hangs up after a refused login.
	if err := dial().Auth(smtp.PlainAuth("", "praxis", "falsch", "127.0.0.1")); code(err) != 535 {
		t.Errorf("AUTH with a wrong password: %v, want 535", err)
	}
	c := dial()
	if err := c.Mail("praxis@example.de"); code(err) != 530 {
		t.Errorf("MAIL before AUTH: %v, want 530", err)
	}
	if err := c.Auth(smtp.PlainAuth("", "praxis", "pw", "127.0.0.1")); err != nil {
		t.Fatalf("AUTH: %v", err)
	}
	const multipart = "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
		"Guten Tag,\r\n.ein Punkt am Anfang, Stra=C3=9Fe\r\n" +
		"--b\r\nContent-Type: text/calendar; charset=utf-8\r\nContent-Disposition: attachment; filename=termin.ics\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\nQkVHSU46VkNBTEVOREFS\r\nDQo=\r\n--b--\r\n"
	for _, body := range []string{multipart, "Subject: zwei\r\n\r\n.\r\n..\r\n"} {
		if err := c.Mail("praxis@example.de"); err != nil {
			t.Fatal(err)
		}
		if err := c.Rcpt("erika.mustermann@example.de"); err != nil {
			t.Fatal(err)
		}
		w, err := c.Data()
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body))
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Quit(); err != nil {
		t.Fatal(err)
	}

	first, second := srv.Received(t), srv.Received(t)
	want := notifytest.Mail{From: "praxis@example.de", To: []string{"erika.mustermann@example.de"}, Data: multipart, TLS: true, Auth: "praxis"}
	if diff := cmp.Diff(want, first); diff != "" {
		t.Errorf("first message (-want +got):\n%s", diff)
	}
	if second.Data != "Subject: zwei\r\n\r\n.\r\n..\r\n" { // lines of dots, stuffed by the client
		t.Errorf("second message not dot-unstuffed: %q", second.Data)
	}
	if n := len(srv.Messages()); n != 2 || srv.Sessions() != 2 {
		t.Errorf("%d messages in %d sessions, want 2 in 2", n, srv.Sessions())
	}

	got := first.Content(t)
	if got.Subject != "Grüße" || got.Text != "Guten Tag,\n.ein Punkt am Anfang, Straße" {
		t.Errorf("subject %q, text %q", got.Subject, got.Text)
	}
	if diff := cmp.Diff(map[string][]byte{"termin.ics": []byte("BEGIN:VCALENDAR\r\n")}, got.Attachments); diff != "" {
		t.Errorf("attachments (-want +got):\n%s", diff)
	}
}

// TestSMTPRefuses: a refused recipient is answered 550 and nothing is taken.
func TestSMTPRefuses(t *testing.T) {
	srv := notifytest.NewSMTP(t, notifytest.SMTPOptions{Reject: "weg@example.org"})
	c, err := smtp.Dial(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Mail("praxis@example.de"); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("weg@example.org"); err == nil || !strings.HasPrefix(err.Error(), "550") {
		t.Errorf("RCPT: %v, want 550", err)
	}
	if _, err := c.Data(); err == nil {
		t.Error("DATA without a recipient was accepted")
	}
	c.Quit()
	if got := srv.Messages(); len(got) != 0 {
		t.Errorf("took %d messages", len(got))
	}
}
