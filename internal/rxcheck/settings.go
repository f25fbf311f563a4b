package rxcheck

import (
	"context"

	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/holiday"
	"github.com/tresen/tresen/internal/store"
)

// Settings are a pharmacy's settings for its Rezeptprüfung, kept encrypted among the
// tenant's settings.
type Settings struct {
	// State is the pharmacy's Bundesland ("BY", "NW" …): its public holidays count for
	// the Notdienstgebühr and for the 3 working days of an Entlassrezept. "": only the
	// nationwide ones.
	State string `json:"state"`
}

// Validate accepts no Bundesland or one whose public holidays are known.
func (s Settings) Validate() error {
	if _, ok := holiday.For(s.State); !ok {
		return errs.Field("state", "Bitte ein Bundesland aus der Liste wählen oder „nur bundesweite Feiertage“.")
	}
	return nil
}

// Settings returns a pharmacy's settings; before they are set, the zero Settings (the
// nationwide holidays only).
func (s *Service) Settings(ctx context.Context, tenantID string) (Settings, error) {
	var set Settings
	err := s.Store.Setting(ctx, tenantID, store.SettingRx, &set)
	if errs.Is(err, errs.NotFound) {
		return Settings{}, nil
	}
	return set, err
}

// SetSettings stores a pharmacy's settings after they validate; the store audits the
// change. Checks made before keep their findings until they are checked again.
func (s *Service) SetSettings(ctx context.Context, tenantID string, set Settings) error {
	if err := set.Validate(); err != nil {
		return err
	}
	return s.Store.SetSetting(ctx, tenantID, store.SettingRx, set)
}
