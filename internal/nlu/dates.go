package nlu

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var months = map[string]time.Month{
	"januar": 1, "jan": 1, "janner": 1, "februar": 2, "feb": 2, "marz": 3, "mar": 3, "april": 4, "apr": 4,
	"mai": 5, "juni": 6, "jun": 6, "juli": 7, "jul": 7, "august": 8, "aug": 8, "september": 9, "sept": 9, "sep": 9,
	"oktober": 10, "okt": 10, "november": 11, "nov": 11, "dezember": 12, "dez": 12,
}

var weekdays = map[string]time.Weekday{
	"montag": time.Monday, "dienstag": time.Tuesday, "mittwoch": time.Wednesday, "donnerstag": time.Thursday,
	"freitag": time.Friday, "samstag": time.Saturday, "sonnabend": time.Saturday, "sonntag": time.Sunday,
}

// weekdayAbbrevs are read only as "am Do" or "Do.".
var weekdayAbbrevs = map[string]time.Weekday{"mo": time.Monday, "di": time.Tuesday, "mi": time.Wednesday, "do": time.Thursday,
	"fr": time.Friday, "sa": time.Saturday, "so": time.Sunday}

const monthAlt = `januar|janner|jan|februar|feb|marz|mar|april|apr|mai|juni|jun|juli|jul|august|aug|september|sept|sep|oktober|okt|november|nov|dezember|dez`

var (
	// day. month. [year]: "12. 3. 84", "03. 12. 1990"
	reNumericDate = regexp.MustCompile(`\b(\d{1,2})\. ?(\d{1,2})\.(?: ?(\d{4}|\d{2})\b)?`)
	// day month-name [year]: "12. marz 1984", "12 marz"
	reNamedDate = regexp.MustCompile(`\b(\d{1,2})\.? (` + monthAlt + `)\b\.?(?: (\d{4}|\d{2})\b)?`)
	// ISO and slashes: "1984 - 03 - 12", "12 / 3 / 84"
	reISODate   = regexp.MustCompile(`\b(\d{4}) - (\d{1,2}) - (\d{1,2})\b`)
	reSlashDate = regexp.MustCompile(`\b(\d{1,2}) / (\d{1,2}) / (\d{4}|\d{2})\b`)
	// year first: "geboren 1938 am 1. marz"
	reYearFirst = regexp.MustCompile(`\b(\d{4}) (?:am |den )?(\d{1,2})\.? (` + monthAlt + `)\b`)
	// spoken without ordinals after a birth cue: "geboren zwolf drei vierundachtzig"
	reBareDate = regexp.MustCompile(`\b(\d{1,2}) (\d{1,2}) (\d{4}|\d{2})\b`)
	// a day of the month alone: "am fünfundzwanzigsten", "bis zum 3."
	reDayOnly = regexp.MustCompile(`\b(?:am|den|zum|ab dem|vom|ab) (\d{1,2})\.( |$)`)

	reBirthCue = regexp.MustCompile(`\b(geboren|geb|geburtsdatum|geburtstag|jahrgang|geburtsjahr|gebdat|dob)\b`)
	rePastCue  = regexp.MustCompile(`\b(seit|letzten|letzte|letzter|vergangenen|vorigen|war|am letzten)\s*$`)
)

// dateCand is a date found in the text, at canon offset pos.
type dateCand struct {
	pos   int
	date  time.Time
	year  bool // the year was stated
	birth bool // stated as a birth date
	// fallback is a day inferred from a duration ("seit drei Tagen"), taken only when no
	// day is named.
	fallback bool
}

