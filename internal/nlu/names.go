package nlu

import (
	_ "embed"
	"slices"
	"strings"
)

// nameCues are the words after which a caller states a name, folded and as token
// sequences; relative cues ("für meinen Sohn") name the patient when someone calls for them.
var nameCues = [][]string{
	{"mein", "name", "ist"}, {"mein", "name", "war"}, {"mein", "name"}, {"name", "ist"}, {"name", ":"}, {"name"},
	{"hier", "ist", "die"}, {"hier", "ist", "der"}, {"hier", "ist"}, {"hier", "spricht"}, {"hier", "ruft"}, {"es", "spricht"},
	{"ich", "bin", "die"}, {"ich", "bin", "der"}, {"ich", "bin"}, {"ich", "heise"}, {"heise"}, {"heist"}, {"heisen"},
	{"patient"}, {"patientin"}, {"patienten"}, {"patientin", "ist"},
	{"lg"}, {"vg"}, {"mfg"}, {"gruse"}, {"grusen"}, {"grus"}, {"grußen"}, {"gruss"},
	{"von"},
}

// relatives are the people a caller may call for; the name after them is the patient's.
var relatives = map[string]bool{
	"sohn": true, "tochter": true, "mann": true, "ehemann": true, "frau": true, "ehefrau": true, "mutter": true, "mama": true,
	"vater": true, "papa": true, "kind": true, "kleinen": true, "kleine": true, "oma": true, "opa": true, "enkel": true,
	"enkelin": true, "bruder": true, "schwester": true, "partner": true, "partnerin": true, "freund": true, "freundin": true,
	"sohnes": true, "mannes": true, "vaters": true, "opas": true, "enkels": true, "bruders": true,
	"schwiegermutter": true, "schwiegervater": true, "nachbarin": true, "nachbar": true, "großmutter": true, "grosmutter": true, "grosvater": true,
}

