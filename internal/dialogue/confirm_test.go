package dialogue

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/request"
)

const smsQuestion = "Möchten Sie eine Bestätigung und eine Erinnerung per SMS an die Nummer, von der Sie anrufen?"

// bookThursday books Thursday 11:00 with Dr. Weber (booking "booking-s3") and returns the
// reply to the choice.
func (h *harness) bookThursday() Reply {
	h.t.Helper()
	h.say("Ich hätte gern einen Termin wegen Rückenschmerzen", "Namen und Ihr Geburtsdatum")
	h.say("Erika Mustermann, geboren am 12.03.1984", "gesetzlich oder privat")
	h.say("gesetzlich", "Wann passt es Ihnen")
	h.say("am Donnerstag vormittags", "Stimmt das?")
	h.say("ja", "Ich kann Ihnen anbieten")
	return h.say("der zweite", "Ihr Termin ist eingetragen: Donnerstag, 26. November, um 11 Uhr bei D")
}

// TestSMSConfirmation: after a booking on the phone, a caller whose mobile number the line
// reports is asked once whether a confirmation and a reminder should go to it; only a yes
// sends, after which the conversation goes on as before.
func TestSMSConfirmation(t *testing.T) {
	h := newHarness(t, options{sms: true, caller: "+4915123456789"})
	r := h.bookThursday()
	if !strings.HasSuffix(r.Text, smsQuestion) || !cmp.Equal(r.Choices, []string{"Ja", "Nein"}) || h.c.Step != StepSMSOffer {
		t.Fatalf("no offer of a confirmation: %q %v", r.Text, r.Choices)
	}
	if len(h.sms.sent) != 0 {
		t.Fatalf("sent before the patient agreed: %v", h.sms.sent)
	}
	h.say("ja gerne", "Gern, die Bestätigung kommt gleich per SMS.", "Kann ich sonst noch etwas für Sie tun?")
	if diff := cmp.Diff([]string{"booking-s3 +4915123456789"}, h.sms.sent); diff != "" {
		t.Errorf("confirmations (-want +got):\n%s", diff)
	}
	if r := h.c.Requests[0]; r.Status != request.Complete || !strings.Contains(r.Details.Note, "per SMS gewünscht") || h.c.SMSOffer != nil {
		t.Errorf("request %+v, offer %+v", r, h.c.SMSOffer)
	}
	h.say("nein danke, tschüss", "Auf Wiederhören")
	if len(h.sms.sent) != 1 {
		t.Errorf("confirmations: %v", h.sms.sent)
	}
	h.checkRequests()
}

// TestSMSConfirmationWithoutReminder: an appointment too soon for its reminder is offered
// a confirmation only; the assistant promises nothing the practice will not send.
func TestSMSConfirmationWithoutReminder(t *testing.T) {
	h := newHarness(t, options{sms: true, caller: "+4915123456789"})
	h.sms.noReminder = true
	r := h.bookThursday()
	if want := "Möchten Sie eine Bestätigung per SMS an die Nummer, von der Sie anrufen?"; !strings.HasSuffix(r.Text, want) {
		t.Errorf("offer %q, want it to end with %q", r.Text, want)
	}
	h.say("ja", "Gern, die Bestätigung kommt gleich per SMS.")
	if len(h.sms.sent) != 1 {
		t.Errorf("confirmations: %v", h.sms.sent)
	}
}

func TestSMSConfirmationDeclined(t *testing.T) {
	h := newHarness(t, options{sms: true, caller: "01512 3456789"})
	h.bookThursday()
	h.say("nein, brauche ich nicht", "ohne SMS", "Kann ich sonst noch etwas für Sie tun?")
	h.say("nein danke", "Auf Wiederhören")
	if len(h.sms.sent) != 0 || strings.Contains(h.c.Requests[0].Details.Note, "SMS") {
		t.Errorf("sent %v, note %q", h.sms.sent, h.c.Requests[0].Details.Note)
	}
	h.checkRequests()
}

// TestSMSConfirmationNotOffered: no question without an SMS gateway, without a mobile
// number, or in the chat without a number from the patient.
func TestSMSConfirmationNotOffered(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    options
	}{
		{"no SMS gateway", options{caller: "+4915123456789"}},
		{"landline", options{sms: true, caller: "+494211234567"}},
		{"withheld number", options{sms: true}},
		{"chat without a number", options{sms: true, channel: request.Chat}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.o)
			r := h.bookThursday()
			if strings.Contains(r.Text, "SMS") || !strings.HasSuffix(r.Text, "Kann ich sonst noch etwas für Sie tun?") || h.c.SMSOffer != nil {
				t.Errorf("after the booking: %q", r.Text)
			}
			h.say("ja", "Was kann ich für Sie tun?")
			if h.sms != nil && len(h.sms.sent) != 0 {
				t.Errorf("sent %v", h.sms.sent)
			}
		})
	}
}

