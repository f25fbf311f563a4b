package espeak

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSentences(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"  ", nil},
		{"Guten Tag.", []string{"Guten Tag."}},
		{"Guten Tag, Sie sind verbunden mit der Hausarztpraxis Dr. Erika Schneider. Wie kann ich helfen?",
			[]string{"Guten Tag, Sie sind verbunden mit der Hausarztpraxis Dr. Erika Schneider.", "Wie kann ich helfen?"}},
		{"Bringen Sie z. B. Ihre Karte mit. Danke!", []string{"Bringen Sie z. B. Ihre Karte mit.", "Danke!"}},
		{"Bringen Sie z.B. Ihre Karte mit.", []string{"Bringen Sie z.B. Ihre Karte mit."}},
		{"Ihr Termin ist am 12. März um 9:30 Uhr. Bis dann.", []string{"Ihr Termin ist am 12. März um 9:30 Uhr.", "Bis dann."}},
		{"Wir öffnen um 9:30. Danach gern.", []string{"Wir öffnen um 9:30.", "Danach gern."}},
		{"Am 12.03.2025 ist zu. Am 1. und 2. Mai auch.", []string{"Am 12.03.2025 ist zu.", "Am 1. und 2. Mai auch."}},
		{"Termin am 12.03. Bitte pünktlich.", []string{"Termin am 12.03. Bitte pünktlich."}},
		{"Sprechstunde Mo. bis Fr. ab 8 Uhr. Sa. geschlossen.", []string{"Sprechstunde Mo. bis Fr. ab 8 Uhr.", "Sa. geschlossen."}},
		{"Prof. Dr. med. Müller ist da. Frau Dr. Schneider nicht.", []string{"Prof. Dr. med. Müller ist da.", "Frau Dr. Schneider nicht."}},
		{"Wirklich?! Ja… Gut.", []string{"Wirklich?!", "Ja…", "Gut."}},
		{"Er sagte: „Kommen Sie.“ Dann ging er.", []string{"Er sagte: „Kommen Sie.“", "Dann ging er."}},
		{"Infos auf www.praxis.de. Tschüss", []string{"Infos auf www.praxis.de.", "Tschüss"}},
		{"Ein Satz ohne Punkt", []string{"Ein Satz ohne Punkt"}},
		{"Zeile eins.\nZeile zwei.", []string{"Zeile eins.", "Zeile zwei."}},
		{"Die Kosten betragen ca. zehn Euro. Gut.", []string{"Die Kosten betragen ca. zehn Euro.", "Gut."}},
	} {
		if d := cmp.Diff(tc.want, Sentences(tc.in)); d != "" {
			t.Errorf("Sentences(%q) (-want +got):\n%s", tc.in, d)
		}
	}
}

func FuzzSentences(f *testing.F) {
	f.Add("Guten Tag, Dr. Schneider. Am 12. März um 9:30? Ja!")
	f.Fuzz(func(t *testing.T, s string) {
		for _, p := range Sentences(s) {
			if p == "" {
				t.Fatal("empty sentence")
			}
		}
	})
}
