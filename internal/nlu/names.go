package nlu

import (
	_ "embed"
	"strings"
)

// nameCues are the words after which a caller states a name, folded and as token
// sequences; relative cues ("für meinen Sohn") name the patient when someone calls for them.
var nameCues = [][]string{
	{"mein", "name", "ist"}, {"mein", "name", "war"}, {"mein", "name"}, {"name", "ist"}, {"name", ":"}, {"name"},
	{"hier", "ist", "die"}, {"hier", "ist", "der"}, {"hier", "ist"}, {"hier", "spricht"}, {"hier", "ruft"}, {"es", "spricht"},
	{"ich", "bin", "die"}, {"ich", "bin", "der"}, {"ich", "bin"}, {"ich", "heise"}, {"heise"}, {"ich", "hei"},
	{"patient"}, {"patientin"}, {"patienten"}, {"patientin", "ist"},
	{"lg"}, {"vg"}, {"mfg"}, {"gruse"}, {"grusen"}, {"grus"}, {"grußen"}, {"gruss"},
	{"von"},
}

// relatives are the people a caller may call for; the name after them is the patient's.
var relatives = map[string]bool{
	"sohn": true, "tochter": true, "mann": true, "ehemann": true, "frau": true, "ehefrau": true, "mutter": true, "mama": true,
	"vater": true, "papa": true, "kind": true, "kleinen": true, "kleine": true, "oma": true, "opa": true, "enkel": true,
	"enkelin": true, "bruder": true, "schwester": true, "partner": true, "partnerin": true, "freund": true, "freundin": true,
	"schwiegermutter": true, "schwiegervater": true, "nachbarin": true, "nachbar": true, "großmutter": true, "grosmutter": true, "grosvater": true,
}

// name finds the patient's name: after a name cue, after a relative the caller speaks for
// ("für meinen Sohn Max Müller"), or before "hier" at the start ("Müller hier").
func (t *text) name(doctors []string) string {
	isDoctor := func(i int) bool {
		if i > 0 && (t.toks[i-1].fold == "dr" || t.toks[i-1].fold == "doktor" || t.toks[i-1].raw == ".") {
			return true
		}
		for _, d := range doctors {
			if fold(d) == t.toks[i].fold {
				return true
			}
		}
		return false
	}
	// A relative the call is for: "für meinen Sohn Max (Müller)", "meine Tochter Lea".
	for i := 0; i+1 < len(t.toks); i++ {
		if !relatives[t.toks[i].fold] || i == 0 {
			continue
		}
		if p := t.toks[i-1].fold; p != "meinen" && p != "meine" && p != "mein" && p != "unser" && p != "unsere" && p != "unseren" {
			continue
		}
		if n := t.nameAt(i+1, isDoctor); n != "" {
			return n
		}
	}
	for _, cue := range nameCues {
		for i := 0; i+len(cue) <= len(t.toks); i++ {
			if !t.matchSeq(i, cue) {
				continue
			}
			j := i + len(cue)
			for j < len(t.toks) && nameFiller[t.toks[j].fold] {
				j++
			}
			if cue[0] == "von" && (i == 0 || !closing[t.toks[i-1].fold]) {
				continue // "von" names only in a closing ("Grüße von Anna")
			}
			if n := t.nameAt(j, isDoctor); n != "" {
				return n
			}
		}
	}
	// "Müller hier", "Anna Müller hier", at the start after a greeting.
	for i := 0; i < len(t.toks) && i < 8; i++ {
		if t.toks[i].fold != "hier" || i == 0 {
			continue
		}
		start := i - 1
		for start > 0 && t.isNameWord(start-1, isDoctor) && i-start < 3 {
			start--
		}
		if t.isNameWord(start, isDoctor) {
			if n := t.nameAt(start, isDoctor); n != "" {
				return n
			}
		}
	}
	// "Frau Müller", "Herr Becker" anywhere, not a doctor.
	for i := 0; i+1 < len(t.toks); i++ {
		if f := t.toks[i].fold; (f == "frau" || f == "herr" || f == "herrn") && t.isNameWord(i+1, isDoctor) {
			return t.nameAt(i+1, isDoctor)
		}
	}
	// A chat that ends with a name ("… Danke, Anna Müller"): two capitalised words at the end.
	if n := len(t.toks); n >= 2 {
		a, b := t.toks[n-2], t.toks[n-1]
		if isCapitalised(a.raw) && isCapitalised(b.raw) && t.isNameWord(n-2, isDoctor) && t.isNameWord(n-1, isDoctor) && n >= 3 && (t.toks[n-3].raw == "," || closing[t.toks[n-3].fold] || t.toks[n-3].raw == ".") {
			return capitalise(a.raw) + " " + capitalise(b.raw)
		}
	}
	return ""
}

// nameFiller may stand between a name cue and the name ("hier spricht die Müller", "mein
// Name ist, äh, Frau Müller").
var nameFiller = map[string]bool{":": true, ",": true, "-": true, "ah": true, "ahm": true, "also": true, "frau": true, "herr": true, "die": true, "der": true, "ja": true}

var closing = map[string]bool{"gruse": true, "grusen": true, "grus": true, "lg": true, "vg": true, "mfg": true, "danke": true, "dank": true, "gruss": true}

func (t *text) matchSeq(i int, seq []string) bool {
	for k, w := range seq {
		if t.toks[i+k].fold != w && t.toks[i+k].raw != w {
			return false
		}
	}
	return true
}

// isNameWord reports whether token i can be part of a name.
func (t *text) isNameWord(i int, isDoctor func(int) bool) bool {
	if i < 0 || i >= len(t.toks) {
		return false
	}
	tk := t.toks[i]
	if !tk.word || len([]rune(tk.raw)) < 2 || stopword[tk.fold] || isDoctor(i) {
		return false
	}
	if _, ok := weekdays[tk.fold]; ok {
		return false
	}
	if _, ok := months[tk.fold]; ok {
		return false
	}
	return true
}

// nameAt reads up to three name words from i.
func (t *text) nameAt(i int, isDoctor func(int) bool) string {
	var parts []string
	for j := i; j < len(t.toks) && len(parts) < 3; j++ {
		if !t.isNameWord(j, isDoctor) {
			break
		}
		parts = append(parts, capitalise(t.toks[j].raw))
	}
	return strings.Join(parts, " ")
}

func isCapitalised(s string) bool {
	r := []rune(s)
	return len(r) > 1 && r[0] >= 'A' && r[0] <= 'Z' || len(r) > 1 && strings.ContainsRune("ÄÖÜ", r[0])
}

//go:embed stopwords.txt
var stopwordList string

// stopword holds words that are never part of a name or a drug (see stopwords.txt).
var stopword = func() map[string]bool {
	m := map[string]bool{}
	for line := range strings.Lines(stopwordList) {
		if strings.HasPrefix(line, "#") {
			continue
		}
		for _, w := range strings.Fields(line) {
			m[fold(w)] = true
		}
	}
	return m
}()