// dates finds the birth date and the requested or affected day.
func (t *text) dates(now time.Time) (birth, day string) {
	loc := now.Location()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	var cands []dateCand
	add := func(pos int, d, m, y int, hasYear bool) {
		if hasYear {
			y = expandYear(y, now.Year())
		}
		if m < 1 || m > 12 || d < 1 || d > 31 {
			return
		}
		if !hasYear {
			y = today.Year()
		}
		dt := time.Date(y, time.Month(m), d, 0, 0, 0, 0, loc)
		if dt.Day() != d { // 31. 2.
			return
		}
		c := dateCand{pos: pos, date: dt, year: hasYear}
		before := t.canon[max(0, pos-40):pos]
		switch {
		case hasYear && (reBirthCue.MatchString(before) || dt.Before(today.AddDate(-1, 0, 0))):
			c.birth = true
		case !hasYear && rePastCue.MatchString(before):
			if dt.After(today) {
				c.date = dt.AddDate(-1, 0, 0)
			}
		case !hasYear && dt.Before(today):
			c.date = dt.AddDate(1, 0, 0)
		}
		cands = append(cands, c)
	}
	taken := make([]bool, len(t.canon)+1)
	mark := func(m []int) bool {
		for i := m[0]; i < m[1]; i++ {
			if taken[i] {
				return false
			}
		}
		for i := m[0]; i < m[1]; i++ {
			taken[i] = true
		}
		return true
	}
	for _, m := range reISODate.FindAllStringSubmatchIndex(t.canon, -1) {
		if mark(m) {
			add(m[0], atoi(t.canon[m[6]:m[7]]), atoi(t.canon[m[4]:m[5]]), atoi(t.canon[m[2]:m[3]]), true)
		}
	}
	for _, m := range reYearFirst.FindAllStringSubmatchIndex(t.canon, -1) {
		if mark(m) {
			add(m[0], atoi(t.canon[m[4]:m[5]]), int(months[t.canon[m[6]:m[7]]]), atoi(t.canon[m[2]:m[3]]), true)
		}
	}
	for _, m := range reNamedDate.FindAllStringSubmatchIndex(t.canon, -1) {
		if mark(m) {
			y, has := 0, m[6] >= 0
			if has {
				y = atoi(t.canon[m[6]:m[7]])
			}
			add(m[0], atoi(t.canon[m[2]:m[3]]), int(months[t.canon[m[4]:m[5]]]), y, has)
		}
	}
	for _, re := range []*regexp.Regexp{reNumericDate, reSlashDate} {
		for _, m := range re.FindAllStringSubmatchIndex(t.canon, -1) {
			if mark(m) {
				y, has := 0, m[6] >= 0
				if has && reTimeAfter.MatchString(t.canon[m[1]:]) {
					has = false // "30.11. 10:00": the number after the date is the hour
				}
				if has {
					y = atoi(t.canon[m[6]:m[7]])
				}
				add(m[0], atoi(t.canon[m[2]:m[3]]), atoi(t.canon[m[4]:m[5]]), y, has)
			}
		}
	}
	for _, m := range reBareDate.FindAllStringSubmatchIndex(t.canon, -1) {
		if reBirthCue.MatchString(t.canon[max(0, m[0]-30):m[0]]) && mark(m) {
			add(m[0], atoi(t.canon[m[2]:m[3]]), atoi(t.canon[m[4]:m[5]]), atoi(t.canon[m[6]:m[7]]), true)
		}
	}
	for _, m := range reDayOnly.FindAllStringSubmatchIndex(t.canon, -1) {
		if rest := t.canon[m[1]:]; reMonthStart.MatchString(rest) {
			continue // a full date, read above
		}
		if !mark([]int{m[2], m[3]}) {
			continue
		}
		d := atoi(t.canon[m[2]:m[3]])
		if d < 1 || d > 31 {
			continue
		}
		dt := time.Date(today.Year(), today.Month(), d, 0, 0, 0, 0, loc)
		if rePastCue.MatchString(t.canon[max(0, m[0]-40) : m[0]+len("am")]) {
			if dt.After(today) {
				dt = dt.AddDate(0, -1, 0)
			}
		} else if dt.Before(today) {
			dt = dt.AddDate(0, 1, 0)
		}
		if dt.Day() == d {
			cands = append(cands, dateCand{pos: m[0], date: dt})
		}
	}
	cands = append(cands, t.relativeDates(today, taken)...)

	var days, fallbacks []dateCand
	for _, c := range cands {
		switch {
		case c.birth:
			if birth == "" {
				birth = c.date.Format(time.DateOnly)
			}
		case c.fallback:
			fallbacks = append(fallbacks, c)
		default:
			days = append(days, c)
		}
	}
	if len(days) == 0 {
		days = fallbacks
	}
	if c, ok := t.pick(days); ok {
		day = c.date.Format(time.DateOnly)
	}
	return birth, day
}

