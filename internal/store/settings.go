package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/llm"
)

// settingLLM names the language-model settings among a tenant's settings.
const settingLLM = "llm"

// LLMSettings returns a practice's language-model settings; LLM mode is off (the zero
// Settings) until they are set.
func (db *DB) LLMSettings(ctx context.Context, tenantID string) (s llm.Settings, err error) {
	defer errs.Wrap(&err, "LLMSettings")
	err = db.View(ctx, tenantID, func(tx *Tx) error {
		return tx.setting(tenantID, settingLLM, &s)
	})
	if errs.Is(err, errs.NotFound) {
		return llm.Settings{}, nil
	}
	return s, err
}

// SetLLMSettings stores a practice's language-model settings after they validate, that is
// only with the practice's confirmation of EU hosting and zero retention when enabled. The
// API key is stored encrypted and kept out of the audit entry.
func (db *DB) SetLLMSettings(ctx context.Context, tenantID string, s llm.Settings) (err error) {
	defer errs.Wrap(&err, "SetLLMSettings")
	if err := s.Validate(); err != nil {
		return err
	}
	return db.Update(ctx, tenantID, func(tx *Tx) error {
		if _, err := tx.findTenant(tenantID); err != nil {
			return err
		}
		if err := tx.setSetting(tenantID, settingLLM, s); err != nil {
			return err
		}
		detail := "enabled=false"
		if s.Enabled {
			detail = fmt.Sprintf("enabled=true model=%s eu_hosted=%t zero_retention=%t", s.Model, s.EUHosted, s.ZeroRetention)
		}
		return tx.appendAudit(tenantID, audit.Update, "setting", settingLLM, detail)
	})
}

// setting decodes the tenant's setting name into v; errs.NotFound when it was never set.
func (tx *Tx) setting(tenantID, name string, v any) error {
	var data []byte
	if err := tx.queryRow(`SELECT data_enc FROM settings WHERE tenant_id = $1 AND name = $2`, tenantID, name).Scan(&data); err != nil {
		return notFound(err, "Einstellung")
	}
	c, err := tx.cipher(tenantID)
	if err != nil {
		return err
	}
	plain, err := c.Open(data, []byte("settings.data|"+name))
	if err != nil {
		return err
	}
	return json.Unmarshal(plain, v)
}

func (tx *Tx) setSetting(tenantID, name string, v any) error {
	plain, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c, err := tx.cipher(tenantID)
	if err != nil {
		return err
	}
	_, err = tx.exec(`INSERT INTO settings (tenant_id, name, data_enc, updated_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (tenant_id, name) DO UPDATE SET data_enc = excluded.data_enc, updated_at = excluded.updated_at`,
		tenantID, name, c.Seal(plain, []byte("settings.data|"+name)), ms(tx.now))
	return err
}

// Names of the settings kept through Setting and SetSetting, which the store holds as
// encrypted documents without knowing their shape.
const (
	SettingNotify = "notify" // how the practice sends appointment messages (SMTP, SMS gateway)
	SettingFeeds  = "feeds"  // the secret tokens of the staff calendar feeds
	SettingPVS    = "pvs"    // the practice's own system (PVS) over FHIR, when it keeps calendar and patients
	SettingWidget = "widget" // the online reception widget: the origins allowed to embed it
	// SettingAssistant is what the practice tells its assistant to say (hours, FAQ, texts).
	SettingAssistant = "assistant"
	// SettingVoice chooses the phone line's speech recogniser and voice, with their keys.
	SettingVoice = "voice"
	// SettingRx is the pharmacy's Rezeptprüfung: its Bundesland, whose public holidays
	// count for the Notdienstgebühr and the Entlassrezept's deadline.
	SettingRx = "rx"
)

var genericSettings = map[string]bool{SettingNotify: true, SettingFeeds: true, SettingPVS: true, SettingWidget: true, SettingAssistant: true, SettingVoice: true,
	SettingRx: true}

// Setting decodes a tenant's setting into v; errs.NotFound before it was set.
func (db *DB) Setting(ctx context.Context, tenantID, name string, v any) (err error) {
	defer errs.Wrap(&err, "Setting(%s)", name)
	if !genericSettings[name] {
		return errs.E(errs.Invalid, "unbekannte Einstellung %q", name)
	}
	return db.View(ctx, tenantID, func(tx *Tx) error { return tx.setting(tenantID, name, v) })
}

// SetSetting stores a tenant's setting, encrypted; the caller validates it. Audited
// without its content, which may hold passwords.
func (db *DB) SetSetting(ctx context.Context, tenantID, name string, v any) (err error) {
	defer errs.Wrap(&err, "SetSetting(%s)", name)
	if !genericSettings[name] {
		return errs.E(errs.Invalid, "unbekannte Einstellung %q", name)
	}
	return db.Update(ctx, tenantID, func(tx *Tx) error {
		if _, err := tx.findTenant(tenantID); err != nil {
			return err
		}
		if err := tx.setSetting(tenantID, name, v); err != nil {
			return err
		}
		return tx.appendAudit(tenantID, audit.Update, "setting", name, "")
	})
}