// TestSMSConfirmationInTheChat offers the number the patient gave in the chat, as written.
func TestSMSConfirmationInTheChat(t *testing.T) {
	h := newHarness(t, options{sms: true, channel: request.Chat})
	h.say("Ich hätte gern einen Termin wegen Rückenschmerzen, meine Handynummer ist 0151 23456789", "Namen und Ihr Geburtsdatum")
	h.say("Erika Mustermann, geboren am 12.03.1984", "gesetzlich oder privat")
	h.say("gesetzlich", "Wann passt es Ihnen")
	h.say("am Donnerstag vormittags", "Stimmt das?")
	h.say("ja", "Ich kann Ihnen anbieten")
	h.say("der zweite", "Möchten Sie eine Bestätigung und eine Erinnerung per SMS an die Nummer 01512 3456789?")
	h.say("ja", "Bestätigung kommt gleich per SMS")
	if diff := cmp.Diff([]string{"booking-s3 +4915123456789"}, h.sms.sent); diff != "" {
		t.Errorf("confirmations (-want +got):\n%s", diff)
	}
}

// TestSMSConfirmationOtherConcern: the question does not hold up the conversation. A
// question about the practice is answered and the offer repeated; a new wish is taken up
// and the offer lapses, with nothing sent; "ja" with a further wish sends and takes it up.
func TestSMSConfirmationOtherConcern(t *testing.T) {
	t.Run("practice question", func(t *testing.T) {
		h := newHarness(t, options{sms: true, caller: "+4915123456789"})
		h.bookThursday()
		h.say("Wo kann ich denn parken?", "Parkplätze finden Sie im Hof", smsQuestion)
		h.say("ja", "per SMS")
		if len(h.sms.sent) != 1 {
			t.Errorf("sent %v", h.sms.sent)
		}
	})
	t.Run("new wish", func(t *testing.T) {
		h := newHarness(t, options{sms: true, caller: "+4915123456789"})
		h.bookThursday()
		h.say("Ich brauche außerdem ein Folgerezept für Ramipril 5 mg", "Folgerezept für Ramipril 5 Milligramm für Erika Mustermann", "Stimmt das?")
		if h.c.Step == StepSMSOffer || h.c.SMSOffer != nil {
			t.Errorf("offer still open: %s %+v", h.c.Step, h.c.SMSOffer)
		}
		h.say("ja", "notiert") // a yes to the read-back of the refill, not to the SMS
		if len(h.sms.sent) != 0 {
			t.Errorf("sent %v\n%s", h.sms.sent, h.transcript())
		}
		h.checkRequests()
	})
	t.Run("yes and a new wish", func(t *testing.T) {
		h := newHarness(t, options{sms: true, caller: "+4915123456789"})
		h.bookThursday()
		h.say("ja bitte, und ich brauche noch eine Überweisung zum Orthopäden", "per SMS", "Überweisung")
		if len(h.sms.sent) != 1 || len(h.c.Requests) != 2 || h.c.Requests[1].Type != request.Referral {
			t.Errorf("sent %v, requests %+v\n%s", h.sms.sent, h.c.Requests, h.transcript())
		}
	})
	t.Run("misunderstood", func(t *testing.T) {
		h := newHarness(t, options{sms: true, caller: "+4915123456789"})
		h.bookThursday()
		h.say("blubb", "nicht verstanden", smsQuestion)
		h.say("nein", "ohne SMS")
		if len(h.sms.sent) != 0 {
			t.Errorf("sent %v", h.sms.sent)
		}
	})
	t.Run("caller hangs up", func(t *testing.T) {
		h := newHarness(t, options{sms: true, caller: "+4915123456789"})
		h.bookThursday()
		h.c.Close(monday)
		if len(h.sms.sent) != 0 || h.c.SMSOffer != nil {
			t.Errorf("sent %v, offer %+v", h.sms.sent, h.c.SMSOffer)
		}
		h.checkRequests()
	})
}

// TestSMSConfirmationFails: when the message cannot go out, the patient hears so, the
// booking stands, and the team reads it on the request.
func TestSMSConfirmationFails(t *testing.T) {
	h := newHarness(t, options{sms: true, caller: "+4915123456789"})
	h.sms.fail = errors.New("gateway down")
	h.bookThursday()
	h.say("ja", "konnte ich leider nicht senden", "Termin bleibt aber eingetragen", "Kann ich sonst noch etwas für Sie tun?")
	if note := h.c.Requests[0].Details.Note; !strings.Contains(note, "konnte nicht gesendet werden") {
		t.Errorf("note %q", note)
	}
	if r := h.c.Requests[0]; r.Status != request.Complete || r.Details.SlotID != "s3" {
		t.Errorf("request %+v", r)
	}
}
