// Package blob stores files (call audio, prescription images) by key. Callers encrypt before
// Put; the store only keeps bytes. Dir keeps them in a local directory; an S3-compatible
// object store can implement Store for deployments with several nodes.
package blob

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"

	"github.com/tresen/tresen/internal/errs"
)

// Store keeps immutable blobs by key. Get of a missing key returns an errs.NotFound error;
// Delete of a missing key succeeds.
type Store interface {
	Put(ctx context.Context, key string, data []byte) error
	Get(ctx context.Context, key string) ([]byte, error)
	Delete(ctx context.Context, key string) error
	// Walk calls fn for every stored key.
	Walk(ctx context.Context, fn func(key string) error) error
}

// keyRE allows keys of the form TENANT/ID: path-safe, no traversal.
var keyRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}/[A-Za-z0-9_.-]{1,128}$`)

// ValidKey reports whether key is acceptable as a blob key.
func ValidKey(key string) bool { return keyRE.MatchString(key) && filepath.Base(key) != ".." }

// Dir is a Store in a local directory, one file per blob, written atomically.
type Dir struct{ root string }

// NewDir returns a store rooted at dir, creating it with mode 0700.
func NewDir(dir string) (*Dir, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	return &Dir{root: dir}, nil
}

func (d *Dir) path(key string) (string, error) {
	if !ValidKey(key) {
		return "", fmt.Errorf("blob: invalid key %q", key)
	}
	return filepath.Join(d.root, filepath.FromSlash(key)), nil
}

func (d *Dir) Put(_ context.Context, key string, data []byte) error {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), p)
}

func (d *Dir) Get(_ context.Context, key string) ([]byte, error) {
	p, err := d.path(key)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errs.E(errs.NotFound, "Datei nicht gefunden")
	}
	return b, err
}

func (d *Dir) Delete(_ context.Context, key string) error {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

func (d *Dir) Walk(ctx context.Context, fn func(key string) error) error {
	return filepath.WalkDir(d.root, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || filepath.Base(p)[0] == '.' {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(d.root, p)
		if err != nil {
			return err
		}
		return fn(filepath.ToSlash(rel))
	})
}
