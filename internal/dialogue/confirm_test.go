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
	if !strings.HasSuffix(r.Text, smsQuestion) || !cmp.Equal(r.Choices, []string{"Ja", "Nein"}) || h.c.Step != StepConfirmOffer {
		t.Fatalf("no offer of a confirmation: %q %v", r.Text, r.Choices)
	}
	if len(h.conf.sent) != 0 {
		t.Fatalf("sent before the patient agreed: %v", h.conf.sent)
	}
	h.say("ja gerne", "Gern, die Bestätigung kommt gleich per SMS.", "Kann ich sonst noch etwas für Sie tun?")
	if diff := cmp.Diff([]string{"booking-s3 sms +4915123456789"}, h.conf.sent); diff != "" {
		t.Errorf("confirmations (-want +got):\n%s", diff)
	}
	if r := h.c.Requests[0]; r.Status != request.Complete || !strings.Contains(r.Details.Note, "per SMS gewünscht") || h.c.ConfirmOffer != nil {
		t.Errorf("request %+v, offer %+v", r, h.c.ConfirmOffer)
	}
	h.say("nein danke, tschüss", "Auf Wiederhören")
	if len(h.conf.sent) != 1 {
		t.Errorf("confirmations: %v", h.conf.sent)
	}
	h.checkRequests()
}

// TestSMSConfirmationWithoutReminder: an appointment too soon for its reminder is offered
// a confirmation only; the assistant promises nothing the practice will not send.
func TestSMSConfirmationWithoutReminder(t *testing.T) {
	h := newHarness(t, options{sms: true, caller: "+4915123456789"})
	h.conf.noReminder = true
	r := h.bookThursday()
	if want := "Möchten Sie eine Bestätigung per SMS an die Nummer, von der Sie anrufen?"; !strings.HasSuffix(r.Text, want) {
		t.Errorf("offer %q, want it to end with %q", r.Text, want)
	}
	h.say("ja", "Gern, die Bestätigung kommt gleich per SMS.")
	if len(h.conf.sent) != 1 {
		t.Errorf("confirmations: %v", h.conf.sent)
	}
}

func TestSMSConfirmationDeclined(t *testing.T) {
	h := newHarness(t, options{sms: true, caller: "01512 3456789"})
	h.bookThursday()
	h.say("nein, brauche ich nicht", "ohne SMS", "Kann ich sonst noch etwas für Sie tun?")
	h.say("nein danke", "Auf Wiederhören")
	if len(h.conf.sent) != 0 || strings.Contains(h.c.Requests[0].Details.Note, "SMS") {
		t.Errorf("sent %v, note %q", h.conf.sent, h.c.Requests[0].Details.Note)
	}
	h.checkRequests()
}

