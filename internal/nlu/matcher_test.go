package nlu

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLeadingLiterals(t *testing.T) {
	for p, want := range map[string][]string{
		`absag`:                           {"absag"},
		`\w*termin`:                       {"termin"},
		`(druck|enge) (auf|in) der brust`: {"druck", "enge"},
		`(er|sie|es)?stick`:               {"stick"},
		`(mal )?(rein|herein)kommen`:      {"rein", "herein"},
		`brust ?schmerz`:                  {"brust"},
		`e-?mail`:                         nil, // too short a literal to help
		`(\w+ )?xy`:                       {"xy"},
		`.{0,3}x`:                         nil,
		`(a|\w+)`:                         nil,
	} {
		if diff := cmp.Diff(want, leadingLiterals(p)); diff != "" {
			t.Errorf("leadingLiterals(%q) (-want +got):\n%s", p, diff)
		}
	}
}

// TestPatternsSurviveFolding: patterns are folded like the text, which lower-cases them, so
// they must not use upper-case classes (\S, \W, \D, \B would turn into their opposites).
func TestPatternsSurviveFolding(t *testing.T) {
	var all []matcher
	for _, c := range intentCues {
		all = append(all, c.m)
	}
	all = append(all, lifeThreats, suicidal, urgentSigns)
	for _, m := range all {
		for _, p := range m {
			if src := p.re.String(); strings.Contains(src, `\s+ )`) {
				t.Errorf("pattern %s: \\S was folded to \\s", src)
			}
		}
	}
}
