package web

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/nlu"
	"github.com/tresen/tresen/internal/notify"
	"github.com/tresen/tresen/internal/store"
)

const notifyTitle = "Patientennachrichten"

// Tests from the settings pages per practice and kind: 5 at once, then one a minute. A
// test message costs an SMS or goes through the practice's mail account, a connection
// test calls the stored server, and neither form must become a way to send many.
const (
	ownerTestBurst = 5
	ownerTestEvery = time.Minute
)

// notifyTestTimeout bounds a test send, below the server's write timeout, so that the
// owner learns of a server that does not answer while the page still loads.
const notifyTestTimeout = 20 * time.Second

// maxNotifyField bounds each text field: the practice's details go into every message.
const maxNotifyField = 300

// notifyData is the page: the settings as stored or as typed, without the password and
// the token, which are write-only.
type notifyData struct {
	Settings    notify.Settings // SMTP.Password and SMS.Token are always empty
	Security    string          // "starttls", "tls" or "none"
	HasPassword bool            // an SMTP password is stored
	HasToken    bool            // an SMS gateway token is stored
	CanEmail    bool            // stored settings have e-mail set up, for the test form
	CanSMS      bool            // stored settings have an SMS gateway, for the test form
	TestEmail   string          // the test form as typed
	TestPhone   string
	Field       string // the field at fault
	Message     string // what is wrong with it
	TestResult  string // a failed test send: its technical cause, without secrets
}

// storedNotify returns the practice's settings for messages; empty ones before the
// first save.
func (s *Server) storedNotify(ctx context.Context, tenantID string) (notify.Settings, error) {
	var set notify.Settings
	if err := s.db.Setting(ctx, tenantID, store.SettingNotify, &set); err != nil && !errs.Is(err, errs.NotFound) {
		return set, err
	}
	return set, nil
}

// handleNotifySettings shows how the practice sends messages to its patients.
func (s *Server) handleNotifySettings(w http.ResponseWriter, r *http.Request) error {
	t, err := s.practice(r)
	if err != nil {
		return err
	}
	set, err := s.storedNotify(r.Context(), t.ID)
	if err != nil {
		return err
	}
	s.notifyPage(w, r, set, set, notifyData{}, http.StatusOK, page{})
	return nil
}

// notifyPage renders the page with shown in the settings form (as stored or as typed)
// and stored deciding what is saved and what can be tested.
func (s *Server) notifyPage(w http.ResponseWriter, r *http.Request, shown, stored notify.Settings, d notifyData, status int, p page) {
	d.Security = "none"
	switch {
	case shown.SMTP.StartTLS:
		d.Security = "starttls"
	case shown.SMTP.TLS:
		d.Security = "tls"
	case shown.SMTP.Addr == "":
		d.Security = "starttls" // the usual choice for a new account
	}
	d.HasPassword, d.HasToken = stored.SMTP.Password != "", stored.SMS.Token != ""
	d.CanEmail, d.CanSMS = stored.SMTP.Addr != "", stored.SMS.URL != ""
	shown.SMTP.Password, shown.SMS.Token = "", ""
	d.Settings = shown
	p.Title, p.Data = notifyTitle, d
	s.render(w, r, status, "notify_settings", p)
}

// handleNotifySettingsSave stores the practice's details for messages, its mail account
// and its SMS gateway. The password and the token are write-only: an empty field keeps
// the stored one, as long as it would go to the same server.
func (s *Server) handleNotifySettingsSave(w http.ResponseWriter, r *http.Request) error {
	t, err := s.practice(r)
	if err != nil {
		return err
	}
	old, err := s.storedNotify(r.Context(), t.ID)
	if err != nil {
		return err
	}
	set, err := notifySettingsFrom(r, old)
	if errs.Is(err, errs.Invalid) {
		d := notifyData{Field: fieldOf(err), Message: fieldMessage(err)}
		s.notifyPage(w, r, set, old, d, http.StatusUnprocessableEntity, page{Error: fieldMessage(err)})
		return nil
	}
	if err != nil {
		return err
	}
	if err := s.db.SetSetting(r.Context(), t.ID, store.SettingNotify, set); err != nil {
		return err
	}
	s.notifyPage(w, r, set, set, notifyData{}, http.StatusOK,
		page{Notice: "Gespeichert. Bestätigungen, Änderungen und Erinnerungen gehen ab jetzt mit diesen Angaben hinaus."})
	return nil
}

