package matching

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// practice is a patient list with the names speech-to-text gets wrong and the patients who
// are easy to confuse: twins, namesakes, the same person entered twice.
var practice = []Candidate{
	{ID: "mueller-anna", Name: "Anna Müller", BirthDate: "1984-03-12", KVNR: "A123456780", Phone: "+4930111111"},
	{ID: "meier-juergen", Name: "Jürgen Meier", BirthDate: "1961-07-01", KVNR: "B234567891", Phone: "+4930222222"},
	{ID: "schmidt-erika", Name: "Schmidt, Erika", BirthDate: "1975-11-30"},
	{ID: "strauss-lothar", Name: "Lothar Strauß", BirthDate: "1950-02-14"},
	{ID: "mustermann-hanspeter", Name: "Hans-Peter Mustermann", BirthDate: "1969-08-08"},
	{ID: "musterhausen-friedrich", Name: "Friedrich von Musterhausen", BirthDate: "1944-04-04"},
	{ID: "beispiel-klara", Name: "Dr. Klara Beispiel", BirthDate: "1980-10-10"},
	{ID: "schneider-paul", Name: "Paul Schneider", BirthDate: "1990-01-01"},
	{ID: "musterfrau-max", Name: "Max Musterfrau", BirthDate: "2010-06-06", Phone: "+4930333333"},
	{ID: "musterfrau-moritz", Name: "Moritz Musterfrau", BirthDate: "2010-06-06", Phone: "+4930333333"},
	{ID: "mustermann-erika-1970", Name: "Erika Mustermann", BirthDate: "1970-01-01"},
	{ID: "mustermann-erika-1990", Name: "Erika Mustermann", BirthDate: "1990-05-05"},
	{ID: "beispiel-lena-1", Name: "Lena Beispiel", BirthDate: "1995-09-09"},
	{ID: "beispiel-lena-2", Name: "Lena Beispiel", BirthDate: "1995-09-09"},
}

// outcome is a Result in a form a table can spell out: candidates as "id confidence".
type outcome struct {
	Status     Status
	Best       string
	Candidates []string
}

func summarize(r Result) outcome {
	o := outcome{Status: r.Status}
	if r.Best != nil {
		o.Best = r.Best.ID
	}
	for _, m := range r.Candidates {
		o.Candidates = append(o.Candidates, fmt.Sprintf("%s %.2f", m.ID, m.Confidence))
	}
	return o
}

