package dialogue

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/nlu"
	"github.com/tresen/tresen/internal/request"
)

// turn of a scripted conversation: what the patient says and what the reply must contain.
type line struct {
	patient string
	want    []string
	action  Action // checked when set
}

func l(patient string, want ...string) line { return line{patient: patient, want: want} }

// TestRequestTypes holds a conversation for each request type from the first utterance
// to the completed request.
func TestRequestTypes(t *testing.T) {
	anna := request.Patient{Name: "Anna Müller", BirthDate: "1984-03-12", Insurance: "gkv"}
	tests := []struct {
		name    string
		channel request.Channel
		lines   []line
		want    []request.Request
	}{
		{
			name: "prescription refill",
			lines: []line{
				l("Ich brauche ein Folgerezept für Ramipril fünf Milligramm", "Folgerezept", "Namen und Ihr Geburtsdatum"),
				l("Anna Müller, geboren am zwölften dritten neunzehnhundertvierundachtzig", "gesetzlich oder privat"),
				l("gesetzlich", "Ich habe notiert: Folgerezept für Ramipril 5 Milligramm für Anna Müller, geboren am 12. März 1984, gesetzlich versichert. Stimmt das?"),
				l("ja", "notiert", "Kann ich sonst noch etwas für Sie tun?"),
				{patient: "nein danke, tschüss", want: []string{"Auf Wiederhören"}, action: ActionEnd},
			},
			want: []request.Request{{ID: "c-1", Type: request.PrescriptionRefill, Patient: anna,
				Details: request.Details{Medication: "Ramipril 5 mg"}, Channel: request.Phone, Status: request.Complete, CreatedAt: monday}},
		},
		{
			name:    "appointment booked in the chat",
			channel: request.Chat,
			lines: []line{
				l("Hallo, ich hätte gern einen Termin wegen Rückenschmerzen", "Terminwunsch", "Namen und Ihr Geburtsdatum"),
				l("Max Mustermann, geb. 02.01.1990", "gesetzlich oder privat"),
				l("ich bin bei der AOK", "Wann passt es Ihnen am besten"),
				l("am Donnerstag vormittags", "Ich habe notiert: Termin wegen Rückenschmerzen, am Donnerstag, 26. November vormittags, für Max Mustermann, geboren am 2. Januar 1990, gesetzlich versichert. Stimmt das?"),
				l("ja", "Ich kann Ihnen anbieten: Donnerstag, 26. November, um 9:30 Uhr bei Dr. Schneider, oder Donnerstag, 26. November, um 11 Uhr bei Dr. Weber. Welcher Termin passt Ihnen?"),
				l("der zweite", "Ihr Termin ist eingetragen: Donnerstag, 26. November, um 11 Uhr bei Dr. Weber."),
				{patient: "nein, das war alles", want: []string{"Auf Wiedersehen"}, action: ActionEnd},
			},
			want: []request.Request{{ID: "c-1", Type: request.AppointmentBook,
				Patient: request.Patient{Name: "Max Mustermann", BirthDate: "1990-01-02", Insurance: "gkv"},
				Details: request.Details{Reason: "Rückenschmerzen", Date: "2026-11-26", Time: "11:00", Daypart: "morning", Doctor: "Weber", SlotID: "s3"},
				Channel: request.Chat, Status: request.Complete, CreatedAt: monday}},
		},
		{
			name: "appointment cancelled",
			lines: []line{
				l("ich möchte meinen Termin am Donnerstag absagen", "Terminabsage", "Namen und Ihr Geburtsdatum"),
				l("Anna Müller, zwölfter März vierundachtzig", "Ich habe notiert: Absage Ihres Termins am Donnerstag, 26. November für Anna Müller, geboren am 12. März 1984. Stimmt das?"),
				l("genau", "Ihre Absage ist notiert"),
			},
			want: []request.Request{{ID: "c-1", Type: request.AppointmentCancel, Patient: request.Patient{Name: "Anna Müller", BirthDate: "1984-03-12"},
				Details: request.Details{Date: "2026-11-26"}, Channel: request.Phone, Status: request.Complete, CreatedAt: monday}},
		},
		{
			name: "appointment rescheduled",
			lines: []line{
				l("kann ich meinen Termin von morgen auf Freitag verschieben", "Termin zu verschieben", "Namen und Ihr Geburtsdatum"),
				l("Max Mustermann, geboren am 2.1.1990", "Verschiebung Ihres Termins am Dienstag, 24. November für Max Mustermann, geboren am 2. Januar 1990. Stimmt das?"),
				l("ja richtig", "neuen Terminvorschlag"),
			},
			want: []request.Request{{ID: "c-1", Type: request.AppointmentReschedule, Patient: request.Patient{Name: "Max Mustermann", BirthDate: "1990-01-02"},
				Details: request.Details{Date: "2026-11-24"}, Channel: request.Phone, Status: request.Complete, CreatedAt: monday}},
		},
		{
			name: "referral",
			lines: []line{
				l("Hallo, hier ist Anna Müller, geb. 12.3.84, ich bräuchte eine Überweisung zum Orthopäden", "Überweisung", "gesetzlich oder privat"),
				l("privat", "Ich habe notiert: Überweisung, Fachrichtung Orthopädie, für Anna Müller, geboren am 12. März 1984, privat versichert. Stimmt das?"),
				l("ja", "notiert"),
			},
			want: []request.Request{{ID: "c-1", Type: request.Referral, Patient: request.Patient{Name: "Anna Müller", BirthDate: "1984-03-12", Insurance: "pkv"},
				Details: request.Details{Reason: "Orthopädie"}, Channel: request.Phone, Status: request.Complete, CreatedAt: monday}},
		},
		{
			name: "sick note for a son",
			lines: []line{
				l("für meinen Sohn Max Mustermann brauche ich eine Krankschreibung seit gestern", "Krankschreibung", "Geburtsdatum"),
				l("dritter Mai zweitausendzwölf", "gesetzlich oder privat"),
				l("Techniker Krankenkasse", "Ich habe notiert: Krankschreibung seit Sonntag, 22. November für Max Mustermann, geboren am 3. Mai 2012, gesetzlich versichert. Stimmt das?"),
				l("ja", "notiert"),
			},
			want: []request.Request{{ID: "c-1", Type: request.SickNote, Patient: request.Patient{Name: "Max Mustermann", BirthDate: "2012-05-03", Insurance: "gkv"},
				Details: request.Details{Date: "2026-11-22"}, Channel: request.Phone, Status: request.Complete, CreatedAt: monday}},
		},
		{
			name: "test results",
			lines: []line{
				l("sind meine Blutwerte schon da", "Befunde bespricht die Praxis persönlich", "Namen und Ihr Geburtsdatum"),
				l("Anna Müller, 12.3.1984", "Ich habe notiert: Frage nach Ihrem Befund, Blutwerte, für Anna Müller, geboren am 12. März 1984. Stimmt das?"),
				l("ja", "meldet sich bei Ihnen zu Ihrem Befund"),
			},
			want: []request.Request{{ID: "c-1", Type: request.TestResults, Patient: request.Patient{Name: "Anna Müller", BirthDate: "1984-03-12"},
				Details: request.Details{Reason: "Blutwerte"}, Channel: request.Phone, Status: request.Complete, CreatedAt: monday}},
		},
		{
			name: "callback",
			lines: []line{
				l("bitte rufen Sie mich zurück null eins sieben eins eins zwei drei vier fünf sechs sieben", "Rückrufwunsch", "vollständigen Namen"),
				l("Anna Müller", "Ich habe notiert: Rückruf für Anna Müller, unter der Nummer 0 1 7 1, 1 2 3 4 5 6 7. Stimmt das?"),
				l("ja", "ruft Sie zurück"),
			},
			want: []request.Request{{ID: "c-1", Type: request.Callback, Patient: request.Patient{Name: "Anna Müller", Phone: "+491711234567"},
				Channel: request.Phone, Status: request.Complete, CreatedAt: monday}},
		},
		{
			name:    "message for a doctor",
			channel: request.Chat,
			lines: []line{
				l("ich möchte eine Nachricht für Doktor Weber hinterlassen", "Nachricht", "vollständigen Namen"),
				l("Anna Müller", "Was soll ich Dr. Weber ausrichten?"),
				l("Die neuen Tabletten vertrage ich gut, ich wollte nur Bescheid geben", "Ich habe notiert: Nachricht von Anna Müller: Die neuen Tabletten vertrage ich gut, ich wollte nur Bescheid geben. Stimmt das?"),
				l("ja", "gebe Ihre Nachricht weiter"),
			},
			want: []request.Request{{ID: "c-1", Type: request.Message, Patient: request.Patient{Name: "Anna Müller"},
				Details: request.Details{Doctor: "Weber", Note: "Die neuen Tabletten vertrage ich gut, ich wollte nur Bescheid geben"},
				Channel: request.Chat, Status: request.Complete, CreatedAt: monday}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, options{channel: tc.channel})
			for _, ln := range tc.lines {
				r := h.say(ln.patient, ln.want...)
				if ln.action != "" && r.Action != ln.action {
					t.Errorf("%q: action %s, want %s", ln.patient, r.Action, ln.action)
				}
			}
			h.c.Close(monday)
			if diff := cmp.Diff(tc.want, h.c.Requests); diff != "" {
				t.Errorf("requests (-want +got):\n%s\n%s", diff, h.transcript())
			}
			h.checkRequests()
		})
	}
}