// notifySettingsFrom reads and checks the form. It returns the settings as typed, with
// the stored secrets where the fields were left empty, also with an error, so that the
// form can show them again.
func notifySettingsFrom(r *http.Request, old notify.Settings) (notify.Settings, error) {
	get := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	set := notify.Settings{
		Practice: notify.Practice{Name: get("practice.name"), Address: get("practice.address"),
			Phone: get("practice.phone"), Email: get("practice.email")},
		SMTP: notify.SMTPSettings{Addr: get("smtp.addr"), From: get("smtp.from"), Username: get("smtp.username"),
			Password: r.PostFormValue("smtp.password")},
		SMS: notify.SMSSettings{URL: get("sms.url"), Token: get("sms.token")},
	}
	switch get("smtp.security") {
	case "tls":
		set.SMTP.TLS = true
	case "none":
	default:
		set.SMTP.StartTLS = true
	}
	for _, f := range []struct{ name, v string }{
		{"practice.name", set.Practice.Name}, {"practice.address", set.Practice.Address}, {"practice.phone", set.Practice.Phone},
		{"practice.email", set.Practice.Email}, {"smtp.addr", set.SMTP.Addr}, {"smtp.from", set.SMTP.From},
		{"smtp.username", set.SMTP.Username}, {"smtp.password", set.SMTP.Password}, {"sms.url", set.SMS.URL}, {"sms.token", set.SMS.Token},
	} {
		if utf8.RuneCountInString(f.v) > maxNotifyField {
			return set, errs.Field(f.name, "Die Angabe ist zu lang (höchstens %d Zeichen).", maxNotifyField)
		}
	}
	if err := set.Validate(); err != nil {
		return set, err
	}
	if set.Practice.Email != "" && !validEmail(set.Practice.Email) {
		return set, errs.Field("practice.email", "Bitte eine gültige E-Mail-Adresse angeben, z. B. praxis@example.de.")
	}

	// Without a server or a gateway the channel is off, and its secret is dropped.
	if set.SMTP.Addr == "" {
		set.SMTP = notify.SMTPSettings{}
	} else if set.SMTP.Password == "" && r.PostFormValue("forget_password") != "on" && old.SMTP.Password != "" {
		if !sameHost(smtpHost(old.SMTP.Addr), smtpHost(set.SMTP.Addr)) {
			return set, errs.Field("smtp.password", "Der SMTP-Server hat sich geändert: Bitte das Passwort für den neuen Server eingeben oder das gespeicherte löschen. Das gespeicherte wird nicht an einen anderen Server gesendet.")
		}
		set.SMTP.Password = old.SMTP.Password
	}
	if set.SMS.URL == "" {
		set.SMS = notify.SMSSettings{}
	} else if set.SMS.Token == "" && r.PostFormValue("forget_token") != "on" && old.SMS.Token != "" {
		if !sameHost(urlHost(old.SMS.URL), urlHost(set.SMS.URL)) {
			return set, errs.Field("sms.token", "Die Adresse des SMS-Dienstes hat sich geändert: Bitte den Token für den neuen Dienst eingeben oder den gespeicherten löschen. Der gespeicherte wird nicht an einen anderen Dienst gesendet.")
		}
		set.SMS.Token = old.SMS.Token
	}
	return set, nil
}

// smtpHost is the host of an SMTP server's host:port.
func smtpHost(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

// urlHost is the scheme and host of a gateway's URL.
func urlHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.Scheme + "://" + u.Host
}

func sameHost(a, b string) bool { return a != "" && strings.EqualFold(a, b) }

