// Package loadstore opens the store of a Tresen server for the load tools under bench/,
// the way `tresen serve` opens it, so that they can check what a run left in it.
package loadstore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/demo"
	"github.com/tresen/tresen/internal/request"
	"github.com/tresen/tresen/internal/retention"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/vault"
)

// Flags name the server's store and its secrets: -data, -keys, -master-key-file and
// -pepper-file.
type Flags struct {
	Data, Keys, MasterKeyFile, PepperFile string
}

// Register defines the flags on fs; data is the usage of -data, which says what the tool
// checks in the store.
func (f *Flags) Register(fs *flag.FlagSet, data string) {
	fs.StringVar(&f.Data, "data", "", data)
	fs.StringVar(&f.Keys, "keys", "", "with -data: the keyring (as tresen serve --keys)")
	fs.StringVar(&f.MasterKeyFile, "master-key-file", "", "with -data: master key file (default DATA/secrets/master.key; TRESEN_MASTER_KEY wins)")
	fs.StringVar(&f.PepperFile, "pepper-file", "", "with -data: pepper file (default DATA/secrets/pepper; TRESEN_PEPPER wins)")
}

// Context is the context to read the store with: the reads are audited as the command
// line's (actor "cli"), as every read of health data is.
func Context() context.Context {
	return audit.WithActor(context.Background(), audit.Actor{UserID: "cli", Source: "cli"})
}

// Open opens the store (SQLite under f.Data) with the secrets found as `tresen serve`
// finds them (cmd/tresen/config.go): the environment first (TRESEN_MASTER_KEY,
// TRESEN_PEPPER), then the flag, then DATA/secrets. Opening the store migrates it if
// needed.
func (f Flags) Open(ctx context.Context) (*store.DB, error) {
	var master *vault.MasterKeys
	var err error
	if text := os.Getenv("TRESEN_MASTER_KEY"); text != "" {
		master, err = vault.ParseMasterKeys(text)
	} else {
		masterFile := f.MasterKeyFile
		if masterFile == "" {
			masterFile = filepath.Join(f.Data, "secrets", "master.key")
		}
		master, err = vault.LoadMasterKeyFile(masterFile)
	}
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	pep := os.Getenv("TRESEN_PEPPER")
	if pep == "" {
		pepperFile := f.PepperFile
		if pepperFile == "" {
			pepperFile = filepath.Join(f.Data, "secrets", "pepper")
		}
		b, err := os.ReadFile(pepperFile)
		if err != nil {
			return nil, fmt.Errorf("pepper: %w", err)
		}
		pep = string(b)
	}
	pepper, err := base64.StdEncoding.DecodeString(strings.TrimSpace(pep))
	if err != nil {
		return nil, fmt.Errorf("pepper: %w", err)
	}
	return store.Open(ctx, store.Config{DataDir: f.Data, KeyringPath: f.Keys, Master: master, Pepper: pepper})
}

// Refills are the prescription-refill requests the demo practice took by phone.
type Refills struct {
	ByNumber map[string][]request.Request // by the caller's number
	Total    int                          // of them
	Records  int                          // request records read, of every kind and channel
}

// PhoneRefills reads the prescription-refill requests the demo practice took by phone
// since start (a second's slack for clocks).
func (f Flags) PhoneRefills(start time.Time) (Refills, error) {
	ctx := Context()
	db, err := f.Open(ctx)
	if err != nil {
		return Refills{}, err
	}
	defer db.Close()
	pr, err := db.FindTenantByCode(ctx, demo.PracticeTenant.Kind, demo.PracticeTenant.Code)
	if err != nil {
		return Refills{}, fmt.Errorf("the demo practice: %w (was the server run with --demo?)", err)
	}
	kind := retention.Request
	since := start.Add(-time.Second)
	recs, err := db.ListRecords(ctx, pr.ID, store.RecordFilter{Kind: &kind, Since: &since, Limit: store.MaxRecordList})
	if err != nil {
		return Refills{}, err
	}
	rf := Refills{ByNumber: map[string][]request.Request{}, Records: len(recs)}
	for _, rec := range recs {
		var rq request.Request
		if err := json.Unmarshal(rec.Data, &rq); err != nil {
			return Refills{}, fmt.Errorf("record %s: %w", rec.ID, err)
		}
		if rq.Type != request.PrescriptionRefill || rq.Channel != request.Phone {
			continue
		}
		rf.Total++
		rf.ByNumber[rq.Patient.Phone] = append(rf.ByNumber[rq.Patient.Phone], rq)
	}
	return rf, nil
}
