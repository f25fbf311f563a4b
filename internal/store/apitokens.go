package store

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"time"

	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/errs"
)

// APIToken is a bearer token of a practice's system for the FHIR API.
type APIToken struct {
	ID        string
	TenantID  string
	Name      string   // what it is for: "PVS Praxis am Markt"
	Scopes    []string // "system/Appointment.read", "system/*.write" …
	CreatedAt time.Time
	Revoked   bool
}

// validScope reports whether s is a SMART-style system scope: system/<Type|*>.<read|write>.
func validScope(s string) bool {
	rest, ok := strings.CutPrefix(s, "system/")
	if !ok {
		return false
	}
	typ, perm, ok := strings.Cut(rest, ".")
	if !ok || perm != "read" && perm != "write" || typ == "" {
		return false
	}
	return typ == "*" || !strings.ContainsFunc(typ, func(r rune) bool { return !('A' <= r && r <= 'Z' || 'a' <= r && r <= 'z') })
}

// CreateAPIToken issues a token for a tenant's system and returns it once; only its hash
// is stored. Audited.
func (db *DB) CreateAPIToken(ctx context.Context, tenantID, name string, scopes []string) (token string, t APIToken, err error) {
	defer errs.Wrap(&err, "CreateAPIToken")
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 200 {
		return "", t, errs.Field("name", "Bitte einen Namen angeben (wofür der Schlüssel ist), höchstens 200 Zeichen.")
	}
	if len(scopes) == 0 {
		return "", t, errs.Field("scopes", "Bitte mindestens eine Berechtigung angeben, z. B. system/Appointment.write.")
	}
	for _, s := range scopes {
		if !validScope(s) {
			return "", t, errs.Field("scopes", "%q ist keine Berechtigung der Form system/Typ.read oder system/Typ.write", s)
		}
	}
	token = "trs_" + newToken()
	t = APIToken{ID: newID(), TenantID: tenantID, Name: name, Scopes: slices.Clone(scopes)}
	err = db.Update(ctx, tenantID, func(tx *Tx) error {
		if _, err := tx.findTenant(tenantID); err != nil {
			return err
		}
		t.CreatedAt = tx.now
		if _, err := tx.exec(`INSERT INTO api_tokens (id, tenant_id, token_hash, name, scopes, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			t.ID, tenantID, hashToken(token), name, strings.Join(scopes, " "), ms(tx.now)); err != nil {
			return err
		}
		return tx.appendAudit(tenantID, audit.Create, "api_token", t.ID, "scopes="+strings.Join(scopes, " "))
	})
	return token, t, err
}

// LookupAPIToken returns the token's tenant and scopes; errs.Unauthorized for an unknown
// or revoked token.
func (db *DB) LookupAPIToken(ctx context.Context, token string) (APIToken, error) {
	var t APIToken
	var scopes string
	var created int64
	var revoked sql.NullInt64
	err := db.View(ctx, System, func(tx *Tx) error {
		err := tx.queryRow(`SELECT id, tenant_id, name, scopes, created_at, revoked_at FROM api_tokens WHERE token_hash = $1`, hashToken(token)).
			Scan(&t.ID, &t.TenantID, &t.Name, &scopes, &created, &revoked)
		if err == sql.ErrNoRows {
			return errs.E(errs.Unauthorized, "unbekannter oder widerrufener Zugriffsschlüssel")
		}
		return err
	})
	if err != nil {
		return t, err
	}
	if revoked.Valid {
		return APIToken{}, errs.E(errs.Unauthorized, "unbekannter oder widerrufener Zugriffsschlüssel")
	}
	t.Scopes, t.CreatedAt = strings.Fields(scopes), fromMS(created)
	return t, nil
}

// RevokeAPIToken ends a token at once. Audited.
func (db *DB) RevokeAPIToken(ctx context.Context, tenantID, id string) (err error) {
	defer errs.Wrap(&err, "RevokeAPIToken")
	return db.Update(ctx, tenantID, func(tx *Tx) error {
		res, err := tx.exec(`UPDATE api_tokens SET revoked_at = $1 WHERE tenant_id = $2 AND id = $3 AND revoked_at IS NULL`, ms(tx.now), tenantID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.E(errs.NotFound, "Zugriffsschlüssel nicht gefunden")
		}
		return tx.appendAudit(tenantID, audit.Delete, "api_token", id, "revoked")
	})
}

// ListAPITokens returns a tenant's tokens, the newest first, revoked ones included; never
// a token itself, which is not stored.
func (db *DB) ListAPITokens(ctx context.Context, tenantID string) (out []APIToken, err error) {
	defer errs.Wrap(&err, "ListAPITokens")
	err = db.View(ctx, tenantID, func(tx *Tx) error {
		rows, err := tx.query(`SELECT id, name, scopes, created_at, revoked_at FROM api_tokens WHERE tenant_id = $1 ORDER BY created_at DESC, id`, tenantID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			t := APIToken{TenantID: tenantID}
			var scopes string
			var created int64
			var revoked sql.NullInt64
			if err := rows.Scan(&t.ID, &t.Name, &scopes, &created, &revoked); err != nil {
				return err
			}
			t.Scopes, t.CreatedAt, t.Revoked = strings.Fields(scopes), fromMS(created), revoked.Valid
			out = append(out, t)
		}
		return rows.Err()
	})
	return out, err
}