func TestGreeting(t *testing.T) {
	for _, ch := range []request.Channel{request.Phone, request.Chat} {
		e := &Engine{Practice: testPractice(false), Now: func() time.Time { return monday }}
		c := &Conversation{ID: "c", Channel: ch}
		r := e.Start(c)
		for _, want := range []string{"Hausarztpraxis Dr. Erika Schneider", "assistent", "112", "Was kann ich für Sie tun?"} {
			if !strings.Contains(strings.ToLower(r.Text), strings.ToLower(want)) {
				t.Errorf("%s greeting %q lacks %q", ch, r.Text, want)
			}
		}
		if len(c.Turns) != 1 || c.Turns[0].Who != Assistant {
			t.Errorf("%s: greeting not in the transcript: %+v", ch, c.Turns)
		}
	}
}

func TestCorrections(t *testing.T) {
	h := newHarness(t, options{})
	h.say("ich brauche ein Folgerezept für Ramipril fünf Milligramm")
	h.say("Anna Müller, geboren am dreizehnten dritten vierundachtzig")
	h.say("ich bin bei der Barmer", "geboren am 13. März 1984")
	// a correction with the value: that field changes and is read back again
	h.say("nein, der zwölfte März", "geboren am 12. März 1984", "Stimmt das?")
	// a bare "nein": what to correct
	h.say("nein", "Was soll ich korrigieren?")
	h.say("das Medikament", "Welches Medikament")
	h.say("Ramipril zehn Milligramm", "Folgerezept für Ramipril 10 Milligramm für Anna Müller, geboren am 12. März 1984")
	// the name, corrected after "nein" with the new value only
	h.say("nein", "Was soll ich korrigieren?")
	h.say("der Name ist Anna Meier", "für Anna Meier")
	h.say("ja", "notiert")
	r := h.c.Requests[0]
	if r.Patient.BirthDate != "1984-03-12" || r.Details.Medication != "Ramipril 10 mg" || r.Patient.Name != "Anna Meier" || r.Status != request.Complete {
		t.Errorf("after corrections: %+v\n%s", r, h.transcript())
	}
	h.checkRequests()
}