func TestFind(t *testing.T) {
	anna := []string{"mueller-anna 0.95"}
	tests := []struct {
		name string
		q    Query
		want outcome
	}{
		// Spellings of the same name.
		{"Müller, surname first with comma", Query{Name: "Müller, Anna", BirthDate: "1984-03-12"},
			outcome{Matched, "mueller-anna", anna}},
		{"Mueller is Müller", Query{Name: "Mueller Anna", BirthDate: "1984-03-12"},
			outcome{Matched, "mueller-anna", anna}},
		{"Miller sounds like Müller", Query{Name: "Anna Miller", BirthDate: "1984-03-12"},
			outcome{Matched, "mueller-anna", []string{"mueller-anna 0.92"}}},
		{"Meyer sounds like Meier", Query{Name: "Jürgen Meyer", BirthDate: "1961-07-01"},
			outcome{Matched, "meier-juergen", []string{"meier-juergen 0.92"}}},
		{"Juergen Maier", Query{Name: "Juergen Maier", BirthDate: "1961-07-01"},
			outcome{Matched, "meier-juergen", []string{"meier-juergen 0.92"}}},
		{"Jürgen Mayer with the umlaut lost: both names only sound alike", Query{Name: "Jurgen Mayer", BirthDate: "1961-07-01"},
			outcome{Weak, "", []string{"meier-juergen 0.87"}}},
		{"Schmitt sounds like Schmidt", Query{Name: "Erika Schmitt", BirthDate: "1975-11-30"},
			outcome{Matched, "schmidt-erika", []string{"schmidt-erika 0.92"}}},
		{"Strauss is Strauß", Query{Name: "Lothar Strauss", BirthDate: "1950-02-14"},
			outcome{Matched, "strauss-lothar", []string{"strauss-lothar 0.95"}}},
		{"Straus sounds like Strauß", Query{Name: "Straus Lothar", BirthDate: "14.02.1950"},
			outcome{Matched, "strauss-lothar", []string{"strauss-lothar 0.92"}}},
		{"Schnieder, a typo phonetics catches", Query{Name: "Paul Schnieder", BirthDate: "1990-01-01"},
			outcome{Matched, "schneider-paul", []string{"schneider-paul 0.92"}}},

		// Order, double names, particles, titles.
		{"swapped without comma", Query{Name: "Müller Anna", BirthDate: "1984-03-12"},
			outcome{Matched, "mueller-anna", anna}},
		{"double name with space", Query{Name: "Hans Peter Mustermann", BirthDate: "1969-08-08"},
			outcome{Matched, "mustermann-hanspeter", []string{"mustermann-hanspeter 0.95"}}},
		{"double name in one word, swapped", Query{Name: "Mustermann, Hanspeter", BirthDate: "1969-08-08"},
			outcome{Matched, "mustermann-hanspeter", []string{"mustermann-hanspeter 0.95"}}},
		{"particle left out", Query{Name: "Friedrich Musterhausen", BirthDate: "1944-04-04"},
			outcome{Matched, "musterhausen-friedrich", []string{"musterhausen-friedrich 0.95"}}},
		{"van for von", Query{Name: "Musterhausen, Friedrich van", BirthDate: "1944-04-04"},
			outcome{Matched, "musterhausen-friedrich", []string{"musterhausen-friedrich 0.95"}}},
		{"title on the record only", Query{Name: "Klara Beispiel", BirthDate: "1980-10-10"},
			outcome{Matched, "beispiel-klara", []string{"beispiel-klara 0.95"}}},
		{"title and address in the query", Query{Name: "Frau Prof. Dr. med. Beispiel Klara", BirthDate: "1980-10-10"},
			outcome{Matched, "beispiel-klara", []string{"beispiel-klara 0.95"}}},

		// Namesakes, twins, duplicates: the birth date or the given name decides, or no one.
		{"same name, birth date decides", Query{Name: "Erika Mustermann", BirthDate: "1990-05-05"},
			outcome{Matched, "mustermann-erika-1990", []string{"mustermann-erika-1990 0.95"}}},
		{"same name without birth date", Query{Name: "Erika Mustermann"},
			outcome{Weak, "", []string{"mustermann-erika-1970 0.45", "mustermann-erika-1990 0.45"}}},
		{"twins, given name decides", Query{Name: "Max Musterfrau", BirthDate: "2010-06-06"},
			outcome{Matched, "musterfrau-max", []string{"musterfrau-max 0.95", "musterfrau-moritz 0.50"}}},
		{"twins without given name", Query{Name: "Musterfrau", BirthDate: "2010-06-06"},
			outcome{Ambiguous, "", []string{"musterfrau-max 0.80", "musterfrau-moritz 0.80"}}},
		{"twins without given name, same phone", Query{Name: "Musterfrau", BirthDate: "2010-06-06", Phone: "+49 30 333333"},
			outcome{Ambiguous, "", []string{"musterfrau-max 1.00", "musterfrau-moritz 1.00"}}},
		{"same name and birth date twice", Query{Name: "Lena Beispiel", BirthDate: "1995-09-09"},
			outcome{Ambiguous, "", []string{"beispiel-lena-1 0.95", "beispiel-lena-2 0.95"}}},
		{"different given name", Query{Name: "Berta Müller", BirthDate: "1984-03-12"},
			outcome{Weak, "", []string{"mueller-anna 0.50"}}},
		{"surname and birth date, no given name", Query{Name: "Schneider", BirthDate: "1990-01-01"},
			outcome{Weak, "", []string{"schneider-paul 0.80"}}},
		{"surname, birth date and phone", Query{Name: "Müller", BirthDate: "1984-03-12", Phone: "+4930111111"},
			outcome{Matched, "mueller-anna", []string{"mueller-anna 1.00"}}},

		// KVNR.
		{"KVNR alone", Query{KVNR: "A123456780"},
			outcome{Matched, "mueller-anna", []string{"mueller-anna 0.90"}}},
		{"KVNR spoken in groups, lower case", Query{KVNR: "a 123 456 780"},
			outcome{Matched, "mueller-anna", []string{"mueller-anna 0.90"}}},
		{"KVNR, name and birth date", Query{Name: "Anna Müller", BirthDate: "1984-03-12", KVNR: "A123456780"},
			outcome{Matched, "mueller-anna", []string{"mueller-anna 1.00"}}},
		{"conflicting KVNR excludes", Query{Name: "Anna Müller", BirthDate: "1984-03-12", KVNR: "A999999990"},
			outcome{None, "", nil}},
		{"KVNR of someone else's name", Query{Name: "Erika Beispiel", KVNR: "A123456780"},
			outcome{Weak, "", []string{"mueller-anna 0.30"}}},

		// Weak evidence is never a match.
		{"phone only", Query{Phone: "+4930111111"},
			outcome{Weak, "", []string{"mueller-anna 0.20"}}},
		{"name and phone without birth date", Query{Name: "Anna Müller", Phone: "+4930111111"},
			outcome{Weak, "", []string{"mueller-anna 0.65"}}},
		{"birth date only", Query{BirthDate: "1975-11-30"},
			outcome{Weak, "", []string{"schmidt-erika 0.50"}}},
		{"conflicting birth date excludes", Query{Name: "Anna Müller", BirthDate: "1984-03-13"},
			outcome{None, "", nil}},
		{"nothing matches", Query{Name: "Gisela Beispielhaft", BirthDate: "1933-03-03"},
			outcome{None, "", nil}},
		{"unknown name without birth date", Query{Name: "Otto Normalverbraucher"},
			outcome{None, "", nil}},
		{"unreadable birth date is ignored", Query{Name: "Anna Müller", BirthDate: "zwölfter März"},
			outcome{Weak, "", []string{"mueller-anna 0.45"}}},
		{"empty query", Query{}, outcome{None, "", nil}},
		{"only titles and particles", Query{Name: "Dr. von"}, outcome{None, "", nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Find(tt.q, practice)
			if diff := cmp.Diff(tt.want, summarize(got)); diff != "" {
				t.Errorf("Find(%+v) (-want +got):\n%s", tt.q, diff)
			}
		})
	}
}

