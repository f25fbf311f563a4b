package nlu

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

var showMisses = flag.Bool("misses", false, "list every corpus utterance the engine gets wrong")

// example is one labelled utterance of testdata/corpus.jsonl.
type example struct {
	Text   string            `json:"text"`
	Now    time.Time         `json:"now"`
	Style  string            `json:"style"`
	Intent Intent            `json:"intent"`
	Slots  map[string]string `json:"slots"`
}

// corpusFiles are the labelled corpora the targets are held to. A new corpus joins the
// list once it has been measured unseen (see docs/benchmarks.md).
var corpusFiles = []string{"testdata/corpus.jsonl", "testdata/corpus_phone.jsonl", "testdata/corpus_chat.jsonl"}

// loadCorpus reads the corpora.
func loadCorpus(tb testing.TB) []example {
	tb.Helper()
	var out []example
	for _, name := range corpusFiles {
		out = append(out, loadCorpusFile(tb, name)...)
	}
	return out
}

func loadCorpusFile(tb testing.TB, name string) []example {
	tb.Helper()
	f, err := os.Open(name)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []example
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var e example
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			tb.Fatalf("%s:%d: %v", name, line, err)
		}
		if !slices.Contains(Intents, e.Intent) {
			tb.Fatalf("%s:%d: unknown intent %q", name, line, e.Intent)
		}
		out = append(out, e)
	}
	return out
}

// demoDoctors are the doctors of the demo practice, whom the corpus names.
var demoDoctors = []string{"Schneider", "Weber", "Özdemir"}

// slotMap turns slots into name → value, as the corpus writes them.
func slotMap(s Slots) map[string]string {
	m := map[string]string{}
	v := reflect.ValueOf(s)
	for i := range v.NumField() {
		if val := v.Field(i).String(); val != "" {
			m[strings.Split(v.Type().Field(i).Tag.Get("json"), ",")[0]] = val
		}
	}
	return m
}

// TestCorpus measures the engine on the labelled corpus and holds it to the targets:
// intent accuracy ≥ 95 %, every slot ≥ 92 % exact, emergency recall 100 % with precision
// ≥ 95 %. A slot's accuracy counts the utterances that state it or for which the engine
// claims it.
func TestCorpus(t *testing.T) {
	corpus := loadCorpus(t)
	u := &Understander{Doctors: demoDoctors}
	intentOK := 0
	slotSeen, slotOK := map[string]int{}, map[string]int{}
	var tp, fp, fn int
	var misses []string
	for _, e := range corpus {
		r := u.Understand(e.Text, e.Now)
		got := slotMap(r.Slots)
		if r.Intent == e.Intent {
			intentOK++
		} else {
			misses = append(misses, fmt.Sprintf("intent %s, want %s: %s", r.Intent, e.Intent, e.Text))
		}
		switch {
		case r.Intent == Emergency && e.Intent == Emergency:
			tp++
		case r.Intent == Emergency:
			fp++
		case e.Intent == Emergency:
			fn++
		}
		names := map[string]bool{}
		for k := range got {
			names[k] = true
		}
		for k := range e.Slots {
			names[k] = true
		}
		for k := range names {
			slotSeen[k]++
			if got[k] == e.Slots[k] {
				slotOK[k]++
			} else {
				misses = append(misses, fmt.Sprintf("%s %q, want %q: %s", k, got[k], e.Slots[k], e.Text))
			}
		}
	}
	pct := func(a, b int) float64 {
		if b == 0 {
			return 100
		}
		return 100 * float64(a) / float64(b)
	}
	t.Logf("corpus: %d utterances", len(corpus))
	intentAcc := pct(intentOK, len(corpus))
	t.Logf("intent accuracy: %.1f %%", intentAcc)
	recall, precision := pct(tp, tp+fn), pct(tp, tp+fp)
	t.Logf("emergency recall: %.1f %% (%d of %d), precision: %.1f %%", recall, tp, tp+fn, precision)
	var names []string
	for k := range slotSeen {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		t.Logf("slot %-10s %5.1f %% exact (%d of %d)", k, pct(slotOK[k], slotSeen[k]), slotOK[k], slotSeen[k])
	}
	if *showMisses {
		sort.Strings(misses)
		for _, m := range misses {
			t.Log(m)
		}
	}
	if intentAcc < 95 {
		t.Errorf("intent accuracy %.1f %% < 95 %%", intentAcc)
	}
	if recall < 100 || precision < 95 {
		t.Errorf("emergency recall %.1f %% (want 100), precision %.1f %% (want ≥ 95)", recall, precision)
	}
	for _, k := range names {
		if a := pct(slotOK[k], slotSeen[k]); a < 92 {
			t.Errorf("slot %s: %.1f %% exact < 92 %%", k, a)
		}
	}
}

// BenchmarkUnderstand runs the engine over the corpus and reports the 99th percentile of
// the time one utterance takes.
func BenchmarkUnderstand(b *testing.B) {
	corpus := loadCorpus(b)
	u := &Understander{Doctors: demoDoctors}
	durs := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		e := corpus[i%len(corpus)]
		start := time.Now()
		u.Understand(e.Text, e.Now)
		durs = append(durs, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(durs)
	b.ReportMetric(float64(durs[len(durs)*99/100].Microseconds()), "p99-µs")
}