func TestCorrectAppointmentDay(t *testing.T) {
	h := newHarness(t, options{})
	h.say("ich brauche einen Termin zur Vorsorge")
	h.say("Max Mustermann, geboren am 2.1.1990")
	h.say("gesetzlich")
	h.say("am Donnerstag", "Termin wegen Vorsorgeuntersuchung, am Donnerstag, 26. November")
	h.say("nein, lieber am Freitag", "am Freitag, 27. November", "Stimmt das?")
	h.say("ja", "Freitag, 27. November, um 8 Uhr bei Doktor Özdemir")
	h.say("ja gerne den", "Ihr Termin ist eingetragen")
	if r := h.c.Requests[0]; r.Details.SlotID != "s4" || r.Patient.BirthDate != "1990-01-02" {
		t.Errorf("request: %+v\n%s", r, h.transcript())
	}
}

func TestTakenSlot(t *testing.T) {
	h := newHarness(t, options{})
	h.cal.taken["s2"] = true
	h.say("ich hätte gern einen Termin wegen einer Impfung nächste Woche Dienstag vormittags")
	h.say("Anna Müller, 12.3.1984")
	h.say("gesetzlich", "Impfung", "Dienstag, 1. Dezember")
	h.say("nein, lieber diesen Donnerstag", "Donnerstag, 26. November")
	h.say("ja", "9:30 Uhr bei Doktor Schneider")
	h.say("um halb zehn", "gerade vergeben", "11 Uhr bei Doktor Weber")
	h.say("ja der", "Ihr Termin ist eingetragen: Donnerstag, 26. November, um 11 Uhr bei Doktor Weber")
	if r := h.c.Requests[0]; r.Details.SlotID != "s3" || r.Status != request.Complete {
		t.Errorf("request: %+v\n%s", r, h.transcript())
	}
}

