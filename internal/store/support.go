package store

import (
	"context"
	"time"

	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/tenant"
	"github.com/tresen/tresen/internal/user"
)

// Grant is a tenant owner's consent that the operator's support may look into the tenant's
// data, read-only, until it expires or is revoked.
type Grant struct {
	ID        string
	TenantID  string
	GrantedBy string
	CreatedAt time.Time
	ExpiresAt time.Time
	RevokedAt time.Time
}

// Active reports whether the grant allows access at now.
func (g Grant) Active(now time.Time) bool { return g.RevokedAt.IsZero() && now.Before(g.ExpiresAt) }

// MaxGrant is the longest support access an owner can grant at once.
const MaxGrant = 7 * 24 * time.Hour

// CreateGrant records an owner's consent to support access for d.
func (db *DB) CreateGrant(ctx context.Context, tenantID string, d time.Duration) (g Grant, err error) {
	if d <= 0 || d > MaxGrant {
		return g, errs.Field("duration", "die Freigabe muss zwischen einer Stunde und 7 Tagen gelten")
	}
	err = db.Update(ctx, tenantID, func(tx *Tx) error {
		g = Grant{ID: newID(), TenantID: tenantID, GrantedBy: audit.ActorFrom(ctx).UserID, CreatedAt: tx.now, ExpiresAt: tx.now.Add(d)}
		if _, err := tx.exec(`INSERT INTO support_grants (id, tenant_id, granted_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
			g.ID, tenantID, g.GrantedBy, ms(g.CreatedAt), ms(g.ExpiresAt)); err != nil {
			return err
		}
		return tx.appendAudit(tenantID, audit.SupportGrant, "support_grant", g.ID, "hours="+itoa(int(d/time.Hour)))
	})
	return g, err
}

// RevokeGrant ends a grant at once; support sessions using it end with it.
func (db *DB) RevokeGrant(ctx context.Context, tenantID, id string) error {
	return db.Update(ctx, tenantID, func(tx *Tx) error {
		res, err := tx.exec(`UPDATE support_grants SET revoked_at = $1 WHERE tenant_id = $2 AND id = $3 AND revoked_at = 0`, ms(tx.now), tenantID, id)
		if err != nil {
			return err
		}
		if err := rowsAffected(res, "Freigabe"); err != nil {
			return err
		}
		if _, err := tx.exec(`DELETE FROM sessions WHERE tenant_id = $1 AND grant_id = $2`, tenantID, id); err != nil {
			return err
		}
		return tx.appendAudit(tenantID, audit.SupportRevoke, "support_grant", id, "")
	})
}

// ListGrants returns a tenant's grants, newest first.
func (db *DB) ListGrants(ctx context.Context, tenantID string) ([]Grant, error) {
	var out []Grant
	err := db.View(ctx, tenantID, func(tx *Tx) error {
		rows, err := tx.query(`SELECT id, tenant_id, granted_by, created_at, expires_at, revoked_at FROM support_grants WHERE tenant_id = $1 ORDER BY created_at DESC`, tenantID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var g Grant
			var c, e, r int64
			if err := rows.Scan(&g.ID, &g.TenantID, &g.GrantedBy, &c, &e, &r); err != nil {
				return err
			}
			g.CreatedAt, g.ExpiresAt, g.RevokedAt = fromMS(c), fromMS(e), fromMS(r)
			out = append(out, g)
		}
		return rows.Err()
	})
	return out, err
}

func (db *DB) checkGrant(ctx context.Context, tenantID, grantID string) error {
	return db.View(ctx, tenantID, func(tx *Tx) error {
		var e, r int64
		if err := tx.queryRow(`SELECT expires_at, revoked_at FROM support_grants WHERE tenant_id = $1 AND id = $2`, tenantID, grantID).Scan(&e, &r); err != nil {
			return notFound(err, "Freigabe")
		}
		if !(Grant{ExpiresAt: fromMS(e), RevokedAt: fromMS(r)}).Active(tx.now) {
			return errs.E(errs.Unauthorized, "die Support-Freigabe ist abgelaufen oder widerrufen")
		}
		return nil
	})
}

// EnterWithGrant lets a support user's session act, read-only, for the tenant of an active
// grant. The use is audited in the tenant's chain.
func (db *DB) EnterWithGrant(ctx context.Context, token string, u user.User, tenantID, grantID string) error {
	if u.Role != user.Support {
		return errs.E(errs.Forbidden, "nur Support-Zugänge können eine Freigabe nutzen")
	}
	if err := db.checkGrant(ctx, tenantID, grantID); err != nil {
		return err
	}
	return db.Update(ctx, System, func(tx *Tx) error {
		res, err := tx.exec(`UPDATE sessions SET tenant_id = $1, grant_id = $2 WHERE id_hash = $3 AND user_id = $4`, tenantID, grantID, hashToken(token), u.ID)
		if err != nil {
			return err
		}
		if err := rowsAffected(res, "Sitzung"); err != nil {
			return err
		}
		return tx.appendAudit(tenantID, audit.SupportAccess, "support_grant", grantID, "enter")
	})
}

// ActiveGrant is a grant that support can use now, with the tenant it opens.
type ActiveGrant struct {
	Grant
	Tenant tenant.Tenant
}

// ActiveGrants lists the grants that are active now, across tenants: what the operator's
// support may enter (an operator task).
func (db *DB) ActiveGrants(ctx context.Context) ([]ActiveGrant, error) {
	var out []ActiveGrant
	err := db.View(ctx, System, func(tx *Tx) error {
		rows, err := tx.query(`SELECT id, tenant_id, granted_by, created_at, expires_at FROM support_grants
			WHERE revoked_at = 0 AND expires_at > $1 ORDER BY expires_at`, ms(tx.now))
		if err != nil {
			return err
		}
		for rows.Next() {
			var g ActiveGrant
			var c, e int64
			if err := rows.Scan(&g.ID, &g.TenantID, &g.GrantedBy, &c, &e); err != nil {
				rows.Close()
				return err
			}
			g.CreatedAt, g.ExpiresAt = fromMS(c), fromMS(e)
			out = append(out, g)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for i := range out {
			if out[i].Tenant, err = tx.findTenant(out[i].TenantID); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// ErrNoGrant answers a support user who asks for a tenant without an active grant.
var ErrNoGrant = errs.E(errs.Forbidden, "für diesen Mandanten besteht keine aktive Support-Freigabe")
