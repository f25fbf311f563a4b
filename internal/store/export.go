package store

import (
	"context"
	"encoding/json"

	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/person"
	"github.com/tresen/tresen/internal/retention"
	"github.com/tresen/tresen/internal/tenant"
	"github.com/tresen/tresen/internal/user"
)

// TenantSink receives a tenant's data during ExportTenant, item by item, so that an export
// of any size streams into its archive.
type TenantSink interface {
	Tenant(t tenant.Tenant, p retention.Policy) error
	User(u user.User) error
	Person(p person.Person) error
	Record(r Record, file []byte) error
	Audit(e audit.Entry) error
}

// ExportTenant hands everything stored for a tenant to sink (at contract end, Art. 28(3)(g)
// DSGVO), read in one consistent transaction; the export is audited.
func (db *DB) ExportTenant(ctx context.Context, tenantID string, sink TenantSink) error {
	err := db.View(ctx, tenantID, func(tx *Tx) error {
		t, err := tx.findTenant(tenantID)
		if err != nil {
			return err
		}
		p := retention.Policy{}
		if err := tx.retentionPolicy(tenantID, p); err != nil {
			return err
		}
		if err := sink.Tenant(t, p); err != nil {
			return err
		}
		if err := eachRow(tx, `SELECT `+userColumns+` FROM users WHERE tenant_id = $1 ORDER BY username`, []any{tenantID}, func(s scanner) error {
			u, err := tx.scanUser(s)
			if err != nil {
				return err
			}
			return sink.User(u)
		}); err != nil {
			return err
		}
		c, err := tx.cipher(tenantID)
		if err != nil {
			return err
		}
		if err := eachRow(tx, `SELECT id, data_enc FROM persons WHERE tenant_id = $1 ORDER BY id`, []any{tenantID}, func(s scanner) error {
			var id string
			var data []byte
			if err := s.Scan(&id, &data); err != nil {
				return err
			}
			plain, err := c.Open(data, []byte("persons.data|"+id))
			if err != nil {
				return err
			}
			var p person.Person
			if err := json.Unmarshal(plain, &p); err != nil {
				return err
			}
			return sink.Person(p)
		}); err != nil {
			return err
		}
		if err := eachRow(tx, `SELECT `+recordColumns+` FROM records WHERE tenant_id = $1 ORDER BY created_at, id`, []any{tenantID}, func(s scanner) error {
			r, key, err := tx.scanRecord(tenantID, s)
			if err != nil {
				return err
			}
			var file []byte
			if key != "" {
				if file, err = tx.db.openBlob(tx.ctx, tenantID, key); err != nil {
					return err
				}
			}
			return sink.Record(r, file)
		}); err != nil {
			return err
		}
		return eachRow(tx, `SELECT `+auditColumns+` FROM audit_log WHERE chain = $1 ORDER BY seq`, []any{tenantID}, func(s scanner) error {
			e, err := scanAudit(s)
			if err != nil {
				return err
			}
			return sink.Audit(e)
		})
	})
	if err != nil {
		return err
	}
	return db.Audit(ctx, tenantID, audit.Export, "tenant", tenantID, "")
}

// eachRow runs q and calls fn for every row.
func eachRow(tx *Tx, q string, args []any, fn func(scanner) error) error {
	rows, err := tx.query(q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
