package store

import (
	"context"
	"database/sql"

	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/vault"
)

// Keyring stores the tenants' wrapped data keys, apart from their data: in SQLite mode in a
// file of its own (keys.db), in PostgreSQL mode in the table tenant_keys, which backups
// leave out. Losing the keyring loses the data; back it up with the master key, not with the
// data (see README).
type Keyring struct {
	db  *sql.DB
	own bool // the handle is the keyring's own (SQLite) and closed with the store
}

var _ vault.Keyring = (*Keyring)(nil)

func (k *Keyring) init(ctx context.Context) error {
	_, err := k.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS tenant_keys (
		tenant_id TEXT PRIMARY KEY,
		master_key_id TEXT NOT NULL,
		wrapped BYTEA NOT NULL,
		created_at BIGINT NOT NULL)`)
	return err
}

func (k *Keyring) GetKey(ctx context.Context, tenantID string) (vault.WrappedKey, error) {
	wk := vault.WrappedKey{TenantID: tenantID}
	var created int64
	err := k.db.QueryRowContext(ctx, `SELECT master_key_id, wrapped, created_at FROM tenant_keys WHERE tenant_id = $1`, tenantID).
		Scan(&wk.MasterKeyID, &wk.Wrapped, &created)
	wk.CreatedAt = fromMS(created)
	return wk, notFound(err, "Schlüssel")
}

func (k *Keyring) PutKey(ctx context.Context, wk vault.WrappedKey) error {
	_, err := k.db.ExecContext(ctx, `INSERT INTO tenant_keys (tenant_id, master_key_id, wrapped, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (tenant_id) DO UPDATE SET master_key_id = excluded.master_key_id, wrapped = excluded.wrapped`,
		wk.TenantID, wk.MasterKeyID, wk.Wrapped, ms(wk.CreatedAt))
	return err
}

func (k *Keyring) DeleteKey(ctx context.Context, tenantID string) error {
	if _, err := k.db.ExecContext(ctx, `DELETE FROM tenant_keys WHERE tenant_id = $1`, tenantID); err != nil {
		return err
	}
	if k.own {
		// SQLite keeps the page that held the key in keys.db-wal until the log is
		// reused: a shredded key must not stay readable there. A checkpoint writes the
		// page without it (secure_delete) into keys.db; TRUNCATE empties the log.
		if _, err := k.db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			return err
		}
	}
	return nil
}

func (k *Keyring) ListKeys(ctx context.Context) ([]vault.WrappedKey, error) {
	rows, err := k.db.QueryContext(ctx, `SELECT tenant_id, master_key_id, wrapped, created_at FROM tenant_keys ORDER BY tenant_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []vault.WrappedKey
	for rows.Next() {
		var wk vault.WrappedKey
		var created int64
		if err := rows.Scan(&wk.TenantID, &wk.MasterKeyID, &wk.Wrapped, &created); err != nil {
			return nil, err
		}
		wk.CreatedAt = fromMS(created)
		out = append(out, wk)
	}
	return out, rows.Err()
}

// RotateKeys re-wraps every tenant's data key under the current master key (the first of
// the configured set) and audits it; afterwards older master keys can be retired.
func (db *DB) RotateKeys(ctx context.Context) (int, error) {
	n, err := db.Vault.Rotate(ctx)
	if err != nil {
		return n, err
	}
	return n, db.Audit(ctx, "", audit.KeyRotate, "keyring", "", "rewrapped="+itoa(n))
}
