package user

import (
	"strings"
	"testing"
	"time"

	"github.com/tresen/tresen/internal/errs"
)

func TestCheckPassword(t *testing.T) {
	good := []string{"Kaffeetasse-Mittwoch", "bunte Kreide am See", "Zq7!mK2#pL9x", "sommerwiese2024!"}
	for _, pw := range good {
		if err := CheckPassword(pw, "praxis.team"); err != nil {
			t.Errorf("CheckPassword(%q) = %v, want nil", pw, err)
		}
	}
	bad := map[string]string{
		"kurz":                 "mindestens 10 Zeichen",
		"aaaaaaaaaaaa":         "zu wenigen verschiedenen Zeichen",
		"abababababab":         "zu wenigen verschiedenen Zeichen",
		"1234567890":           "Tastatur- oder Zahlenfolge",
		"qwertzuiopü":          "Tastatur- oder Zahlenfolge",
		"Passwort2024!":        "häufig verwendeter Passwörter",
		"Fußball1234":          "häufig verwendeter Passwörter",
		"ICHLIEBEDICH":         "häufig verwendeter Passwörter",
		"!!Schmetterling!!":    "häufig verwendeter Passwörter",
		"meinpraxis.teamkonto": "Benutzernamen",
	}
	for pw, want := range bad {
		err := CheckPassword(pw, "praxis.team")
		if err == nil || !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckPassword(%q) = %v, want error containing %q", pw, err, want)
		}
	}
}

func TestLockoutAfter(t *testing.T) {
	want := map[int]time.Duration{1: 0, 4: 0, 5: time.Minute, 6: 2 * time.Minute, 7: 4 * time.Minute, 11: 64 * time.Minute, 50: time.Hour}
	for n, d := range want {
		if got := LockoutAfter(n); got != min(d, MaxLockout) {
			t.Errorf("LockoutAfter(%d) = %v, want %v", n, got, min(d, MaxLockout))
		}
	}
}

func TestValidateUsername(t *testing.T) {
	for _, ok := range []string{"praxis.team", "abc", "a1_b-c.d"} {
		if err := ValidateUsername(ok); err != nil {
			t.Errorf("ValidateUsername(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "ab", "Praxis", ".team", "ä-team", "a b c"} {
		if err := ValidateUsername(bad); !errs.Is(err, errs.Invalid) {
			t.Errorf("ValidateUsername(%q) = %v, want Invalid", bad, err)
		}
	}
}

func TestUserValidate(t *testing.T) {
	u := User{TenantID: "t1", Username: "praxis.team", Name: "Max Mustermann", Role: Staff}
	if err := u.Validate(); err != nil {
		t.Fatal(err)
	}
	u.Role = Support
	if err := u.Validate(); !errs.Is(err, errs.Invalid) {
		t.Errorf("support user with tenant accepted")
	}
}

func FuzzCheckPassword(f *testing.F) {
	for _, s := range []string{"Kaffeetasse-Mittwoch", "passwort", "", "\xff\xfe", "1234567890"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, pw string) {
		if err := CheckPassword(pw, "user.name"); err == nil {
			if n := len([]rune(pw)); n < MinPasswordLen || n > MaxPasswordLen {
				t.Fatalf("accepted password of %d runes", n)
			}
		} else if !errs.Is(err, errs.Invalid) {
			t.Fatalf("wrong error kind: %v", err)
		}
	})
}

func FuzzValidateUsername(f *testing.F) {
	f.Add("praxis.team")
	f.Fuzz(func(t *testing.T, s string) {
		if err := ValidateUsername(s); err == nil && (len(s) < 3 || len(s) > 64) {
			t.Fatalf("accepted %q", s)
		}
	})
}
