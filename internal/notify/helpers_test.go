package notify_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// component is a parsed iCalendar component (VCALENDAR, VEVENT …).
type component struct {
	Name  string
	Props []prop
	Subs  []*component
}

// prop is a content line: NAME;PARAM=V:VALUE, the value still escaped.
type prop struct {
	Name   string
	Params map[string]string
	Value  string
}

// Get returns the raw value of the first property called name.
func (c *component) Get(name string) string {
	for _, p := range c.Props {
		if p.Name == name {
			return p.Value
		}
	}
	return ""
}

// Text returns the first property called name as unescaped TEXT.
func (c *component) Text(name string) string { return unescape(c.Get(name)) }

func (c *component) Has(name string) bool {
	for _, p := range c.Props {
		if p.Name == name {
			return true
		}
	}
	return false
}

// physicalLines splits an iCalendar stream into its physical lines, checking that each
// ends with CRLF, is at most 75 octets and is valid UTF-8 on its own.
func physicalLines(tb testing.TB, b []byte) []string {
	tb.Helper()
	s := string(b)
	if !strings.HasSuffix(s, "\r\n") {
		tb.Fatalf("does not end with CRLF: %q", s)
	}
	lines := strings.Split(strings.TrimSuffix(s, "\r\n"), "\r\n")
	for i, l := range lines {
		switch {
		case len(l) > 75:
			tb.Errorf("line %d has %d octets: %q", i+1, len(l), l)
		case !utf8.ValidString(l):
			tb.Errorf("line %d is not valid UTF-8: %q", i+1, l)
		case strings.ContainsAny(l, "\r\n"):
			tb.Errorf("line %d has a bare CR or LF: %q", i+1, l)
		}
	}
	return lines
}

// unfold joins folded lines (RFC 5545 §3.1): CRLF followed by a space or tab is removed.
func unfold(b []byte) []string {
	s := strings.NewReplacer("\r\n ", "", "\r\n\t", "").Replace(string(b))
	return strings.Split(strings.TrimSuffix(s, "\r\n"), "\r\n")
}

// mustParseICS parses an iCalendar object the way a small RFC 5545 reader would.
func mustParseICS(tb testing.TB, b []byte) *component {
	tb.Helper()
	physicalLines(tb, b)
	var stack []*component
	var root *component
	for _, line := range unfold(b) {
		p, err := parseLine(line)
		if err != nil {
			tb.Fatalf("%v in %q", err, line)
		}
		switch p.Name {
		case "BEGIN":
			c := &component{Name: p.Value}
			if len(stack) > 0 {
				top := stack[len(stack)-1]
				top.Subs = append(top.Subs, c)
			} else if root == nil {
				root = c
			} else {
				tb.Fatalf("second top-level component %s", p.Value)
			}
			stack = append(stack, c)
		case "END":
			if len(stack) == 0 || stack[len(stack)-1].Name != p.Value {
				tb.Fatalf("END:%s does not close the open component", p.Value)
			}
			stack = stack[:len(stack)-1]
		default:
			if len(stack) == 0 {
				tb.Fatalf("property outside a component: %q", line)
			}
			top := stack[len(stack)-1]
			top.Props = append(top.Props, p)
		}
	}
	if root == nil || len(stack) != 0 {
		tb.Fatalf("unbalanced components")
	}
	return root
}

// parseLine splits a content line into name, parameters and value; the value starts after
// the first colon outside a quoted parameter value.
func parseLine(line string) (prop, error) {
	p := prop{Params: map[string]string{}}
	i := strings.IndexAny(line, ";:")
	if i <= 0 {
		return p, errors.New("no name")
	}
	p.Name = strings.ToUpper(line[:i])
	for line[i] == ';' {
		rest := line[i+1:]
		eq := strings.IndexByte(rest, '=')
		if eq <= 0 {
			return p, errors.New("parameter without =")
		}
		name, rest := strings.ToUpper(rest[:eq]), rest[eq+1:]
		var value string
		var n int
		if strings.HasPrefix(rest, `"`) {
			end := strings.IndexByte(rest[1:], '"')
			if end < 0 {
				return p, errors.New("unterminated quote")
			}
			value, n = rest[1:end+1], end+2
		} else {
			n = strings.IndexAny(rest, ";:")
			if n < 0 {
				return p, errors.New("no value")
			}
			value = rest[:n]
		}
		p.Params[name] = value
		i += 1 + eq + 1 + n
		if i >= len(line) {
			return p, errors.New("no value")
		}
	}
	p.Value = line[i+1:]
	return p, nil
}

// unescape reads a TEXT value (RFC 5545 §3.3.11).
func unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case 'n', 'N':
			b.WriteByte('\n')
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
