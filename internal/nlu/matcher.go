package nlu

import (
	"regexp"
	"strings"
)

// matcher is a list of patterns over the folded canon, each anchored at a word start.
// Most patterns begin with a literal word part; a pattern is tried only when its literal
// occurs in the text, which keeps an utterance's analysis far below a millisecond although
// the lists hold hundreds of patterns.
type matcher []pattern

type pattern struct {
	literals []string // one of them occurs in every match; none known: always try
	midWord  bool     // the literals may stand inside a word ("\w*batterie")
	re       *regexp.Regexp
}

// newMatcher compiles patterns, folded like the text so that they may be written in plain
// German.
func newMatcher(patterns ...string) matcher {
	m := make(matcher, len(patterns))
	for i, p := range patterns {
		p = fold(p)
		m[i] = pattern{literals: leadingLiterals(p), midWord: strings.HasPrefix(p, `\w`) || strings.HasPrefix(p, "("), re: regexp.MustCompile(`\b(?:` + p + `)`)}
	}
	return m
}

// leadingLiterals returns texts of which every match of p contains one: the plain text p
// starts with, or the alternatives of its first group ("(druck|enge) auf der brust"),
// skipping what is optional. Nil when p starts otherwise.
func leadingLiterals(p string) []string {
	p = strings.TrimPrefix(strings.TrimPrefix(p, `\b`), `\w*`)
	for strings.HasPrefix(p, "(") {
		end := closingParen(p)
		if end < 0 {
			return nil
		}
		if end+1 < len(p) && (p[end+1] == '?' || p[end+1] == '*') {
			p = p[end+2:] // an optional group: what follows is required
			continue
		}
		var out []string
		for _, alt := range splitTop(p[1:end]) {
			lit := plainPrefix(alt)
			if len(lit) < 2 {
				return nil
			}
			out = append(out, lit)
		}
		return out
	}
	if lit := plainPrefix(p); len(lit) >= 2 {
		return []string{lit}
	}
	return nil
}

// plainPrefix is the text before the first regular-expression operator, less a last
// letter that the operator makes optional.
func plainPrefix(p string) string {
	end := strings.IndexAny(p, `\.+*?()|[]{}^$`)
	if end < 0 {
		return p
	}
	if end > 0 && strings.ContainsRune("?*{", rune(p[end])) {
		end--
	}
	return p[:end]
}

func closingParen(p string) int {
	depth := 0
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\\':
			i++
		case '(':
			depth++
		case ')':
			if depth--; depth == 0 {
				return i
			}
		}
	}
	return -1
}

// splitTop splits p at the | that are not inside parentheses.
func splitTop(p string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\\':
			i++
		case '(':
			depth++
		case ')':
			depth--
		case '|':
			if depth == 0 {
				out, start = append(out, p[start:i]), i+1
			}
		}
	}
	return append(out, p[start:])
}

// wordStarts is a set of the first two bytes of every word of a text: a literal whose first
// two bytes are not among them cannot occur at a word start, which rules out most patterns
// without searching the text.
type wordStarts [1 << 16 / 64]uint64

func newWordStarts(text string) *wordStarts {
	var ws wordStarts
	for i := 0; i+1 < len(text); i++ {
		if i == 0 || text[i-1] == ' ' {
			k := uint16(text[i])<<8 | uint16(text[i+1])
			ws[k/64] |= 1 << (k % 64)
		}
	}
	return &ws
}

func (ws *wordStarts) has(lit string) bool {
	k := uint16(lit[0])<<8 | uint16(lit[1])
	return ws[k/64]&(1<<(k%64)) != 0
}

// each calls fn with every match of every pattern, in pattern order; fn returns false to
// stop.
func (m matcher) each(text string, fn func(start, end int) bool) {
	ws := newWordStarts(text)
	for _, p := range m {
		if !p.possible(text, ws) {
			continue
		}
		for from := 0; from <= len(text); {
			loc := p.re.FindStringIndex(text[from:])
			if loc == nil {
				break
			}
			if !fn(loc[0]+from, loc[1]+from) {
				return
			}
			from += max(loc[1], loc[0]+1)
		}
	}
}

// first returns the earliest match for which ok holds, the longest of those that start
// there, or -1.
func (m matcher) first(text string, ok func(start, end int) bool) (int, int) {
	best, bestEnd := -1, -1
	m.each(text, func(s, e int) bool {
		if (best < 0 || s < best || s == best && e > bestEnd) && ok(s, e) {
			best, bestEnd = s, e
		}
		return true
	})
	return best, bestEnd
}

// match reports whether any pattern matches.
func (m matcher) match(text string) bool {
	found := false
	m.each(text, func(int, int) bool { found = true; return false })
	return found
}

// possible reports whether p can match text: one of its literals occurs at a word start.
func (p pattern) possible(text string, ws *wordStarts) bool {
	if p.literals == nil {
		return true
	}
	for _, l := range p.literals {
		if (p.midWord || ws.has(l)) && strings.Contains(text, l) {
			return true
		}
	}
	return false
}