// pick chooses among candidates for one slot: the first stated, unless a correction
// ("nein", "ich meine") follows it, then the one after the correction.
func (t *text) pick(cs []dateCand) (dateCand, bool) {
	if len(cs) == 0 {
		return dateCand{}, false
	}
	best := cs[0]
	for _, c := range cs[1:] {
		if c.pos < best.pos {
			c, best = best, c
		}
		if reCorrection.MatchString(t.canon[best.pos:c.pos]) {
			best = c
		}
	}
	return best, true
}

var reTimeAfter = regexp.MustCompile(`^( :| uhr\b|\. \d)`)

var reMonthStart = regexp.MustCompile(`^(\d|` + monthAlt + `)`)

var reCorrection = regexp.MustCompile(`\b(nein|ne|quatsch|ich meine|ich mein|korrigiere|korrektur|sorry|doch lieber|lieber doch|lieber|oder besser|falsch)\b`)

// relativeDates finds "heute", "morgen", "nächsten Dienstag", "in zwei Wochen" and the
// like.
func (t *text) relativeDates(today time.Time, taken []bool) []dateCand {
	var out []dateCand
	toks := t.toks
	word := func(i int) string {
		if i < 0 || i >= len(toks) {
			return ""
		}
		return toks[i].fold
	}
	for i, tk := range toks {
		if taken[t.at[i]] {
			continue
		}
		pos := t.at[i]
		switch tk.fold {
		case "heute", "heut":
			out = append(out, dateCand{pos: pos, date: today})
		case "morgen":
			if p := word(i - 1); p == "heute" || p == "gestern" || p == "am" || p == "jeden" || p == "guten" {
				continue // "heute morgen" is this morning; "am Morgen" any morning
			}
			out = append(out, dateCand{pos: pos, date: today.AddDate(0, 0, 1)})
		case "ubermorgen":
			out = append(out, dateCand{pos: pos, date: today.AddDate(0, 0, 2)})
		case "gestern":
			out = append(out, dateCand{pos: pos, date: today.AddDate(0, 0, -1)})
		case "vorgestern":
			out = append(out, dateCand{pos: pos, date: today.AddDate(0, 0, -2)})
		case "silvester", "heiligabend", "neujahr":
			md := map[string][2]int{"silvester": {12, 31}, "heiligabend": {12, 24}, "neujahr": {1, 1}}[tk.fold]
			d := time.Date(today.Year(), time.Month(md[0]), md[1], 0, 0, 0, 0, today.Location())
			if d.Before(today) {
				d = d.AddDate(1, 0, 0)
			}
			out = append(out, dateCand{pos: pos, date: d})
		case "seit", "vor":
			// "seit drei Tagen", "vor einer Woche": the day it began, when no other day is
			// named
			if n := toks[min(i+1, len(toks)-1)]; i+2 < len(toks) && n.num > 0 && n.num < 60 {
				switch unit := word(i + 2); {
				case strings.HasPrefix(unit, "tag"):
					out = append(out, dateCand{pos: pos, date: today.AddDate(0, 0, -n.num), fallback: true})
				case strings.HasPrefix(unit, "woche"):
					out = append(out, dateCand{pos: pos, date: today.AddDate(0, 0, -7*n.num), fallback: true})
				}
			}
		case "in":
			// "in drei Tagen", "in zwei Wochen", "in einer Woche"
			if n := toks[min(i+1, len(toks)-1)]; i+2 < len(toks) && n.num > 0 && n.num < 60 {
				switch unit := word(i + 2); {
				case strings.HasPrefix(unit, "tag"):
					out = append(out, dateCand{pos: pos, date: today.AddDate(0, 0, n.num)})
				case strings.HasPrefix(unit, "woche"):
					out = append(out, dateCand{pos: pos, date: today.AddDate(0, 0, 7*n.num)})
				}
			}
		default:
			wd, ok := weekdays[tk.fold]
			if !ok && (word(i-1) == "am" || word(i-1) == "von" || word(i-1) == "auf" || word(i-1) == "bis" || word(i-1) == "ab") {
				wd, ok = weekdayAbbrevs[tk.fold]
			}
			if !ok || word(i-1) == "ist" {
				continue // "es ist Freitag" tells the day, wishes none
			}
			out = append(out, dateCand{pos: pos, date: weekdayDate(today, wd, word(i-2), word(i-1), word(i+1), word(i+2))})
		}
	}
	return out
}

