package nlu

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// monday is the reference time of the examples: Monday, 23 November 2026, 9:00 in Berlin.
var monday = func() time.Time {
	loc, _ := time.LoadLocation("Europe/Berlin")
	return time.Date(2026, 11, 23, 9, 0, 0, 0, loc)
}()

func understand(text string) Result {
	u := &Understander{Doctors: demoDoctors}
	return u.Understand(text, monday)
}

// TestExamples holds the engine to the examples the specification gives, one per feature.
func TestExamples(t *testing.T) {
	tests := []struct {
		text   string
		intent Intent
		slots  Slots
	}{
		{"ich brauche ein folgerezept für ramipril fünf milligramm", PrescriptionRefill, Slots{Medication: "Ramipril 5 mg"}},
		{"mein name ist anna müller geboren am zwölften dritten neunzehnhundertvierundachtzig", Other, Slots{Name: "Anna Müller", BirthDate: "1984-03-12"}},
		{"Hallo, hier ist Anna Müller, geb. 12.3.84, ich bräuchte eine Überweisung zum Orthopäden", Referral, Slots{Name: "Anna Müller", BirthDate: "1984-03-12"}},
		{"termin am dritten zwölften um halb zehn bei frau doktor schneider", AppointmentBook, Slots{Date: "2026-12-03", Time: "09:30", Doctor: "Schneider"}},
		{"geht es viertel nach zwei nachmittags", Other, Slots{Time: "14:15", Daypart: "afternoon"}},
		{"ich hätte gern nächste woche dienstag einen termin vormittags", AppointmentBook, Slots{Date: "2026-12-01", Daypart: "morning"}},
		{"übermorgen nach der arbeit termin", AppointmentBook, Slots{Date: "2026-11-25", Daypart: "evening"}},
		{"irgendwann nächste woche einen termin bitte", AppointmentBook, Slots{}},
		{"bitte rufen sie mich zurück null eins sieben eins eins zwei drei vier fünf sechs sieben", Callback, Slots{Phone: "+491711234567"}},
		{"Rückruf bitte 0171 1234567", Callback, Slots{Phone: "+491711234567"}},
		{"ich bin bei der aok versichert meine versichertennummer ist k null drei null eins acht zwei zwei zwei neun", Other, Slots{Insurance: "gkv", KVNR: "K030182229"}},
		{"ich bin privat versichert", Other, Slots{Insurance: "pkv"}},
		{"für meinen sohn max mustermann brauche ich eine krankschreibung seit gestern", SickNote, Slots{Name: "Max Mustermann", Date: "2026-11-22"}},
		{"ich möchte meinen termin am donnerstag absagen", AppointmentCancel, Slots{Date: "2026-11-26"}},
		{"kann ich meinen termin von morgen auf freitag verschieben", AppointmentReschedule, Slots{Date: "2026-11-24"}},
		{"wann haben sie heute geöffnet", OpeningHours, Slots{Date: "2026-11-23"}},
		{"haben sie parkplätze vor der praxis", PracticeInfo, Slots{}},
		{"sind meine blutwerte schon da", TestResults, Slots{}},
		{"ich möchte bitte mit einem mitarbeiter sprechen", Human, Slots{}},
		{"oh entschuldigung falsch verbunden", Other, Slots{}},
		{"ich möchte eine nachricht für doktor weber hinterlassen", Message, Slots{Doctor: "Weber"}},
		{"ich brauche ein folgerezept und eine überweisung", PrescriptionRefill, Slots{}},
		{"mein mann ist umgekippt und reagiert nicht mehr", Emergency, Slots{}},
		{"ich habe so einen druck auf der brust und mein linker arm kribbelt", Emergency, Slots{}},
		{"ich brauche einen termin zur nachsorge nach meiner brust op", AppointmentBook, Slots{}},
		{"hatte letzte woche fieber und brauche eine au", SickNote, Slots{}},
	}
	for _, tc := range tests {
		r := understand(tc.text)
		if r.Intent != tc.intent {
			t.Errorf("%q: intent %s, want %s", tc.text, r.Intent, tc.intent)
		}
		if diff := cmp.Diff(tc.slots, r.Slots); diff != "" {
			t.Errorf("%q: slots (-want +got):\n%s", tc.text, diff)
		}
	}
}

func TestTriage(t *testing.T) {
	for text, want := range map[string]Urgency{
		"ich krieg keine luft":                                     LifeThreatening,
		"mein baby atmet ganz komisch und ist blau":                LifeThreatening,
		"hab zu viele tabletten genommen":                          LifeThreatening,
		"nach dem wespenstich schwillt mir der hals zu":            LifeThreatening,
		"mein kind hat hohes fieber und einen steifen nacken":      LifeThreatening,
		"ich habe starke bauchschmerzen seit heute morgen":         Urgent,
		"ich brauche einen termin für den erste hilfe kurs":        Routine,
		"brustschmerzen hatte ich vor zwei jahren jetzt kontrolle": Routine,
	} {
		if got, _ := triage(analyse(text)); got != want {
			t.Errorf("%q: urgency %q, want %q", text, got, want)
		}
	}
	if _, s := triage(analyse("ich will nicht mehr leben")); !s {
		t.Error("suicidal intent not recognised")
	}
}

func TestBadInput(t *testing.T) {
	for _, text := range []string{"", " ", "\x00\xff\xfe", strings.Repeat("termin ", 5000), "🙂🙂🙂", "SELECT * FROM users; --", "<script>alert(1)</script>"} {
		r := understand(text)
		if r.Intent == "" {
			t.Errorf("%q: no intent", text[:min(len(text), 20)])
		}
	}
	if r := understand(strings.Repeat("a", MaxInput+100)); !r.Truncated {
		t.Error("long input not marked truncated")
	}
}

func FuzzUnderstand(f *testing.F) {
	for _, s := range []string{"ich brauche einen termin morgen um halb zehn", "geb. 12.3.84", "null eins sieben eins", "k null drei", "12. 3.", "um 25 uhr 70", "in 99 tagen"} {
		f.Add(s)
	}
	u := &Understander{Doctors: demoDoctors}
	f.Fuzz(func(t *testing.T, text string) {
		r := u.Understand(text, monday)
		if r.Intent == "" || !utf8Valid(r.Slots) {
			t.Fatalf("bad result %+v", r)
		}
		if r.Slots.Date != "" {
			if _, err := time.Parse(time.DateOnly, r.Slots.Date); err != nil {
				t.Fatalf("date %q", r.Slots.Date)
			}
		}
	})
}

func utf8Valid(s Slots) bool {
	for _, v := range []string{s.Name, s.Medication, s.Doctor} {
		if !strings.EqualFold(strings.ToValidUTF8(v, "?"), v) {
			return false
		}
	}
	return true
}
