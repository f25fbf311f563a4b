package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/retention"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/vault"
)

// verifyStore reads the transcript records created since start straight from the store
// (SQLite under dataDir) and compares each conversation's patient turns with what was
// sent. The secrets are found as `tresen serve` finds them (cmd/tresen/config.go): the
// environment first, then the flag, then DATA/secrets. Opening the store migrates it if
// needed, and the reads are audited (actor "cli"), as every read of health data is.
func (r *run) verifyStore(dataDir, keys, masterFile, pepperFile string, start time.Time) (*verdict, error) {
	ctx := audit.WithActor(context.Background(), audit.Actor{UserID: "cli", Source: "cli"})
	var master *vault.MasterKeys
	var err error
	if text := os.Getenv("TRESEN_MASTER_KEY"); text != "" {
		master, err = vault.ParseMasterKeys(text)
	} else {
		if masterFile == "" {
			masterFile = filepath.Join(dataDir, "secrets", "master.key")
		}
		master, err = vault.LoadMasterKeyFile(masterFile)
	}
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	pep := os.Getenv("TRESEN_PEPPER")
	if pep == "" {
		if pepperFile == "" {
			pepperFile = filepath.Join(dataDir, "secrets", "pepper")
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
	db, err := store.Open(ctx, store.Config{DataDir: dataDir, KeyringPath: keys, Master: master, Pepper: pepper})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	kind := retention.Transcript
	since := start.Add(-time.Second)
	recs, err := db.ListRecords(ctx, r.c.practice, store.RecordFilter{Kind: &kind, Since: &since, Limit: store.MaxRecordList})
	if err != nil {
		return nil, err
	}
	stored := map[string][]string{}
	for _, rec := range recs {
		var t struct {
			Conversation struct {
				Turns []struct {
					Who  string `json:"who"`
					Text string `json:"text"`
				} `json:"turns"`
			} `json:"conversation"`
		}
		if err := json.Unmarshal(rec.Data, &t); err != nil {
			return nil, fmt.Errorf("record %s: %w", rec.ID, err)
		}
		turns := []string{}
		for _, tu := range t.Conversation.Turns {
			if tu.Who == "patient" {
				turns = append(turns, tu.Text)
			}
		}
		stored[rec.ID] = turns
	}
	v := &verdict{source: "store, transcript records"}
	r.mu.Lock()
	defer r.mu.Unlock()
	known := map[string]bool{}
	for _, cv := range r.convs {
		if cv.id == "" {
			continue
		}
		known[cv.id] = true
		turns, ok := stored[cv.id]
		if !ok {
			v.unreadable++
			if len(v.firstProblems) < 5 {
				v.firstProblems = append(v.firstProblems, cv.id+": no transcript record")
			}
			continue
		}
		v.compare(cv, turns)
	}
	// Conversations the server started but whose start the patient never heard of
	// (a lost "started"): their turns would be stored without a sender.
	for id, turns := range stored {
		if !known[id] && len(turns) > 0 {
			v.persisted += len(turns)
			v.dups += len(turns)
			if len(v.firstProblems) < 5 {
				v.firstProblems = append(v.firstProblems, fmt.Sprintf("%s: stored turns of a conversation no patient started: %q", id, turns))
			}
		}
	}
	fmt.Printf("store: %d transcript records since the start, %d of them this run's\n", len(recs), len(known))
	return v, nil
}