func TestNoFittingSlot(t *testing.T) {
	h := newHarness(t, options{})
	h.say("ich brauche einen Termin wegen Kopfschmerzen am Mittwoch vormittags")
	h.say("Anna Müller, 12.3.1984")
	h.say("privat")
	h.say("ja", "kein Termin frei", "anderer Tag")
	h.say("egal, so bald wie möglich", "Mittwoch, 25. November, um 16 Uhr")
	h.say("keiner passt", "besser passen")
	h.say("nein danke", "Terminwunsch an das Praxisteam")
	r := h.c.Requests[0]
	if r.Status != request.Complete || r.Details.SlotID != "" {
		t.Errorf("request: %+v\n%s", r, h.transcript())
	}
	h.checkRequests()
}

// TestHangUp: a caller who hangs up mid-way leaves an incomplete request with what they
// said, and the transcript.
func TestHangUp(t *testing.T) {
	h := newHarness(t, options{})
	h.say("ich brauche ein Folgerezept für Ramipril fünf Milligramm")
	h.say("Anna Müller")
	h.c.Close(monday.Add(time.Minute))
	want := []request.Request{{ID: "c-1", Type: request.PrescriptionRefill, Patient: request.Patient{Name: "Anna Müller"},
		Details: request.Details{Medication: "Ramipril 5 mg"}, Channel: request.Phone, Status: request.Incomplete,
		PatientUnclear: true, CreatedAt: monday}}
	if diff := cmp.Diff(want, h.c.Requests); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	if n := len(h.c.Turns); n != 5 {
		t.Errorf("transcript has %d turns, want 5:\n%s", n, h.transcript())
	}
	h.checkRequests()
	// Closing again changes nothing.
	before := h.c.Requests[0]
	h.c.Close(monday.Add(time.Hour))
	if diff := cmp.Diff(before, h.c.Requests[0]); diff != "" || len(h.c.Requests) != 1 {
		t.Errorf("second Close changed the request:\n%s", diff)
	}
	if r := h.e.Handle(context.Background(), h.c, "hallo?"); !r.Done {
		t.Errorf("Handle after Close: %+v", r)
	}
}

func TestHangUpWithOnlyData(t *testing.T) {
	h := newHarness(t, options{})
	h.say("hier ist Anna Müller, geboren am 12.3.1984", "Was kann ich für Sie tun?")
	h.c.Close(monday)
	if len(h.c.Requests) != 1 {
		t.Fatalf("requests: %+v", h.c.Requests)
	}
	r := h.c.Requests[0]
	if r.Type != request.Callback || r.Status != request.Incomplete || r.Patient.Name != "Anna Müller" || r.Patient.BirthDate != "1984-03-12" {
		t.Errorf("request: %+v", r)
	}
	h.checkRequests()
}

func TestHangUpWithNothing(t *testing.T) {
	h := newHarness(t, options{})
	h.say("hallo")
	h.c.Close(monday)
	if len(h.c.Requests) != 0 {
		t.Errorf("a caller who said nothing left requests: %+v", h.c.Requests)
	}
}

