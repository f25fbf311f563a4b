package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strings"
	"time"

	"github.com/tresen/tresen/internal/errs"
)

// Mailer sends messages through an SMTP server (a submission port of the practice's mail
// provider, usually).
type Mailer struct {
	Addr     string // host:port
	From     string // "Hausarztpraxis Dr. Schneider <praxis@example.de>"
	Username string // "": no authentication
	Password string
	// TLS speaks TLS from the start (port 465); StartTLS upgrades a plain connection (port
	// 587) and fails if the server does not offer it, rather than sending in the clear.
	TLS      bool
	StartTLS bool
	// Timeout bounds a whole Send; 0: 30 seconds.
	Timeout time.Duration
	// TLSConfig, if set, is used for TLS and STARTTLS; its ServerName defaults to the host
	// of Addr. nil: the system's roots.
	TLSConfig *tls.Config
	// Now is the clock for the Date header; nil: time.Now.
	Now func() time.Time
}

// Send e-mails msg to the address to: its text, and its invitation as "termin.ics" if it
// has one. Errors never contain the address or the text: an SMTP server's reply to RCPT
// or DATA, which may quote them, is cut to its code.
func (m *Mailer) Send(ctx context.Context, to string, msg Message) (err error) {
	defer errs.Wrap(&err, "notify: send mail")
	from, rcpt, raw, err := m.compose(to, msg)
	if err != nil {
		return err
	}
	return m.deliver(ctx, from, rcpt, raw)
}

// compose checks the addresses and writes the MIME message.
func (m *Mailer) compose(to string, msg Message) (from, rcpt string, raw []byte, err error) {
	for _, v := range []string{to, m.From, msg.Subject} {
		if strings.ContainsAny(v, "\r\n") {
			return "", "", nil, errs.E(errs.Invalid, "Zeilenumbrüche sind in Adressen und Betreff nicht erlaubt.")
		}
	}
	toAddr, err := mail.ParseAddress(to)
	if err != nil {
		return "", "", nil, errs.E(errs.Invalid, "Die E-Mail-Adresse des Empfängers ist ungültig.")
	}
	fromAddr, err := mail.ParseAddress(m.From)
	if err != nil {
		return "", "", nil, fmt.Errorf("sender address: %w", err)
	}
	now := time.Now
	if m.Now != nil {
		now = m.Now
	}
	_, domain, _ := strings.Cut(fromAddr.Address, "@")

	var b bytes.Buffer
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	header("From", fromAddr.String())
	// Only the address: a display name the patient gave needs not travel.
	header("To", (&mail.Address{Address: toAddr.Address}).String())
	header("Subject", encodeHeader(msg.Subject))
	header("Date", now().Format(time.RFC1123Z))
	header("Message-ID", "<"+randomHex(16)+"@"+domain+">")
	header("MIME-Version", "1.0")
	header("Content-Language", "de")
	header("Auto-Submitted", "auto-generated") // RFC 3834: no out-of-office replies

	if msg.ICS == nil {
		header("Content-Type", "text/plain; charset=utf-8")
		header("Content-Transfer-Encoding", "quoted-printable")
		b.WriteString("\r\n")
		writeQP(&b, msg.Text)
		return fromAddr.Address, toAddr.Address, b.Bytes(), nil
	}

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	header("Content-Type", mime.FormatMediaType("multipart/mixed", map[string]string{"boundary": mw.Boundary()}))
	b.WriteString("\r\n")

	text, err := mw.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {"text/plain; charset=utf-8"},
		"Content-Transfer-Encoding": {"quoted-printable"},
	})
	if err != nil {
		return "", "", nil, err
	}
	var qp bytes.Buffer
	writeQP(&qp, msg.Text)
	text.Write(qp.Bytes())

	params := map[string]string{"charset": "utf-8", "name": "termin.ics"}
	if method := icsMethod(msg.ICS); method != "" {
		params["method"] = method
	}
	cal, err := mw.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {mime.FormatMediaType("text/calendar", params)},
		"Content-Disposition":       {mime.FormatMediaType("attachment", map[string]string{"filename": "termin.ics"})},
		"Content-Transfer-Encoding": {"base64"},
	})
	if err != nil {
		return "", "", nil, err
	}
	writeBase64(cal, msg.ICS)
	if err := mw.Close(); err != nil {
		return "", "", nil, err
	}
	b.Write(body.Bytes())
	return fromAddr.Address, toAddr.Address, b.Bytes(), nil
}

