// Package vault encrypts personal and health data at rest. Each tenant has its own data key
// (AES-256-GCM); data keys are stored only wrapped by a master key (or an external KMS) and
// kept in a keyring apart from the data, so that destroying a tenant's key makes all of its
// data unreadable at once, in backups too (crypto-shredding).
package vault

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tresen/tresen/internal/errs"
)

// KeySize is the size of data and master keys: AES-256.
const KeySize = 32

// KeyWrapper wraps and unwraps data keys. MasterKeys implements it locally; an external KMS
// (Vault Transit, a cloud KMS, an HSM) can implement it instead.
type KeyWrapper interface {
	// KeyID names the key that Wrap uses now.
	KeyID() string
	Wrap(ctx context.Context, key, aad []byte) ([]byte, error)
	// Unwrap opens a key wrapped by the key named keyID, which may be an older one.
	Unwrap(ctx context.Context, keyID string, wrapped, aad []byte) ([]byte, error)
}

// WrappedKey is a tenant's data key as the keyring stores it.
type WrappedKey struct {
	TenantID    string
	MasterKeyID string
	Wrapped     []byte
	CreatedAt   time.Time
}

// Keyring stores wrapped data keys, apart from the data they protect: backups of the data
// never contain them. GetKey returns an errs.NotFound error for a shredded key.
type Keyring interface {
	GetKey(ctx context.Context, tenantID string) (WrappedKey, error)
	PutKey(ctx context.Context, k WrappedKey) error
	DeleteKey(ctx context.Context, tenantID string) error
	ListKeys(ctx context.Context) ([]WrappedKey, error)
}

// Vault hands out the cipher of each tenant, unwrapping its data key on first use.
type Vault struct {
	wrapper KeyWrapper
	ring    Keyring
	now     func() time.Time

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	c      *Cipher
	loaded time.Time
}

// cacheTTL bounds how long a node keeps an unwrapped key after another node shredded it.
const cacheTTL = time.Minute

// New returns a vault over a key wrapper and a keyring.
func New(w KeyWrapper, ring Keyring) *Vault {
	return &Vault{wrapper: w, ring: ring, now: time.Now, cache: map[string]cached{}}
}

func keyAAD(tenantID string) []byte { return []byte("tresen-data-key|" + tenantID) }

// CreateKey makes a new data key for a tenant and stores it wrapped.
func (v *Vault) CreateKey(ctx context.Context, tenantID string) error {
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return err
	}
	wrapped, err := v.wrapper.Wrap(ctx, key, keyAAD(tenantID))
	if err != nil {
		return fmt.Errorf("wrap data key: %w", err)
	}
	return v.ring.PutKey(ctx, WrappedKey{TenantID: tenantID, MasterKeyID: v.wrapper.KeyID(), Wrapped: wrapped, CreatedAt: v.now()})
}

// Cipher returns the cipher for a tenant's data.
func (v *Vault) Cipher(ctx context.Context, tenantID string) (*Cipher, error) {
	v.mu.Lock()
	c, ok := v.cache[tenantID]
	v.mu.Unlock()
	if ok && v.now().Sub(c.loaded) < cacheTTL {
		return c.c, nil
	}
	wk, err := v.ring.GetKey(ctx, tenantID)
	if err != nil {
		return nil, fmt.Errorf("data key of tenant %s: %w", tenantID, err)
	}
	key, err := v.wrapper.Unwrap(ctx, wk.MasterKeyID, wk.Wrapped, keyAAD(tenantID))
	if err != nil {
		return nil, fmt.Errorf("unwrap data key of tenant %s: %w", tenantID, err)
	}
	cph, err := NewCipher(key)
	if err != nil {
		return nil, err
	}
	v.mu.Lock()
	v.cache[tenantID] = cached{cph, v.now()}
	v.mu.Unlock()
	return cph, nil
}

// Shred destroys a tenant's data key. Everything encrypted under it, wherever copies of it
// lie, can no longer be read.
func (v *Vault) Shred(ctx context.Context, tenantID string) error {
	v.mu.Lock()
	delete(v.cache, tenantID)
	v.mu.Unlock()
	return v.ring.DeleteKey(ctx, tenantID)
}

// Rotate re-wraps every data key under the wrapper's current master key and returns how
// many keys it re-wrapped. The data itself is untouched; afterwards older master keys can be
// retired.
func (v *Vault) Rotate(ctx context.Context) (int, error) {
	keys, err := v.ring.ListKeys(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, wk := range keys {
		if wk.MasterKeyID == v.wrapper.KeyID() {
			continue
		}
		key, err := v.wrapper.Unwrap(ctx, wk.MasterKeyID, wk.Wrapped, keyAAD(wk.TenantID))
		if err != nil {
			return n, fmt.Errorf("unwrap data key of tenant %s: %w", wk.TenantID, err)
		}
		wrapped, err := v.wrapper.Wrap(ctx, key, keyAAD(wk.TenantID))
		if err != nil {
			return n, err
		}
		wk.MasterKeyID, wk.Wrapped = v.wrapper.KeyID(), wrapped
		if err := v.ring.PutKey(ctx, wk); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// Cipher encrypts and decrypts one tenant's data.
type Cipher struct {
	aead     cipher.AEAD
	indexKey []byte
}

// NewCipher returns a cipher for a 32-byte data key.
func NewCipher(key []byte) (*Cipher, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("vault: key must be %d bytes, got %d", KeySize, len(key))
	}
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	ik, err := hkdf.Key(sha256.New, key, nil, "tresen blind index", 32)
	if err != nil {
		return nil, err
	}
	return &Cipher{aead: aead, indexKey: ik}, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

const formatV1 = 1

// Seal encrypts plaintext. aad binds the ciphertext to where it belongs (tenant, table,
// column, row), so that it cannot be moved elsewhere unnoticed.
func (c *Cipher) Seal(plaintext, aad []byte) []byte {
	return seal(c.aead, plaintext, aad)
}

// Open decrypts what Seal produced under the same aad.
func (c *Cipher) Open(sealed, aad []byte) ([]byte, error) {
	return open(c.aead, sealed, aad)
}

// SealString and OpenString are Seal and Open for text.
func (c *Cipher) SealString(s string, aad string) []byte { return c.Seal([]byte(s), []byte(aad)) }

func (c *Cipher) OpenString(sealed []byte, aad string) (string, error) {
	b, err := c.Open(sealed, []byte(aad))
	return string(b), err
}

// Index returns a blind index of s: a keyed hash that lets the store find equal values
// without storing them readable.
func (c *Cipher) Index(s string) string {
	m := hmac.New(sha256.New, c.indexKey)
	m.Write([]byte(s))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// ErrDecrypt is returned for ciphertext that was altered, is bound to other data or was
// sealed under another key.
var ErrDecrypt = errs.E(errs.Internal, "entschlüsseln fehlgeschlagen")

func seal(aead cipher.AEAD, plaintext, aad []byte) []byte {
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(plaintext)+aead.Overhead())
	out[0] = formatV1
	if _, err := rand.Read(out[1:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return aead.Seal(out, out[1:], plaintext, aad)
}

func open(aead cipher.AEAD, sealed, aad []byte) ([]byte, error) {
	ns := aead.NonceSize()
	if len(sealed) < 1+ns+aead.Overhead() || sealed[0] != formatV1 {
		return nil, ErrDecrypt
	}
	pt, err := aead.Open(nil, sealed[1:1+ns], sealed[1+ns:], aad)
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}

// errUnknownKey is returned when a wrapped key names a master key that is not configured.
var errUnknownKey = errors.New("vault: unknown master key")
