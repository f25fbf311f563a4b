package web

import (
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/notify"
	"github.com/tresen/tresen/internal/notify/notifytest"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
)

const (
	testSMTPPassword = "smtp-Passwort-geheim"
	practiceName     = "Hausarztpraxis Dr. Erika Schneider"
)

// notifyForm is a complete form of the settings page, with e-mail and SMS.
func notifyForm(gatewayURL, token string) url.Values {
	return url.Values{
		"practice.name": {practiceName}, "practice.address": {"Hauptstraße 1, 28195 Bremen"},
		"practice.phone": {"0421 123456"}, "practice.email": {"praxis@example.de"},
		"smtp.addr": {"mail.example.de:587"}, "smtp.from": {"Hausarztpraxis Dr. Erika Schneider <praxis@example.de>"},
		"smtp.username": {"praxis"}, "smtp.password": {testSMTPPassword}, "smtp.security": {"starttls"},
		"sms.url": {gatewayURL}, "sms.token": {token},
	}
}

// invalidAt matches the input named name marked invalid.
func invalidAt(name string) *regexp.Regexp {
	return regexp.MustCompile(`<input[^>]*name="` + regexp.QuoteMeta(name) + `"[^>]*aria-invalid="true"`)
}

// TestNotifySettings: the practice's owner sets up e-mail and SMS for patient messages
// in the browser; the password and the token are never shown again and kept when the
// fields stay empty; mistakes show at their field; a test message goes out through the
// stored settings. Only the owner of a practice has the page.
func TestNotifySettings(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		_, ts := newTestServer(t, db)
		f := newFixture(t, db)
		gw := notifytest.StartGateway(t)
		owner := newLoggedIn(t, ts.URL, "a.inhaber")
		stored := func() notify.Settings {
			t.Helper()
			var set notify.Settings
			if err := db.Setting(testCtx, f.a.ID, store.SettingNotify, &set); err != nil {
				t.Fatalf("stored settings: %v", err)
			}
			return set
		}
		noSecrets := func(what, body string) {
			t.Helper()
			for _, secret := range []string{testSMTPPassword, gw.Token} {
				if strings.Contains(body, secret) {
					t.Errorf("%s shows the secret %q", what, secret)
				}
			}
		}

		// The owner's navigation links the page; the staff's does not.
		if _, body := owner.get("/start"); !strings.Contains(body, `href="/admin/notify"`) {
			t.Error("the owner's navigation does not link /admin/notify")
		}
		if _, body := newLoggedIn(t, ts.URL, "a.team").get("/start"); strings.Contains(body, `href="/admin/notify"`) {
			t.Error("the staff's navigation links /admin/notify")
		}

		resp, body := owner.get("/admin/notify")
		checkPage(t, "empty page", resp, body, http.StatusOK)
		if strings.Contains(body, "(gespeichert") || strings.Contains(body, `id="send-test-sms"`) {
			t.Error("the empty page claims stored secrets or offers a test")
		}

		// Saved, and shown again without the password and the token.
		resp, body = owner.postCSRF("/admin/notify", notifyForm(gw.URL, gw.Token))
		checkPage(t, "save", resp, body, http.StatusOK)
		if !strings.Contains(body, "Gespeichert.") {
			t.Errorf("save: no notice; error %q", errorOf(body))
		}
		want := notify.Settings{
			Practice: notify.Practice{Name: practiceName, Address: "Hauptstraße 1, 28195 Bremen", Phone: "0421 123456", Email: "praxis@example.de"},
			SMTP: notify.SMTPSettings{Addr: "mail.example.de:587", From: "Hausarztpraxis Dr. Erika Schneider <praxis@example.de>",
				Username: "praxis", Password: testSMTPPassword, StartTLS: true},
			SMS: notify.SMSSettings{URL: gw.URL, Token: gw.Token},
		}
		if diff := cmp.Diff(want, stored()); diff != "" {
			t.Errorf("stored settings (-want +got):\n%s", diff)
		}
		noSecrets("the page after saving", body)
		resp, body = owner.get("/admin/notify")
		checkPage(t, "page again", resp, body, http.StatusOK)
		noSecrets("the page", body)
		for _, s := range []string{`value="mail.example.de:587"`, `value="` + gw.URL + `"`, `value="praxis"`, `value="starttls" checked`,
			"Passwort (gespeichert; leer lassen", "Token (gespeichert; leer lassen", `name="forget_password"`, `id="send-test-sms"`} {
			if !strings.Contains(body, s) {
				t.Errorf("page lacks %q", s)
			}
		}
		if entries, err := db.ListAudit(testCtx, f.a.ID, store.AuditFilter{Limit: 50}); err != nil {
			t.Fatal(err)
		} else {
			var saw bool
			for _, e := range entries {
				saw = saw || e.Action == audit.Update && e.ObjectType == "setting" && e.ObjectID == store.SettingNotify
				if strings.Contains(e.Detail, testSMTPPassword) || strings.Contains(e.Detail, gw.Token) {
					t.Errorf("audit entry %s shows a secret", e.Action)
				}
			}
			if !saw {
				t.Error("the change is not in the audit log")
			}
		}

		// Empty secret fields keep the stored ones; the rest changes.
		form := notifyForm(gw.URL, "")
		form.Set("smtp.password", "")
		form.Set("practice.phone", "0421 654321")
		form.Set("smtp.security", "tls")
		form.Set("smtp.addr", "mail.example.de:465")
		resp, body = owner.postCSRF("/admin/notify", form)
		checkPage(t, "save without secrets", resp, body, http.StatusOK)
		want.Practice.Phone, want.SMTP.Addr, want.SMTP.StartTLS, want.SMTP.TLS = "0421 654321", "mail.example.de:465", false, true
		if diff := cmp.Diff(want, stored()); diff != "" {
			t.Errorf("stored settings after saving without secrets (-want +got):\n%s", diff)
		}

		// A stored password does not follow a change of server unasked.
		form.Set("smtp.addr", "mail.example.org:587")
		resp, body = owner.postCSRF("/admin/notify", form)
		checkPage(t, "other server", resp, body, http.StatusUnprocessableEntity)
		if !invalidAt("smtp.password").MatchString(body) || !strings.Contains(errorOf(body), "SMTP-Server hat sich geändert") {
			t.Errorf("other server: error %q, want it at smtp.password", errorOf(body))
		}
		if diff := cmp.Diff(want, stored()); diff != "" {
			t.Errorf("stored settings changed by a refused form (-want +got):\n%s", diff)
		}

		// An SMS gateway must be reached encrypted.
		form = notifyForm("http://sms.example.de/send", "")
		resp, body = owner.postCSRF("/admin/notify", form)
		checkPage(t, "plain http gateway", resp, body, http.StatusUnprocessableEntity)
		if !invalidAt("sms.url").MatchString(body) || !strings.Contains(body, `id="sms-url-error"`) ||
			!strings.Contains(errorOf(body), "muss mit https:// beginnen") {
			t.Errorf("plain http gateway: error %q, want the German message at sms.url", errorOf(body))
		}
		if !strings.Contains(body, `value="http://sms.example.de/send"`) {
			t.Error("plain http gateway: the form lost what was typed")
		}
		noSecrets("the refused form", body)
		if diff := cmp.Diff(want, stored()); diff != "" {
			t.Errorf("stored settings changed by a refused form (-want +got):\n%s", diff)
		}

		// Without the practice's name nothing is saved.
		form = notifyForm(gw.URL, "")
		form.Set("practice.name", " ")
		resp, body = owner.postCSRF("/admin/notify", form)
		checkPage(t, "no name", resp, body, http.StatusUnprocessableEntity)
		if !invalidAt("practice.name").MatchString(body) {
			t.Errorf("no name: error %q, want it at practice.name", errorOf(body))
		}

		// A test SMS through the stored gateway; the message names only the practice.
		resp, body = owner.postCSRF("/admin/notify/test", url.Values{"channel": {"sms"}, "test_phone": {"+49 151 23456789"}})
		checkPage(t, "test SMS", resp, body, http.StatusOK)
		if !strings.Contains(body, "Test-SMS an den SMS-Dienst übergeben") {
			t.Errorf("test SMS: error %q", errorOf(body))
		}
		if got := gw.Messages(); len(got) != 1 || got[0].To != "+4915123456789" || !strings.Contains(got[0].Text, practiceName) {
			t.Errorf("gateway got %+v, want one test SMS to +4915123456789 naming the practice", got)
		}
		sends := 1

		// A number that is none, refused before anything goes out.
		resp, body = owner.postCSRF("/admin/notify/test", url.Values{"channel": {"sms"}, "test_phone": {"Handy"}})
		checkPage(t, "test SMS to no number", resp, body, http.StatusUnprocessableEntity)
		if !invalidAt("test_phone").MatchString(body) {
			t.Errorf("test SMS to no number: error %q, want it at test_phone", errorOf(body))
		}

		// A token the gateway refuses: the owner learns it failed, and the token stays hidden.
		wrong := stored()
		wrong.SMS.Token = "falscher-Token-geheim"
		if err := db.SetSetting(testCtx, f.a.ID, store.SettingNotify, wrong); err != nil {
			t.Fatal(err)
		}
		resp, body = owner.postCSRF("/admin/notify/test", url.Values{"channel": {"sms"}, "test_phone": {"0151 23456789"}})
		sends++
		checkPage(t, "test SMS refused", resp, body, http.StatusUnprocessableEntity)
		if !strings.Contains(errorOf(body), "konnte nicht gesendet werden") || !strings.Contains(body, `id="test-cause"`) {
			t.Errorf("test SMS refused: error %q", errorOf(body))
		}
		if strings.Contains(body, wrong.SMS.Token) || strings.Contains(body, testSMTPPassword) {
			t.Error("test SMS refused: the page shows a secret")
		}
		if n := len(gw.Messages()); n != 1 {
			t.Errorf("gateway took %d messages, want still 1", n)
		}

		// A test e-mail to a mail server that is not there: a German reason, no secret.
		// (TestNotifyTestEmail sends one to a server that is.)
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		closed := l.Addr().String()
		l.Close()
		wrong.SMS.Token = gw.Token
		wrong.SMTP.Addr = closed
		if err := db.SetSetting(testCtx, f.a.ID, store.SettingNotify, wrong); err != nil {
			t.Fatal(err)
		}
		resp, body = owner.postCSRF("/admin/notify/test", url.Values{"channel": {"email"}, "test_email": {"praxis@example.de"}})
		sends++
		checkPage(t, "test e-mail", resp, body, http.StatusUnprocessableEntity)
		if !strings.Contains(errorOf(body), "nicht erreichbar") || !invalidAt("test_email").MatchString(body) {
			t.Errorf("test e-mail: error %q, want that the server cannot be reached, at test_email", errorOf(body))
		}
		noSecrets("the failed test e-mail", body)

		// Test messages are limited per practice.
		for ; sends < ownerTestBurst; sends++ {
			if resp, body := owner.postCSRF("/admin/notify/test", url.Values{"channel": {"sms"}, "test_phone": {"+49 151 23456789"}}); resp.StatusCode != http.StatusOK {
				t.Fatalf("test SMS %d: status %d, error %q", sends+1, resp.StatusCode, errorOf(body))
			}
		}
		resp, body = owner.postCSRF("/admin/notify/test", url.Values{"channel": {"sms"}, "test_phone": {"+49 151 23456789"}})
		checkPage(t, "one test too many", resp, body, http.StatusTooManyRequests)
		if n := len(gw.Messages()); n != ownerTestBurst-2 {
			t.Errorf("gateway took %d messages, want %d", n, ownerTestBurst-2)
		}

		// The secrets can be removed.
		form = notifyForm(gw.URL, "")
		form.Set("smtp.password", "")
		form.Set("forget_password", "on")
		form.Set("forget_token", "on")
		resp, body = owner.postCSRF("/admin/notify", form)
		checkPage(t, "forget secrets", resp, body, http.StatusOK)
		if got := stored(); got.SMTP.Password != "" || got.SMS.Token != "" || got.SMTP.Username != "praxis" {
			t.Errorf("after forgetting: password %t, token %t, user %q; want both gone, the rest kept", got.SMTP.Password != "", got.SMS.Token != "", got.SMTP.Username)
		}
		if strings.Contains(body, "(gespeichert") {
			t.Error("after forgetting, the page still claims stored secrets")
		}

		// Without a CSRF token nothing changes.
		before := stored()
		if resp, _ := owner.post("/admin/notify", notifyForm(gw.URL, "anderer-Token")); resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST without CSRF token: status %d, want 403", resp.StatusCode)
		}
		if diff := cmp.Diff(before, stored()); diff != "" {
			t.Errorf("a form without CSRF token changed the settings:\n%s", diff)
		}

		// Staff and read-only users may not; a pharmacy has no such page.
		refusedToOthers(t, ts.URL, "/admin/notify", []pageRequest{{"/admin/notify", nil}, {"/admin/notify", notifyForm(gw.URL, "x")},
			{"/admin/notify/test", url.Values{"channel": {"sms"}, "test_phone": {"+49 151 23456789"}}}})
		if err := db.Setting(testCtx, f.b.ID, store.SettingNotify, &notify.Settings{}); err == nil {
			t.Error("the pharmacy has notify settings")
		}
		if diff := cmp.Diff(before, stored()); diff != "" {
			t.Errorf("others changed the practice's settings:\n%s", diff)
		}
		if n := len(gw.Messages()); n != ownerTestBurst-2 {
			t.Errorf("gateway took %d messages, want still %d", n, ownerTestBurst-2)
		}
	})
}

