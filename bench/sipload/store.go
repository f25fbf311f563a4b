package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/tresen/tresen/bench/internal/loadstore"
	"github.com/tresen/tresen/internal/demo"
	"github.com/tresen/tresen/internal/request"
	"github.com/tresen/tresen/internal/retention"
	"github.com/tresen/tresen/internal/store"
)

// storeVerdict matches the prescription requests stored during the run to the calls.
type storeVerdict struct {
	err         error
	total, ours int // prescription requests by phone since the start; of this run's numbers
	one         int // completed calls with exactly one request
	missing     int // completed calls without one
	dups        int // completed calls with more than one
	wrongBirth  int // requests of completed calls without the birth date keyed in
	failedWith  int // failed calls (after pressing 2) that left a request
	problems    []string
}

// verifyStore matches the prescription requests to the diago callers' calls.
func (r *run) verifyStore(st loadstore.Flags, start time.Time) (*storeVerdict, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return verifyStore(st, start, r.c.birth, r.results)
}

// verifyStore reads the request records created since start straight from the store
// (SQLite under the -data directory, opened as `tresen serve` opens it; see loadstore)
// of the demo practice and matches them to the calls by the caller's number: every
// completed call must have left exactly one prescription request with the birth date
// keyed in (DDMMYYYY).
func verifyStore(st loadstore.Flags, start time.Time, birth string, results []*callResult) (*storeVerdict, error) {
	ctx := loadstore.Context()
	db, err := st.Open(ctx)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	pr, err := db.FindTenantByCode(ctx, demo.PracticeTenant.Kind, demo.PracticeTenant.Code)
	if err != nil {
		return nil, fmt.Errorf("the demo practice: %w (was the server run with --demo?)", err)
	}
	kind := retention.Request
	since := start.Add(-time.Second)
	recs, err := db.ListRecords(ctx, pr.ID, store.RecordFilter{Kind: &kind, Since: &since, Limit: store.MaxRecordList})
	if err != nil {
		return nil, err
	}
	v := &storeVerdict{}
	byNumber := map[string][]request.Request{}
	for _, rec := range recs {
		var rq request.Request
		if err := json.Unmarshal(rec.Data, &rq); err != nil {
			return nil, fmt.Errorf("record %s: %w", rec.ID, err)
		}
		if rq.Type != request.PrescriptionRefill || rq.Channel != request.Phone {
			continue
		}
		v.total++
		byNumber[rq.Patient.Phone] = append(byNumber[rq.Patient.Phone], rq)
	}
	want := birthISO(birth)
	for _, res := range results {
		rqs := byNumber[res.number]
		v.ours += len(rqs)
		if !res.complete {
			if len(rqs) > 0 {
				v.failedWith++
			}
			continue
		}
		switch len(rqs) {
		case 0:
			v.missing++
			v.problem("%s (call %d/%d): no prescription request", res.number, res.caller, res.k)
		case 1:
			v.one++
		default:
			v.dups++
			v.problem("%s (call %d/%d): %d prescription requests", res.number, res.caller, res.k, len(rqs))
		}
		for _, rq := range rqs {
			if rq.Patient.BirthDate != want {
				v.wrongBirth++
				v.problem("%s: request %s has birth date %q, want %q", res.number, rq.ID, rq.Patient.BirthDate, want)
			}
		}
	}
	fmt.Printf("store: %d request records of the demo practice since the start, %d of them prescription requests by phone\n", len(recs), v.total)
	return v, nil
}

func (v *storeVerdict) problem(format string, a ...any) {
	if len(v.problems) < 5 {
		v.problems = append(v.problems, fmt.Sprintf(format, a...))
	}
}

// birthISO turns DDMMYYYY into YYYY-MM-DD.
func birthISO(d string) string {
	return d[4:] + "-" + d[2:4] + "-" + d[:2]
}
