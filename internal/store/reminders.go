package store

import (
	"context"
	"time"

	"github.com/tresen/tresen/internal/errs"
)

// ClaimReminders takes for a reminder run the practice's appointments that start before
// until and were not taken by an earlier run, and returns from where: the end of the last
// run's window, or the zero time before the first run. Runs on nodes sharing the database,
// or again after a restart, take each window once: when it is taken already, from is
// until (nothing to send).
func (db *DB) ClaimReminders(ctx context.Context, tenantID string, until time.Time) (from time.Time, err error) {
	defer errs.Wrap(&err, "ClaimReminders")
	err = db.Update(ctx, tenantID, func(tx *Tx) error {
		if err := tx.checkScope(tenantID); err != nil {
			return err
		}
		var mark int64
		if err := tx.queryRow(`SELECT reminded_until FROM tenants WHERE id = $1`, tenantID).Scan(&mark); err != nil {
			return notFound(err, "Mandant")
		}
		from = until
		if mark >= ms(until) {
			return nil
		}
		res, err := tx.exec(`UPDATE tenants SET reminded_until = $1 WHERE id = $2 AND reminded_until = $3`, ms(until), tenantID, mark)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return nil // another node took it meanwhile
		}
		from = time.Time{}
		if mark > 0 {
			from = fromMS(mark)
		}
		return nil
	})
	return from, err
}