// TestNotifyTestEmail: the owner sets up the practice's mail account in the browser,
// pointing at a real SMTP server, and sends a test e-mail to an address they type. It
// arrives, sent with the stored login, with the German test message and no secret in
// it. A server whose certificate is not trusted gets nothing, and the owner learns why.
func TestNotifyTestEmail(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		_, ts := newTestServer(t, db)
		newFixture(t, db)
		owner := newLoggedIn(t, ts.URL, "a.inhaber")
		save := func(addr, security string) {
			t.Helper()
			form := notifyForm("", "") // no SMS
			form.Set("smtp.addr", addr)
			form.Set("smtp.security", security)
			resp, body := owner.postCSRF("/admin/notify", form)
			checkPage(t, "save", resp, body, http.StatusOK)
			if !strings.Contains(body, "Gespeichert.") {
				t.Fatalf("save: no notice; error %q", errorOf(body))
			}
		}
		sendTest := func() (*http.Response, string) {
			t.Helper()
			return owner.postCSRF("/admin/notify/test", url.Values{"channel": {"email"}, "test_email": {"erika.mustermann@example.de"}})
		}

		// The Mailer the settings make trusts only the system's roots, which know no test
		// CA; net/smtp gives a password without TLS to 127.0.0.1 alone, so the server
		// wants the login in the clear here.
		srv := notifytest.NewSMTP(t, notifytest.SMTPOptions{User: "praxis", Password: testSMTPPassword})
		save(srv.Addr(), "none")
		resp, body := sendTest()
		checkPage(t, "test e-mail", resp, body, http.StatusOK)
		if !strings.Contains(body, "Test-E-Mail gesendet.") {
			t.Errorf("test e-mail: no notice; error %q", errorOf(body))
		}
		in := srv.Received(t)
		if diff := cmp.Diff([]string{"praxis@example.de", "erika.mustermann@example.de", "praxis"}, append([]string{in.From}, append(in.To, in.Auth)...)); diff != "" {
			t.Errorf("envelope and login (-want +got):\n%s", diff)
		}
		got := in.Content(t)
		if want := "Testnachricht von " + practiceName; got.Subject != want {
			t.Errorf("Subject = %q, want %q", got.Subject, want)
		}
		for _, s := range []string{"Guten Tag,", "diese Testnachricht zeigt, dass der E-Mail-Versand von " + practiceName + " eingerichtet ist.",
			"nur, wenn sie zugestimmt haben", "Mit freundlichen Grüßen\n" + practiceName} {
			if !strings.Contains(got.Text, s) {
				t.Errorf("the text lacks %q:\n%s", s, got.Text)
			}
		}
		if len(got.Attachments) != 0 {
			t.Errorf("attachments %v", got.Attachments)
		}
		if to := got.Header.Get("To"); to != "<erika.mustermann@example.de>" {
			t.Errorf("To = %q", to)
		}
		if strings.Contains(in.Data, testSMTPPassword) || strings.Contains(got.Text, testSMTPPassword) {
			t.Error("the test e-mail holds the SMTP password")
		}
		noSecret := func(what, body string) {
			t.Helper()
			if strings.Contains(body, testSMTPPassword) {
				t.Errorf("%s shows the SMTP password", what)
			}
		}
		noSecret("the page after the test", body)

		// STARTTLS to a server whose certificate no system root vouches for: refused
		// before the login, in German.
		tlsSrv := notifytest.NewSMTP(t, notifytest.SMTPOptions{StartTLS: true, User: "praxis", Password: testSMTPPassword})
		save(tlsSrv.Addr(), "starttls")
		resp, body = sendTest()
		checkPage(t, "test e-mail, untrusted certificate", resp, body, http.StatusUnprocessableEntity)
		if !strings.Contains(errorOf(body), "Das Zertifikat des Servers ist nicht gültig.") || !invalidAt("test_email").MatchString(body) {
			t.Errorf("untrusted certificate: error %q, want it at test_email", errorOf(body))
		}
		noSecret("the failed test e-mail", body)
		if n := len(tlsSrv.Messages()); n != 0 || tlsSrv.Sessions() != 1 {
			t.Errorf("the untrusted server took %d messages in %d sessions, want none in 1", n, tlsSrv.Sessions())
		}
		if n := len(srv.Messages()); n != 1 {
			t.Errorf("the first server took %d messages, want 1", n)
		}
	})
}
