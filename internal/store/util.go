package store

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"

	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

func itoa(n int) string { return strconv.Itoa(n) }

func hashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// isUniqueViolation reports whether err is a unique-constraint violation on either engine.
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}