func TestEmergency(t *testing.T) {
	const dial112 = "Bitte legen Sie auf und wählen Sie sofort die 112."
	t.Run("first turn, staff reachable", func(t *testing.T) {
		h := newHarness(t, options{staff: true})
		r := h.say("mein Mann ist umgekippt und reagiert nicht mehr", dial112, "verbinde ich Sie")
		if r.Action != ActionEmergency || !strings.HasPrefix(r.Text, dial112) {
			t.Errorf("reply: %+v", r)
		}
		r = h.say("ja bitte", "verbinde Sie mit dem Praxisteam")
		if r.Action != ActionTransfer || !r.Done {
			t.Errorf("reply: %+v", r)
		}
		if len(h.c.Requests) != 1 || h.c.Requests[0].Urgency != request.LifeThreatening || h.c.Requests[0].Status != request.Incomplete {
			t.Errorf("requests: %+v", h.c.Requests)
		}
		h.checkRequests()
	})
	t.Run("chat, staff away", func(t *testing.T) {
		h := newHarness(t, options{channel: request.Chat})
		r := h.sayNot("ich habe so einen Druck auf der Brust und mein linker Arm kribbelt", "verbinde")
		if !strings.HasPrefix(r.Text, "Rufen Sie bitte sofort die 112 an.") || r.Action != ActionEmergency {
			t.Errorf("reply: %+v", r)
		}
	})
	t.Run("while collecting", func(t *testing.T) {
		h := newHarness(t, options{})
		h.say("ich brauche ein Folgerezept für Ramipril fünf Milligramm")
		h.say("Anna Müller, geboren am 12.3.1984", "gesetzlich oder privat")
		r := h.say("oh Gott, ich bekomme gerade ganz schlecht Luft", dial112)
		if r.Action != ActionEmergency {
			t.Errorf("reply: %+v", r)
		}
		h.say("nein", "wählen Sie bitte sofort die 112", "gesetzlich oder privat")
		h.say("gesetzlich", "Stimmt das?")
		h.c.Close(monday)
		if r := h.c.Requests[0]; r.Urgency != request.LifeThreatening || r.Details.Medication != "Ramipril 5 mg" || !strings.Contains(r.Details.Note, "Luft") {
			t.Errorf("request: %+v", r)
		}
		h.checkRequests()
	})
	t.Run("suicidal", func(t *testing.T) {
		h := newHarness(t, options{})
		h.say("ich will nicht mehr leben", dial112, "Telefonseelsorge 0800 111 0 111, rund um die Uhr")
	})
	t.Run("urgent outside opening hours", func(t *testing.T) {
		h := newHarness(t, options{now: saturday})
		h.say("ich habe hohes Fieber und brauche dringend einen Termin", "116117", "Namen und Ihr Geburtsdatum")
		h.say("Max Mustermann, geboren am 2.1.1990")
		h.c.Close(saturday)
		if r := h.c.Requests[0]; r.Type != request.AppointmentBook || r.Urgency != request.Urgent || r.Patient.Name != "Max Mustermann" {
			t.Errorf("request: %+v", r)
		}
		if n := strings.Count(h.transcript(), "116117"); n != 1 {
			t.Errorf("116117 named %d times", n)
		}
	})
	t.Run("urgent within opening hours", func(t *testing.T) {
		h := newHarness(t, options{})
		h.sayNot("ich brauche dringend ein Rezept für Ramipril", "116117")
		if r := h.c.Requests[0]; r.Urgency != request.Urgent || r.Type != request.PrescriptionRefill {
			t.Errorf("request: %+v", r)
		}
	})
	t.Run("near miss", func(t *testing.T) {
		h := newHarness(t, options{})
		r := h.sayNot("ich brauche einen Termin zur Nachsorge nach meiner Brust OP", "112")
		if r.Action == ActionEmergency {
			t.Errorf("reply: %+v", r)
		}
	})
}

func TestHuman(t *testing.T) {
	t.Run("staff reachable", func(t *testing.T) {
		h := newHarness(t, options{staff: true})
		r := h.say("ich möchte bitte mit einem Mitarbeiter sprechen", "verbinde Sie mit dem Praxisteam")
		if r.Action != ActionTransfer || !r.Done || !h.c.Ended {
			t.Errorf("reply: %+v", r)
		}
		// The inbox learns that the caller was handed over, not that she named no wish.
		if len(h.c.Requests) != 1 || h.c.Requests[0].Type != request.Callback || !strings.Contains(h.c.Requests[0].Details.Note, "weitergeleitet") {
			t.Errorf("requests: %+v", h.c.Requests)
		}
	})
	t.Run("staff away", func(t *testing.T) {
		h := newHarness(t, options{})
		r := h.say("ich möchte bitte mit einem Mitarbeiter sprechen", "nicht erreichbar", "Rückrufwunsch", "vollständigen Namen")
		if r.Action != ActionNone {
			t.Errorf("reply: %+v", r)
		}
		h.say("Max Mustermann", "Telefonnummer")
		h.say("null eins sieben eins eins zwei drei vier fünf sechs sieben", "Rückruf für Max Mustermann")
		h.say("ja", "ruft Sie zurück")
		if r := h.c.Requests[0]; r.Type != request.Callback || r.Status != request.Complete || r.Patient.Phone != "+491711234567" {
			t.Errorf("request: %+v", r)
		}
	})
	t.Run("in the middle of a request", func(t *testing.T) {
		h := newHarness(t, options{})
		h.say("ich brauche eine Überweisung zum Kardiologen")
		h.say("ich will mit einem Menschen sprechen", "nicht erreichbar", "vollständigen Namen")
		r := h.c.Requests[0]
		if r.Type != request.Callback || !strings.Contains(r.Details.Note, "Überweisung, Kardiologie") {
			t.Errorf("request: %+v", r)
		}
	})
}

