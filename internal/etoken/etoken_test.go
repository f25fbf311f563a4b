package etoken

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/errs"
)

// Tokens from gematik's examples (gemSpec_DM_eRp, API docs) and the fixtures' Rezept-IDs.
var (
	tokenA = Token{TaskID: "160.000.000.000.123.76", AccessCode: "777bea0e13cc9c42ceec14aec3ddee2263325dc2c6c699db115f58fe423607ea"}
	tokenB = Token{TaskID: "160.123.456.789.123.58", AccessCode: "0936cfa582b447144b71ac89eb7bb83a77c67c99d4054f91ee3703acf5d6a629"}
	tokenC = Token{TaskID: "160.000.346.211.638.15", AccessCode: "d3e6092ae3af14b5225e2ddbe5a4f59b3939a907d6fdd5ce6a760ca71f45d8e5"}
	tokenP = Token{TaskID: "200.424.187.927.272.20", AccessCode: "5E24CC059FF244BDBB01EFCCCF834A6329BDAC67A4A64733938FE1B799AC19A9"}
)

// payload returns the content of a DataMatrix code for tokens, as the printouts write it.
func payload(tokens ...Token) string {
	urls := make([]string, len(tokens))
	for i, t := range tokens {
		urls[i] = `"` + t.URL() + `"`
	}
	return `{"urls":[` + strings.Join(urls, ",") + `]}`
}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		want    []Token
	}{
		{"one", payload(tokenA), []Token{tokenA}},
		{"three in order", payload(tokenC, tokenA, tokenB), []Token{tokenC, tokenA, tokenB}},
		{"PKV, upper-case AccessCode", payload(tokenP), []Token{tokenP}},
		{"gematik's spaced example", "{   \"urls\": [ \"" + tokenA.URL() + "\" ]}", []Token{tokenA}},
		{"pretty-printed with BOM", "\uFEFF{\n  \"urls\": [\n    \"" + tokenA.URL() + "\",\n    \"" + tokenB.URL() + "\"\n  ]\n}\n", []Token{tokenA, tokenB}},
		{"leading slash", `{"urls":["/` + tokenB.URL() + `"]}`, []Token{tokenB}},
		{"escaped JSON", `{"urls":["Task\/160.000.000.000.123.76\/\u0024accept?ac=` + tokenA.AccessCode + `"]}`, []Token{tokenA}},
		{"repeated token", payload(tokenA, tokenA), []Token{tokenA}},
		{"unknown field", `{"version":1,"urls":["` + tokenA.URL() + `"]}`, []Token{tokenA}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.payload))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	badCheck := strings.Replace(tokenA.URL(), "123.76", "123.77", 1)
	tests := []struct {
		name    string
		payload string
		want    string // part of the message
	}{
		{"empty", "  ", "leer"},
		{"not JSON", "160.000.000.000.123.76 " + tokenA.AccessCode, "kein JSON"},
		{"truncated JSON", payload(tokenA)[:60], "kein JSON"},
		{"array", `["` + tokenA.URL() + `"]`, "kein Objekt"},
		{"no urls", `{"url":"` + tokenA.URL() + `"}`, `fehlt die Liste "urls"`},
		{"urls null", `{"urls":null}`, `fehlt die Liste "urls"`},
		{"urls a string", `{"urls":"` + tokenA.URL() + `"}`, "Liste von Zeichenketten"},
		{"urls empty", `{"urls":[]}`, "ist leer"},
		{"four tokens", payload(tokenA, tokenB, tokenC, tokenP), "höchstens 3"},
		{"not a task", `{"urls":["MedicationDispense/160.000.000.000.123.76/$accept?ac=` + tokenA.AccessCode + `"]}`, `beginnt nicht mit "Task/"`},
		{"no accept", `{"urls":["Task/160.000.000.000.123.76/$abort?ac=` + tokenA.AccessCode + `"]}`, `kein "/$accept?ac="`},
		{"check digit", `{"urls":["` + badCheck + `"]}`, "160.000.000.000.123.77 hat eine falsche Prüfziffer (erwartet 76, angegeben 77)"},
		{"check digit in second", payload(tokenA, Token{"160.123.456.789.123.59", tokenB.AccessCode}), "2. Token im Code: die Rezept-ID 160.123.456.789.123.59 hat eine falsche Prüfziffer"},
		{"id layout", `{"urls":["Task/160000000000123.76/$accept?ac=` + tokenA.AccessCode + `"]}`, "Format NNN.NNN.NNN.NNN.NNN.NN"},
		{"AccessCode as id", `{"urls":["Task/` + tokenA.AccessCode + `/$accept?ac=` + tokenA.AccessCode + `"]}`, "Format NNN.NNN.NNN.NNN.NNN.NN"},
		{"no AccessCode", `{"urls":["Task/160.000.000.000.123.76/$accept?ac="]}`, "fehlt der AccessCode"},
		{"short AccessCode", `{"urls":["` + tokenA.URL()[:len(tokenA.URL())-1] + `"]}`, "64 Hexadezimalziffern haben, nicht 63 Zeichen"},
		{"AccessCode not hex", `{"urls":["` + strings.Replace(tokenA.URL(), "ac=777b", "ac=777g", 1) + `"]}`, "(Stelle 4)"},
		{"AccessCode with more query", `{"urls":["` + tokenA.URL() + `&x=1"]}`, "nicht 68 Zeichen"},
		{"two AccessCodes for one id", payload(tokenA, Token{tokenA.TaskID, tokenB.AccessCode}), "zwei verschiedenen AccessCodes"},
		{"too long", `{"urls":["` + strings.Repeat(" ", 5000) + `"]}`, "zu lang"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.payload))
			if err == nil {
				t.Fatalf("Parse = %v, want an error", got)
			}
			if !errs.Is(err, errs.Invalid) {
				t.Errorf("kind = %v, want Invalid", errs.KindOf(err))
			}
			if msg := errs.Message(err); !strings.Contains(msg, tt.want) {
				t.Errorf("message %q does not contain %q", msg, tt.want)
			}
			for _, secret := range []string{tokenA.AccessCode, tokenB.AccessCode, tokenA.AccessCode[:16], tokenB.AccessCode[:16]} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q repeats an AccessCode", err)
				}
			}
		})
	}
}

