package blob

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tresen/tresen/internal/errs"
)

func TestDir(t *testing.T) {
	ctx := context.Background()
	d, err := NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Put(ctx, "t1/a.bin", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := d.Put(ctx, "t2/b.bin", []byte("y")); err != nil {
		t.Fatal(err)
	}
	if b, err := d.Get(ctx, "t1/a.bin"); err != nil || string(b) != "x" {
		t.Fatalf("Get = %q, %v", b, err)
	}
	var keys []string
	d.Walk(ctx, func(k string) error { keys = append(keys, k); return nil })
	if diff := cmp.Diff([]string{"t1/a.bin", "t2/b.bin"}, keys); diff != "" {
		t.Errorf("Walk (-want +got):\n%s", diff)
	}
	if err := d.Delete(ctx, "t1/a.bin"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Get(ctx, "t1/a.bin"); !errs.Is(err, errs.NotFound) {
		t.Errorf("Get after Delete: %v", err)
	}
	for _, bad := range []string{"../x/y", "t1/../../etc", "a", "/abs/x", "t1/.."} {
		if err := d.Put(ctx, bad, nil); err == nil {
			t.Errorf("Put(%q) accepted", bad)
		}
	}
}
