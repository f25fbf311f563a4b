package store

import (
	"context"
	"database/sql"
	"encoding/base32"
	"errors"
	"strings"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/berlin"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/user"
	"github.com/tresen/tresen/internal/vault"
)

// operatorKey names the keyring entry that seals the data of support users, who belong to
// the operator rather than to a tenant.
const operatorKey = "operator"

// userCipher returns the cipher for a user's sealed fields.
func (tx *Tx) userCipher(tenantID string) (*vault.Cipher, error) {
	if tenantID == "" {
		return tx.cipher(operatorKey)
	}
	return tx.cipher(tenantID)
}

// ensureOperatorKey creates the operator's key on first start.
func (db *DB) ensureOperatorKey(ctx context.Context) error {
	if _, err := db.Keys.GetKey(ctx, operatorKey); errs.Is(err, errs.NotFound) {
		return db.Vault.CreateKey(ctx, operatorKey)
	} else {
		return err
	}
}

const userColumns = `id, tenant_id, username, role, name_enc, totp_enabled, must_change_pw, failed_logins, locked_until, created_at`

func (tx *Tx) scanUser(s scanner) (user.User, error) {
	var u user.User
	var tenantID sql.NullString
	var role string
	var name []byte
	var totpOn, mustChange int
	var locked, created int64
	if err := s.Scan(&u.ID, &tenantID, &u.Username, &role, &name, &totpOn, &mustChange, &u.FailedLogins, &locked, &created); err != nil {
		return u, notFound(err, "Benutzer")
	}
	u.TenantID, u.Role, u.TOTPEnabled, u.MustChangePassword = tenantID.String, user.Role(role), totpOn == 1, mustChange == 1
	u.LockedUntil, u.CreatedAt = fromMS(locked), fromMS(created)
	c, err := tx.userCipher(u.TenantID)
	if err != nil {
		return u, err
	}
	u.Name, err = c.OpenString(name, "users.name|"+u.ID)
	return u, err
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// CreateUser adds a user with an initial password, which must follow the password policy.
// A user created with MustChangePassword set has to choose a new password at first login.
func (db *DB) CreateUser(ctx context.Context, u user.User, pw string) (_ user.User, err error) {
	defer errs.Wrap(&err, "CreateUser")
	u.Username, u.Name = strings.TrimSpace(u.Username), strings.TrimSpace(u.Name)
	if err := u.Validate(); err != nil {
		return u, err
	}
	if err := user.CheckPassword(pw, u.Username); err != nil {
		return u, err
	}
	hash, err := db.Hasher.Hash(pw)
	if err != nil {
		return u, err
	}
	u.ID = newID()
	err = db.Update(ctx, scopeFor(u.TenantID), func(tx *Tx) error {
		if u.TenantID != "" {
			if _, err := tx.findTenant(u.TenantID); err != nil {
				return err
			}
		}
		c, err := tx.userCipher(u.TenantID)
		if err != nil {
			return err
		}
		u.CreatedAt = tx.now
		if _, err := tx.exec(`INSERT INTO users (id, tenant_id, username, role, name_enc, password_hash, must_change_pw, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)`,
			u.ID, nullable(u.TenantID), u.Username, string(u.Role), c.SealString(u.Name, "users.name|"+u.ID), hash, boolInt(u.MustChangePassword), ms(tx.now)); err != nil {
			if isUniqueViolation(err) {
				// User names are global: they are typed at login before any tenant is known.
				return errs.Field("username", "der Benutzername ist schon vergeben")
			}
			return err
		}
		return tx.appendAudit(u.TenantID, audit.Create, "user", u.ID, "role="+string(u.Role))
	})
	return u, err
}

// FindUserByID returns a user of a tenant.
func (db *DB) FindUserByID(ctx context.Context, tenantID, id string) (u user.User, err error) {
	err = db.View(ctx, scopeFor(tenantID), func(tx *Tx) error {
		u, err = tx.findUser(tenantID, id)
		return err
	})
	return u, err
}

func (tx *Tx) findUser(tenantID, id string) (user.User, error) {
	if tenantID == "" {
		return tx.scanUser(tx.queryRow(`SELECT `+userColumns+` FROM users WHERE tenant_id IS NULL AND id = $1`, id))
	}
	return tx.scanUser(tx.queryRow(`SELECT `+userColumns+` FROM users WHERE tenant_id = $1 AND id = $2`, tenantID, id))
}

// ListUsers returns the users of a tenant, by user name.
func (db *DB) ListUsers(ctx context.Context, tenantID string) ([]user.User, error) {
	var out []user.User
	err := db.View(ctx, tenantID, func(tx *Tx) error {
		rows, err := tx.query(`SELECT `+userColumns+` FROM users WHERE tenant_id = $1 ORDER BY username`, tenantID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			u, err := tx.scanUser(rows)
			if err != nil {
				return err
			}
			out = append(out, u)
		}
		return rows.Err()
	})
	return out, err
}

// UpdateUserRole changes a user's role. A tenant never loses its last owner.
func (db *DB) UpdateUserRole(ctx context.Context, tenantID, id string, role user.Role) error {
	if role == user.Support {
		return errs.Field("role", "die Rolle Support kann nicht an Benutzer eines Mandanten vergeben werden")
	}
	if _, err := user.ParseRole(string(role)); err != nil {
		return err
	}
	return db.Update(ctx, tenantID, func(tx *Tx) error {
		u, err := tx.findUser(tenantID, id)
		if err != nil {
			return err
		}
		if u.Role == user.Owner && role != user.Owner {
			if err := tx.keepOneOwner(tenantID); err != nil {
				return err
			}
		}
		if _, err := tx.exec(`UPDATE users SET role = $1, updated_at = $2 WHERE tenant_id = $3 AND id = $4`, string(role), ms(tx.now), tenantID, id); err != nil {
			return err
		}
		return tx.appendAudit(tenantID, audit.Permission, "user", id, "role="+string(u.Role)+"->"+string(role))
	})
}

func (tx *Tx) keepOneOwner(tenantID string) error {
	var n int
	if err := tx.queryRow(`SELECT COUNT(*) FROM users WHERE tenant_id = $1 AND role = 'owner'`, tenantID).Scan(&n); err != nil {
		return err
	}
	if n <= 1 {
		return errs.E(errs.Conflict, "der letzte Inhaber-Zugang kann nicht entfernt oder herabgestuft werden")
	}
	return nil
}

// DeleteUser removes a user and their sessions.
func (db *DB) DeleteUser(ctx context.Context, tenantID, id string) error {
	return db.Update(ctx, tenantID, func(tx *Tx) error {
		u, err := tx.findUser(tenantID, id)
		if err != nil {
			return err
		}
		if u.Role == user.Owner {
			if err := tx.keepOneOwner(tenantID); err != nil {
				return err
			}
		}
		if _, err := tx.exec(`DELETE FROM users WHERE tenant_id = $1 AND id = $2`, tenantID, id); err != nil {
			return err
		}
		return tx.appendAudit(tenantID, audit.Delete, "user", id, "")
	})
}

// credentials is what login needs of a user.
type credentials struct {
	user     user.User
	hash     string
	history  []string
	totpSeal []byte
}

func (tx *Tx) credentials(where string, args ...any) (credentials, error) {
	var c credentials
	var history string
	row := tx.queryRow(`SELECT `+userColumns+`, password_hash, password_history, totp_secret_enc FROM users WHERE `+where, args...)
	var tenantID sql.NullString
	var role string
	var name []byte
	var totpOn, mustChange int
	var locked, created int64
	if err := row.Scan(&c.user.ID, &tenantID, &c.user.Username, &role, &name, &totpOn, &mustChange, &c.user.FailedLogins, &locked, &created,
		&c.hash, &history, &c.totpSeal); err != nil {
		return c, notFound(err, "Benutzer")
	}
	c.user.TenantID, c.user.Role, c.user.TOTPEnabled = tenantID.String, user.Role(role), totpOn == 1
	c.user.MustChangePassword = mustChange == 1
	c.user.LockedUntil, c.user.CreatedAt = fromMS(locked), fromMS(created)
	ci, err := tx.userCipher(c.user.TenantID)
	if err != nil {
		return c, err
	}
	if c.user.Name, err = ci.OpenString(name, "users.name|"+c.user.ID); err != nil {
		return c, err
	}
	if history != "" {
		c.history = strings.Split(history, "\n")
	}
	return c, nil
}

// tenantCredentials returns the credentials of a user of tenantID (of a support user for
// ""), filtered on the tenant in the query like every other read: a user of another tenant
// is not found, and their row is neither read nor decrypted.
func (tx *Tx) tenantCredentials(tenantID, userID string) (credentials, error) {
	if tenantID == "" {
		return tx.credentials(`tenant_id IS NULL AND id = $1`, userID)
	}
	return tx.credentials(`tenant_id = $1 AND id = $2`, tenantID, userID)
}

// ErrBadLogin is the one answer to a wrong user name or password: it does not say which.
var ErrBadLogin = errs.E(errs.Unauthorized, "Benutzername oder Passwort ist falsch")

// Authenticate checks a user name and password. It counts failures, locks the account after
// user.MaxFailedLogins with growing delays, and audits every attempt.
func (db *DB) Authenticate(ctx context.Context, username, pw string) (user.User, error) {
	var c credentials
	err := db.View(ctx, System, func(tx *Tx) (err error) {
		c, err = tx.credentials(`username = $1`, username)
		return err
	})
	if errs.Is(err, errs.NotFound) {
		// Verify against a hash anyway, so that unknown and known names take equally long.
		db.Hasher.Verify(pw, db.dummyHash())
		db.Audit(ctx, "", audit.LoginFailed, "user", "", "unknown user name")
		return user.User{}, ErrBadLogin
	}
	if err != nil {
		return user.User{}, err
	}
	u := c.user
	now := db.Now()
	if now.Before(u.LockedUntil) {
		db.Audit(ctx, u.TenantID, audit.LoginFailed, "user", u.ID, "locked")
		return u, errs.E(errs.Unauthorized, "zu viele Fehlversuche: der Zugang ist bis %s Uhr gesperrt", u.LockedUntil.In(berlin.Location).Format("15:04"))
	}
	ok, err := db.Hasher.Verify(pw, c.hash)
	if err != nil {
		return u, err
	}
	err = db.Update(ctx, scopeFor(u.TenantID), func(tx *Tx) error {
		if ok {
			if _, err := tx.exec(`UPDATE users SET failed_logins = 0, locked_until = 0 WHERE id = $1`, u.ID); err != nil {
				return err
			}
			return tx.appendAudit(u.TenantID, audit.Login, "user", u.ID, "password")
		}
		var n int
		if err := tx.queryRow(`UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1 RETURNING failed_logins`, u.ID).Scan(&n); err != nil {
			return err
		}
		if err := tx.appendAudit(u.TenantID, audit.LoginFailed, "user", u.ID, "wrong password"); err != nil {
			return err
		}
		if d := user.LockoutAfter(n); d > 0 {
			u.LockedUntil = tx.now.Add(d)
			if _, err := tx.exec(`UPDATE users SET locked_until = $1 WHERE id = $2`, ms(u.LockedUntil), u.ID); err != nil {
				return err
			}
			return tx.appendAudit(u.TenantID, audit.Lockout, "user", u.ID, "failures="+itoa(n)+" minutes="+itoa(int(d/time.Minute)))
		}
		return nil
	})
	if err != nil {
		return u, err
	}
	if !ok {
		return u, ErrBadLogin
	}
	u.FailedLogins, u.LockedUntil = 0, time.Time{}
	return u, nil
}

// ChangePassword sets a new password after checking the current one, the policy and the
// history of the last user.PasswordHistory passwords.
func (db *DB) ChangePassword(ctx context.Context, tenantID, userID, current, next string) error {
	var c credentials
	err := db.View(ctx, scopeFor(tenantID), func(tx *Tx) (err error) {
		c, err = tx.tenantCredentials(tenantID, userID)
		return err
	})
	if err != nil {
		return err
	}
	if ok, err := db.Hasher.Verify(current, c.hash); err != nil {
		return err
	} else if !ok {
		return &errs.Error{Kind: errs.Invalid, Field: "current", Message: "das bisherige Passwort ist falsch"}
	}
	return db.setPassword(ctx, c, next, audit.PasswordSet, nil)
}

// setPassword stores next as c's password after the policy and history checks, and ends all
// of the user's sessions. claim, if not nil, runs first in the same transaction and can
// refuse the change (a reset token that is used up meanwhile).
func (db *DB) setPassword(ctx context.Context, c credentials, next string, action audit.Action, claim func(*Tx) error) error {
	if err := user.CheckPassword(next, c.user.Username); err != nil {
		return err
	}
	for _, old := range append([]string{c.hash}, c.history...) {
		if ok, _ := db.Hasher.Verify(next, old); ok {
			return errs.Field("password", "das neue Passwort darf keinem der letzten %d Passwörter entsprechen", user.PasswordHistory)
		}
	}
	hash, err := db.Hasher.Hash(next)
	if err != nil {
		return err
	}
	history := append([]string{c.hash}, c.history...)
	if len(history) > user.PasswordHistory-1 {
		history = history[:user.PasswordHistory-1]
	}
	return db.Update(ctx, scopeFor(c.user.TenantID), func(tx *Tx) error {
		if claim != nil {
			if err := claim(tx); err != nil {
				return err
			}
		}
		if _, err := tx.exec(`UPDATE users SET password_hash = $1, password_history = $2, must_change_pw = 0, failed_logins = 0, locked_until = 0, updated_at = $3 WHERE id = $4`,
			hash, strings.Join(history, "\n"), ms(tx.now), c.user.ID); err != nil {
			return err
		}
		if _, err := tx.exec(`DELETE FROM sessions WHERE user_id = $1`, c.user.ID); err != nil {
			return err
		}
		return tx.appendAudit(c.user.TenantID, action, "user", c.user.ID, "")
	})
}

// CreateResetToken issues a one-time password reset token for a user, valid for
// user.ResetTokenTTL. The token is shown once; only its hash is stored.
func (db *DB) CreateResetToken(ctx context.Context, tenantID, userID string) (string, error) {
	token := newToken()
	err := db.Update(ctx, scopeFor(tenantID), func(tx *Tx) error {
		if _, err := tx.findUser(tenantID, userID); err != nil {
			return err
		}
		if _, err := tx.exec(`DELETE FROM reset_tokens WHERE user_id = $1`, userID); err != nil {
			return err
		}
		if _, err := tx.exec(`INSERT INTO reset_tokens (token_hash, user_id, tenant_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
			hashToken(token), userID, nullable(tenantID), ms(tx.now), ms(tx.now.Add(user.ResetTokenTTL))); err != nil {
			return err
		}
		return tx.appendAudit(tenantID, audit.PasswordReset, "user", userID, "token issued")
	})
	return token, err
}

// ResetPassword sets a new password with a reset token, which is used up by it.
func (db *DB) ResetPassword(ctx context.Context, token, next string) error {
	var c credentials
	invalid := errs.E(errs.Invalid, "der Link zum Zurücksetzen ist ungültig, abgelaufen oder schon benutzt")
	err := db.Update(ctx, System, func(tx *Tx) error {
		var userID string
		var expires, used int64
		err := tx.queryRow(`SELECT user_id, expires_at, used_at FROM reset_tokens WHERE token_hash = $1`, hashToken(token)).Scan(&userID, &expires, &used)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && (used != 0 || !tx.now.Before(fromMS(expires)))) {
			return invalid
		} else if err != nil {
			return err
		}
		c, err = tx.credentials(`id = $1`, userID)
		return err
	})
	if err != nil {
		return err
	}
	// The token is used up in the transaction that sets the password, and only if it is
	// still unused and valid then: of two concurrent resets with one token, one wins.
	return db.setPassword(ctx, c, next, audit.PasswordReset, func(tx *Tx) error {
		res, err := tx.exec(`UPDATE reset_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at = 0 AND expires_at > $1`,
			ms(tx.now), hashToken(token))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return invalid
		}
		return nil
	})
}

// BeginTOTP creates a new TOTP secret for a user, stored sealed but not yet enabled, and
// returns its otpauth:// URL for the authenticator app.
func (db *DB) BeginTOTP(ctx context.Context, tenantID, userID, issuer string) (url string, err error) {
	err = db.Update(ctx, scopeFor(tenantID), func(tx *Tx) error {
		u, err := tx.findUser(tenantID, userID)
		if err != nil {
			return err
		}
		key, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: u.Username})
		if err != nil {
			return err
		}
		c, err := tx.userCipher(tenantID)
		if err != nil {
			return err
		}
		url = key.URL()
		_, err = tx.exec(`UPDATE users SET totp_secret_enc = $1 WHERE id = $2 AND totp_enabled = 0`,
			c.SealString(key.Secret(), "users.totp|"+userID), userID)
		return err
	})
	return url, err
}

// PendingTOTP returns the otpauth:// URL of the secret that BeginTOTP stored and that is not
// enabled yet, so that the setup page can be shown again after a wrong code.
func (db *DB) PendingTOTP(ctx context.Context, tenantID, userID, issuer string) (url string, err error) {
	err = db.View(ctx, scopeFor(tenantID), func(tx *Tx) error {
		c, err := tx.tenantCredentials(tenantID, userID)
		if err != nil {
			return err
		}
		if c.user.TOTPEnabled || c.totpSeal == nil {
			return errs.E(errs.NotFound, "keine Einrichtung des zweiten Faktors begonnen")
		}
		ci, err := tx.userCipher(tenantID)
		if err != nil {
			return err
		}
		secret, err := ci.OpenString(c.totpSeal, "users.totp|"+userID)
		if err != nil {
			return err
		}
		raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
		if err != nil {
			return err
		}
		key, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: c.user.Username, Secret: raw})
		if err != nil {
			return err
		}
		url = key.URL()
		return nil
	})
	return url, err
}

// EnableTOTP switches the second factor on once the user proved with a code that their app
// holds the secret.
func (db *DB) EnableTOTP(ctx context.Context, tenantID, userID, code string) error {
	return db.Update(ctx, scopeFor(tenantID), func(tx *Tx) error {
		ok, err := tx.checkTOTP(tenantID, userID, code)
		if err != nil {
			return err
		}
		if !ok {
			return errs.Field("code", "der Code stimmt nicht; bitte den aktuellen Code aus der App eingeben")
		}
		if _, err := tx.exec(`UPDATE users SET totp_enabled = 1, updated_at = $1 WHERE id = $2`, ms(tx.now), userID); err != nil {
			return err
		}
		return tx.appendAudit(tenantID, audit.TOTPEnable, "user", userID, "")
	})
}

// VerifyTOTP checks a second-factor code at login.
func (db *DB) VerifyTOTP(ctx context.Context, tenantID, userID, code string) (ok bool, err error) {
	err = db.View(ctx, scopeFor(tenantID), func(tx *Tx) error {
		ok, err = tx.checkTOTP(tenantID, userID, code)
		return err
	})
	if err == nil && !ok {
		db.Audit(ctx, tenantID, audit.LoginFailed, "user", userID, "wrong second factor")
	}
	return ok, err
}

func (tx *Tx) checkTOTP(tenantID, userID, code string) (bool, error) {
	c, err := tx.tenantCredentials(tenantID, userID)
	if err != nil {
		return false, err
	}
	if c.totpSeal == nil {
		return false, errs.E(errs.Invalid, "für diesen Zugang ist kein zweiter Faktor eingerichtet")
	}
	ci, err := tx.userCipher(tenantID)
	if err != nil {
		return false, err
	}
	secret, err := ci.OpenString(c.totpSeal, "users.totp|"+userID)
	if err != nil {
		return false, err
	}
	return totp.Validate(strings.TrimSpace(code), secret), nil
}

// FindUserByUsername returns the user with a login name, in any tenant (an operator task).
func (db *DB) FindUserByUsername(ctx context.Context, username string) (u user.User, err error) {
	err = db.View(ctx, System, func(tx *Tx) error {
		u, err = tx.scanUser(tx.queryRow(`SELECT `+userColumns+` FROM users WHERE username = $1`, username))
		return err
	})
	return u, err
}