// weekdayDate resolves a weekday named with the words around it: "nächste Woche Dienstag",
// "Dienstag nächster Woche", "diesen Freitag", "seit Montag", "letzten Mittwoch".
func weekdayDate(today time.Time, wd time.Weekday, p2, p1, n1, n2 string) time.Time {
	monday := today.AddDate(0, 0, -((int(today.Weekday()) + 6) % 7))
	inWeek := func(weeks int) time.Time {
		return monday.AddDate(0, 0, 7*weeks+(int(wd)+6)%7)
	}
	switch {
	case p2 == "ubernachste" && p1 == "woche", n1 == "ubernachste" && n2 == "woche", n1 == "ubernachster" && n2 == "woche":
		return inWeek(2)
	case (p2 == "nachste" || p2 == "kommende") && p1 == "woche", (n1 == "nachste" || n1 == "nachster" || n1 == "kommende") && n2 == "woche":
		return inWeek(1)
	case p1 == "diese" && p2 == "", p2 == "diese" && p1 == "woche", p1 == "diesen", n1 == "diese" && n2 == "woche", n1 == "dieser" && n2 == "woche":
		return inWeek(0)
	case p1 == "seit" || p1 == "letzten" || p1 == "letztem" || p1 == "letzter" || p1 == "vergangenen" || p1 == "vorigen" || p1 == "letzte" || (p2 == "am" && p1 == "letzten") || p2 == "seit" && p1 == "letztem":
		d := today.AddDate(0, 0, -1)
		for d.Weekday() != wd {
			d = d.AddDate(0, 0, -1)
		}
		return d
	}
	d := today.AddDate(0, 0, 1)
	for d.Weekday() != wd {
		d = d.AddDate(0, 0, 1)
	}
	return d
}