// TestSMSConfirmationNotOffered: no question without an SMS gateway or without a mobile
// number on the phone, nor in the chat of a practice that sends no confirmations.
func TestSMSConfirmationNotOffered(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    options
	}{
		{"no SMS gateway", options{caller: "+4915123456789"}},
		{"landline", options{sms: true, caller: "+494211234567"}},
		{"withheld number", options{sms: true}},
		{"phone, e-mail only", options{email: true, caller: "+4915123456789"}},
		{"chat, practice sends nothing", options{channel: request.Chat}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.o)
			r := h.bookThursday()
			if strings.Contains(r.Text, "SMS") || strings.Contains(r.Text, "Bestätigung") || !strings.HasSuffix(r.Text, "Kann ich sonst noch etwas für Sie tun?") || h.c.ConfirmOffer != nil {
				t.Errorf("after the booking: %q", r.Text)
			}
			h.say("ja", "Was kann ich für Sie tun?")
			if h.conf != nil && len(h.conf.sent) != 0 {
				t.Errorf("sent %v", h.conf.sent)
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
	if diff := cmp.Diff([]string{"booking-s3 sms +4915123456789"}, h.conf.sent); diff != "" {
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
		if len(h.conf.sent) != 1 {
			t.Errorf("sent %v", h.conf.sent)
		}
	})
	t.Run("new wish", func(t *testing.T) {
		h := newHarness(t, options{sms: true, caller: "+4915123456789"})
		h.bookThursday()
		h.say("Ich brauche außerdem ein Folgerezept für Ramipril 5 mg", "Folgerezept für Ramipril 5 Milligramm für Erika Mustermann", "Stimmt das?")
		if h.c.Step == StepConfirmOffer || h.c.ConfirmOffer != nil {
			t.Errorf("offer still open: %s %+v", h.c.Step, h.c.ConfirmOffer)
		}
		h.say("ja", "notiert") // a yes to the read-back of the refill, not to the SMS
		if len(h.conf.sent) != 0 {
			t.Errorf("sent %v\n%s", h.conf.sent, h.transcript())
		}
		h.checkRequests()
	})
	t.Run("yes and a new wish", func(t *testing.T) {
		h := newHarness(t, options{sms: true, caller: "+4915123456789"})
		h.bookThursday()
		h.say("ja bitte, und ich brauche noch eine Überweisung zum Orthopäden", "per SMS", "Überweisung")
		if len(h.conf.sent) != 1 || len(h.c.Requests) != 2 || h.c.Requests[1].Type != request.Referral {
			t.Errorf("sent %v, requests %+v\n%s", h.conf.sent, h.c.Requests, h.transcript())
		}
	})
	t.Run("misunderstood", func(t *testing.T) {
		h := newHarness(t, options{sms: true, caller: "+4915123456789"})
		h.bookThursday()
		h.say("blubb", "nicht verstanden", smsQuestion)
		h.say("nein", "ohne SMS")
		if len(h.conf.sent) != 0 {
			t.Errorf("sent %v", h.conf.sent)
		}
	})
	t.Run("caller hangs up", func(t *testing.T) {
		h := newHarness(t, options{sms: true, caller: "+4915123456789"})
		h.bookThursday()
		h.c.Close(monday)
		if len(h.conf.sent) != 0 || h.c.ConfirmOffer != nil {
			t.Errorf("sent %v, offer %+v", h.conf.sent, h.c.ConfirmOffer)
		}
		h.checkRequests()
	})
}

// TestSMSConfirmationFails: when the message cannot go out, the patient hears so, the
// booking stands, and the team reads it on the request.
func TestSMSConfirmationFails(t *testing.T) {
	h := newHarness(t, options{sms: true, caller: "+4915123456789"})
	h.conf.fail = errors.New("gateway down")
	h.bookThursday()
	h.say("ja", "konnte ich leider nicht senden", "Termin bleibt aber eingetragen", "Kann ich sonst noch etwas für Sie tun?")
	if note := h.c.Requests[0].Details.Note; !strings.Contains(note, "konnte nicht gesendet werden") {
		t.Errorf("note %q", note)
	}
	if r := h.c.Requests[0]; r.Status != request.Complete || r.Details.SlotID != "s3" {
		t.Errorf("request %+v", r)
	}
}

const chatQuestion = "Möchten Sie eine Bestätigung und eine Erinnerung per E-Mail oder SMS? Dann schreiben Sie mir bitte Ihre E-Mail-Adresse oder Handynummer."

// TestChatConfirmation: in the chat, after a booking, a practice that sends e-mail and SMS
// asks once for an address; the address the patient types is the consent, and only then
// is anything sent. The team's note names the channel, not the address.
func TestChatConfirmation(t *testing.T) {
	for _, tc := range []struct {
		name, answer, want, sent string
	}{
		{"e-mail", "erika.mustermann@example.de", "Gern, die Bestätigung kommt gleich per E-Mail.", "booking-s3 email erika.mustermann@example.de"},
		{"e-mail in a sentence", "Gern, an Erika.Mustermann@example.de bitte.", "per E-Mail", "booking-s3 email Erika.Mustermann@example.de"},
		{"mobile number", "0151 23456789", "Gern, die Bestätigung kommt gleich per SMS.", "booking-s3 sms +4915123456789"},
		{"yes and a mobile number", "ja, an die +49 151 23456789", "per SMS", "booking-s3 sms +4915123456789"},
		{"send it to", "Schicken Sie sie bitte an erika.mustermann@example.de", "per E-Mail", "booking-s3 email erika.mustermann@example.de"},
		{"SMS to", "Schicken Sie mir eine SMS an 0151 23456789", "per SMS", "booking-s3 sms +4915123456789"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, options{email: true, sms: true, channel: request.Chat})
			r := h.bookThursday()
			if !strings.HasSuffix(r.Text, chatQuestion) || !cmp.Equal(r.Choices, []string{"Nein, danke"}) || h.c.Step != StepConfirmOffer {
				t.Fatalf("no question for a confirmation: %q %v", r.Text, r.Choices)
			}
			if len(h.conf.sent) != 0 {
				t.Fatalf("sent before the patient agreed: %v", h.conf.sent)
			}
			h.say(tc.answer, tc.want, "Kann ich sonst noch etwas für Sie tun?")
			if diff := cmp.Diff([]string{tc.sent}, h.conf.sent); diff != "" {
				t.Errorf("confirmations (-want +got):\n%s", diff)
			}
			note := h.c.Requests[0].Details.Note
			if !strings.Contains(note, "gewünscht") || strings.Contains(note, "@") || strings.Contains(note, "23456789") {
				t.Errorf("note %q", note)
			}
			if h.c.ConfirmOffer != nil || len(h.c.Requests) != 1 || len(h.c.Pending) != 0 {
				t.Errorf("offer %+v, requests %+v, pending %v", h.c.ConfirmOffer, h.c.Requests, h.c.Pending)
			}
			h.say("nein danke", "Auf Wiedersehen")
			if len(h.conf.sent) != 1 {
				t.Errorf("confirmations: %v", h.conf.sent)
			}
			h.checkRequests()
		})
	}
}

