package nlu

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseNumberWord(t *testing.T) {
	card := func(v int) *Number { return &Number{Value: v} }
	ord := func(v int) *Number { return &Number{Value: v, Ordinal: true} }
	tests := []struct {
		word string
		want *Number // nil: not a number
	}{
		// Units and teens, with the declined forms of one.
		{"null", card(0)},
		{"ein", card(1)},
		{"eins", card(1)},
		{"eine", card(1)},
		{"einen", card(1)},
		{"einem", card(1)},
		{"einer", card(1)},
		{"zwei", card(2)},
		{"zwo", card(2)},
		{"drei", card(3)},
		{"vier", card(4)},
		{"fünf", card(5)},
		{"fuenf", card(5)},
		{"funf", card(5)},
		{"fumf", card(5)},
		{"sechs", card(6)},
		{"sieben", card(7)},
		{"acht", card(8)},
		{"neun", card(9)},
		{"zehn", card(10)},
		{"elf", card(11)},
		{"zwölf", card(12)},
		{"zwoelf", card(12)},
		{"zwolf", card(12)},
		{"dreizehn", card(13)},
		{"vierzehn", card(14)},
		{"fünfzehn", card(15)},
		{"fuenfzehn", card(15)},
		{"sechzehn", card(16)},
		{"sechszehn", card(16)},
		{"siebzehn", card(17)},
		{"siebenzehn", card(17)},
		{"achtzehn", card(18)},
		{"neunzehn", card(19)},

		// Tens and their compounds.
		{"zwanzig", card(20)},
		{"dreißig", card(30)},
		{"dreissig", card(30)},
		{"dreisig", card(30)},
		{"vierzig", card(40)},
		{"fünfzig", card(50)},
		{"fuenfzig", card(50)},
		{"sechzig", card(60)},
		{"siebzig", card(70)},
		{"achtzig", card(80)},
		{"neunzig", card(90)},
		{"einundzwanzig", card(21)},
		{"zweiundvierzig", card(42)},
		{"zwoundzwanzig", card(22)},
		{"fünfunddreißig", card(35)},
		{"fuenfunddreissig", card(35)},
		{"sechsundsechzig", card(66)},
		{"siebenundsiebzig", card(77)},
		{"neunundneunzig", card(99)},

		// Hundreds and thousands.
		{"hundert", card(100)},
		{"einhundert", card(100)},
		{"zweihundert", card(200)},
		{"zwohundert", card(200)},
		{"hunderteins", card(101)},
		{"hundertfünf", card(105)},
		{"hundertundfünf", card(105)},
		{"hundertzwölf", card(112)},
		{"zweihundertdreiundvierzig", card(243)},
		{"neunhundertneunundneunzig", card(999)},
		{"tausend", card(1000)},
		{"eintausend", card(1000)},
		{"tausendeins", card(1001)},
		{"tausendundeins", card(1001)},
		{"zweitausend", card(2000)},
		{"zweitausendzwei", card(2002)},
		{"zweitausendundzwei", card(2002)},
		{"zweitausendvierundzwanzig", card(2024)},
		{"tausendneunhundertachtzig", card(1980)},
		{"eintausendneunhundertachtzig", card(1980)},
		{"zwölftausend", card(12000)},
		{"einundzwanzigtausend", card(21000)},
		{"hunderttausend", card(100000)},
		{"hunderteintausend", card(101000)},
		{"zweihundertfünfzigtausenddreihundert", card(250300)},
		{"neunhundertneunundneunzigtausendneunhundertneunundneunzig", card(999999)},

		// Years said in hundreds.
		{"neunzehnhundert", card(1900)},
		{"neunzehnhundertvierundachtzig", card(1984)},
		{"neunzehnhundertfünf", card(1905)},
		{"neunzehnhundertzwölf", card(1912)},
		{"achtzehnhundertsiebzig", card(1870)},
		{"elfhundert", card(1100)},
		{"zwanzighundert", card(2000)},

		// Ordinals with every ending.
		{"erste", ord(1)},
		{"erster", ord(1)},
		{"ersten", ord(1)},
		{"erstes", ord(1)},
		{"erstem", ord(1)},
		{"zweite", ord(2)},
		{"zweiten", ord(2)},
		{"dritte", ord(3)},
		{"dritten", ord(3)},
		{"vierte", ord(4)},
		{"fünfte", ord(5)},
		{"fuenfte", ord(5)},
		{"sechste", ord(6)},
		{"siebte", ord(7)},
		{"siebente", ord(7)},
		{"siebenten", ord(7)},
		{"achte", ord(8)},
		{"achten", ord(8)},
		{"achter", ord(8)},
		{"neunte", ord(9)},
		{"zehnte", ord(10)},
		{"elfte", ord(11)},
		{"elften", ord(11)},
		{"zwölfte", ord(12)},
		{"zwölfter", ord(12)},
		{"zwoelften", ord(12)},
		{"dreizehnte", ord(13)},
		{"sechzehnten", ord(16)},
		{"siebzehnte", ord(17)},
		{"neunzehnte", ord(19)},
		{"zwanzigste", ord(20)},
		{"zwanzigsten", ord(20)},
		{"einundzwanzigste", ord(21)},
		{"dreißigste", ord(30)},
		{"dreissigsten", ord(30)},
		{"einunddreißigste", ord(31)},
		{"einunddreissigsten", ord(31)},
		{"hundertste", ord(100)},
		{"hunderterste", ord(101)},
		{"hundertdritte", ord(103)},
		{"hundertzwanzigste", ord(120)},
		{"tausendste", ord(1000)},
		{"zweitausendachte", ord(2008)},
		{"neunzehnhundertneunzigste", ord(1990)},

		// Digits.
		{"0", card(0)},
		{"12", card(12)},
		{"12.", ord(12)},
		{"1.", ord(1)},
		{"1984", card(1984)},
		{"999999", card(999999)},
		{"1000000", nil},
		{"12a", nil},
		{"1.2", nil},
		{"12..", nil},

		// Upper case and upper-case umlauts.
		{"Zwölf", card(12)},
		{"ZWÖLFTE", ord(12)},
		{"FÜNF", card(5)},

		// Words that merely contain number parts.
		{"", nil},
		{"einmal", nil},
		{"neunundzwanzigmal", nil},
		{"siebenmal", nil},
		{"achtung", nil},
		{"achtel", nil},
		{"elfen", nil},
		{"hundertprozentig", nil},
		{"dreier", nil},
		{"zehner", nil},
		{"zwanziger", nil},
		{"hunderter", nil},
		{"viertel", nil},
		{"halb", nil},
		{"drittel", nil},
		{"zehntel", nil},
		{"tausende", nil},
		{"erst", nil},
		{"zweit", nil},
		{"dritt", nil},
		{"erstens", nil},
		{"eines", nil},
		{"einst", nil},
		{"neue", nil},
		{"und", nil},
		{"zweiund", nil},
		{"undzwanzig", nil},
		{"zwanzigund", nil},
		{"einsundzwanzig", nil},
		{"einsundzwanzigste", nil},
		{"nullundzwanzig", nil},
		{"zehnundzwanzig", nil},
		{"zwanzigundzwanzig", nil},
		{"hundertnull", nil},
		{"nullhundert", nil},
		{"einshundert", nil},
		{"einehundert", nil},
		{"einstausend", nil},
		{"hunderteinstausend", nil},
		{"hundertein", nil},
		{"hunderteine", nil},
		{"zehnhundert", nil},
		{"hunderthundert", nil},
		{"tausendtausend", nil},
		{"tausendneunzehnhundert", nil},
		{"neunzehnhunderttausend", nil},
		{"hundertund", nil},
		{"tausendund", nil},
		{"tausendundzweihundert", nil},
		{"hundertdreiste", nil},
		{"siebenste", nil},
		{"sechsste", ord(6)}, // ss folds to s, as in "dreissig"
		{"nullste", nil},
		{"nullte", nil},
		{"einte", nil},
		{"dreite", nil},
		{"zwanzigte", nil},
		{"achtte", nil},
		{"zweitausendzwanzigte", nil},
		{"millionen", nil},
		{"zwölf.", nil},
		{"zwölf-", nil},
		{"zwö", card(2)}, // ö folds to o: "zwo"
		{"zwöl", nil},
		{"\xc3", nil},
		{"drei\xc3\xa9", nil},
		{strings.Repeat("hundert", 30), nil},
	}
	for _, tt := range tests {
		got, ok := ParseNumberWord(tt.word)
		var gotp *Number
		if ok {
			gotp = &got
		}
		if diff := cmp.Diff(tt.want, gotp); diff != "" {
			t.Errorf("ParseNumberWord(%q) mismatch (-want +got):\n%s", tt.word, diff)
		}
		if !ok && got != (Number{}) {
			t.Errorf("ParseNumberWord(%q) = %+v, false; want the zero Number", tt.word, got)
		}
	}
}

