package main

import (
	"fmt"
	"time"

	"github.com/tresen/tresen/bench/internal/loadstore"
	"github.com/tresen/tresen/internal/assistant"
	"github.com/tresen/tresen/internal/demo"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/vosk"
)

// configure points the demo practice's phone line at the recogniser at url, with the
// embedded voice (espeak-ng), in the store under st.Data, as the assistant settings page
// would; the server reads the setting for every call. restore puts the previous setting
// back.
func configure(st loadstore.Flags, url string) (restore func() error, err error) {
	ctx := loadstore.Context()
	db, err := st.Open(ctx)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	pr, err := db.FindTenantByCode(ctx, demo.PracticeTenant.Kind, demo.PracticeTenant.Code)
	if err != nil {
		return nil, fmt.Errorf("the demo practice: %w (was the server started with --demo?)", err)
	}
	var old assistant.VoiceSettings
	if err := db.Setting(ctx, pr.ID, store.SettingVoice, &old); err != nil && !errs.Is(err, errs.NotFound) {
		return nil, err
	}
	set := assistant.VoiceSettings{Recognizer: "vosk", Vosk: &vosk.Settings{URL: url}}
	if err := set.Vosk.Validate(); err != nil {
		return nil, err
	}
	if err := db.SetSetting(ctx, pr.ID, store.SettingVoice, set); err != nil {
		return nil, err
	}
	return func() error {
		db, err := st.Open(ctx)
		if err != nil {
			return err
		}
		defer db.Close()
		return db.SetSetting(ctx, pr.ID, store.SettingVoice, old)
	}, nil
}

// The request every completed call must leave: what the script says.
const (
	wantMedication = "Ramipril 5 mg"
	wantBirth      = "1984-03-12"
	wantName       = "Erika Mustermann"
)

// storeVerdict matches the prescription requests stored during the run to the calls.
type storeVerdict struct {
	err         error
	total, ours int // prescription requests by phone since the start; of this run's numbers
	one         int // completed calls with exactly one request as said
	missing     int // completed calls without one
	dups        int // completed calls with more than one
	wrong       int // requests of completed calls with other data than the script's
	problems    []string
}

// verifyStore reads the request records of the demo practice created since start (see
// loadstore) and matches them to the calls by the caller's number.
func (r *run) verifyStore(st loadstore.Flags, start time.Time) (*storeVerdict, error) {
	rf, err := st.PhoneRefills(start)
	if err != nil {
		return nil, err
	}
	v := &storeVerdict{total: rf.Total}
	byNumber := rf.ByNumber
	for _, res := range r.calls.Results() {
		rqs := byNumber[res.Number]
		v.ours += len(rqs)
		if !res.Complete {
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
			if rq.Details.Medication != wantMedication || rq.Patient.BirthDate != wantBirth || rq.Patient.Name != wantName {
				v.wrong++
				v.problem("%s: request %s is not the script's (medication, birth date or name differ)", res.Number, rq.ID)
			}
		}
	}
	if rf.Records >= store.MaxRecordList {
		v.problem("the store listed %d records, its maximum: some may be missing", rf.Records)
	}
	return v, nil
}

func (v *storeVerdict) problem(format string, a ...any) {
	if len(v.problems) < 5 {
		v.problems = append(v.problems, fmt.Sprintf(format, a...))
	}
}