func TestFindReasons(t *testing.T) {
	got := Find(Query{Name: "Meyer, Jürgen", BirthDate: "1961-07-01", Phone: "+4930222222"}, practice)
	best := Match{
		ID:         "meier-juergen",
		Confidence: 1,
		Reasons:    []string{"Geburtsdatum stimmt", "Nachname klingt gleich (Kölner Phonetik)", "Vorname stimmt", "Telefonnummer stimmt"},
	}
	want := Result{Status: Matched, Best: &best, Candidates: []Match{best}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Find (-want +got):\n%s", diff)
	}

	got = Find(Query{Name: "Berta Müller", KVNR: "A123456780"}, practice)
	want = Result{Status: Weak, Candidates: []Match{{
		ID:         "mueller-anna",
		Confidence: 0.7,
		Reasons:    []string{"Versichertennummer stimmt", "Nachname stimmt", "Vorname passt nicht"},
	}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Find (-want +got):\n%s", diff)
	}
}

func TestFindNoCandidates(t *testing.T) {
	got := Find(Query{Name: "Anna Müller", BirthDate: "1984-03-12"}, nil)
	if diff := cmp.Diff(Result{Status: None}, got); diff != "" {
		t.Errorf("Find (-want +got):\n%s", diff)
	}
}

// synthetic makes n patients with common and visibly fake names and distinct birth dates
// from 1940 on.
func synthetic(n int) []Candidate {
	surnames := []string{"Müller", "Meier", "Schmidt", "Schneider", "Fischer", "Weber", "Wagner",
		"Becker", "Schulz", "Hoffmann", "Mustermann", "Musterfrau", "Beispiel"}
	given := []string{"Anna", "Max", "Erika", "Paul", "Lena", "Jürgen", "Klara", "Hans", "Moritz", "Lothar", "Marie"}
	start := time.Date(1940, 1, 1, 0, 0, 0, 0, time.UTC)
	cs := make([]Candidate, n)
	for i := range cs {
		cs[i] = Candidate{
			ID:        fmt.Sprintf("p%05d", i),
			Name:      given[(i/len(surnames))%len(given)] + " " + surnames[i%len(surnames)],
			BirthDate: start.AddDate(0, 0, 3*i).Format(time.DateOnly),
			KVNR:      fmt.Sprintf("X%09d", i),
			Phone:     fmt.Sprintf("+49301%06d", i),
		}
	}
	return cs
}

func TestFindManyCandidates(t *testing.T) {
	cs := synthetic(1000)
	cs = append(cs, Candidate{ID: "target", Name: "Beispiel, Anna", BirthDate: "2001-02-03"})

	got := summarize(Find(Query{Name: "Anna Beispiel", BirthDate: "2001-02-03"}, cs))
	if diff := cmp.Diff(outcome{Matched, "target", []string{"target 0.95"}}, got); diff != "" {
		t.Errorf("with birth date (-want +got):\n%s", diff)
	}

	// Without the birth date, many Anna Beispiels fit: at most five are shown, none is taken.
	r := Find(Query{Name: "Anna Beispiel"}, cs)
	if r.Status != Weak || r.Best != nil || len(r.Candidates) != maxReported {
		t.Errorf("without birth date: %+v", summarize(r))
	}

	got = summarize(Find(Query{KVNR: "X000000500"}, cs))
	if diff := cmp.Diff(outcome{Matched, "p00500", []string{"p00500 0.90"}}, got); diff != "" {
		t.Errorf("by KVNR (-want +got):\n%s", diff)
	}
}

func FuzzFind(f *testing.F) {
	f.Add("Müller, Anna", "1984-03-12", "", "", "Anna Müller")
	f.Add("Hans-Peter von Mustermann", "12.03.1984", "a 123 456 780", "+49 30 111111", "Dr. Beispiel, Klara")
	f.Add("", "", "", "", "")
	f.Add(",,,-- ''", "2010-06-06", "X", "+", "von von")
	f.Fuzz(func(t *testing.T, name, birthDate, kvnr, phone, candidateName string) {
		cs := append(practice[:len(practice):len(practice)],
			Candidate{ID: "fuzz", Name: candidateName, BirthDate: birthDate, KVNR: kvnr, Phone: phone},
			Candidate{ID: "fuzz-name", Name: name})
		r := Find(Query{Name: name, BirthDate: birthDate, KVNR: kvnr, Phone: phone}, cs)
		if (r.Best != nil) != (r.Status == Matched) {
			t.Fatalf("Best %v with status %s", r.Best, r.Status)
		}
		if len(r.Candidates) > maxReported {
			t.Fatalf("%d candidates", len(r.Candidates))
		}
		if (r.Status == None) != (len(r.Candidates) == 0) {
			t.Fatalf("status %s with %d candidates", r.Status, len(r.Candidates))
		}
		prev := math.Inf(1)
		for _, m := range r.Candidates {
			if m.Confidence < float64(floor)/fullPoints || m.Confidence > 1 || m.Confidence > prev {
				t.Fatalf("confidences out of range or order: %+v", summarize(r))
			}
			prev = m.Confidence
		}
		if r.Status == Matched && (r.Best.Confidence < 0.9 || r.Best.ID != r.Candidates[0].ID) {
			t.Fatalf("matched %+v", summarize(r))
		}
	})
}

func BenchmarkFind(b *testing.B) {
	cs := synthetic(10000)
	q := Query{Name: "Mueller, Anna", BirthDate: "1960-05-17"}
	for b.Loop() {
		Find(q, cs)
	}
}

func BenchmarkFindNameOnly(b *testing.B) {
	cs := synthetic(10000)
	q := Query{Name: "Anna Müller"}
	for b.Loop() {
		Find(q, cs)
	}
}