// handleNotifyTest sends a test message through the stored settings to an address or a
// number the owner types, and says how it went.
func (s *Server) handleNotifyTest(w http.ResponseWriter, r *http.Request) error {
	t, err := s.practice(r)
	if err != nil {
		return err
	}
	set, err := s.storedNotify(r.Context(), t.ID)
	if err != nil {
		return err
	}
	channel := r.PostFormValue("channel")
	d := notifyData{TestEmail: strings.TrimSpace(r.PostFormValue("test_email")), TestPhone: strings.TrimSpace(r.PostFormValue("test_phone"))}
	fail := func(status int, field string, err error) error {
		d.Field, d.Message = field, fieldMessage(err)
		s.notifyPage(w, r, set, set, d, status, page{Error: fieldMessage(err)})
		return nil
	}
	var email, phone string
	switch channel {
	case "email":
		if set.SMTP.Addr == "" {
			return fail(http.StatusUnprocessableEntity, "test_email", errs.E(errs.Invalid, "Bitte zuerst den E-Mail-Versand einrichten und speichern."))
		}
		if !validEmail(d.TestEmail) {
			return fail(http.StatusUnprocessableEntity, "test_email", errs.E(errs.Invalid, "Bitte eine gültige E-Mail-Adresse für die Testnachricht angeben."))
		}
		email = d.TestEmail
	case "sms":
		if set.SMS.URL == "" {
			return fail(http.StatusUnprocessableEntity, "test_phone", errs.E(errs.Invalid, "Bitte zuerst den SMS-Versand einrichten und speichern."))
		}
		e164, ok := nlu.PhoneE164(d.TestPhone)
		if !ok {
			return fail(http.StatusUnprocessableEntity, "test_phone", errs.E(errs.Invalid, "Bitte eine gültige Handynummer für die Test-SMS angeben, z. B. +49 151 23456789."))
		}
		phone = e164
	default:
		return errs.E(errs.Invalid, "Unbekannter Weg für die Testnachricht.")
	}
	if !s.ownerTests.allow("notify " + t.ID) {
		w.Header().Set("Retry-After", "60")
		return fail(http.StatusTooManyRequests, "", errs.E(errs.TooMany, "Zu viele Testnachrichten; bitte eine Minute warten."))
	}
	ctx, cancel := context.WithTimeout(r.Context(), notifyTestTimeout)
	defer cancel()
	err = notify.Sender{Settings: set, Now: s.db.Now}.Send(ctx, channel, email, phone, testMessage(set.Practice))
	if err != nil {
		// The owner sees why, in German where we can tell; notify's errors never hold the
		// recipient or the text, and the secrets are cut out in case a server echoed them.
		cause := redact(err.Error(), set.SMTP.Password, set.SMS.Token, email, phone)
		s.log.Warn("notify test failed", slog.String("channel", channel), slog.String("err", cause))
		msg := "Die Testnachricht konnte nicht gesendet werden: " + sendFailure(err)
		if errs.KindOf(err) == errs.Internal {
			d.TestResult = cause
		}
		field := map[string]string{"email": "test_email", "sms": "test_phone"}[channel]
		d.Field, d.Message = field, msg
		s.notifyPage(w, r, set, set, d, http.StatusUnprocessableEntity, page{Error: msg})
		return nil
	}
	notice := "Test-E-Mail gesendet. Kommt sie nicht an, bitte auch den Spam-Ordner prüfen."
	if channel == "sms" {
		notice = "Test-SMS an den SMS-Dienst übergeben."
	}
	s.notifyPage(w, r, set, set, notifyData{}, http.StatusOK, page{Notice: notice})
	return nil
}

// testMessage is the test message: the practice's name and nothing about anybody.
func testMessage(p notify.Practice) notify.Message {
	return notify.Message{
		Subject: "Testnachricht von " + p.Name,
		Text: "Guten Tag,\n\ndiese Testnachricht zeigt, dass der E-Mail-Versand von " + p.Name + " eingerichtet ist. " +
			"Patientinnen und Patienten erhalten Terminbestätigungen und Erinnerungen nur, wenn sie zugestimmt haben.\n\n" +
			"Mit freundlichen Grüßen\n" + p.Name + "\n",
		SMS: p.Name + ": Testnachricht. Der SMS-Versand ist eingerichtet.",
	}
}

// sendFailure says in German what went wrong with a send: the message of an error meant
// for users, or what kind of failure an internal one is.
func sendFailure(err error) string {
	if errs.KindOf(err) != errs.Internal {
		return errs.Message(err)
	}
	var (
		op   *net.OpError
		dns  *net.DNSError
		tp   *textproto.Error
		cert *tls.CertificateVerificationError
		rec  tls.RecordHeaderError
	)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "Der Server hat nicht rechtzeitig geantwortet."
	case errors.As(err, &dns):
		return "Den Servernamen gibt es nicht (DNS)."
	case errors.As(err, &cert):
		return "Das Zertifikat des Servers ist nicht gültig."
	case errors.As(err, &rec):
		return "Der Server spricht an diesem Port kein TLS; bitte die Verschlüsselung prüfen (TLS für Port 465, STARTTLS für Port 587)."
	case errors.As(err, &tp) && tp.Code == 535:
		return "Der Mailserver hat Benutzername oder Passwort abgelehnt."
	case errors.As(err, &tp):
		return "Der Mailserver hat die Nachricht abgelehnt."
	case errors.As(err, &op) && op.Op == "dial":
		return "Der Server ist nicht erreichbar."
	}
	return "Bitte Adresse, Zugangsdaten und Verschlüsselung prüfen."
}

// redact cuts secrets out of a text.
func redact(s string, secrets ...string) string {
	for _, v := range secrets {
		if v != "" {
			s = strings.ReplaceAll(s, v, "…")
		}
	}
	return s
}
