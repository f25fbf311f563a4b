package store

import (
	"context"
	"strings"

	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/tenant"
)

// CreateTenant creates a tenant and its data key.
func (db *DB) CreateTenant(ctx context.Context, t tenant.Tenant) (_ tenant.Tenant, err error) {
	defer errs.Wrap(&err, "CreateTenant")
	t.Name = strings.TrimSpace(t.Name)
	if err := t.Validate(); err != nil {
		return t, err
	}
	t.ID = newID()
	// The key comes first: a tenant row never exists without its key. A key left over by a
	// failed insert protects nothing and is removed below.
	if err := db.Vault.CreateKey(ctx, t.ID); err != nil {
		return t, err
	}
	err = db.Update(ctx, System, func(tx *Tx) error {
		var n int
		if err := tx.queryRow(`SELECT COUNT(*) FROM tenants WHERE kind = $1 AND code = $2`, string(t.Kind), t.Code).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return errs.Field("code", "ein Mandant mit dieser %s besteht bereits", codeLabel(t.Kind))
		}
		c, err := tx.cipher(t.ID)
		if err != nil {
			return err
		}
		t.CreatedAt = tx.now
		if _, err := tx.exec(`INSERT INTO tenants (id, kind, code, name_enc, created_at) VALUES ($1, $2, $3, $4, $5)`,
			t.ID, string(t.Kind), t.Code, c.SealString(t.Name, "tenants.name|"+t.ID), ms(t.CreatedAt)); err != nil {
			return err
		}
		if err := tx.appendAudit("", audit.Create, "tenant", t.ID, "kind="+string(t.Kind)); err != nil {
			return err
		}
		return tx.appendAudit(t.ID, audit.Create, "tenant", t.ID, "kind="+string(t.Kind))
	})
	if err != nil {
		db.Vault.Shred(ctx, t.ID)
	}
	return t, err
}

func codeLabel(k tenant.Kind) string {
	if k == tenant.Practice {
		return "BSNR"
	}
	return "IK"
}

// FindTenantByID returns a tenant, readable within its own scope or System.
func (db *DB) FindTenantByID(ctx context.Context, id string) (t tenant.Tenant, err error) {
	err = db.View(ctx, scopeFor(id), func(tx *Tx) error {
		t, err = tx.findTenant(id)
		return err
	})
	return t, err
}

// scopeFor returns the scope in which a tenant's own rows are visible.
func scopeFor(tenantID string) string {
	if tenantID == "" {
		return System
	}
	return tenantID
}

func (tx *Tx) findTenant(id string) (tenant.Tenant, error) {
	if err := tx.checkScope(id); err != nil {
		return tenant.Tenant{}, err
	}
	var t tenant.Tenant
	var kind string
	var name []byte
	var created int64
	err := tx.queryRow(`SELECT id, kind, code, name_enc, created_at FROM tenants WHERE id = $1`, id).Scan(&t.ID, &kind, &t.Code, &name, &created)
	if err != nil {
		return t, notFound(err, "Mandant")
	}
	t.Kind, t.CreatedAt = tenant.Kind(kind), fromMS(created)
	c, err := tx.cipher(t.ID)
	if err != nil {
		return t, err
	}
	t.Name, err = c.OpenString(name, "tenants.name|"+t.ID)
	return t, err
}

// ListTenants returns all tenants (an operator task).
func (db *DB) ListTenants(ctx context.Context) ([]tenant.Tenant, error) {
	var out []tenant.Tenant
	err := db.View(ctx, System, func(tx *Tx) error {
		rows, err := tx.query(`SELECT id FROM tenants ORDER BY created_at, id`)
		if err != nil {
			return err
		}
		var ids []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		for _, id := range ids {
			t, err := tx.findTenant(id)
			if err != nil {
				return err
			}
			out = append(out, t)
		}
		return rows.Err()
	})
	return out, err
}

// FindTenantByCode returns the tenant of a kind with a BSNR or IK (an operator task).
func (db *DB) FindTenantByCode(ctx context.Context, kind tenant.Kind, code string) (t tenant.Tenant, err error) {
	err = db.View(ctx, System, func(tx *Tx) error {
		var id string
		if err := tx.queryRow(`SELECT id FROM tenants WHERE kind = $1 AND code = $2`, string(kind), code).Scan(&id); err != nil {
			return notFound(err, "Mandant")
		}
		t, err = tx.findTenant(id)
		return err
	})
	return t, err
}

// DeleteTenant ends a contract: the tenant's data key is destroyed first, so that its data
// is unreadable at once wherever copies lie (backups included); then its rows and files are
// removed. The audit log keeps its entries, which hold ids only.
func (db *DB) DeleteTenant(ctx context.Context, id string) (err error) {
	defer errs.Wrap(&err, "DeleteTenant(%s)", id)
	if _, err := db.FindTenantByID(ctx, id); err != nil {
		return err
	}
	if err := db.Vault.Shred(ctx, id); err != nil {
		return err
	}
	return db.Update(ctx, System, func(tx *Tx) error {
		keys, err := tx.trashTenantBlobs(id)
		if err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM sessions WHERE tenant_id = $1`,
			`DELETE FROM records WHERE tenant_id = $1`,
			`DELETE FROM persons WHERE tenant_id = $1`,
			`DELETE FROM tenants WHERE id = $1`,
		} {
			if _, err := tx.exec(q, id); err != nil {
				return err
			}
		}
		tx.afterCommit(func() { db.deleteBlobs(context.WithoutCancel(ctx), keys) })
		if err := tx.appendAudit(id, audit.Delete, "tenant", id, "crypto-shredded"); err != nil {
			return err
		}
		return tx.appendAudit("", audit.Delete, "tenant", id, "crypto-shredded")
	})
}
