package calendar_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/appointment"
	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/berlin"
	"github.com/tresen/tresen/internal/calendar"
	"github.com/tresen/tresen/internal/demo"
	"github.com/tresen/tresen/internal/dialogue"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/nlu"
	"github.com/tresen/tresen/internal/notify"
	"github.com/tresen/tresen/internal/notify/notifytest"
	"github.com/tresen/tresen/internal/reminder"
	"github.com/tresen/tresen/internal/request"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
	"github.com/tresen/tresen/internal/tenant"
)

var ctx = audit.WithActor(context.Background(), audit.Actor{UserID: "assistant", Source: "test"})

// practice makes a practice with the demo's calendar.
func practice(t *testing.T, db *store.DB) tenant.Tenant {
	t.Helper()
	pr, err := db.CreateTenant(ctx, tenant.Tenant{Kind: tenant.Practice, Code: "031234567", Name: "Hausarztpraxis Dr. Erika Schneider"})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SetSchedule(ctx, pr.ID, demo.PracticeSchedule()); err != nil {
		t.Fatal(err)
	}
	return pr
}

// askForTuesday talks a patient through to the offers of Tuesday at ten with Dr.
// Schneider, and returns the assistant's last reply.
func askForTuesday(e *dialogue.Engine, c *dialogue.Conversation, name, birth string) dialogue.Reply {
	var last dialogue.Reply
	for _, say := range []string{
		"Ich hätte gern einen Termin bei Doktor Schneider am Dienstag um zehn",
		name + ", geboren am " + birth,
		"gesetzlich",
		"wegen Rückenschmerzen",
		"ja",
	} {
		last = e.Handle(ctx, c, say)
	}
	return last
}

// TestAssistantBooks holds a phone conversation with the demo practice's assistant that
// books a real appointment into the store; a second caller who wants the same time gets
// another one.
func TestAssistantBooks(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		pr := practice(t, db)
		now := time.Date(2026, 11, 23, 7, 30, 0, 0, berlin.Location) // Monday morning
		engine := func() *dialogue.Engine {
			p := demo.PracticeInfo()
			return &dialogue.Engine{NLU: &nlu.Understander{Doctors: p.Doctors}, Practice: p,
				Slots: &calendar.Slots{Store: db, TenantID: pr.ID}, Now: func() time.Time { return now }}
		}
		call := func(name, birth string) (*dialogue.Conversation, string) {
			t.Helper()
			e := engine()
			c := &dialogue.Conversation{ID: name, Channel: request.Phone}
			e.Start(c)
			last := askForTuesday(e, c, name, birth)
			if !strings.Contains(last.Text, "Ich kann Ihnen anbieten") {
				t.Fatalf("%s: no offer:\n%s", name, last.Text)
			}
			r := e.Handle(ctx, c, "der erste")
			return c, r.Text
		}

		c1, reply := call("Erika Mustermann", "12.03.1984")
		if !strings.Contains(reply, "Ihr Termin ist eingetragen: Dienstag, 24. November, um 10 Uhr bei Doktor Schneider") {
			t.Fatalf("first caller:\n%s", reply)
		}
		c2, reply := call("Max Mustermann", "01.02.1990")
		if !strings.Contains(reply, "Ihr Termin ist eingetragen") || strings.Contains(reply, "um 10 Uhr") {
			t.Fatalf("second caller got the same time or none:\n%s", reply)
		}
		list, err := db.ListAppointments(ctx, pr.ID, now, now.AddDate(0, 0, 7))
		if err != nil || len(list) != 2 {
			t.Fatalf("appointments: %d %v", len(list), err)
		}
		a := list[1] // Erika's at 10:00; Max got the nearest free time, 9:45
		if list[0].Patient.Name != "Max Mustermann" || !list[0].Start.Equal(time.Date(2026, 11, 24, 9, 45, 0, 0, berlin.Location)) {
			t.Errorf("second caller: %+v", list[0])
		}
		if a.Doctor != "schneider" || a.Type != "sprechstunde" || a.Patient.Name != "Erika Mustermann" || a.Patient.BirthDate != "1984-03-12" ||
			a.Source != "assistant" || !a.Start.Equal(time.Date(2026, 11, 24, 10, 0, 0, 0, berlin.Location)) || a.Status != appointment.Booked {
			t.Errorf("booked: %+v", a)
		}
		for _, c := range []*dialogue.Conversation{c1, c2} {
			if r := c.Requests[0]; r.Details.SlotID == "" || r.Status != request.Complete {
				t.Errorf("request: %+v", r)
			}
		}
	})
}

