package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/retention"
	"github.com/tresen/tresen/internal/tenant"
	"github.com/tresen/tresen/internal/user"
)

// Report is a problem the practice team reported to the operator's support ("Problem
// melden"): a copy of a request, its conversation and its technical log, which support may
// read, and only read, until the report is closed or expires. Closing deletes the copy.
type Report struct {
	ID        string
	TenantID  string
	RecordID  string // the request
	CreatedBy string // user id
	CreatedAt time.Time
	ExpiresAt time.Time
	ClosedAt  time.Time
	// Data is the shared copy; nil once the report is closed or expired, and in the
	// listing for support.
	Data json.RawMessage
}

// Open reports whether support may read the report at now.
func (r Report) Open(now time.Time) bool { return r.ClosedAt.IsZero() && now.Before(r.ExpiresAt) }

// ReportAccess is how long support may read a report.
const ReportAccess = 14 * 24 * time.Hour

// maxReport bounds a report's copy.
const maxReport = 1 << 20

// CreateReport shares a copy of a request with support; the team confirmed what data
// holds. Audited.
func (db *DB) CreateReport(ctx context.Context, tenantID, recordID string, data json.RawMessage) (r Report, err error) {
	defer errs.Wrap(&err, "CreateReport")
	if len(data) > maxReport || !json.Valid(data) {
		return r, errs.E(errs.Invalid, "Die Meldung ist zu groß oder beschädigt.")
	}
	err = db.Update(ctx, tenantID, func(tx *Tx) error {
		var kind string
		if err := tx.queryRow(`SELECT kind FROM records WHERE tenant_id = $1 AND id = $2`, tenantID, recordID).Scan(&kind); err != nil {
			return notFound(err, "Anliegen")
		}
		if retention.Kind(kind) != retention.Request {
			return errs.E(errs.NotFound, "Anliegen nicht gefunden")
		}
		c, err := tx.cipher(tenantID)
		if err != nil {
			return err
		}
		r = Report{ID: newID(), TenantID: tenantID, RecordID: recordID, CreatedBy: audit.ActorFrom(ctx).UserID,
			CreatedAt: tx.now, ExpiresAt: tx.now.Add(ReportAccess), Data: data}
		if _, err := tx.exec(`INSERT INTO support_reports (id, tenant_id, record_id, created_by, created_at, expires_at, data_enc) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			r.ID, tenantID, recordID, r.CreatedBy, ms(r.CreatedAt), ms(r.ExpiresAt), c.Seal(data, []byte("support_reports.data|"+r.ID))); err != nil {
			return err
		}
		return tx.appendAudit(tenantID, audit.SupportReport, "support_report", r.ID, "record="+recordID)
	})
	return r, err
}

const reportColumns = `id, tenant_id, record_id, created_by, created_at, expires_at, closed_at, data_enc`

func (tx *Tx) scanReport(s interface{ Scan(...any) error }, withData bool) (Report, error) {
	var r Report
	var c, e, cl int64
	var data []byte
	if err := s.Scan(&r.ID, &r.TenantID, &r.RecordID, &r.CreatedBy, &c, &e, &cl, &data); err != nil {
		return r, err
	}
	r.CreatedAt, r.ExpiresAt, r.ClosedAt = fromMS(c), fromMS(e), fromMS(cl)
	if withData && data != nil {
		ci, err := tx.cipher(r.TenantID)
		if err != nil {
			return r, err
		}
		if r.Data, err = ci.Open(data, []byte("support_reports.data|"+r.ID)); err != nil {
			return r, err
		}
	}
	return r, nil
}

// ListReports returns a tenant's reports with what each shared, newest first.
func (db *DB) ListReports(ctx context.Context, tenantID string) ([]Report, error) {
	var out []Report
	err := db.View(ctx, tenantID, func(tx *Tx) error {
		rows, err := tx.query(`SELECT `+reportColumns+` FROM support_reports WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC`, tenantID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r, err := tx.scanReport(rows, true)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return rows.Err()
	})
	return out, err
}

// CloseReport ends a report and deletes the copy it shared. Audited.
func (db *DB) CloseReport(ctx context.Context, tenantID, id string) error {
	return db.Update(ctx, tenantID, func(tx *Tx) error {
		res, err := tx.exec(`UPDATE support_reports SET closed_at = $1, data_enc = NULL WHERE tenant_id = $2 AND id = $3 AND closed_at = 0`, ms(tx.now), tenantID, id)
		if err != nil {
			return err
		}
		if err := rowsAffected(res, "Meldung"); err != nil {
			return err
		}
		return tx.appendAudit(tenantID, audit.Delete, "support_report", id, "closed")
	})
}

// OpenReport is a report support may read now, with its tenant; without its data.
type OpenReport struct {
	Report
	Tenant tenant.Tenant
}

// OpenReports lists the reports support may read now, across tenants (an operator task).
func (db *DB) OpenReports(ctx context.Context) ([]OpenReport, error) {
	var out []OpenReport
	err := db.View(ctx, System, func(tx *Tx) error {
		rows, err := tx.query(`SELECT `+reportColumns+` FROM support_reports WHERE closed_at = 0 AND expires_at > $1 ORDER BY created_at`, ms(tx.now))
		if err != nil {
			return err
		}
		for rows.Next() {
			r, err := tx.scanReport(rows, false)
			if err != nil {
				rows.Close()
				return err
			}
			out = append(out, OpenReport{Report: r})
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

// ReadReport gives a support user what a report shared, while it is open; each reading is
// audited in the tenant's log.
func (db *DB) ReadReport(ctx context.Context, id string, u user.User) (r Report, err error) {
	defer errs.Wrap(&err, "ReadReport")
	if u.Role != user.Support {
		return r, errs.E(errs.Forbidden, "nur der Support liest Meldungen")
	}
	var tenantID string
	err = db.View(ctx, System, func(tx *Tx) error {
		return notFound(tx.queryRow(`SELECT tenant_id FROM support_reports WHERE id = $1`, id).Scan(&tenantID), "Meldung")
	})
	if err != nil {
		return r, err
	}
	err = db.Update(ctx, tenantID, func(tx *Tx) error {
		if r, err = tx.scanReport(tx.queryRow(`SELECT `+reportColumns+` FROM support_reports WHERE tenant_id = $1 AND id = $2`, tenantID, id), true); err != nil {
			return notFound(err, "Meldung")
		}
		if !r.Open(tx.now) || r.Data == nil {
			return errs.E(errs.NotFound, "Die Meldung ist geschlossen oder abgelaufen; ihre Daten sind gelöscht.")
		}
		return tx.appendAudit(tenantID, audit.SupportAccess, "support_report", id, "read")
	})
	return r, err
}