// TestParseNumberWordSpelledOut spells numbers the way a transcript writes them, as
// cardinal and ordinal, with umlauts and with their ASCII spellings, and checks that each
// reads back: every number below 10000, which covers all years, and a sample above.
func TestParseNumberWordSpelledOut(t *testing.T) {
	for n := 0; n <= 999999; n = nextSpelled(n) {
		checkSpelled(t, spellCardinal(n, false), Number{Value: n})
		if n >= 100 && n < 200 || n >= 1000 && n < 2000 {
			checkSpelled(t, spellCardinal(n, true), Number{Value: n}) // "einhundert", "eintausend"
		}
		if n > 0 {
			checkSpelled(t, spellOrdinal(n), Number{Value: n, Ordinal: true})
		}
	}
}

func nextSpelled(n int) int {
	switch {
	case testing.Short():
		return n + 97
	case n < 10000:
		return n + 1
	}
	return n + 13
}

var (
	asciiUmlauts  = strings.NewReplacer("ü", "ue", "ö", "oe", "ß", "ss")
	foldedUmlauts = strings.NewReplacer("ü", "u", "ö", "o", "ß", "s")
)

func checkSpelled(t *testing.T, w string, want Number) {
	t.Helper()
	words := []string{w}
	if strings.ContainsAny(w, "üöß") {
		words = append(words, asciiUmlauts.Replace(w), foldedUmlauts.Replace(w))
	}
	for _, w := range words {
		if got, ok := ParseNumberWord(w); !ok || got != want {
			t.Fatalf("ParseNumberWord(%q) = %+v, %t; want %+v", w, got, ok, want)
		}
	}
}

