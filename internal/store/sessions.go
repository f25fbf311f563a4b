package store

import (
	"context"
	"database/sql"

	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/user"
)

// Session is a logged-in browser. MFAPending sessions have passed the password but not yet
// the second factor and may do nothing but enter it.
type Session struct {
	TenantID   string // the tenant acted for; for support users the tenant of their grant
	GrantID    string
	CSRFToken  string
	MFAPending bool
	User       user.User
}

// CreateSession starts a session for a user who passed the password check and returns the
// cookie value, which is stored only as a hash.
func (db *DB) CreateSession(ctx context.Context, u user.User, mfaPending bool) (string, error) {
	token := newToken()
	err := db.Update(ctx, scopeFor(u.TenantID), func(tx *Tx) error {
		_, err := tx.exec(`INSERT INTO sessions (id_hash, user_id, tenant_id, csrf_token, mfa_pending, created_at, last_seen_at)
			VALUES ($1, $2, $3, $4, $5, $6, $6)`,
			hashToken(token), u.ID, nullable(u.TenantID), newToken(), boolInt(mfaPending), ms(tx.now))
		return err
	})
	return token, err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// touchEvery limits how often a session's last-seen time is written.
const touchEvery = 30 // seconds

// LookupSession returns the session of a cookie value, enforcing the idle and absolute
// timeouts; an expired session is deleted and reported as Unauthorized.
func (db *DB) LookupSession(ctx context.Context, token string) (Session, error) {
	var s Session
	expired := errs.E(errs.Unauthorized, "Sitzung abgelaufen, bitte erneut anmelden")
	var created, seen int64
	var userID string
	var tenantID sql.NullString
	var mfa int
	err := db.View(ctx, System, func(tx *Tx) error {
		err := tx.queryRow(`SELECT user_id, tenant_id, grant_id, csrf_token, mfa_pending, created_at, last_seen_at FROM sessions WHERE id_hash = $1`,
			hashToken(token)).Scan(&userID, &tenantID, &s.GrantID, &s.CSRFToken, &mfa, &created, &seen)
		if err == sql.ErrNoRows {
			return expired
		}
		if err != nil {
			return err
		}
		s.TenantID, s.MFAPending = tenantID.String, mfa == 1
		now := db.Now()
		if now.Sub(fromMS(seen)) > user.IdleTimeout || now.Sub(fromMS(created)) > user.AbsoluteTimeout {
			return expired
		}
		s.User, err = tx.findUserAnyTenant(userID)
		return err
	})
	if errs.Is(err, errs.Unauthorized) {
		db.DeleteSession(ctx, token)
		return s, err
	}
	if err != nil {
		return s, err
	}
	if s.User.Role == user.Support && s.GrantID != "" {
		if err := db.checkGrant(ctx, s.TenantID, s.GrantID); err != nil {
			db.DeleteSession(ctx, token)
			return s, err
		}
	}
	if db.Now().Sub(fromMS(seen)).Seconds() > touchEvery {
		err = db.Update(ctx, System, func(tx *Tx) error {
			_, err := tx.exec(`UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2`, ms(tx.now), hashToken(token))
			return err
		})
	}
	return s, err
}

func (tx *Tx) findUserAnyTenant(id string) (user.User, error) {
	return tx.scanUser(tx.queryRow(`SELECT `+userColumns+` FROM users WHERE id = $1`, id))
}

// CompleteMFA marks a session as having passed the second factor.
func (db *DB) CompleteMFA(ctx context.Context, token string) error {
	return db.Update(ctx, System, func(tx *Tx) error {
		res, err := tx.exec(`UPDATE sessions SET mfa_pending = 0 WHERE id_hash = $1`, hashToken(token))
		if err != nil {
			return err
		}
		return rowsAffected(res, "Sitzung")
	})
}

// DeleteSession ends a session (logout, expiry).
func (db *DB) DeleteSession(ctx context.Context, token string) error {
	return db.Update(ctx, System, func(tx *Tx) error {
		_, err := tx.exec(`DELETE FROM sessions WHERE id_hash = $1`, hashToken(token))
		return err
	})
}
