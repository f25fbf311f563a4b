package store

import (
	"context"
	"strings"
	"time"

	"github.com/tresen/tresen/internal/audit"
)

// appendAudit writes an audit entry in tx, chained to the last entry of the tenant's chain
// (or the system chain when tenantID is empty). Updating the head row first takes its lock,
// so concurrent appends on any number of nodes queue up instead of forking the chain.
func (tx *Tx) appendAudit(tenantID string, action audit.Action, objectType, objectID, detail string) error {
	a := audit.ActorFrom(tx.ctx)
	chain := tenantID
	if chain == "" {
		chain = audit.SystemChain
	}
	if _, err := tx.exec(`INSERT INTO audit_heads (chain, seq, hash) VALUES ($1, 0, '') ON CONFLICT (chain) DO NOTHING`, chain); err != nil {
		return err
	}
	var head audit.Head
	if err := tx.queryRow(`UPDATE audit_heads SET seq = seq + 1 WHERE chain = $1 RETURNING seq, hash`, chain).Scan(&head.Seq, &head.Hash); err != nil {
		return err
	}
	e := audit.Entry{Chain: chain, At: tx.now.Truncate(time.Microsecond), TenantID: tenantID, Actor: a.UserID,
		Action: action, ObjectType: objectType, ObjectID: objectID, Source: a.Source, Detail: detail}
	e.Seal(head.Seq-1, head.Hash)
	if _, err := tx.exec(`INSERT INTO audit_log (`+auditColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		e.Chain, e.Seq, e.At.UnixMicro(), e.TenantID, e.Actor, string(e.Action), e.ObjectType, e.ObjectID, e.Source, e.Detail, e.PrevHash, e.Hash); err != nil {
		return err
	}
	_, err := tx.exec(`UPDATE audit_heads SET hash = $1 WHERE chain = $2`, e.Hash, chain)
	return err
}

// Audit writes one audit entry on its own, for events that change no data (a read of
// health data, a failed login, an export).
func (db *DB) Audit(ctx context.Context, tenantID string, action audit.Action, objectType, objectID, detail string) error {
	scope := tenantID
	if scope == "" {
		scope = System
	}
	return db.Update(ctx, scope, func(tx *Tx) error {
		return tx.appendAudit(tenantID, action, objectType, objectID, detail)
	})
}

// AuditFilter selects audit entries; nil fields do not filter.
type AuditFilter struct {
	Action *audit.Action
	Actor  *string
	Object *string // object type
	Since  *time.Time
	Until  *time.Time
	Limit  int
	Offset int
}

// ListAudit returns a tenant's audit entries, newest first.
func (db *DB) ListAudit(ctx context.Context, tenantID string, f AuditFilter) ([]audit.Entry, error) {
	var out []audit.Entry
	err := db.View(ctx, tenantID, func(tx *Tx) error {
		q := `SELECT ` + auditColumns + ` FROM audit_log WHERE chain = $1`
		args := []any{tenantID}
		add := func(cond string, v any) {
			args = append(args, v)
			q += " AND " + strings.Replace(cond, "?", "$"+itoa(len(args)), 1)
		}
		if f.Action != nil {
			add("action = ?", string(*f.Action))
		}
		if f.Actor != nil {
			add("actor = ?", *f.Actor)
		}
		if f.Object != nil {
			add("object_type = ?", *f.Object)
		}
		if f.Since != nil {
			add("at >= ?", f.Since.UnixMicro())
		}
		if f.Until != nil {
			add("at < ?", f.Until.UnixMicro())
		}
		limit := f.Limit
		if limit <= 0 || limit > 500 {
			limit = 100
		}
		q += " ORDER BY seq DESC LIMIT " + itoa(limit) + " OFFSET " + itoa(max(f.Offset, 0))
		rows, err := tx.query(q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			e, err := scanAudit(rows)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return rows.Err()
	})
	return out, err
}

type scanner interface{ Scan(...any) error }

// auditColumns are the columns of audit_log in the order scanAudit reads them.
const auditColumns = `chain, seq, at, tenant_id, actor, action, object_type, object_id, source, detail, prev_hash, hash`

func scanAudit(s scanner) (audit.Entry, error) {
	var e audit.Entry
	var at int64
	var action string
	err := s.Scan(&e.Chain, &e.Seq, &at, &e.TenantID, &e.Actor, &action, &e.ObjectType, &e.ObjectID, &e.Source, &e.Detail, &e.PrevHash, &e.Hash)
	e.At, e.Action = time.UnixMicro(at).UTC(), audit.Action(action)
	return e, err
}

// VerifyAudit checks every chain of the audit log against its recorded head.
func (db *DB) VerifyAudit(ctx context.Context) (*audit.Verifier, error) {
	v := &audit.Verifier{}
	err := db.View(ctx, System, func(tx *Tx) error {
		rows, err := tx.query(`SELECT ` + auditColumns + ` FROM audit_log ORDER BY chain, seq`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			e, err := scanAudit(rows)
			if err != nil {
				return err
			}
			v.Add(&e)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		hrows, err := tx.query(`SELECT chain, seq, hash FROM audit_heads ORDER BY chain`)
		if err != nil {
			return err
		}
		defer hrows.Close()
		var heads []audit.Head
		for hrows.Next() {
			var h audit.Head
			if err := hrows.Scan(&h.Chain, &h.Seq, &h.Hash); err != nil {
				return err
			}
			heads = append(heads, h)
		}
		v.Finish(heads)
		return hrows.Err()
	})
	return v, err
}