// TestAssistantConfirmsBySMS holds phone conversations that book real appointments and
// answer the offer of a confirmation by SMS: a yes records the consent on the appointment
// before the confirmation goes out through the practice's gateway, and the reminder
// follows a day ahead; a no, or a landline, sends nothing. No message names the reason for
// the visit.
func TestAssistantConfirmsBySMS(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		pr := practice(t, db)
		gw := notifytest.StartGateway(t)
		if err := db.SetSetting(ctx, pr.ID, store.SettingNotify, gw.Settings(notify.Practice{Name: pr.Name, Phone: "030 1234567"})); err != nil {
			t.Fatal(err)
		}
		now := time.Date(2026, 11, 23, 7, 30, 0, 0, berlin.Location) // Monday morning
		notices := &notify.Notices{Store: db, Now: func() time.Time { return now }}
		call := func(caller, name, birth, answer string) (*dialogue.Conversation, string) {
			t.Helper()
			p := demo.PracticeInfo()
			slots := &calendar.Slots{Store: db, TenantID: pr.ID, Channels: []string{appointment.NotifySMS},
				Send: func(ctx context.Context, tenantID string, a appointment.Appointment) error {
					return notices.Send(ctx, tenantID, notify.Confirmation, a)
				}}
			e := &dialogue.Engine{NLU: &nlu.Understander{Doctors: p.Doctors}, Practice: p, Slots: slots, Confirmations: slots,
				Now: func() time.Time { return now }}
			c := &dialogue.Conversation{ID: name, Channel: request.Phone, Caller: caller, Known: request.Patient{Phone: caller}}
			e.Start(c)
			askForTuesday(e, c, name, birth)
			last := e.Handle(ctx, c, "der erste")
			if !strings.Contains(last.Text, "Ihr Termin ist eingetragen") {
				t.Fatalf("%s: not booked:\n%s", name, last.Text)
			}
			offered := strings.Contains(last.Text, "per SMS")
			if answer == "" {
				return c, last.Text
			}
			if !offered {
				t.Fatalf("%s: no offer of a confirmation:\n%s", name, last.Text)
			}
			return c, e.Handle(ctx, c, answer).Text
		}

		_, reply := call("+4915123456789", "Erika Mustermann", "12.03.1984", "ja")
		if !strings.Contains(reply, "Bestätigung kommt gleich per SMS") {
			t.Errorf("after yes: %s", reply)
		}
		_, reply = call("+4917012345678", "Max Mustermann", "01.02.1990", "nein")
		if !strings.Contains(reply, "ohne SMS") {
			t.Errorf("after no: %s", reply)
		}
		if _, reply := call("+49301234567", "Anna Mustermann", "03.04.1975", ""); strings.Contains(reply, "SMS") {
			t.Errorf("offered to a landline: %s", reply)
		}

		list, err := db.ListAppointments(ctx, pr.ID, now, now.AddDate(0, 0, 7))
		if err != nil || len(list) != 3 {
			t.Fatalf("appointments: %d %v", len(list), err)
		}
		consent := map[string]appointment.Patient{}
		for _, a := range list {
			consent[a.Patient.Name] = a.Patient
		}
		if p := consent["Erika Mustermann"]; p.Notify != appointment.NotifySMS || p.Phone != "+4915123456789" {
			t.Errorf("yes: %+v", p)
		}
		for _, name := range []string{"Max Mustermann", "Anna Mustermann"} {
			if p := consent[name]; p.Notify != "" {
				t.Errorf("%s: consent recorded without a yes: %+v", name, p)
			}
		}
		confirmations := gw.Messages()
		if len(confirmations) != 1 || confirmations[0].To != "+4915123456789" || !strings.Contains(confirmations[0].Text, "Di. 24.11.2026 um 10:00 Uhr") ||
			!strings.Contains(confirmations[0].Text, "ist bestätigt") {
			t.Fatalf("confirmations: %+v", confirmations)
		}

		// The reminder follows from the recorded consent, for Erika only.
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		start := time.Date(2026, 11, 24, 10, 0, 0, 0, berlin.Location)
		if n, err := reminder.Run(ctx, db, log, start.Add(-reminder.Ahead), time.Hour); err != nil || n != 1 {
			t.Fatalf("reminders: %d, %v", n, err)
		}
		all := gw.Messages()
		if len(all) != 2 || all[1].To != "+4915123456789" || !strings.Contains(all[1].Text, "Erinnerung an Ihren Termin am Di. 24.11.2026 um 10:00 Uhr") {
			t.Errorf("reminder: %+v", all)
		}
		for _, m := range all {
			if strings.Contains(m.Text, "Rücken") {
				t.Errorf("an SMS names the reason for the visit: %q", m.Text)
			}
		}
		entries, err := db.ListAudit(ctx, pr.ID, store.AuditFilter{Limit: 200})
		if err != nil {
			t.Fatal(err)
		}
		audited := 0
		for _, e := range entries {
			if e.ObjectType == "appointment" && e.Detail == "notify=sms" {
				audited++
			}
			if strings.Contains(e.Detail, "4915123456789") || strings.Contains(e.Detail, "Mustermann") {
				t.Errorf("audit entry holds personal data: %+v", e)
			}
		}
		if audited != 1 {
			t.Errorf("%d audited consents, want 1", audited)
		}
	})
}

