package store

import (
	"context"
	"log/slog"
)

// trash records blob keys for deletion in the transaction that drops their rows; the files
// go after commit (deleteBlobs), and a crash in between leaves rows in blob_trash that the
// next purge finishes.
func (tx *Tx) trash(tenantID string, keys []string) error {
	for _, k := range keys {
		if _, err := tx.exec(`INSERT INTO blob_trash (blob_key, tenant_id, deleted_at) VALUES ($1, $2, $3) ON CONFLICT (blob_key) DO NOTHING`,
			k, tenantID, ms(tx.now)); err != nil {
			return err
		}
	}
	return nil
}

// trashTenantBlobs trashes every blob of a tenant's records and returns their keys.
func (tx *Tx) trashTenantBlobs(tenantID string) ([]string, error) {
	return tx.trashWhere(tenantID, `SELECT blob_key FROM records WHERE tenant_id = $1 AND blob_key <> ''`, tenantID)
}

// trashWhere trashes the blob keys selected by q.
func (tx *Tx) trashWhere(tenantID, q string, args ...any) ([]string, error) {
	rows, err := tx.query(q, args...)
	if err != nil {
		return nil, err
	}
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			rows.Close()
			return nil, err
		}
		keys = append(keys, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return keys, tx.trash(tenantID, keys)
}

// deleteBlobs removes trashed blobs, then their trash rows.
func (db *DB) deleteBlobs(ctx context.Context, keys []string) {
	var gone []string
	for _, k := range keys {
		if err := db.Blobs.Delete(ctx, k); err != nil {
			slog.Error("delete blob", "key", k, "err", err)
			continue
		}
		gone = append(gone, k)
	}
	if len(gone) == 0 {
		return
	}
	err := db.Update(ctx, System, func(tx *Tx) error {
		for _, k := range gone {
			if _, err := tx.exec(`DELETE FROM blob_trash WHERE blob_key = $1`, k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		slog.Error("clear blob trash", "err", err)
	}
}

// emptyTrash deletes blobs left in the trash by an earlier crash.
func (db *DB) emptyTrash(ctx context.Context) (int, error) {
	var keys []string
	err := db.View(ctx, System, func(tx *Tx) error {
		rows, err := tx.query(`SELECT blob_key FROM blob_trash`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				return err
			}
			keys = append(keys, k)
		}
		return rows.Err()
	})
	if err != nil {
		return 0, err
	}
	db.deleteBlobs(ctx, keys)
	return len(keys), nil
}
