package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/retention"
	"github.com/tresen/tresen/internal/user"
)

// RetentionPolicy returns a tenant's retention periods.
func (db *DB) RetentionPolicy(ctx context.Context, tenantID string) (retention.Policy, error) {
	p := retention.Policy{}
	err := db.View(ctx, tenantID, func(tx *Tx) error {
		return tx.retentionPolicy(tenantID, p)
	})
	return p, err
}

func (tx *Tx) retentionPolicy(tenantID string, p retention.Policy) error {
	rows, err := tx.query(`SELECT kind, days FROM retention_policies WHERE tenant_id = $1`, tenantID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var d int
		if err := rows.Scan(&k, &d); err != nil {
			return err
		}
		p[retention.Kind(k)] = d
	}
	return rows.Err()
}

// SetRetention sets how long a tenant keeps one kind of data.
func (db *DB) SetRetention(ctx context.Context, tenantID string, kind retention.Kind, days int) error {
	return db.Update(ctx, tenantID, func(tx *Tx) error {
		t, err := tx.findTenant(tenantID)
		if err != nil {
			return err
		}
		if err := retention.Validate(t.Kind, kind, days); err != nil {
			return err
		}
		if _, err := tx.exec(`INSERT INTO retention_policies (tenant_id, kind, days, updated_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (tenant_id, kind) DO UPDATE SET days = excluded.days, updated_at = excluded.updated_at`,
			tenantID, string(kind), days, ms(tx.now)); err != nil {
			return err
		}
		return tx.appendAudit(tenantID, audit.Update, "retention", string(kind), "days="+itoa(days))
	})
}

// PurgeResult counts what a purge removed, per tenant and kind.
type PurgeResult struct {
	Records map[string]map[retention.Kind]int // tenant id → kind → records
	Files   int
}

// Total is the number of records removed.
func (r PurgeResult) Total() int {
	n := 0
	for _, m := range r.Records {
		for _, c := range m {
			n += c
		}
	}
	return n
}

// Purge deletes, for every tenant, each record that has reached the end of its retention
// period, with its file, and expired sessions, reset tokens and grants. Each tenant's purge
// is one transaction with an audit entry carrying the counts.
func (db *DB) Purge(ctx context.Context) (PurgeResult, error) { return db.purge(ctx, false) }

// PurgeDue counts what Purge would delete now, deleting nothing.
func (db *DB) PurgeDue(ctx context.Context) (PurgeResult, error) { return db.purge(ctx, true) }

// errRollback ends a tenant's purge transaction without changes and without error: after
// counting in a dry run, or when another node is purging the tenant.
var errRollback = errors.New("dry run")

func (db *DB) purge(ctx context.Context, dryRun bool) (PurgeResult, error) {
	res := PurgeResult{Records: map[string]map[retention.Kind]int{}}
	if !dryRun {
		if err := db.purgeOperatorSessions(ctx); err != nil {
			return res, err
		}
		n, err := db.emptyTrash(ctx)
		if err != nil {
			return res, err
		}
		res.Files += n
	}
	tenants, err := db.ListTenants(ctx)
	if err != nil {
		return res, err
	}
	for _, t := range tenants {
		var keys []string
		counts := map[retention.Kind]int{}
		err := db.Update(ctx, t.ID, func(tx *Tx) error {
			if db.Engine == Postgres && !dryRun {
				// With several nodes, one purges a tenant at a time; the others skip it.
				var got bool
				if err := tx.queryRow(`SELECT pg_try_advisory_xact_lock(hashtext('tresen.purge|' || $1))`, t.ID).Scan(&got); err != nil {
					return err
				}
				if !got {
					return errRollback
				}
			}
			p := retention.Policy{}
			if err := tx.retentionPolicy(t.ID, p); err != nil {
				return err
			}
			var detail []string
			for _, r := range retention.Rules(t.Kind) {
				cutoff := ms(retention.Cutoff(tx.now, p.Days(r.Kind)))
				k, err := tx.trashWhere(t.ID, `SELECT blob_key FROM records WHERE tenant_id = $1 AND kind = $2 AND created_at <= $3 AND blob_key <> ''`, t.ID, string(r.Kind), cutoff)
				if err != nil {
					return err
				}
				del, err := tx.exec(`DELETE FROM records WHERE tenant_id = $1 AND kind = $2 AND created_at <= $3`, t.ID, string(r.Kind), cutoff)
				if err != nil {
					return err
				}
				n, _ := del.RowsAffected()
				counts[r.Kind], keys = int(n), append(keys, k...)
				detail = append(detail, fmt.Sprintf("%s=%d", r.Kind, n))
			}
			if dryRun {
				return errRollback
			}
			if err := purgeExpiredAccess(tx, t.ID); err != nil {
				return err
			}
			detail = append(detail, fmt.Sprintf("files=%d", len(keys)))
			return tx.appendAudit(t.ID, audit.Purge, "retention", "", strings.Join(detail, " "))
		})
		if err != nil && !errors.Is(err, errRollback) {
			return res, fmt.Errorf("purge tenant %s: %w", t.ID, err)
		}
		if !dryRun {
			db.deleteBlobs(ctx, keys)
		}
		res.Records[t.ID], res.Files = counts, res.Files+len(keys)
	}
	return res, nil
}

// purgeOperatorSessions removes idle sessions of support users who entered no tenant.
func (db *DB) purgeOperatorSessions(ctx context.Context) error {
	return db.Update(ctx, System, func(tx *Tx) error {
		_, err := tx.exec(`DELETE FROM sessions WHERE tenant_id IS NULL AND last_seen_at <= $1`, ms(tx.now.Add(-user.IdleTimeout)))
		return err
	})
}

// purgeExpiredAccess removes sessions, reset tokens and support grants that can no longer
// be used.
func purgeExpiredAccess(tx *Tx, tenantID string) error {
	if _, err := tx.exec(`DELETE FROM reset_tokens WHERE tenant_id = $1 AND (expires_at <= $2 OR used_at <> 0)`, tenantID, ms(tx.now)); err != nil {
		return err
	}
	if _, err := tx.exec(`DELETE FROM sessions WHERE tenant_id = $1 AND last_seen_at <= $2`, tenantID, ms(tx.now.Add(-user.IdleTimeout))); err != nil {
		return err
	}
	// Ended grants stay a year in the owner's overview.
	if _, err := tx.exec(`DELETE FROM support_grants WHERE tenant_id = $1 AND expires_at <= $2`, tenantID, ms(tx.now.AddDate(-1, 0, 0))); err != nil {
		return err
	}
	// The copy a support report shared goes when the report expires.
	_, err := tx.exec(`UPDATE support_reports SET data_enc = NULL WHERE tenant_id = $1 AND expires_at <= $2 AND data_enc IS NOT NULL`, tenantID, ms(tx.now))
	return err
}
