package vault

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// MasterKeys is the local master key set: the current key, which wraps, and older keys that
// still unwrap until Rotate has re-wrapped everything. It is configured as text of the form
// "ID:BASE64[,ID:BASE64 …]", current key first, from the TRESEN_MASTER_KEY environment
// variable or a file readable only by the service.
type MasterKeys struct {
	current string
	keys    map[string]cipher.AEAD
}

var keyIDRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// ParseMasterKeys parses a master key set.
func ParseMasterKeys(text string) (*MasterKeys, error) {
	mk := &MasterKeys{keys: map[string]cipher.AEAD{}}
	for i, part := range strings.Split(strings.TrimSpace(text), ",") {
		id, b64, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok || !keyIDRE.MatchString(id) {
			return nil, fmt.Errorf("master key %d: want ID:BASE64 with an ID of letters, digits, '.', '_' or '-'", i+1)
		}
		key, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(key) != KeySize {
			return nil, fmt.Errorf("master key %q: want %d bytes in standard base64", id, KeySize)
		}
		if _, dup := mk.keys[id]; dup {
			return nil, fmt.Errorf("master key %q given twice", id)
		}
		aead, err := newGCM(key)
		if err != nil {
			return nil, err
		}
		mk.keys[id] = aead
		if i == 0 {
			mk.current = id
		}
	}
	return mk, nil
}

// LoadMasterKeyFile reads a master key set from a file, refusing one that others may read.
func LoadMasterKeyFile(path string) (*MasterKeys, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("master key file %s is readable by others (mode %v); chmod 600 it", path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseMasterKeys(string(b))
}

// NewMasterKeyText returns a freshly generated master key set with one key.
func NewMasterKeyText(id string) string {
	key := make([]byte, KeySize)
	rand.Read(key)
	return id + ":" + base64.StdEncoding.EncodeToString(key)
}

// CreateMasterKeyFile writes a new master key file with mode 0600; it fails if one exists.
func CreateMasterKeyFile(path, id string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(NewMasterKeyText(id) + "\n"); err != nil {
		f.Close()
		return err
	}
	return errors.Join(f.Sync(), f.Close())
}

func (m *MasterKeys) KeyID() string { return m.current }

func (m *MasterKeys) Wrap(_ context.Context, key, aad []byte) ([]byte, error) {
	return seal(m.keys[m.current], key, aad), nil
}

func (m *MasterKeys) Unwrap(_ context.Context, keyID string, wrapped, aad []byte) ([]byte, error) {
	aead, ok := m.keys[keyID]
	if !ok {
		return nil, fmt.Errorf("%w %q", errUnknownKey, keyID)
	}
	return open(aead, wrapped, aad)
}