// TestAssistantConfirmsInTheChat holds chats that book real appointments and answer the
// question for a confirmation by e-mail or SMS with an address: it is recorded on the
// appointment, audited with the channel only, before the confirmation is sent through
// Notices.Send, as the assistant is wired. The SMS arrives at the practice's gateway, the
// e-mail at its mail server, with the calendar file and without the reason for the visit.
func TestAssistantConfirmsInTheChat(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		pr := practice(t, db)
		gw := notifytest.StartGateway(t)
		// Plain SMTP without a login: notify.Settings have no way to trust the test
		// server's certificate, and STARTTLS with the system's roots would refuse it.
		mailSrv := notifytest.NewSMTP(t, notifytest.SMTPOptions{})
		set := gw.Settings(notify.Practice{Name: pr.Name, Phone: "030 1234567"})
		set.SMTP = notify.SMTPSettings{Addr: mailSrv.Addr(), From: "praxis@example.de"}
		if err := db.SetSetting(ctx, pr.ID, store.SettingNotify, set); err != nil {
			t.Fatal(err)
		}
		now := time.Date(2026, 11, 23, 7, 30, 0, 0, berlin.Location) // Monday morning
		notices := &notify.Notices{Store: db, Now: func() time.Time { return now }}
		for _, can := range []func(context.Context, string) (bool, error){notices.CanEmail, notices.CanSMS} {
			if ok, err := can(ctx, pr.ID); !ok || err != nil {
				t.Fatalf("the practice cannot send: %v, %v", ok, err)
			}
		}
		send := func(ctx context.Context, tenantID string, a appointment.Appointment) error {
			stored, err := db.FindAppointmentByID(ctx, tenantID, a.ID)
			if err != nil || stored.Patient.Notify != a.Patient.Notify || stored.Patient.Email != a.Patient.Email || stored.Patient.Phone != a.Patient.Phone {
				t.Errorf("sent before the consent was recorded: %+v, stored %+v, %v", a.Patient, stored.Patient, err)
			}
			return notices.Send(ctx, tenantID, notify.Confirmation, a)
		}
		chat := func(name, birth, answer string) string {
			t.Helper()
			p := demo.PracticeInfo()
			slots := &calendar.Slots{Store: db, TenantID: pr.ID, Channels: []string{appointment.NotifyEmail, appointment.NotifySMS}, Send: send}
			e := &dialogue.Engine{NLU: &nlu.Understander{Doctors: p.Doctors}, Practice: p, Slots: slots, Confirmations: slots,
				Now: func() time.Time { return now }}
			c := &dialogue.Conversation{ID: name, Channel: request.Chat}
			e.Start(c)
			askForTuesday(e, c, name, birth)
			last := e.Handle(ctx, c, "der erste")
			if !strings.Contains(last.Text, "Ihr Termin ist eingetragen") ||
				!strings.HasSuffix(last.Text, "Möchten Sie eine Bestätigung und eine Erinnerung per E-Mail oder SMS? Dann schreiben Sie mir bitte Ihre E-Mail-Adresse oder Handynummer.") {
				t.Fatalf("%s: not booked or not asked:\n%s", name, last.Text)
			}
			return e.Handle(ctx, c, answer).Text
		}

		if reply := chat("Erika Mustermann", "12.03.1984", "erika.mustermann@example.de"); !strings.Contains(reply, "Bestätigung kommt gleich per E-Mail") {
			t.Errorf("after an e-mail address: %s", reply)
		}
		if reply := chat("Max Mustermann", "01.02.1990", "+49 151 23456789"); !strings.Contains(reply, "Bestätigung kommt gleich per SMS") {
			t.Errorf("after a mobile number: %s", reply)
		}
		if reply := chat("Anna Mustermann", "03.04.1975", "nein danke"); !strings.Contains(reply, "ohne Bestätigung") {
			t.Errorf("after no: %s", reply)
		}

		list, err := db.ListAppointments(ctx, pr.ID, now, now.AddDate(0, 0, 7))
		if err != nil || len(list) != 3 {
			t.Fatalf("appointments: %d %v", len(list), err)
		}
		consent := map[string]appointment.Patient{}
		booked := map[string]appointment.Appointment{}
		for _, a := range list {
			consent[a.Patient.Name] = a.Patient
			booked[a.Patient.Name] = a
		}
		if p := consent["Erika Mustermann"]; p.Notify != appointment.NotifyEmail || p.Email != "erika.mustermann@example.de" {
			t.Errorf("e-mail: %+v", p)
		}
		if p := consent["Max Mustermann"]; p.Notify != appointment.NotifySMS || p.Phone != "+4915123456789" {
			t.Errorf("SMS: %+v", p)
		}
		if p := consent["Anna Mustermann"]; p.Notify != "" || p.Email != "" || p.Phone != "" {
			t.Errorf("consent recorded without an address: %+v", p)
		}

		// The e-mail: the confirmation, with the calendar file for Erika's appointment and
		// without the reason for the visit.
		in := mailSrv.Received(t)
		if diff := cmp.Diff([]string{"praxis@example.de", "erika.mustermann@example.de"}, append([]string{in.From}, in.To...)); diff != "" {
			t.Errorf("e-mail envelope (-want +got):\n%s", diff)
		}
		mail := in.Content(t)
		ics := strings.ReplaceAll(string(mail.Attachments["termin.ics"]), "\r\n ", "") // unfolded
		erika := booked["Erika Mustermann"]
		if !strings.HasPrefix(mail.Subject, "Terminbestätigung") || !strings.Contains(mail.Text, "ist bestätigt") {
			t.Errorf("e-mail: %q\n%s", mail.Subject, mail.Text)
		}
		for _, line := range []string{"METHOD:REQUEST", "UID:" + erika.ID, "DTSTART:" + erika.Start.UTC().Format("20060102T150405Z")} {
			if !strings.Contains(ics, "\r\n"+line+"\r\n") {
				t.Errorf("termin.ics lacks %q:\n%s", line, ics)
			}
		}
		if len(mail.Attachments) != 1 {
			t.Errorf("attachments: %d, want termin.ics alone", len(mail.Attachments))
		}
		if strings.Contains(mail.Subject+mail.Text+ics, "Rücken") || strings.Contains(in.Data, "Rücken") {
			t.Errorf("the e-mail holds the reason for the visit:\n%s\n%s", mail.Text, ics)
		}
		if n := len(mailSrv.Messages()); n != 1 {
			t.Errorf("the mail server took %d messages, want 1", n)
		}
		sms := gw.Messages()
		if len(sms) != 1 || sms[0].To != "+4915123456789" || !strings.Contains(sms[0].Text, "ist bestätigt") || strings.Contains(sms[0].Text, "Rücken") {
			t.Errorf("SMS: %+v", sms)
		}

		entries, err := db.ListAudit(ctx, pr.ID, store.AuditFilter{Limit: 200})
		if err != nil {
			t.Fatal(err)
		}
		audited := map[string]int{}
		for _, e := range entries {
			if e.ObjectType == "appointment" && strings.HasPrefix(e.Detail, "notify=") {
				audited[e.Detail]++
			}
			if strings.Contains(e.Detail, "example.de") || strings.Contains(e.Detail, "23456789") || strings.Contains(e.Detail, "Mustermann") {
				t.Errorf("audit entry holds personal data: %+v", e)
			}
		}
		if diff := cmp.Diff(map[string]int{"notify=email": 1, "notify=sms": 1}, audited); diff != "" {
			t.Errorf("audited consents (-want +got):\n%s", diff)
		}
	})
}

