package audit

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func chain(name string, n int) []Entry {
	var out []Entry
	var prevSeq int64
	var prevHash string
	for i := range n {
		e := Entry{Chain: name, At: time.Date(2026, 11, 1, 8, i, 0, 0, time.UTC), TenantID: name,
			Actor: "u1", Action: Update, ObjectType: "user", ObjectID: fmt.Sprint(i), Source: "127.0.0.1"}
		e.Seal(prevSeq, prevHash)
		prevSeq, prevHash = e.Seq, e.Hash
		out = append(out, e)
	}
	return out
}

func verify(entries []Entry, heads []Head) *Verifier {
	var v Verifier
	for i := range entries {
		v.Add(&entries[i])
	}
	v.Finish(heads)
	return &v
}

func headOf(es []Entry) Head { l := es[len(es)-1]; return Head{l.Chain, l.Seq, l.Hash} }

func TestVerify(t *testing.T) {
	a, b := chain("A", 5), chain("B", 3)
	heads := []Head{headOf(a), headOf(b)}
	all := append(append([]Entry{}, a...), b...)
	if v := verify(all, heads); !v.OK() || v.Entries != 8 {
		t.Fatalf("intact log: problems %v, entries %d", v.Problems, v.Entries)
	}

	tests := []struct {
		name   string
		tamper func([]Entry) []Entry
		want   string
	}{
		{"changed", func(es []Entry) []Entry { es[2].ObjectID = "99"; return es }, "Kette A, Eintrag 3: Inhalt verändert"},
		{"changed and rehashed", func(es []Entry) []Entry {
			es[2].Actor = "evil"
			es[2].Hash = es[2].ComputeHash()
			return es
		}, "Kette A, Eintrag 4: Verkettung unterbrochen"},
		{"removed", func(es []Entry) []Entry { return append(es[:1], es[2:]...) }, "Kette A, Eintrag 2: Eintrag fehlt"},
		{"reordered", func(es []Entry) []Entry { es[1], es[2] = es[2], es[1]; return es }, "Kette A, Eintrag 2: Reihenfolge verändert"},
		{"sequence numbers swapped", func(es []Entry) []Entry {
			es[1].Seq, es[2].Seq = es[2].Seq, es[1].Seq
			es[1], es[2] = es[2], es[1]
			return es
		}, "Kette A, Eintrag 2: Inhalt verändert"},
		{"tail removed", func(es []Entry) []Entry { return append(es[:4:4], es[5:]...) }, "Kette A, Eintrag 5: Einträge 5 bis 5 fehlen"},
		{"all of a chain removed", func(es []Entry) []Entry { return es[:5] }, "Kette B, Eintrag 1: Einträge 1 bis 3 fehlen"},
		{"chains interleaved", func(es []Entry) []Entry {
			return []Entry{es[0], es[5], es[1], es[2], es[3], es[4], es[6], es[7]}
		}, "Kette A, Eintrag 2: Einträge der Kette stehen nicht zusammenhängend"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			es := tc.tamper(append([]Entry{}, all...))
			v := verify(es, heads)
			var got []string
			for _, p := range v.Problems {
				got = append(got, p.String())
			}
			if !strings.Contains(strings.Join(got, "\n"), tc.want) {
				t.Errorf("problems %q, want one containing %q", got, tc.want)
			}
		})
	}
}

func FuzzVerifier(f *testing.F) {
	f.Add(int64(1), "A", "x", int64(2), "A", "y")
	f.Fuzz(func(t *testing.T, s1 int64, c1, d1 string, s2 int64, c2, d2 string) {
		good := chain("A", 2)
		es := []Entry{good[0], good[1]}
		es[0].Seq, es[0].Chain, es[0].Detail = s1, c1, d1
		es[1].Seq, es[1].Chain, es[1].Detail = s2, c2, d2
		v := verify(es, []Head{headOf(good)})
		intact := es[0] == good[0] && es[1] == good[1]
		if v.OK() != intact {
			t.Fatalf("OK() = %v for intact=%v: %v", v.OK(), intact, v.Problems)
		}
	})
}
