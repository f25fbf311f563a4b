package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/request"
	"github.com/tresen/tresen/internal/retention"
)

// Handling returns how the team handles a request record; a request nobody touched yet is
// new.
func (db *DB) Handling(ctx context.Context, tenantID, recordID string) (h request.Handling, err error) {
	defer errs.Wrap(&err, "Handling")
	all, err := db.Handlings(ctx, tenantID)
	if err != nil {
		return h, err
	}
	if h, ok := all[recordID]; ok {
		return h, nil
	}
	return request.Handling{Status: request.HandlingNew}, nil
}

// Handlings returns the handling of every request record of a tenant that the team
// touched, by record id.
func (db *DB) Handlings(ctx context.Context, tenantID string) (map[string]request.Handling, error) {
	out := map[string]request.Handling{}
	err := db.View(ctx, tenantID, func(tx *Tx) error {
		c, err := tx.cipher(tenantID)
		if err != nil {
			return err
		}
		rows, err := tx.query(`SELECT record_id, status, assignee, data_enc FROM inbox WHERE tenant_id = $1`, tenantID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			var h request.Handling
			var data []byte
			if err := rows.Scan(&id, &h.Status, &h.Assignee, &data); err != nil {
				return err
			}
			plain, err := c.Open(data, []byte("inbox.data|"+id))
			if err != nil {
				return err
			}
			var extra handlingData
			if err := json.Unmarshal(plain, &extra); err != nil {
				return err
			}
			h.Escalated, h.Notes, h.DoneAt = extra.Escalated, extra.Notes, extra.DoneAt
			out[id] = h
		}
		return rows.Err()
	})
	return out, err
}

// handlingData is the sealed part of a handling: notes may hold health data.
type handlingData struct {
	Escalated bool           `json:"escalated"`
	Notes     []request.Note `json:"notes"`
	DoneAt    time.Time      `json:"done_at,omitzero"`
}

// SetHandling stores how the team handles a request record; audited with the new status.
func (db *DB) SetHandling(ctx context.Context, tenantID, recordID string, h request.Handling) (err error) {
	defer errs.Wrap(&err, "SetHandling")
	switch h.Status {
	case request.HandlingNew, request.HandlingAssigned, request.HandlingDone:
	default:
		return errs.Field("status", "unbekannter Bearbeitungsstand")
	}
	return db.Update(ctx, tenantID, func(tx *Tx) error {
		var kind string
		if err := tx.queryRow(`SELECT kind FROM records WHERE tenant_id = $1 AND id = $2`, tenantID, recordID).Scan(&kind); err != nil {
			return notFound(err, "Anliegen")
		}
		if retention.Kind(kind) != retention.Request {
			return errs.E(errs.NotFound, "Anliegen nicht gefunden")
		}
		c, err := tx.cipher(tenantID)
		if err != nil {
			return err
		}
		data, err := json.Marshal(handlingData{h.Escalated, h.Notes, h.DoneAt})
		if err != nil {
			return err
		}
		if _, err := tx.exec(`INSERT INTO inbox (record_id, tenant_id, status, assignee, data_enc, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (record_id) DO UPDATE SET status = excluded.status, assignee = excluded.assignee, data_enc = excluded.data_enc, updated_at = excluded.updated_at`,
			recordID, tenantID, h.Status, h.Assignee, c.Seal(data, []byte("inbox.data|"+recordID)), ms(tx.now)); err != nil {
			return err
		}
		return tx.appendAudit(tenantID, audit.Update, "request", recordID, "handling="+h.Status)
	})
}
