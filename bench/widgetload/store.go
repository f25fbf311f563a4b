package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/tresen/tresen/bench/internal/loadstore"
	"github.com/tresen/tresen/internal/retention"
	"github.com/tresen/tresen/internal/store"
)

// verifyStore reads the transcript records created since start straight from the store
// (SQLite under the -data directory, opened as `tresen serve` opens it; see loadstore)
// and compares each conversation's patient turns with what was sent.
func (r *run) verifyStore(st loadstore.Flags, start time.Time) (*verdict, error) {
	ctx := loadstore.Context()
	db, err := st.Open(ctx)
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