func TestMisunderstanding(t *testing.T) {
	h := newHarness(t, options{})
	h.say("ich brauche ein Folgerezept")
	h.say("Anna Müller, 12.3.1984")
	h.say("ich bin gerade im Auto unterwegs", "nicht verstanden", "Welches Medikament")
	r := h.say("hm also das da mit dem Ding", "zurückrufen")
	if len(r.Choices) != 2 {
		t.Errorf("choices: %v", r.Choices)
	}
	h.say("ja", "Telefonnummer")
	h.say("null eins sieben eins eins zwei drei vier fünf sechs sieben", "Rückruf für Anna Müller")
	h.say("ja")
	req := h.c.Requests[0]
	if req.Type != request.Callback || req.Status != request.Complete || !strings.Contains(req.Details.Note, "Folgerezept") ||
		!strings.Contains(req.Details.Note, "Auto unterwegs") {
		t.Errorf("request: %+v", req)
	}
}

func TestMisunderstandingDeclined(t *testing.T) {
	h := newHarness(t, options{})
	h.say("ich brauche ein Folgerezept")
	h.say("Anna Müller, 12.3.1984")
	h.say("ich bin gerade im Auto unterwegs")
	h.say("hm also das da mit dem Ding", "zurückrufen")
	h.say("nein", "noch einmal", "Welches Medikament")
	h.say("Metformin fünfhundert", "gesetzlich oder privat")
}

func TestFAQ(t *testing.T) {
	h := newHarness(t, options{})
	h.say("wann haben Sie heute geöffnet", "Montag bis Freitag von 8 bis 12 Uhr", "geöffnet", "Kann ich sonst noch etwas")
	h.say("haben Sie Parkplätze vor der Praxis", "im Hof hinter dem Haus")
	h.say("ist die Praxis barrierefrei", "Aufzug")
	h.say("wo finde ich Sie", "Musterstraße 1", "Bushaltestelle")
	if len(h.c.Requests) != 0 {
		t.Errorf("FAQ created requests: %+v", h.c.Requests)
	}
	// in the middle of a request, the question is answered and the request goes on
	h.say("ich brauche eine Überweisung zum Hautarzt", "Namen und Ihr Geburtsdatum")
	h.say("bis wann haben Sie heute offen", "Sprechzeiten", "Namen und Ihr Geburtsdatum")
}

func TestMedicalAdvice(t *testing.T) {
	t.Run("alone", func(t *testing.T) {
		h := newHarness(t, options{})
		r := h.say("soll ich mehr Ibuprofen nehmen, die Schmerzen gehen nicht weg", "keine medizinische Auskunft", "Nachricht", "Rückruf")
		if strings.Contains(r.Text, "Milligramm") || strings.Contains(r.Text, "Tabletten") {
			t.Errorf("reply gives a dosage: %q", r.Text)
		}
		h.say("lieber einen Rückruf", "vollständigen Namen")
		h.say("Anna Müller", "Telefonnummer")
		h.say("0171 1234567", "Stimmt das?")
		h.say("ja")
		req := h.c.Requests[0]
		if req.Type != request.Callback || req.Status != request.Complete || !strings.Contains(req.Details.Note, "Ibuprofen") {
			t.Errorf("request: %+v", req)
		}
	})
	t.Run("while collecting", func(t *testing.T) {
		h := newHarness(t, options{})
		h.say("ich brauche ein Folgerezept für Ibuprofen sechshundert")
		h.say("wie viele Tabletten darf ich am Tag nehmen", "keine medizinische Auskunft", "Namen und Ihr Geburtsdatum")
		if req := h.c.Requests[0]; !strings.Contains(req.Details.Note, "viele Tabletten") {
			t.Errorf("request: %+v", req)
		}
	})
}

func TestSeveralRequests(t *testing.T) {
	h := newHarness(t, options{})
	h.say("ich brauche ein Folgerezept und eine Überweisung", "Folgerezept", "Überweisung nehme ich gleich danach auf")
	h.say("Anna Müller, geboren am 12.3.1984", "Welches Medikament")
	h.say("L-Thyroxin fünfzig Mikrogramm", "gesetzlich oder privat")
	h.say("gesetzlich", "Folgerezept für L-Thyroxin 50 Mikrogramm")
	// what was known is not asked again
	h.sayNot("ja", "Namen", "versichert?")
	h.say("zum Kardiologen", "Überweisung, Fachrichtung Kardiologie, für Anna Müller")
	h.say("ja", "Kann ich sonst noch etwas")
	h.say("Und noch eine Krankschreibung seit gestern", "Krankschreibung seit Sonntag, 22. November für Anna Müller")
	h.say("ja")
	h.say("nein danke")
	if len(h.c.Requests) != 3 {
		t.Fatalf("requests: %+v\n%s", h.c.Requests, h.transcript())
	}
	for i, typ := range []request.Type{request.PrescriptionRefill, request.Referral, request.SickNote} {
		r := h.c.Requests[i]
		if r.Type != typ || r.Status != request.Complete || r.Patient.Name != "Anna Müller" {
			t.Errorf("request %d: %+v", i, r)
		}
	}
	h.checkRequests()
}