// name finds the patient's name. A patient the caller speaks for (a child, a parent) wins
// over the caller: "für meinen Sohn Max Müller", "meine Mutter … die heißt Erna Meier".
// Then a name after a cue ("mein Name ist", "hier ist die", "ich heiße"), before "hier" at
// the start ("Müller hier"), after "Frau"/"Herr", and in a chat a name standing between
// punctuation next to other data ("…. Anna Müller, geb. 12.03.1984").
func (t *text) name(doctors []string) string {
	var foldedDoctors []string
	for _, d := range doctors {
		foldedDoctors = append(foldedDoctors, fold(d))
	}
	isDoctor := func(i int) bool {
		return i > 0 && (t.toks[i-1].fold == "dr" || t.toks[i-1].fold == "doktor" || t.toks[i-1].raw == "." && i > 1 && t.toks[i-2].fold == "dr")
	}
	relative := -1
	for i := 1; i < len(t.toks); i++ {
		if !relatives[t.toks[i].fold] || !possessive[t.toks[i-1].fold] {
			continue
		}
		if relative < 0 {
			relative = i
		}
		j := i + 1
		for j < len(t.toks) && (t.toks[j].fold == "den" || t.toks[j].fold == "die" || t.toks[j].fold == "der") {
			j++
		}
		if n := t.nameAt(j, isDoctor, 1); n != "" {
			return n
		}
	}
	if relative >= 0 {
		// "… für meinen Vater, er heißt Mehmet Demir", "… meine Tochter …, die Lena Müller"
		for i := relative + 1; i+1 < len(t.toks); i++ {
			f := t.toks[i].fold
			if f == "heist" || f == "heisen" || (f == "die" || f == "der" || f == "den") && i+2 < len(t.toks) && t.isNameWord(i+1, isDoctor) && t.isNameWord(i+2, isDoctor) {
				if n := t.nameAt(i+1, isDoctor, 1); n != "" {
					return n
				}
			}
		}
	}
	for _, cue := range nameCues {
		for i := 0; i+len(cue) <= len(t.toks); i++ {
			if !t.matchSeq(i, cue) {
				continue
			}
			if cue[0] == "von" && (i == 0 || !closing[t.toks[i-1].fold]) {
				continue // "von" names only in a closing ("Grüße von Anna")
			}
			j := i + len(cue)
			article := cue[len(cue)-1] == "die" || cue[len(cue)-1] == "der"
			for j < len(t.toks) && nameFiller[t.toks[j].fold] {
				article = article || t.toks[j].fold == "die" || t.toks[j].fold == "der"
				j++
			}
			// "ich bin" without an article takes a full name only: "ich bin total
			// erkältet", "ich bin schwanger" name nobody.
			minWords := 1
			if cue[0] == "ich" && cue[1] == "bin" && !article {
				minWords = 2
			}
			if n := t.nameAt(j, isDoctor, minWords); n != "" {
				return n
			}
		}
	}
	// At the start, after greetings: "Meier, Hans Meier", "nowak katarzyna nowak", "hier
	// Müller, ich …", "Schmidt, ich …".
	for i := 0; i < len(t.toks) && i < 8; i++ {
		if !t.onlyGreetingBefore(i) || t.toks[i].fold == "hier" && i+1 < len(t.toks) {
			if t.toks[i].fold != "hier" {
				continue
			}
		}
		j := i
		if t.toks[j].fold == "hier" {
			j++
		}
		if !t.isNameWord(j, isDoctor) || !t.onlyGreetingBefore(i) {
			continue
		}
		if j+2 < len(t.toks) && t.isNameWord(j+1, isDoctor) && t.toks[j+2].fold == t.toks[j].fold {
			return capitalise(t.toks[j+1].raw) + " " + capitalise(t.toks[j].raw)
		}
		if j+2 < len(t.toks) && t.toks[j+1].raw == "," && t.isNameWord(j+2, isDoctor) {
			// "Müller, Anna", surname first as on a form; "Nowak, Piotr Nowak"
			return capitalise(t.toks[j+2].raw) + " " + capitalise(t.toks[j].raw)
		}
		if j+1 < len(t.toks) && (t.toks[j+1].fold == "ich" || t.toks[j+1].raw == ",") {
			return capitalise(t.toks[j].raw)
		}
	}
	// "Müller hier", "Anna Müller hier", at the start after greetings only.
	for i := 1; i < len(t.toks) && i < 10; i++ {
		if t.toks[i].fold != "hier" {
			continue
		}
		start := i - 1
		for start > 0 && t.isNameWord(start-1, isDoctor) && i-start < 3 {
			start--
		}
		if !t.isNameWord(start, isDoctor) || !t.onlyGreetingBefore(start) {
			continue
		}
		if n := t.nameAt(start, isDoctor, 1); n != "" {
			return n
		}
	}
	// "Frau Müller", "Herr Becker" anywhere, not a doctor.
	for i := 0; i+1 < len(t.toks); i++ {
		if f := t.toks[i].fold; (f == "frau" || f == "herr" || f == "herrn") && !isDoctor(i+1) && t.toks[i+1].fold != "doktor" && t.toks[i+1].fold != "dr" && !slices.Contains(foldedDoctors, t.toks[i+1].fold) {
			if n := t.nameAt(i+1, isDoctor, 1); n != "" {
				return n
			}
		}
	}
	return t.writtenName(isDoctor)
}

// possessive are the words before a relative the call is for.
var possessive = map[string]bool{"meim": true, "mei": true, "meinen": true, "meine": true, "mein": true, "meiner": true, "meinem": true, "meines": true,
	"unser": true, "unsere": true, "unseren": true, "unserer": true, "unserem": true, "unseres": true}

// greetings may come before "Müller hier".
var greetings = map[string]bool{"hallo": true, "ja": true, "guten": true, "tag": true, "morgen": true, "abend": true, "moin": true, "grus": true,
	"gott": true, "servus": true, "ah": true, "ahm": true, "hm": true, "also": true, "hi": true, "hey": true, ",": true, ".": true, "!": true, "gruezi": true}

func (t *text) onlyGreetingBefore(i int) bool {
	for k := 0; k < i; k++ {
		if !greetings[t.toks[k].fold] {
			return false
		}
	}
	return true
}