// TestChatConfirmationWording asks only for what the practice sends.
func TestChatConfirmationWording(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    options
		want string
	}{
		{"SMS only", options{sms: true, channel: request.Chat}, "Möchten Sie eine Bestätigung und eine Erinnerung per SMS? Dann schreiben Sie mir bitte Ihre Handynummer."},
		{"e-mail only", options{email: true, channel: request.Chat}, "Möchten Sie eine Bestätigung und eine Erinnerung per E-Mail? Dann schreiben Sie mir bitte Ihre E-Mail-Adresse."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.o)
			if r := h.bookThursday(); !strings.HasSuffix(r.Text, tc.want) {
				t.Errorf("question %q, want it to end with %q", r.Text, tc.want)
			}
		})
	}
	t.Run("without reminder", func(t *testing.T) {
		h := newHarness(t, options{email: true, sms: true, channel: request.Chat})
		h.conf.noReminder = true
		if r := h.bookThursday(); !strings.HasSuffix(r.Text, "Möchten Sie eine Bestätigung per E-Mail oder SMS? Dann schreiben Sie mir bitte Ihre E-Mail-Adresse oder Handynummer.") {
			t.Errorf("question %q", r.Text)
		}
	})
	t.Run("e-mail to an SMS-only practice", func(t *testing.T) {
		h := newHarness(t, options{sms: true, channel: request.Chat})
		h.bookThursday()
		h.say("erika.mustermann@example.de", "Per E-Mail kann die Praxis leider keine Bestätigung senden.", "Schreiben Sie mir bitte Ihre Handynummer noch einmal.")
		h.say("0151 23456789", "per SMS")
		if diff := cmp.Diff([]string{"booking-s3 sms +4915123456789"}, h.conf.sent); diff != "" {
			t.Errorf("confirmations (-want +got):\n%s", diff)
		}
	})
	t.Run("mobile number to an e-mail-only practice", func(t *testing.T) {
		h := newHarness(t, options{email: true, channel: request.Chat})
		h.bookThursday()
		h.say("0151 23456789", "Per SMS kann die Praxis leider keine Bestätigung senden.", "Schreiben Sie mir bitte Ihre E-Mail-Adresse noch einmal.")
		if len(h.conf.sent) != 0 {
			t.Errorf("sent %v", h.conf.sent)
		}
	})
}

