package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/vault"
)

// Config says where the data and the secrets are. Every command that reads or writes stored
// data takes these flags.
type Config struct {
	DataDir       string
	PostgresURL   string
	KeyringPath   string
	MasterKeyFile string
	PepperFile    string

	generated []string // secrets that openStore created, for serve to warn about
}

func (c *Config) register(fs *flag.FlagSet) {
	fs.StringVar(&c.DataDir, "data", "./data", "data directory: SQLite database, keyring and files")
	fs.StringVar(&c.PostgresURL, "postgres", os.Getenv("TRESEN_POSTGRES"), "PostgreSQL URL (instead of SQLite); files stay under --data")
	fs.StringVar(&c.KeyringPath, "keys", "", "SQLite mode: keyring file (default DATA/keys.db); keep its backup apart from the data backups")
	fs.StringVar(&c.MasterKeyFile, "master-key-file", "", "master key file (default DATA/secrets/master.key; TRESEN_MASTER_KEY wins)")
	fs.StringVar(&c.PepperFile, "pepper-file", "", "password pepper file (default DATA/secrets/pepper; TRESEN_PEPPER wins)")
}

// storeFlags returns the flag set of a command that reads or writes stored data, with the
// storage flags registered.
func storeFlags(name string) (*flag.FlagSet, *Config) {
	fs, cfg := newFlags(name), &Config{}
	cfg.register(fs)
	return fs, cfg
}

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parse parses args, flags before, between and after the positional arguments (which it
// returns), and turns flag errors into usage errors.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, usagef("%s: %v", fs.Name(), err)
		}
		args = fs.Args()
		switch {
		case len(args) == 0:
			return pos, nil
		case args[0] == "--":
			return append(pos, args[1:]...), nil
		}
		pos, args = append(pos, args[0]), args[1:]
	}
}

// openStore opens the store. With create set (serve) missing default secrets are generated
// in DATA/secrets, which suits a single server; production keeps them elsewhere.
func (c *Config) openStore(ctx context.Context, create bool) (*store.DB, error) {
	master, err := c.masterKeys(create)
	if err != nil {
		return nil, err
	}
	pepper, err := c.pepper(create)
	if err != nil {
		return nil, err
	}
	return store.Open(ctx, store.Config{DataDir: c.DataDir, PostgresURL: c.PostgresURL, KeyringPath: c.KeyringPath,
		Master: master, Pepper: pepper})
}

func (c *Config) secretPath(flagValue, name string) string {
	if flagValue != "" {
		return flagValue
	}
	return filepath.Join(c.DataDir, "secrets", name)
}

func (c *Config) masterKeys(create bool) (*vault.MasterKeys, error) {
	if text := os.Getenv("TRESEN_MASTER_KEY"); text != "" {
		mk, err := vault.ParseMasterKeys(text)
		if err != nil {
			return nil, fmt.Errorf("TRESEN_MASTER_KEY: %w", err)
		}
		return mk, nil
	}
	path := c.secretPath(c.MasterKeyFile, "master.key")
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) && create && c.MasterKeyFile == "" {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, err
		}
		if err := vault.CreateMasterKeyFile(path, "k1"); err != nil {
			return nil, err
		}
		c.generated = append(c.generated, path)
	}
	mk, err := vault.LoadMasterKeyFile(path)
	if err != nil {
		return nil, usagef("Master-Schlüssel nicht lesbar (%v); TRESEN_MASTER_KEY oder --master-key-file angeben", err)
	}
	return mk, nil
}

func (c *Config) pepper(create bool) ([]byte, error) {
	if p := os.Getenv("TRESEN_PEPPER"); p != "" {
		return decodeSecret(p)
	}
	path := c.secretPath(c.PepperFile, "pepper")
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) && create && c.PepperFile == "" {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, err
		}
		b := make([]byte, 32)
		rand.Read(b)
		if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(b)+"\n"), 0o600); err != nil {
			return nil, err
		}
		c.generated = append(c.generated, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("Pepper nicht lesbar (%v); TRESEN_PEPPER oder --pepper-file angeben", err)
	}
	return decodeSecret(string(b))
}

// decodeSecret reads a secret given in standard base64, of at least 16 bytes.
func decodeSecret(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) < 16 {
		return nil, usagef("Pepper: mindestens 16 Bytes in Base64 erwartet")
	}
	return b, nil
}