// TestConfirmRefuses: a channel the practice does not send on, or an address that is not
// one, records nothing and sends nothing; no error names the address.
func TestConfirmRefuses(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		pr := practice(t, db)
		start := time.Date(2026, 11, 24, 10, 0, 0, 0, berlin.Location)
		a, err := db.BookAppointment(ctx, pr.ID, appointment.Appointment{Type: "sprechstunde", Doctor: "schneider", Start: start, End: start.Add(15 * time.Minute),
			Patient: appointment.Patient{Name: "Erika Mustermann"}, Source: "assistant"})
		if err != nil {
			t.Fatal(err)
		}
		sent := 0
		s := &calendar.Slots{Store: db, TenantID: pr.ID, Channels: []string{appointment.NotifySMS},
			Send: func(context.Context, string, appointment.Appointment) error { sent++; return nil }}
		if s.Sends(appointment.NotifyEmail) || !s.Sends(appointment.NotifySMS) {
			t.Errorf("Sends: e-mail %v, SMS %v", s.Sends(appointment.NotifyEmail), s.Sends(appointment.NotifySMS))
		}
		for _, tc := range []struct{ channel, address string }{
			{appointment.NotifyEmail, "erika.mustermann@example.de"}, // not sent on
			{appointment.NotifySMS, "+494211234567"},                 // a landline
			{appointment.NotifySMS, "0151 23456789"},                 // not in E.164
			{"fax", "+4915123456789"},
		} {
			err := s.Confirm(ctx, a.ID, tc.channel, tc.address)
			if errs.KindOf(err) != errs.Invalid || strings.Contains(err.Error(), tc.address) || strings.Contains(err.Error(), "example.de") {
				t.Errorf("Confirm(%s, %s): %v", tc.channel, tc.address, err)
			}
		}
		got, err := db.FindAppointmentByID(ctx, pr.ID, a.ID)
		if err != nil || got.Patient.Notify != "" || sent != 0 {
			t.Errorf("recorded %+v, sent %d, %v", got.Patient, sent, err)
		}
		if err := s.Confirm(ctx, a.ID, appointment.NotifySMS, "+4915123456789"); err != nil || sent != 1 {
			t.Errorf("Confirm: %v, sent %d", err, sent)
		}
		if (&calendar.Slots{Store: db, TenantID: pr.ID, Channels: []string{appointment.NotifySMS}}).Sends(appointment.NotifySMS) {
			t.Error("sends without a way to send")
		}
	})
}

// TestFindWithoutSchedule leaves a wish for the team when the practice keeps no calendar.
func TestFindWithoutSchedule(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		pr, err := db.CreateTenant(ctx, tenant.Tenant{Kind: tenant.Practice, Code: "031234567", Name: "Praxis"})
		if err != nil {
			t.Fatal(err)
		}
		s := &calendar.Slots{Store: db, TenantID: pr.ID}
		if _, err := s.Find(ctx, request.Request{Type: request.AppointmentBook}, time.Now()); err == nil {
			t.Error("found slots without a schedule")
		}
	})
}
