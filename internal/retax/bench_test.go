package retax_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tresen/tresen/internal/erezept"
	"github.com/tresen/tresen/internal/retax"
)

// BenchmarkParseAndCheck reads a KBV prescription bundle and its DAV Abgabedaten and runs
// every rule over them, as `tresen rx check` does per prescription. The target is 5,000
// prescriptions per second on one core (-cpu 1).
func BenchmarkParseAndCheck(b *testing.B) {
	dir := filepath.Join(fixtures, "kbv-1.4_dav-2026-07-01")
	var docs [][]byte
	for _, name := range []string{"PZN_Nr1_VerordnungArzt.xml", "PZN_Nr1_eAbgabedaten.xml"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			b.Fatal(err)
		}
		docs = append(docs, data)
	}
	cat := catalog(b)
	at := time.Date(2026, 7, 31, 10, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		files := make([]erezept.File, 0, len(docs))
		for _, d := range docs {
			f, err := erezept.Read("x.xml", d)
			if err != nil {
				b.Fatal(err)
			}
			files = append(files, f)
		}
		for _, c := range erezept.Group(files) {
			r := retax.Check(retax.Input{Prescription: c.Prescription, Dispense: c.Dispense, At: at, Articles: cat})
			if r.HasErrors() {
				b.Fatalf("findings: %+v", r.Findings)
			}
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "prescriptions/s")
}