func TestRepeatAndSilence(t *testing.T) {
	h := newHarness(t, options{})
	h.say("ich brauche eine Überweisung zum Orthopäden", "Namen und Ihr Geburtsdatum")
	h.say("wie bitte?", "Gern noch einmal", "Namen und Ihr Geburtsdatum")
	h.say("", "nicht gehört", "Namen und Ihr Geburtsdatum")
	h.say("Anna Müller, 12.3.1984", "gesetzlich oder privat")
	h.say("Entschuldigung, können Sie das wiederholen?", "gesetzlich oder privat")
	h.say("")
	h.say("")
	r := h.say("", "nicht")
	if !r.Done || r.Action != ActionEnd {
		t.Errorf("three silent turns: %+v", r)
	}
	if h.c.Misunderstood != 0 {
		t.Errorf("repeats counted as misunderstandings: %d", h.c.Misunderstood)
	}
	if r := h.c.Requests[0]; r.Status != request.Incomplete || r.Details.Reason != "Orthopädie" {
		t.Errorf("request: %+v", r)
	}
}

func TestWrongNumber(t *testing.T) {
	h := newHarness(t, options{})
	r := h.say("oh Entschuldigung, falsch verbunden", "Auf Wiederhören")
	if !r.Done || len(h.c.Requests) != 0 {
		t.Errorf("reply %+v, requests %+v", r, h.c.Requests)
	}
}

// TestPersist: the conversation survives JSON between any two turns, as the store keeps it.
func TestPersist(t *testing.T) {
	h := newHarness(t, options{})
	texts := []string{"ich hätte gern einen Termin wegen einer Impfung", "Anna Müller, 12.3.1984", "gesetzlich", "am Donnerstag", "ja", "der erste", "nein danke"}
	for _, text := range texts {
		b, err := json.Marshal(h.c)
		if err != nil {
			t.Fatal(err)
		}
		var c Conversation
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatal(err)
		}
		h.c = &c
		h.say(text)
	}
	if r := h.c.Requests[0]; r.Status != request.Complete || r.Details.SlotID != "s2" {
		t.Errorf("request: %+v\n%s", r, h.transcript())
	}
}

func TestBadInput(t *testing.T) {
	h := newHarness(t, options{})
	huge := strings.Repeat("Ich brauche ein Rezept. ", 100000)
	r := h.say(huge, "sehr lang")
	if n := len(h.c.Turns[len(h.c.Turns)-2].Text); n > nlu.MaxInput {
		t.Errorf("transcript keeps %d bytes of a huge turn", n)
	}
	if r.Text == "" {
		t.Error("empty reply")
	}
	h.say("\x00\xff\xfe\u202e\u200b\x1b[31m")
	h.say("ich brauche ein rezept für ramipril\x00 fünf mg")
	h.c.Close(monday)
	h.checkRequests()
}

// TestTypesAreIntents: every request type is the understanding engine's intent of the
// same name.
func TestTypesAreIntents(t *testing.T) {
	for _, typ := range request.Types {
		found := false
		for _, in := range nlu.Intents {
			found = found || string(in) == string(typ)
		}
		if !found {
			t.Errorf("request type %s is no nlu intent", typ)
		}
	}
}

// FuzzConversation holds whole conversations of arbitrary turns (one per line): the
// engine never panics, always answers, and leaves valid requests.
func FuzzConversation(f *testing.F) {
	for _, seed := range []string{
		"ich brauche ein Folgerezept für Ramipril fünf Milligramm\nAnna Müller, 12.3.1984\ngesetzlich\nja\nnein danke",
		"Termin wegen Rückenschmerzen\nMax Mustermann geboren am 2.1.1990\nAOK\negal\nja\nder erste",
		"mein Mann ist umgekippt\nja",
		"\n\n\n",
		"wie bitte\nblub\nblub\nja\nAnna Müller\n0171 1234567\nja",
		"soll ich mehr Ibuprofen nehmen\nRückruf\nAnna Müller",
		"nein\nnein\nnein\nja\nja",
		"\xff\xfe\x00",
		"Überweisung und Rezept und AU\nAnna Müller 12.3.84\nprivat\nnein, der zwölfte März\nja",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, script string) {
		h := newHarness(t, options{staff: len(script)%2 == 0})
		for i, text := range strings.Split(script, "\n") {
			if i > 30 {
				break
			}
			r := h.e.Handle(context.Background(), h.c, text)
			if r.Text == "" {
				t.Fatalf("empty reply to %q", text)
			}
			if r.Done {
				break
			}
		}
		h.c.Close(monday)
		h.checkRequests()
	})
}

