package user

import (
	_ "embed"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tresen/tresen/internal/errs"
)

// Password policy.
const (
	MinPasswordLen  = 10
	MaxPasswordLen  = 128
	PasswordHistory = 5 // the last so many passwords may not be used again
)

//go:embed blocklist.txt
var blocklistText string

// blocklist holds common passwords, German ones included, lower-cased.
var blocklist = func() map[string]bool {
	m := make(map[string]bool)
	for line := range strings.Lines(blocklistText) {
		if w := strings.TrimSpace(line); w != "" && !strings.HasPrefix(w, "#") {
			m[strings.ToLower(w)] = true
		}
	}
	return m
}()

// keyboardRows are sequences whose runs make trivial passwords (German and US layouts).
var keyboardRows = []string{
	"1234567890", "0987654321", "abcdefghijklmnopqrstuvwxyz", "zyxwvutsrqponmlkjihgfedcba",
	"qwertzuiopü", "qwertyuiop", "asdfghjklöä", "asdfghjkl", "yxcvbnm", "zxcvbnm",
}

// CheckPassword applies the password policy. context holds words the password must not
// contain, such as the user name or the tenant's name.
func CheckPassword(pw string, context ...string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case !utf8.ValidString(pw):
		return errs.Field("password", "das Passwort enthält ungültige Zeichen")
	case n < MinPasswordLen:
		return errs.Field("password", "das Passwort muss mindestens %d Zeichen lang sein", MinPasswordLen)
	case n > MaxPasswordLen:
		return errs.Field("password", "das Passwort darf höchstens %d Zeichen lang sein", MaxPasswordLen)
	}
	lower := strings.ToLower(pw)
	if distinct(lower) < 4 {
		return errs.Field("password", "das Passwort ist zu einfach: es besteht aus zu wenigen verschiedenen Zeichen")
	}
	for _, row := range keyboardRows {
		if isRun(lower, row) {
			return errs.Field("password", "das Passwort ist zu einfach: eine Tastatur- oder Zahlenfolge")
		}
	}
	if blocklist[lower] || blocklist[core(lower)] {
		return errs.Field("password", "das Passwort steht auf der Liste häufig verwendeter Passwörter")
	}
	for _, w := range context {
		w = strings.ToLower(strings.TrimSpace(w))
		if utf8.RuneCountInString(w) >= 4 && strings.Contains(lower, w) {
			return errs.Field("password", "das Passwort darf den Benutzernamen oder den Namen der Praxis/Apotheke nicht enthalten")
		}
	}
	return nil
}

// core strips digits, punctuation and spaces at both ends ("Passwort2024!" → "passwort"),
// so that a common word with a year or a symbol attached is still recognised.
func core(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return !unicode.IsLetter(r) })
}

func distinct(s string) int {
	seen := map[rune]bool{}
	for _, r := range s {
		seen[r] = true
	}
	return len(seen)
}

// isRun reports whether s, after stripping what is not in row, is a contiguous part of row
// repeated (e.g. "1234567890", "qwertzuiop", "abcabcabca").
func isRun(s, row string) bool {
	if !strings.Contains(row, s[:min(len(s), 3)]) {
		return false
	}
	for i := 0; i+3 <= len(s); i++ {
		if !strings.Contains(row, s[i:i+3]) {
			return false
		}
	}
	return true
}
