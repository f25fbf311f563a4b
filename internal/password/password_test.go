package password

import (
	"strings"
	"testing"
)

func testHasher(tb testing.TB, pepper string) *Hasher {
	tb.Helper()
	h, err := NewHasher([]byte(pepper), Params{Memory: 1024, Time: 1, Threads: 1})
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

func TestHashVerify(t *testing.T) {
	h := testHasher(t, "pepper-0123456789")
	enc, err := h.Hash("Kaffeetasse-Mittwoch")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Errorf("hash %q lacks PHC prefix", enc)
	}
	if ok, err := h.Verify("Kaffeetasse-Mittwoch", enc); !ok || err != nil {
		t.Errorf("Verify(right) = %v, %v", ok, err)
	}
	if ok, _ := h.Verify("Kaffeetasse-Mittwoch!", enc); ok {
		t.Error("Verify(wrong) = true")
	}
	if ok, _ := testHasher(t, "other-pepper-0123").Verify("Kaffeetasse-Mittwoch", enc); ok {
		t.Error("hash verified under another pepper")
	}
	enc2, _ := h.Hash("Kaffeetasse-Mittwoch")
	if enc == enc2 {
		t.Error("two hashes of one password are equal: salt missing")
	}
}

func TestVerifyRejectsGarbage(t *testing.T) {
	h := testHasher(t, "pepper-0123456789")
	for _, enc := range []string{"", "$argon2i$v=19$m=1,t=1,p=1$AA$AA", "$argon2id$v=19$m=99999999,t=1,p=1$AAAA$AAAA", "$argon2id$v=19$m=1024,t=1,p=1$!!$AAAA"} {
		if ok, err := h.Verify("x", enc); ok || err == nil {
			t.Errorf("Verify(%q) = %v, %v; want error", enc, ok, err)
		}
	}
}

func FuzzVerify(f *testing.F) {
	h := testHasher(f, "pepper-0123456789")
	enc, _ := h.Hash("Kaffeetasse")
	f.Add(enc)
	f.Fuzz(func(t *testing.T, enc string) {
		h.Verify("Kaffeetasse", enc) // must not panic or exhaust memory
	})
}
