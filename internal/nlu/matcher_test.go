package nlu

import (
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