// TestChatConfirmationKnownAddress offers the address the patient already gave in the
// conversation, to be answered yes or no; another address typed instead is taken.
func TestChatConfirmationKnownAddress(t *testing.T) {
	book := func(t *testing.T, o options, first string) (*harness, Reply) {
		t.Helper()
		h := newHarness(t, o)
		h.say(first, "Namen und Ihr Geburtsdatum")
		h.say("Erika Mustermann, geboren am 12.03.1984", "gesetzlich oder privat")
		h.say("gesetzlich", "Wann passt es Ihnen")
		h.say("am Donnerstag vormittags", "Stimmt das?")
		h.say("ja", "Ich kann Ihnen anbieten")
		return h, h.say("der zweite", "Ihr Termin ist eingetragen")
	}
	const withEmail = "Ich hätte gern einen Termin wegen Rückenschmerzen, meine Mail ist erika.mustermann@example.de"
	const withMobile = "Ich hätte gern einen Termin wegen Rückenschmerzen, meine Handynummer ist 0151 23456789"
	chat := options{email: true, sms: true, channel: request.Chat}

	t.Run("e-mail, yes", func(t *testing.T) {
		h, r := book(t, chat, withEmail)
		if want := "Möchten Sie eine Bestätigung und eine Erinnerung per E-Mail an erika.mustermann@example.de?"; !strings.HasSuffix(r.Text, want) || !cmp.Equal(r.Choices, []string{"Ja", "Nein"}) {
			t.Fatalf("offer %q %v, want %q", r.Text, r.Choices, want)
		}
		h.say("ja gerne", "Gern, die Bestätigung kommt gleich per E-Mail.")
		if diff := cmp.Diff([]string{"booking-s3 email erika.mustermann@example.de"}, h.conf.sent); diff != "" {
			t.Errorf("confirmations (-want +got):\n%s", diff)
		}
	})
	t.Run("e-mail, no", func(t *testing.T) {
		h, _ := book(t, chat, withEmail)
		h.say("nein", "Gut, dann ohne E-Mail.", "Kann ich sonst noch etwas für Sie tun?")
		if len(h.conf.sent) != 0 || strings.Contains(h.c.Requests[0].Details.Note, "gewünscht") {
			t.Errorf("sent %v, note %q", h.conf.sent, h.c.Requests[0].Details.Note)
		}
	})
	t.Run("e-mail, another address", func(t *testing.T) {
		h, _ := book(t, chat, withEmail)
		h.say("lieber an die 0151 23456789", "per SMS")
		if diff := cmp.Diff([]string{"booking-s3 sms +4915123456789"}, h.conf.sent); diff != "" {
			t.Errorf("confirmations (-want +got):\n%s", diff)
		}
	})
	t.Run("e-mail to an SMS-only practice", func(t *testing.T) {
		_, r := book(t, options{sms: true, channel: request.Chat}, withEmail)
		if !strings.HasSuffix(r.Text, "per SMS? Dann schreiben Sie mir bitte Ihre Handynummer.") {
			t.Errorf("offer %q", r.Text)
		}
	})
	t.Run("mobile number, yes", func(t *testing.T) {
		h, r := book(t, chat, withMobile)
		if want := "Möchten Sie eine Bestätigung und eine Erinnerung per SMS an die Nummer 01512 3456789?"; !strings.HasSuffix(r.Text, want) {
			t.Fatalf("offer %q, want %q", r.Text, want)
		}
		h.say("ja", "per SMS")
		if diff := cmp.Diff([]string{"booking-s3 sms +4915123456789"}, h.conf.sent); diff != "" {
			t.Errorf("confirmations (-want +got):\n%s", diff)
		}
	})
}

// TestChatConfirmationInvalid: an address that cannot be taken is asked for once more;
// after a second one the conversation goes on without a confirmation.
func TestChatConfirmationInvalid(t *testing.T) {
	chat := options{email: true, sms: true, channel: request.Chat}
	t.Run("then valid", func(t *testing.T) {
		h := newHarness(t, chat)
		h.bookThursday()
		r := h.say("erika.mustermann@example", "Das ist leider keine gültige E-Mail-Adresse.", "Schreiben Sie mir bitte Ihre E-Mail-Adresse oder Handynummer noch einmal.")
		if h.c.Step != StepConfirmOffer || !cmp.Equal(r.Choices, []string{"Nein, danke"}) {
			t.Errorf("step %s, choices %v", h.c.Step, r.Choices)
		}
		h.say("wie bitte?", "Schreiben Sie mir bitte Ihre E-Mail-Adresse oder Handynummer noch einmal.")
		h.say("erika.mustermann@example.de", "per E-Mail")
		if diff := cmp.Diff([]string{"booking-s3 email erika.mustermann@example.de"}, h.conf.sent); diff != "" {
			t.Errorf("confirmations (-want +got):\n%s", diff)
		}
	})
	t.Run("twice", func(t *testing.T) {
		h := newHarness(t, chat)
		h.bookThursday()
		h.say("0421 1234567", "nur an eine deutsche Handynummer", "noch einmal")
		h.say("0151 23", "keine gültige Handynummer", "keine Bestätigung", "Termin bleibt aber eingetragen", "Kann ich sonst noch etwas für Sie tun?")
		if len(h.conf.sent) != 0 || h.c.ConfirmOffer != nil || h.c.Step != StepWish {
			t.Errorf("sent %v, offer %+v, step %s", h.conf.sent, h.c.ConfirmOffer, h.c.Step)
		}
		h.checkRequests()
	})
	t.Run("yes without an address", func(t *testing.T) {
		h := newHarness(t, chat)
		h.bookThursday()
		h.say("ja bitte", "Schreiben Sie mir bitte Ihre E-Mail-Adresse oder Handynummer.")
		h.say("per E-Mail", "Schreiben Sie mir bitte Ihre E-Mail-Adresse oder Handynummer.")
		h.say("erika.mustermann@example.de", "per E-Mail")
		if len(h.conf.sent) != 1 {
			t.Errorf("sent %v", h.conf.sent)
		}
	})
}