// deliver speaks SMTP. The context's deadline, or Timeout, bounds every read and write,
// and cancelling the context breaks off a conversation in progress.
func (m *Mailer) deliver(ctx context.Context, from, to string, raw []byte) (err error) {
	host, _, err := net.SplitHostPort(m.Addr)
	if err != nil {
		return fmt.Errorf("server address: %w", err)
	}
	timeout := m.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	defer func() {
		if err != nil && ctx.Err() != nil {
			err = fmt.Errorf("%w: %w", ctx.Err(), err)
		}
	}()

	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", m.Addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	// When ctx ends, by Timeout or by the caller, a deadline in the past breaks off any
	// read or write; ctx.Err is set by then, so the error says why.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	cfg := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if m.TLSConfig != nil {
		cfg = m.TLSConfig.Clone()
		if cfg.ServerName == "" {
			cfg.ServerName = host
		}
	}
	var c *smtp.Client
	if m.TLS {
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("TLS: %w", err)
		}
		c, err = smtp.NewClient(tc, host)
	} else {
		c, err = smtp.NewClient(conn, host)
	}
	if err != nil {
		return err
	}
	defer c.Close()
	if m.StartTLS && !m.TLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return errors.New("the server offers no STARTTLS; not sending in the clear")
		}
		if err := c.StartTLS(cfg); err != nil {
			return fmt.Errorf("STARTTLS: %w", err)
		}
	}
	if m.Username != "" {
		// PlainAuth sends the password only over TLS, or to localhost.
		if err := c.Auth(smtp.PlainAuth("", m.Username, m.Password, host)); err != nil {
			return fmt.Errorf("AUTH: %w", err)
		}
	}
	if err := c.Mail(from); err != nil {
		return fmt.Errorf("MAIL: %w", err)
	}
	if err := c.Rcpt(to); err != nil {
		var te *textproto.Error
		if errors.As(err, &te) && te.Code >= 500 {
			return &errs.Error{Kind: errs.Invalid, Message: "Der Mailserver nimmt keine Nachricht für diese Adresse an.", Err: fmt.Errorf("RCPT: %d", te.Code)}
		}
		return fmt.Errorf("RCPT: %w", withoutText(err))
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", withoutText(err))
	}
	if _, err := w.Write(raw); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("DATA: %w", withoutText(err))
	}
	if err := c.Quit(); err != nil {
		return fmt.Errorf("QUIT: %w", withoutText(err))
	}
	return nil
}

// withoutText keeps an SMTP reply's code and drops its text, which may quote the
// recipient.
func withoutText(err error) error {
	var te *textproto.Error
	if errors.As(err, &te) {
		return fmt.Errorf("server replied %d", te.Code)
	}
	return err
}

// encodeHeader writes a header value as RFC 2047 encoded words if it is not plain ASCII,
// folding between words so that lines stay short.
func encodeHeader(s string) string {
	return strings.ReplaceAll(mime.QEncoding.Encode("utf-8", s), "?= =?", "?=\r\n =?")
}

// writeQP writes text quoted-printable; its line ends, LF or CRLF, become CRLF.
func writeQP(b *bytes.Buffer, text string) {
	w := quotedprintable.NewWriter(b)
	w.Write([]byte(text))
	w.Close()
}

// writeBase64 writes data base64-encoded in lines of 76 characters (RFC 2045).
func writeBase64(w io.Writer, data []byte) {
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > 76 {
		w.Write([]byte(enc[:76] + "\r\n"))
		enc = enc[76:]
	}
	w.Write([]byte(enc + "\r\n"))
}

// icsMethod reads the METHOD of an iCalendar object, for the Content-Type.
func icsMethod(ics []byte) string {
	for line := range strings.SplitSeq(string(ics), "\r\n") {
		if v, ok := strings.CutPrefix(line, "METHOD:"); ok {
			return token(v)
		}
		if strings.HasPrefix(line, "BEGIN:V") && line != "BEGIN:VCALENDAR" {
			break
		}
	}
	return ""
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
