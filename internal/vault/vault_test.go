package vault

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/tresen/tresen/internal/errs"
)

// memRing is an in-memory keyring for the vault's own tests; the store's keyring is tested
// against real databases in the store package.
type memRing struct {
	mu   sync.Mutex
	keys map[string]WrappedKey
}

func (r *memRing) GetKey(_ context.Context, id string) (WrappedKey, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k, ok := r.keys[id]
	if !ok {
		return k, errs.E(errs.NotFound, "kein Schlüssel")
	}
	return k, nil
}
func (r *memRing) PutKey(_ context.Context, k WrappedKey) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.keys[k.TenantID] = k
	return nil
}
func (r *memRing) DeleteKey(_ context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.keys, id)
	return nil
}
func (r *memRing) ListKeys(context.Context) ([]WrappedKey, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []WrappedKey
	for _, k := range r.keys {
		out = append(out, k)
	}
	return out, nil
}

func mustMaster(tb testing.TB, text string) *MasterKeys {
	tb.Helper()
	mk, err := ParseMasterKeys(text)
	if err != nil {
		tb.Fatal(err)
	}
	return mk
}

func TestSealOpen(t *testing.T) {
	ctx := context.Background()
	ring := &memRing{keys: map[string]WrappedKey{}}
	v := New(mustMaster(t, NewMasterKeyText("k1")), ring)
	for _, id := range []string{"A", "B"} {
		if err := v.CreateKey(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	a, _ := v.Cipher(ctx, "A")
	b, _ := v.Cipher(ctx, "B")
	sealed := a.SealString("Erika Mustermann", "persons.name|p1")
	if bytes.Contains(sealed, []byte("Erika")) {
		t.Fatal("plaintext visible in ciphertext")
	}
	if got, err := a.OpenString(sealed, "persons.name|p1"); err != nil || got != "Erika Mustermann" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := a.OpenString(sealed, "persons.name|p2"); !errors.Is(err, ErrDecrypt) {
		t.Errorf("opened under other aad: %v", err)
	}
	if _, err := b.OpenString(sealed, "persons.name|p1"); !errors.Is(err, ErrDecrypt) {
		t.Errorf("tenant B opened tenant A's data: %v", err)
	}
	if first, again := a.Index("x"), a.Index("x"); first == b.Index("x") || first != again {
		t.Error("blind index must be stable per tenant and differ between tenants")
	}
	if err := v.Shred(ctx, "A"); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Cipher(ctx, "A"); !errs.Is(err, errs.NotFound) {
		t.Errorf("cipher of shredded tenant: %v", err)
	}
}

func TestRotate(t *testing.T) {
	ctx := context.Background()
	ring := &memRing{keys: map[string]WrappedKey{}}
	old := NewMasterKeyText("old")
	v1 := New(mustMaster(t, old), ring)
	v1.CreateKey(ctx, "A")
	c1, _ := v1.Cipher(ctx, "A")
	sealed := c1.SealString("Max Mustermann", "aad")

	newText := NewMasterKeyText("new")
	v2 := New(mustMaster(t, newText+","+old), ring)
	if n, err := v2.Rotate(ctx); n != 1 || err != nil {
		t.Fatalf("Rotate = %d, %v", n, err)
	}
	if ring.keys["A"].MasterKeyID != "new" {
		t.Fatalf("key still wrapped by %s", ring.keys["A"].MasterKeyID)
	}
	if _, err := New(mustMaster(t, NewMasterKeyText("new")), ring).Cipher(ctx, "A"); err == nil {
		t.Error("unwrapped with an unrelated master key of the same id")
	}
	// Only the new master key is needed from now on.
	c2, err := New(mustMaster(t, newText), ring).Cipher(ctx, "A")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c2.OpenString(sealed, "aad"); err != nil || got != "Max Mustermann" {
		t.Fatalf("after rotation: %q, %v", got, err)
	}
}

func TestParseMasterKeys(t *testing.T) {
	for _, bad := range []string{"", "nokey", "k1:AAAA", "k 1:" + NewMasterKeyText("x")[2:], NewMasterKeyText("a") + "," + NewMasterKeyText("a")} {
		if _, err := ParseMasterKeys(bad); err == nil {
			t.Errorf("ParseMasterKeys(%q) accepted", bad)
		}
	}
}

func FuzzOpen(f *testing.F) {
	c, _ := NewCipher(make([]byte, KeySize))
	f.Add(c.Seal([]byte("x"), nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		// Random bytes never authenticate; the call must fail cleanly, not panic.
		if _, err := c.Open(b, nil); err == nil && len(b) < 1+12+16 {
			t.Fatalf("opened %d bytes, shorter than nonce and tag", len(b))
		}
	})
}

func FuzzParseMasterKeys(f *testing.F) {
	f.Add(NewMasterKeyText("k1"))
	f.Add(NewMasterKeyText("a") + "," + NewMasterKeyText("b"))
	f.Add("k1:")
	f.Fuzz(func(t *testing.T, text string) {
		mk, err := ParseMasterKeys(text)
		if err != nil {
			return
		}
		// An accepted key set wraps and unwraps with its current key.
		w, err := mk.Wrap(context.Background(), []byte("data key"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := mk.Unwrap(context.Background(), mk.KeyID(), w, nil); err != nil || string(got) != "data key" {
			t.Fatalf("round trip: %q, %v", got, err)
		}
	})
}