func TestMoreWishesInTheReadBack(t *testing.T) {
	h := newHarness(t, options{})
	h.say("ich brauche ein Folgerezept für Ramipril fünf Milligramm")
	h.say("Müller, Anna, geboren am 12.3.1984")
	h.say("Moment", "ich warte")
	h.say("TK", "für Anna Müller")
	h.say("ja, und ich brauche noch eine Überweisung zum Orthopäden", "Überweisung, Fachrichtung Orthopädie, für Anna Müller", "Stimmt das?")
	h.say("ja")
	if len(h.c.Requests) != 2 || h.c.Requests[1].Status != request.Complete || h.c.Misunderstood != 0 {
		t.Errorf("requests: %+v\n%s", h.c.Requests, h.transcript())
	}
}

func TestBareNameSurnameFirst(t *testing.T) {
	h := newHarness(t, options{})
	h.say("ich brauche eine Überweisung zum Hautarzt")
	h.say("Müller, Anna", "Geburtsdatum")
	if n := h.c.Requests[0].Patient.Name; n != "Anna Müller" {
		t.Errorf("name %q", n)
	}
}

func TestCorrectionWhileOffering(t *testing.T) {
	h := newHarness(t, options{})
	h.say("ich brauche einen Termin wegen Husten am Donnerstag")
	h.say("Max Mustermann, geboren am 2.1.1990")
	h.say("AOK")
	h.say("ja", "Ich kann Ihnen anbieten")
	h.say("nein, ich bin doch privat versichert", "korrigiert", "Ich kann Ihnen anbieten")
	h.say("lieber bei Frau Doktor Weber", "eingetragen", "11 Uhr")
	if r := h.c.Requests[0]; r.Patient.Insurance != "pkv" || r.Details.SlotID != "s3" {
		t.Errorf("request: %+v", r)
	}
}

// TestPracticeTexts: a practice's own greeting, goodbye and emergency note, and the request
// types it lets the assistant take; a wish it does not take becomes a callback request.
func TestPracticeTexts(t *testing.T) {
	p := testPractice(false)
	p.Greeting = "Moin, hier ist die Online-Rezeption der Hausarztpraxis am Deich."
	e := &Engine{Practice: p, Now: func() time.Time { return monday }}
	r := e.Start(&Conversation{ID: "c", Channel: request.Chat})
	if !strings.HasPrefix(r.Text, p.Greeting) || !strings.Contains(r.Text, "112") {
		t.Errorf("greeting %q", r.Text)
	}

	h := newHarness(t, options{})
	h.e.Practice.Closing = "Danke für Ihren Anruf in der Praxis am Deich. Tschüss!"
	h.e.Practice.EmergencyNote = "Außerhalb der Sprechzeiten erreichen Sie den ärztlichen Bereitschaftsdienst unter 116117."
	h.e.Practice.Types = []request.Type{request.AppointmentBook}
	h.say("Ich brauche ein Folgerezept für Ramipril 5 mg", "Folgerezept nimmt der Assistent dieser Praxis leider nicht auf", "Rückruf")
	if len(h.c.Requests) != 1 || h.c.Requests[0].Type != request.Callback || !strings.Contains(h.c.Requests[0].Details.Note, "Folgerezept") {
		t.Fatalf("requests %+v", h.c.Requests)
	}
	h.say("mir wird gerade schwarz vor Augen und ich bekomme keine Luft", "112", h.e.Practice.EmergencyNote)

	h = newHarness(t, options{})
	h.e.Practice.Closing = "Danke für Ihren Anruf in der Praxis am Deich. Tschüss!"
	h.say("Wann haben Sie geöffnet?", "Montag")
	if r := h.say("nein danke, tschüss", h.e.Practice.Closing); !r.Done {
		t.Errorf("not done: %+v\n%s", r, h.transcript())
	}
}