// TestChatConfirmationDeclined: no, or another concern, sends nothing; a question about
// the practice is answered and the question repeated.
func TestChatConfirmationDeclined(t *testing.T) {
	chat := options{email: true, sms: true, channel: request.Chat}
	t.Run("no", func(t *testing.T) {
		h := newHarness(t, chat)
		h.bookThursday()
		h.say("Nein, danke", "Gut, dann ohne Bestätigung.", "Kann ich sonst noch etwas für Sie tun?")
		if len(h.conf.sent) != 0 || h.c.ConfirmOffer != nil || strings.Contains(h.c.Requests[0].Details.Note, "gewünscht") {
			t.Errorf("sent %v, offer %+v, note %q", h.conf.sent, h.c.ConfirmOffer, h.c.Requests[0].Details.Note)
		}
		h.checkRequests()
	})
	t.Run("practice question", func(t *testing.T) {
		h := newHarness(t, chat)
		h.bookThursday()
		h.say("Wo kann ich denn parken?", "Parkplätze finden Sie im Hof", chatQuestion)
		h.say("erika.mustermann@example.de", "per E-Mail")
		if len(h.conf.sent) != 1 {
			t.Errorf("sent %v", h.conf.sent)
		}
	})
	t.Run("new wish", func(t *testing.T) {
		h := newHarness(t, chat)
		h.bookThursday()
		h.say("Ich brauche außerdem ein Folgerezept für Ramipril 5 mg", "Folgerezept für Ramipril 5 mg für Erika Mustermann", "Stimmt das?")
		if h.c.Step == StepConfirmOffer || h.c.ConfirmOffer != nil {
			t.Errorf("offer still open: %s %+v", h.c.Step, h.c.ConfirmOffer)
		}
		h.say("ja", "notiert")
		if len(h.conf.sent) != 0 {
			t.Errorf("sent %v\n%s", h.conf.sent, h.transcript())
		}
		h.checkRequests()
	})
	for _, number := range []string{"0421 1234567", "0151 23456789"} {
		t.Run("callback to "+number, func(t *testing.T) {
			h := newHarness(t, chat)
			h.bookThursday()
			r := h.sayNot("Bitte rufen Sie mich unter "+number+" zurück", "Handynummer", "E-Mail-Adresse", "SMS")
			if h.c.ConfirmOffer != nil || len(h.conf.sent) != 0 || len(h.c.Requests) != 2 || h.c.Requests[1].Type != request.Callback {
				t.Errorf("reply %q, offer %+v, sent %v, requests %+v", r.Text, h.c.ConfirmOffer, h.conf.sent, h.c.Requests)
			}
		})
	}
	t.Run("address and a new wish", func(t *testing.T) {
		h := newHarness(t, chat)
		h.bookThursday()
		h.say("erika.mustermann@example.de und ich brauche noch eine Überweisung zum Orthopäden", "per E-Mail", "Überweisung")
		if len(h.conf.sent) != 1 || len(h.c.Requests) != 2 || h.c.Requests[1].Type != request.Referral {
			t.Errorf("sent %v, requests %+v\n%s", h.conf.sent, h.c.Requests, h.transcript())
		}
	})
	t.Run("fails", func(t *testing.T) {
		h := newHarness(t, chat)
		h.conf.fail = errors.New("mail server down")
		h.bookThursday()
		h.say("erika.mustermann@example.de", "Die E-Mail konnte ich leider nicht senden. Ihr Termin bleibt aber eingetragen.")
		if note := h.c.Requests[0].Details.Note; !strings.Contains(note, "per E-Mail gewünscht; die Bestätigung konnte nicht gesendet werden") || strings.Contains(note, "@") {
			t.Errorf("note %q", note)
		}
	})
}
