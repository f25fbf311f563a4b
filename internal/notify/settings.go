package notify

import (
	"context"
	"net/http"
	"net/mail"
	"strings"
	"time"

	"github.com/tresen/tresen/internal/endpoint"
	"github.com/tresen/tresen/internal/errs"
)

// Settings are how a practice sends appointment messages: its contact data, an SMTP
// server for e-mail and an SMS gateway; either may be left out.
type Settings struct {
	Practice Practice     `json:"practice"`
	SMTP     SMTPSettings `json:"smtp"`
	SMS      SMSSettings  `json:"sms"`
}

// SMTPSettings configure the Mailer.
type SMTPSettings struct {
	Addr     string `json:"addr,omitempty"` // host:port; "": no e-mail
	From     string `json:"from,omitempty"`
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	TLS      bool   `json:"tls,omitempty"`
	StartTLS bool   `json:"starttls,omitempty"`
}

// SMSSettings configure the HTTP SMS gateway.
type SMSSettings struct {
	URL   string `json:"url,omitempty"` // "": no SMS
	Token string `json:"token,omitempty"`
}

// Validate reports the first thing wrong, naming the field.
func (s Settings) Validate() error {
	if strings.TrimSpace(s.Practice.Name) == "" {
		return errs.Field("practice.name", "Bitte den Namen der Praxis angeben.")
	}
	if s.SMTP.Addr != "" {
		if !strings.Contains(s.SMTP.Addr, ":") {
			return errs.Field("smtp.addr", "Bitte den SMTP-Server als host:port angeben, z. B. mail.example.de:587.")
		}
		if _, err := mail.ParseAddress(s.SMTP.From); err != nil {
			return errs.Field("smtp.from", "Bitte eine Absenderadresse angeben.")
		}
		if s.SMTP.TLS && s.SMTP.StartTLS {
			return errs.Field("smtp.tls", "Entweder TLS (Port 465) oder STARTTLS (Port 587), nicht beides.")
		}
	}
	if s.SMS.URL != "" {
		// Plain http only to a gateway on this host: patients' numbers never cross a
		// network unencrypted.
		if _, err := endpoint.Parse(s.SMS.URL, endpoint.Rule{Field: "sms.url", Service: "des SMS-Dienstes",
			Secure: []string{"https"}, Plain: []string{"http"}}); err != nil {
			return err
		}
	}
	return nil
}

// Sender sends one practice's messages through the channels its settings have.
type Sender struct {
	Settings Settings
	HTTP     *http.Client // for the SMS gateway; nil: default
	Now      func() time.Time
}

// Send sends msg on the channel the patient agreed to: "email" to email, "sms" to phone.
// A channel the practice has not set up is an errs.Invalid error that names it.
func (s Sender) Send(ctx context.Context, channel, email, phone string, msg Message) error {
	switch channel {
	case "email":
		c := s.Settings.SMTP
		if c.Addr == "" {
			return errs.E(errs.Invalid, "Die Praxis hat keinen E-Mail-Versand eingerichtet.")
		}
		m := &Mailer{Addr: c.Addr, From: c.From, Username: c.Username, Password: c.Password, TLS: c.TLS, StartTLS: c.StartTLS, Now: s.Now}
		return m.Send(ctx, email, msg)
	case "sms":
		c := s.Settings.SMS
		if c.URL == "" {
			return errs.E(errs.Invalid, "Die Praxis hat keinen SMS-Versand eingerichtet.")
		}
		return (&HTTPSMS{URL: c.URL, Token: c.Token, Client: s.HTTP}).SendSMS(ctx, phone, msg.SMS)
	}
	return errs.E(errs.Invalid, "unbekannter Benachrichtigungsweg")
}