// expandYear reads two-digit years as the latest year not after this one plus a little:
// 00–(yy) are 20xx, the rest 19xx.
func expandYear(y, thisYear int) int {
	if y >= 100 {
		return y
	}
	if y <= thisYear%100 {
		return 2000 + y
	}
	return 1900 + y
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

var (
	reClock     = regexp.MustCompile(`\b(\d{1,2}) : (\d{2})\b`)
	reClockUhr  = regexp.MustCompile(`\b(\d{1,2})\.? (?:uhr )?(\d{2}) uhr\b|\b(\d{1,2}) uhr(?: (\d{1,2})\b)?`)
	reHalf      = regexp.MustCompile(`\bhalb (\d{1,2})\b`)
	reQuarter   = regexp.MustCompile(`\b(viertel nach|viertel vor|dreiviertel|drei viertel|viertel) (\d{1,2})\b`)
	reMinutesTo = regexp.MustCompile(`\bum (\d{1,2}) (nach|vor) (\d{1,2})\b`)
	reAt        = regexp.MustCompile(`\b(?:um|gegen|ab) (\d{1,2})\b(?: uhr)?`)
)

// clock finds a clock time; a daypart said next to it shifts it ("halb acht abends"), and
// so do early hours ("um drei" is 15:00, as a practice opens by day).
func (t *text) clock(daypart string) string {
	type cand struct{ pos, end, h, m int }
	var cs []cand
	taken := make([]bool, len(t.canon)+1)
	try := func(re *regexp.Regexp, f func(m []int) (int, int, bool)) {
		for _, m := range re.FindAllStringSubmatchIndex(t.canon, -1) {
			free := true
			for i := m[0]; i < m[1]; i++ {
				free = free && !taken[i]
			}
			if !free {
				continue
			}
			if h, min, ok := f(m); ok && h >= 0 && h < 24 && min >= 0 && min < 60 {
				cs = append(cs, cand{m[0], m[1], h, min})
				for i := m[0]; i < m[1]; i++ {
					taken[i] = true
				}
			}
		}
	}
	g := func(m []int, n int) int {
		if m[2*n] < 0 {
			return -1
		}
		return atoi(t.canon[m[2*n]:m[2*n+1]])
	}
	try(reClock, func(m []int) (int, int, bool) { return g(m, 1), g(m, 2), true })
	try(reClockUhr, func(m []int) (int, int, bool) {
		if g(m, 1) >= 0 {
			return g(m, 1), g(m, 2), true
		}
		return g(m, 3), max(g(m, 4), 0), true
	})
	try(reMinutesTo, func(m []int) (int, int, bool) {
		n, h := g(m, 1), g(m, 3)
		if t.canon[m[4]:m[5]] == "nach" {
			return h, n, n < 30
		}
		return h - 1, 60 - n, n > 0 && n < 30
	})
	try(reQuarter, func(m []int) (int, int, bool) {
		h := g(m, 2)
		switch t.canon[m[2]:m[3]] {
		case "viertel nach":
			return h, 15, true
		case "viertel vor", "dreiviertel", "drei viertel":
			return h - 1, 45, true
		default: // "viertel zehn" is 9:15 in the south and east
			return h - 1, 15, true
		}
	})
	try(reHalf, func(m []int) (int, int, bool) { return g(m, 1) - 1, 30, true })
	try(reAt, func(m []int) (int, int, bool) {
		if raw := strings.ToLower(t.toks[t.tokenAt(m[2])].raw); strings.HasPrefix(raw, "ein") && raw != "eins" {
			return 0, 0, false // "um einen Termin", "es geht um eine Abrechnung"
		}
		next := t.canon[m[1]:]
		// "um 12. Dezember", "ab 3 Tagen" are no clock times
		if strings.HasPrefix(next, ".") || strings.HasPrefix(next, " tag") || strings.HasPrefix(next, " woche") {
			return 0, 0, false
		}
		return g(m, 1), 0, true
	})
	if len(cs) == 0 {
		return ""
	}
	best := cs[0]
	for _, c := range cs[1:] {
		if c.pos < best.pos {
			c, best = best, c
		}
		if reCorrection.MatchString(t.canon[best.pos:c.pos]) {
			best = c
		}
	}
	h := best.h
	if daypart != "" && !dayPartNear.MatchString(t.canon[max(0, best.pos-30):min(len(t.canon), best.end+16)]) {
		daypart = "elsewhere"
	}
	switch {
	case (daypart == "afternoon" || daypart == "evening") && h < 12:
		h += 12
	case daypart == "" && h >= 1 && h <= 6:
		h += 12
	}
	if h == 24 {
		h = 12
	}
	return fmt.Sprintf("%02d:%02d", h, best.m)
}

var dayPartNear = regexp.MustCompile(`\b(vormittag|morgens|fruh|nachmittag|abend|feierabend|arbeit|mittag)`)

// daypart finds a stated part of the day.
func (t *text) daypart() string {
	for i, tk := range t.toks {
		prev := ""
		if i > 0 {
			prev = t.toks[i-1].fold
		}
		switch tk.fold {
		case "vormittag", "vormittags", "morgens", "fruh", "fruhmorgens", "vormittagstermin":
			return "morning"
		case "morgen":
			if prev == "heute" || prev == "am" || prev == "gestern" {
				return "morning"
			}
		case "nachmittag", "nachmittags", "nachmittagstermin":
			return "afternoon"
		case "abend", "abends", "abendtermin", "feierabend":
			if tk.fold != "abend" || prev == "am" || prev == "heute" || prev == "morgen" || prev == "den" {
				return "evening"
			}
		case "arbeit":
			if prev == "der" && i > 1 && t.toks[i-2].fold == "nach" {
				return "evening"
			}
		}
	}
	return ""
}