// spellCardinal writes n (0..999999) in German as a reference for the parser, built
// bottom-up rather than by splitting, so the two do not share mistakes.
func spellCardinal(n int, withEin bool) string {
	if n == 0 {
		return "null"
	}
	var b strings.Builder
	if th := n / 1000; th > 0 {
		if th > 1 || withEin {
			b.WriteString(spellBelow1000(th, false, withEin))
		}
		b.WriteString("tausend")
	}
	if r := n % 1000; r > 0 {
		b.WriteString(spellBelow1000(r, true, withEin))
	}
	return b.String()
}

func spellBelow1000(n int, final, withEin bool) string {
	s := ""
	if h := n / 100; h > 0 {
		if h > 1 || withEin {
			s = spellBelow100(h, false)
		}
		s += "hundert"
	}
	if r := n % 100; r > 0 {
		s += spellBelow100(r, final)
	}
	return s
}

var (
	spelledUnits = []string{"", "ein", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun"}
	spelledTeens = []string{"zehn", "elf", "zwölf", "dreizehn", "vierzehn", "fünfzehn", "sechzehn", "siebzehn", "achtzehn", "neunzehn"}
	spelledTens  = []string{"", "", "zwanzig", "dreißig", "vierzig", "fünfzig", "sechzig", "siebzig", "achtzig", "neunzig"}
)

func spellBelow100(n int, final bool) string {
	switch {
	case n == 1 && final:
		return "eins"
	case n < 10:
		return spelledUnits[n]
	case n < 20:
		return spelledTeens[n-10]
	case n%10 == 0:
		return spelledTens[n/10]
	}
	return spelledUnits[n%10] + "und" + spelledTens[n/10]
}

// spellOrdinal writes the ordinal of n > 0 with the ending -en ("am zwölften").
func spellOrdinal(n int) string {
	r := n % 100
	if r == 0 || r >= 20 {
		return spellCardinal(n, false) + "sten"
	}
	stems := []string{"", "erst", "zweit", "dritt", "viert", "fünft", "sechst", "siebt", "acht", "neunt",
		"zehnt", "elft", "zwölft", "dreizehnt", "vierzehnt", "fünfzehnt", "sechzehnt", "siebzehnt", "achtzehnt", "neunzehnt"}
	head := ""
	if n >= 100 {
		head = spellCardinal(n-r, false)
	}
	return head + stems[r] + "en"
}

func TestNumberDigitSequence(t *testing.T) {
	type result struct {
		Digits string
		N      int
		OK     bool
	}
	tests := []struct {
		toks string
		i    int
		want result
	}{
		{"null eins sieben zwei", 0, result{"0172", 4, true}},
		{"null eins sieben eins zwölf vierunddreißig sechsundfünfzig", 0, result{"0171123456", 7, true}},
		{"null eins sieben eins zwoelf vierunddreissig sechsundfuenfzig", 0, result{"0171123456", 7, true}},
		{"null zwo null", 0, result{"020", 3, true}},
		{"doppel null eins", 0, result{"001", 3, true}},
		{"doppelnull eins", 0, result{"001", 2, true}},
		{"doppel-null", 0, result{"00", 1, true}},
		{"doppelnull", 0, result{"00", 1, true}},
		{"null doppel fünf", 0, result{"055", 3, true}},
		{"null doppel 5", 0, result{"055", 3, true}},
		{"0171 zwölf 34", 0, result{"01711234", 3, true}},
		{"meine nummer ist null drei null achtunddreißig zwölf danke", 3, result{"03038" + "12", 5, true}},
		{"null eins sieben ein rezept", 0, result{"017", 3, true}},
		{"eins zwei hundert", 0, result{"12", 2, true}},
		{"eins zwei zwölfte", 0, result{"12", 2, true}},
		{"zwei doppel", 0, result{"2", 0, false}},
		{"zwei doppel zwölf", 0, result{"2", 0, false}},
		{"null eins doppel", 0, result{"01", 2, true}},
		{"null eins doppel elf", 0, result{"01", 2, true}},

		// A lone number is not a sequence.
		{"zwölf", 0, result{}},
		{"0171", 0, result{}},
		{"null", 0, result{}},
		{"null rezept", 0, result{}},
		{"ein", 0, result{}},
		{"hundert zwei", 0, result{}},
		{"", 0, result{}},
		{"null eins", 5, result{}},
		{"null eins", -1, result{}},
	}
	for _, tt := range tests {
		toks := strings.Fields(tt.toks)
		d, n, ok := DigitSequence(toks, tt.i)
		got := result{d, n, ok}
		want := tt.want
		if !want.OK {
			want = result{}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("DigitSequence(%q, %d) mismatch (-want +got):\n%s", tt.toks, tt.i, diff)
		}
	}
}

func TestNumberDigitSequenceBound(t *testing.T) {
	// A run longer than any phone number stops at the bound rather than growing.
	toks := strings.Fields(strings.Repeat("neun ", 100))
	d, n, ok := DigitSequence(toks, 0)
	if !ok || len(d) > 32 || n != len(d) {
		t.Errorf("DigitSequence(100 × neun) = %q, %d, %t; want at most 32 digits, one per token", d, n, ok)
	}
}

func FuzzParseNumberWord(f *testing.F) {
	for _, w := range benchWords {
		f.Add(w)
	}
	for _, w := range []string{"", "12.", "achtung", "hundertprozentig", "zwoelften", "dreißigste", "\xc3", "ss", "ueue"} {
		f.Add(w)
	}
	f.Fuzz(func(t *testing.T, w string) {
		got, ok := ParseNumberWord(w)
		if !ok {
			if got != (Number{}) {
				t.Errorf("ParseNumberWord(%q) = %+v, false; want the zero Number", w, got)
			}
			return
		}
		if got.Value < 0 || got.Value > 999999 {
			t.Errorf("ParseNumberWord(%q) = %d, out of 0..999999", w, got.Value)
		}
		if again, ok2 := ParseNumberWord(w); again != got || ok2 != ok {
			t.Errorf("ParseNumberWord(%q) = %+v, then %+v", w, got, again)
		}
	})
}

func FuzzDigitSequence(f *testing.F) {
	f.Add("null eins sieben eins zwölf vierunddreißig sechsundfünfzig", 0)
	f.Add("meine nummer doppel null 0171", 2)
	f.Add("doppel doppel null", 0)
	f.Add("zwölf", 0)
	f.Add("", 3)
	f.Fuzz(func(t *testing.T, s string, i int) {
		toks := strings.Split(s, " ")
		d, n, ok := DigitSequence(toks, i)
		if !ok {
			if d != "" || n != 0 {
				t.Errorf("DigitSequence(%q, %d) = %q, %d, false; want nothing", s, i, d, n)
			}
			return
		}
		if len(d) < 2 || n < 1 || i+n > len(toks) {
			t.Errorf("DigitSequence(%q, %d) = %q, %d", s, i, d, n)
		}
		for j := 0; j < len(d); j++ {
			if d[j] < '0' || d[j] > '9' {
				t.Fatalf("DigitSequence(%q, %d) = %q, not digits", s, i, d)
			}
		}
		if d2, n2, ok2 := DigitSequence(toks, i); d2 != d || n2 != n || !ok2 {
			t.Errorf("DigitSequence(%q, %d) = %q, %d, then %q, %d, %t", s, i, d, n, d2, n2, ok2)
		}
	})
}

// benchWords mix what callers say: small numbers, dates, years, ordinals, ASCII
// umlauts, digits and words that are no numbers.
var benchWords = []string{
	"zwei", "zwölften", "neunzehnhundertvierundachtzig", "einundzwanzigste", "dreißig",
	"fuenfundzwanzig", "achten", "null", "einer", "zweitausendvierundzwanzig",
	"termin", "achtung", "sieben", "hundertfünf", "12.", "1984", "viertel", "erste",
	"siebzehn", "dreissigsten",
}

func BenchmarkParseNumberWord(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		for _, w := range benchWords {
			ParseNumberWord(w)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(benchWords)), "ns/word")
}
