package main

import (
	"fmt"
	"time"

	"github.com/tresen/tresen/bench/internal/loadstore"
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
	return verifyStore(st, start, r.c.birth, r.calls.Results())
}

// verifyStore reads the request records created since start straight from the store
// (SQLite under the -data directory, opened as `tresen serve` opens it; see loadstore)
// of the demo practice and matches them to the calls by the caller's number: every
// completed call must have left exactly one prescription request with the birth date
// keyed in (DDMMYYYY).
func verifyStore(st loadstore.Flags, start time.Time, birth string, results []*callResult) (*storeVerdict, error) {
	rf, err := st.PhoneRefills(start)
	if err != nil {
		return nil, err
	}
	v := &storeVerdict{total: rf.Total}
	byNumber := rf.ByNumber
	want := birthISO(birth)
	for _, res := range results {
		rqs := byNumber[res.Number]
		v.ours += len(rqs)
		if !res.Complete {
			if len(rqs) > 0 {
				v.failedWith++
			}
			continue
		}
		switch len(rqs) {
		case 0:
			v.missing++
			v.problem("%s (call %d/%d): no prescription request", res.Number, res.Caller, res.K)
		case 1:
			v.one++
		default:
			v.dups++
			v.problem("%s (call %d/%d): %d prescription requests", res.Number, res.Caller, res.K, len(rqs))
		}
		for _, rq := range rqs {
			if rq.Patient.BirthDate != want {
				v.wrongBirth++
				v.problem("%s: request %s has birth date %q, want %q", res.Number, rq.ID, rq.Patient.BirthDate, want)
			}
		}
	}
	fmt.Printf("store: %d request records of the demo practice since the start, %d of them prescription requests by phone\n", rf.Records, v.total)
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
