// Package assistant builds a practice's assistant from its settings: the dialogue engine
// with the practice's texts, its calendar (Tresen's own or its PVS over FHIR) and, where
// the practice chose one, its language model; and the reception service that holds the
// conversations of every channel (terminal, website widget, phone).
package assistant

import (
	"context"

	"github.com/tresen/tresen/internal/calendar"
	"github.com/tresen/tresen/internal/demo"
	"github.com/tresen/tresen/internal/dialogue"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/fhirclient"
	"github.com/tresen/tresen/internal/nlu"
	"github.com/tresen/tresen/internal/openai"
	"github.com/tresen/tresen/internal/reception"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/tenant"
)

// Reception returns the reception service of all practices of a store.
func Reception(db *store.DB) *reception.Service {
	return &reception.Service{Store: db, Engine: Engine(db), Directory: func(ctx context.Context, tenantID string) (reception.Directory, error) {
		pvs, err := PracticeSystem(ctx, db, tenantID)
		if pvs == nil {
			return nil, err // Tresen's own records
		}
		return pvs, err
	}}
}

// Engine returns the engine of a practice, with its calendar and its language model when
// it has switched LLM mode on. Until practices keep their own texts, hours and FAQ (the
// settings of the inbox issue), every practice speaks with the demo practice's.
func Engine(db *store.DB) func(context.Context, string) (*dialogue.Engine, error) {
	return func(ctx context.Context, tenantID string) (*dialogue.Engine, error) {
		t, err := db.FindTenantByID(ctx, tenantID)
		if err != nil {
			return nil, err
		}
		if t.Kind != tenant.Practice {
			return nil, errs.E(errs.Invalid, "der Assistent spricht nur für Arztpraxen")
		}
		p := demo.PracticeInfo()
		p.Name = t.Name
		e := &dialogue.Engine{NLU: &nlu.Understander{Doctors: p.Doctors}, Practice: p}
		pvs, err := PracticeSystem(ctx, db, tenantID)
		if err != nil {
			return nil, err
		}
		if pvs != nil {
			e.Slots = pvs
		} else {
			switch _, err := db.Schedule(ctx, tenantID); {
			case err == nil:
				e.Slots = &calendar.Slots{Store: db, TenantID: tenantID}
			case !errs.Is(err, errs.NotFound):
				return nil, err
			}
		}
		s, err := db.LLMSettings(ctx, tenantID)
		if err != nil {
			return nil, err
		}
		if s.Enabled {
			m, err := openai.New(s)
			if err != nil {
				return nil, err
			}
			e.Model = m
		}
		return e, nil
	}
}

// PracticeSystem returns the client of the practice's own system (PVS) when it keeps the
// calendar and the patients there, or nil.
func PracticeSystem(ctx context.Context, db *store.DB, tenantID string) (*fhirclient.Client, error) {
	var set fhirclient.Settings
	switch err := db.Setting(ctx, tenantID, store.SettingPVS, &set); {
	case errs.Is(err, errs.NotFound) || err == nil && set.Base == "":
		return nil, nil
	case err != nil:
		return nil, err
	}
	return fhirclient.New(set), nil
}
