// Package password hashes and verifies passwords with argon2id, a per-password salt and a
// server-side pepper that never lies in the database.
package password

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are the argon2id cost parameters, recorded in every hash so they can be raised
// later without invalidating stored hashes.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// Default follows the OWASP recommendation's stronger end for a server login.
var Default = Params{Memory: 64 * 1024, Time: 2, Threads: 2}

// Hasher hashes with a pepper: the password is first keyed with HMAC-SHA256 under the
// pepper, so a stolen database alone does not allow offline guessing.
type Hasher struct {
	pepper []byte
	params Params
}

// NewHasher returns a hasher; the pepper must be at least 16 bytes.
func NewHasher(pepper []byte, p Params) (*Hasher, error) {
	if len(pepper) < 16 {
		return nil, errors.New("password: pepper shorter than 16 bytes")
	}
	return &Hasher{pepper: pepper, params: p}, nil
}

func (h *Hasher) prehash(pw string) []byte {
	m := hmac.New(sha256.New, h.pepper)
	m.Write([]byte(pw))
	return m.Sum(nil)
}

// Hash returns an encoded argon2id hash in the PHC string format.
func (h *Hasher) Hash(pw string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	p := h.params
	key := argon2.IDKey(h.prehash(pw), salt, p.Time, p.Memory, p.Threads, 32)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify reports whether pw matches the encoded hash.
func (h *Hasher) Verify(pw, encoded string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errors.New("password: unknown hash format")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errors.New("password: unsupported argon2 version")
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return false, fmt.Errorf("password: bad parameters: %w", err)
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, fmt.Errorf("password: bad salt: %w", err)
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, errors.New("password: bad hash")
	}
	// argon2 panics on zero passes; the bounds keep a damaged or planted hash from
	// costing the server more than a real one.
	if p.Memory > 1<<18 || p.Time == 0 || p.Time > 10 || p.Threads == 0 || len(want) > 64 {
		return false, errors.New("password: parameters out of range")
	}
	got := argon2.IDKey(h.prehash(pw), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}
