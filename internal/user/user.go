// Package user defines the people who log in to Tresen, their roles and the rules their
// passwords and logins follow (policy, lockout). It does no I/O; the store persists users and
// the password package hashes.
package user

import (
	"crypto/rand"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tresen/tresen/internal/errs"
)

// Role decides what a user may do within their tenant.
type Role string

const (
	Owner    Role = "owner"    // manages users, settings, support grants; sees the audit log
	Staff    Role = "staff"    // works with the tenant's data
	ReadOnly Role = "readonly" // sees, changes nothing
	// Support belongs to the operator, not to a tenant; it reaches a tenant's data only
	// through a time-limited grant given by that tenant's owner, read-only, every use audited.
	Support Role = "support"
)

// ParseRole validates a role given as text.
func ParseRole(s string) (Role, error) {
	switch r := Role(strings.TrimSpace(s)); r {
	case Owner, Staff, ReadOnly, Support:
		return r, nil
	}
	return "", errs.Field("role", "unbekannte Rolle %q (erlaubt: owner, staff, readonly, support)", s)
}

// Label is the German name of the role.
func (r Role) Label() string {
	switch r {
	case Owner:
		return "Inhaber/in"
	case Staff:
		return "Team"
	case ReadOnly:
		return "Nur lesen"
	case Support:
		return "Support"
	}
	return string(r)
}

// CanWrite reports whether the role may create, change or delete tenant data.
func (r Role) CanWrite() bool { return r == Owner || r == Staff }

// CanAdminister reports whether the role may manage users, retention, support grants and
// read the audit log.
func (r Role) CanAdminister() bool { return r == Owner }

// User is an account. Name is the person's display name: personal data, stored encrypted.
// Username is the login, chosen by the tenant; it should not be a person's full name.
type User struct {
	ID          string
	TenantID    string // empty for support users, who belong to the operator
	Username    string
	Name        string
	Role        Role
	TOTPEnabled bool
	// MustChangePassword is set for an account created with a password someone else chose:
	// its first login leads to the password change and nowhere else.
	MustChangePassword bool
	FailedLogins       int
	LockedUntil        time.Time
	CreatedAt          time.Time
}

var usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{2,63}$`)

// ValidateUsername checks a login name: 3 to 64 characters, lower-case letters, digits, dot,
// dash and underscore, beginning with a letter or digit.
func ValidateUsername(s string) error {
	switch {
	case s == "":
		return errs.Field("username", "der Benutzername fehlt")
	case !usernameRE.MatchString(s):
		return errs.Field("username", "der Benutzername muss 3 bis 64 Zeichen lang sein und darf nur Kleinbuchstaben, Ziffern, Punkt, Binde- und Unterstrich enthalten")
	}
	return nil
}

// Validate checks a user before it is created.
func (u *User) Validate() error {
	if err := ValidateUsername(u.Username); err != nil {
		return err
	}
	if _, err := ParseRole(string(u.Role)); err != nil {
		return err
	}
	if (u.Role == Support) != (u.TenantID == "") {
		return errs.Field("role", "Support-Konten gehören zum Betreiber, alle anderen Rollen zu einem Mandanten")
	}
	name := strings.TrimSpace(u.Name)
	if name == "" {
		return errs.Field("name", "der Name fehlt")
	}
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > 200 {
		return errs.Field("name", "der Name ist ungültig oder länger als 200 Zeichen")
	}
	return nil
}

// Lockout: after MaxFailedLogins failed attempts in a row an account is locked, first for
// FirstLockout, then twice as long for every further failure, at most MaxLockout.
const (
	MaxFailedLogins = 5
	FirstLockout    = time.Minute
	MaxLockout      = time.Hour
)

// LockoutAfter returns how long an account stays locked after its n-th failed login in a
// row; zero while n is below MaxFailedLogins.
func LockoutAfter(n int) time.Duration {
	if n < MaxFailedLogins {
		return 0
	}
	d := FirstLockout
	for i := MaxFailedLogins; i < n && d < MaxLockout; i++ {
		d *= 2
	}
	return min(d, MaxLockout)
}

// Session lifetimes.
const (
	IdleTimeout     = 15 * time.Minute
	AbsoluteTimeout = 12 * time.Hour
	ResetTokenTTL   = time.Hour
)

// GeneratePassword returns a random password that passes the policy: 80 bits, as four
// groups of four base32 characters, for first logins and the demo.
func GeneratePassword() string {
	t := rand.Text()
	return t[0:4] + "-" + t[4:8] + "-" + t[8:12] + "-" + t[12:16]
}
