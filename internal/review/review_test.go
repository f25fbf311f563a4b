package review_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tresen/tresen/internal/berlin"
	"github.com/tresen/tresen/internal/dialogue"
	"github.com/tresen/tresen/internal/nlu"
	"github.com/tresen/tresen/internal/request"
	"github.com/tresen/tresen/internal/review"
)

var monday = time.Date(2026, 11, 23, 9, 0, 0, 0, berlin.Location)

// converse holds a conversation with the real engine.
func converse(t *testing.T, id string, turns ...string) dialogue.Conversation {
	t.Helper()
	e := &dialogue.Engine{NLU: &nlu.Understander{Doctors: []string{"Weber", "Schneider"}},
		Practice: dialogue.Practice{Name: "Hausarztpraxis Dr. Erika Schneider", Doctors: []string{"Weber", "Schneider"}},
		Now:      func() time.Time { return monday }}
	c := &dialogue.Conversation{ID: id, Channel: "chat"}
	e.Start(c)
	for _, turn := range turns {
		e.Handle(context.Background(), c, turn)
	}
	c.Close(monday)
	return *c
}

// TestNoIdentifierLeaves: the seeded identifiers, in every form the patients and the
// assistant wrote them, never appear in the anonymised export; the practice does.
func TestNoIdentifierLeaves(t *testing.T) {
	convs := []dialogue.Conversation{
		converse(t, "c1", "Ich brauche ein Folgerezept für Ramipril 5 mg", "Anna Müller, geboren am 12.03.1984", "gesetzlich, meine Versichertennummer ist A123456780", "ja", "nein danke"),
		converse(t, "c2", "Guten Tag, hier ist Jürgen Kowalczyk, geboren zwölfter dritter neunzehnhundertvierundachtzig, bitte rufen Sie mich zurück",
			"meine Nummer ist null eins sieben eins eins zwei drei vier fünf sechs sieben", "ja"),
		converse(t, "c3", "Ich möchte meine neue Adresse mitteilen: Lindenstraße 17a, 28195 Bremen. E-Mail: j.kowalczyk@example.org",
			"Erika Musterfrau, 02.01.1990, Telefon 0421 1234567", "Meine Nachbarin Frau Petersen bringt die Unterlagen vorbei.", "ja"),
		converse(t, "c4", "Hallo, Mueller hier, Anna Mueller, mein Geburtstag ist der 12. März 1984, ich hätte gern eine Überweisung zum Orthopäden bei Frau Dr. Weber"),
	}
	a := &review.Anonymizer{Practice: "Hausarztpraxis Dr. Erika Schneider", Doctors: []string{"Weber", "Schneider"}, Secret: []byte("test")}
	var export strings.Builder
	for _, c := range convs {
		b, err := json.Marshal(a.Anonymize(c))
		if err != nil {
			t.Fatal(err)
		}
		export.Write(b)
		export.WriteString("\n")
	}
	out := export.String()
	for _, id := range []string{"Anna", "Müller", "Mueller", "Jürgen", "Kowalczyk", "kowalczyk", "1984", "12.03", "12. März", "zwölfter", "neunzehnhundert",
		"A123456780", "123456780", "0171", "eins eins zwei", "1234567", "Lindenstraße", "17a", "28195", "example.org", "Erika Musterfrau", "Musterfrau",
		"1990", "02.01", "Petersen", "c1", "c2"} {
		if strings.Contains(out, id) {
			t.Errorf("the export shows %q:\n%s", id, out)
		}
	}
	for _, keep := range []string{"Hausarztpraxis Dr. Erika Schneider", "Ramipril 5 mg", "Folgerezept", "Dr. Weber", "Orthopäden", review.Name, review.BirthDate,
		review.Phone, review.KVNR, review.Address, review.Email} {
		if !strings.Contains(out, keep) {
			t.Errorf("the export lost %q:\n%s", keep, out)
		}
	}
	first := a.Anonymize(convs[0])
	if again := a.Anonymize(convs[0]); again.ID != first.ID || first.ID == "c1" || len(first.Requests) == 0 || first.Day != "2026-11-23" {
		t.Errorf("pseudonym or metadata: %+v", first)
	}
}

// FuzzAnonymize: whatever a patient writes, anonymising never fails, and the patient's
// stated name never survives as a word.
func FuzzAnonymize(f *testing.F) {
	for _, s := range []string{"Anna Müller, geb. 12.3.84", "null eins sieben", "Lindenstraße 17a, 28195 Bremen", "a@b.de", "Frau Dr. Weber", "", "[NAME]"} {
		f.Add(s)
	}
	a := &review.Anonymizer{Practice: "Praxis", Doctors: []string{"Weber"}}
	f.Fuzz(func(t *testing.T, text string) {
		c := dialogue.Conversation{ID: "c", Known: request.Patient{Name: "Kunigunde Zwirbelmeier"},
			Turns: []dialogue.Turn{{Who: dialogue.Patient, Text: text + " Kunigunde Zwirbelmeier", At: monday}}}
		out := a.Anonymize(c)
		if strings.Contains(out.Turns[0].Text, "Zwirbelmeier ") || strings.HasSuffix(out.Turns[0].Text, "Zwirbelmeier") {
			t.Errorf("the name survived: %q", out.Turns[0].Text)
		}
	})
}