// TestTokenMasksAccessCode checks that printing or logging a token does not reveal its
// AccessCode.
func TestTokenMasksAccessCode(t *testing.T) {
	var b strings.Builder
	log := slog.New(slog.NewJSONHandler(&b, nil))
	log.Info("scanned", "token", tokenA)
	slog.New(slog.NewTextHandler(&b, nil)).Info("scanned", "token", tokenA)
	for _, s := range []string{
		fmt.Sprint(tokenA), fmt.Sprintf("%v %+v %#v %s", tokenA, tokenA, tokenA, tokenA),
		fmt.Sprintf("%v", []Token{tokenA}), b.String(),
	} {
		if strings.Contains(s, tokenA.AccessCode[:8]) {
			t.Errorf("%q shows the AccessCode", s)
		}
		if !strings.Contains(s, tokenA.TaskID) {
			t.Errorf("%q lacks the Rezept-ID", s)
		}
	}
	if got, want := tokenA.URL(), "Task/160.000.000.000.123.76/$accept?ac=777bea0e13cc9c42ceec14aec3ddee2263325dc2c6c699db115f58fe423607ea"; got != want {
		t.Errorf("URL = %q, want %q", got, want)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		payload(tokenA), payload(tokenA, tokenB, tokenC), payload(tokenP), `{"urls":[]}`, `{"urls":null}`,
		`{"urls":["Task/160.000.000.000.123.77/$accept?ac=00"]}`, "[1,2]", "", "\uFEFF{}", `{"URLS":["/Task/x/$accept?ac="]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tokens, err := Parse(data)
		if err != nil {
			if tokens != nil {
				t.Errorf("Parse returned tokens with an error")
			}
			if !errs.Is(err, errs.Invalid) {
				t.Errorf("error of kind %v: %v", errs.KindOf(err), err)
			}
			// No error repeats a run of 16 hexadecimal digits from the input: it could be
			// part of an AccessCode.
			msg := err.Error()
			for i := 0; i+16 <= len(msg); i++ {
				if run := msg[i : i+16]; allHex(run) && bytes.Contains(data, []byte(run)) {
					t.Fatalf("error %q repeats %q from the input", msg, run)
				}
			}
			return
		}
		if len(tokens) == 0 || len(tokens) > maxTokens {
			t.Fatalf("Parse returned %d tokens without an error", len(tokens))
		}
		// What Parse accepts it accepts again when written back, unchanged.
		again, err := Parse([]byte(payload(tokens...)))
		if err != nil {
			t.Fatalf("Parse of its own tokens: %v", err)
		}
		if diff := cmp.Diff(tokens, again); diff != "" {
			t.Fatalf("round trip (-first +again):\n%s", diff)
		}
	})
}

func allHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return false
		}
	}
	return true
}