// writtenName finds a name written in a chat between punctuation: two or three
// capitalised words after a period, comma, parenthesis or closing and before a comma,
// parenthesis, "geb." or the end.
func (t *text) writtenName(isDoctor func(int) bool) string {
	for i := 1; i+1 < len(t.toks); i++ {
		if !isCapitalised(t.toks[i].raw) || !isCapitalised(t.toks[i+1].raw) || !t.isNameWord(i, isDoctor) || !t.isNameWord(i+1, isDoctor) {
			continue
		}
		{
			p := t.toks[i-1]
			if p.raw != "." && p.raw != "," && p.raw != "(" && p.raw != ":" && p.raw != "!" && p.raw != "?" && !closing[p.fold] && p.fold != "jetzt" && p.fold != "ich" {
				continue
			}
		}
		j := i + 2
		if j < len(t.toks) && isCapitalised(t.toks[j].raw) && t.isNameWord(j, isDoctor) {
			j++
		}
		if j < len(t.toks) {
			n := t.toks[j]
			if n.raw != "," && n.raw != "(" && n.raw != "." && n.raw != ")" && n.fold != "geb" && n.fold != "geboren" && n.num < 0 && n.num != -2 {
				continue
			}
		}
		return t.nameAt(i, isDoctor, 2)
	}
	// a surname alone closing a chat: "… bin krank. Meier"
	if n := len(t.toks); n >= 3 && t.toks[n-2].raw == "." && t.isNameWord(n-1, isDoctor) && len(t.toks[n-1].fold) >= 3 {
		return capitalise(t.toks[n-1].raw)
	}
	return ""
}

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
	if _, ok := months[tk.fold]; ok && len(tk.fold) > 3 {
		return false
	}
	if _, ok := drugIndex[tk.fold]; ok {
		return false
	}
	// Participles ("gestürzt", "zusammengebrochen") spoken in lower case are no names.
	if tk.raw == strings.ToLower(tk.raw) && len(tk.fold) >= 8 && strings.Contains(tk.fold[:len(tk.fold)-3], "ge") && (strings.HasSuffix(tk.fold, "t") || strings.HasSuffix(tk.fold, "en")) {
		return false
	}
	return true
}

// nameAt reads up to three name words from i, at least min. It mends what callers do to
// names: a correction ("Musterfrau, äh, Mustermann"), a surname said twice ("Frau Beispiel,
// Gertrud Beispiel", "Nowak, Piotr Nowak").
func (t *text) nameAt(i int, isDoctor func(int) bool, min int) string {
	var parts []string
	j := i
	for ; j < len(t.toks) && len(parts) < 3; j++ {
		if !t.isNameWord(j, isDoctor) {
			break
		}
		parts = append(parts, capitalise(t.toks[j].raw))
	}
	// "Nowak, Piotr Nowak"
	if len(parts) == 1 && j+2 < len(t.toks) && t.toks[j].raw == "," && t.isNameWord(j+1, isDoctor) && t.isNameWord(j+2, isDoctor) &&
		capitalise(t.toks[j+2].raw) == parts[0] {
		parts = []string{capitalise(t.toks[j+1].raw), parts[0]}
		j += 3
	}
	// "Beispiel Gertrud Beispiel"
	if len(parts) == 3 && parts[0] == parts[2] {
		parts = parts[1:]
	}
	// "Musterfrau äh Mustermann"
	if len(parts) > 0 && j+1 < len(t.toks) && (t.toks[j].fold == "ah" || t.toks[j].fold == "ahm" || t.toks[j].fold == "nein") && t.isNameWord(j+1, isDoctor) {
		parts[len(parts)-1] = capitalise(t.toks[j+1].raw)
	}
	if len(parts) < min {
		return ""
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

// nameFiller may stand between a name cue and the name ("hier spricht die Müller", "mein
// Name ist, äh, Frau Müller").
var nameFiller = map[string]bool{":": true, ",": true, "-": true, "ah": true, "ahm": true, "also": true, "frau": true, "herr": true, "die": true, "der": true, "ja": true, "jetzt": true, "nun": true}
