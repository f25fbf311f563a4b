// Package store keeps Tresen's data in SQLite (the embedded default) or PostgreSQL, with one
// set of portable SQL. Every method takes the tenant it acts for and filters on it; in
// PostgreSQL, row-level security enforces the same a second time. Personal data is sealed
// with the tenant's key before it reaches a table or the blob store, and every change is
// written to the audit log in the same transaction.
package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver "pgx"
	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // SQLite driver "sqlite"

	"github.com/tresen/tresen/internal/blob"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/password"
	"github.com/tresen/tresen/internal/vault"
)

// Engine names a database engine.
type Engine string

const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

//go:embed migrations/*.sql
var migrations embed.FS

// System is the scope of operator tasks that span tenants (purge, audit verification,
// backup, login by user name). Request handlers act in the scope of one tenant.
const System = "*"

// DB is the store. Its fields other than the handles are set by Open and may be replaced by
// tests before use (Now).
type DB struct {
	Engine Engine
	Now    func() time.Time // the clock; retention and session tests inject their own

	write *sql.DB // SQLite: one connection, BEGIN IMMEDIATE; PostgreSQL: the pool
	read  *sql.DB // SQLite: a pool of read-only connections; PostgreSQL: the same pool

	Vault  *vault.Vault
	master vault.KeyWrapper // wraps the key of each backup
	Keys   *Keyring
	Blobs  blob.Store
	Hasher *password.Hasher

	dummyHash func() string // a hash to verify against when a login names no user

	// BypassesRLS is set when the PostgreSQL role is a superuser or has BYPASSRLS: row-level
	// security, the second wall between tenants, does not bind it.
	BypassesRLS bool
}

// Config says where the data lives.
type Config struct {
	DataDir     string // SQLite database, keyring and blobs live here unless PostgresURL is set
	PostgresURL string // PostgreSQL mode: the database; blobs still go to BlobDir
	BlobDir     string // default DataDir/blobs
	KeyringPath string // SQLite mode: default DataDir/keys.db; kept apart from the data
	Master      vault.KeyWrapper
	Pepper      []byte
	Argon       password.Params
}

// Open opens (and migrates) the store.
func Open(ctx context.Context, cfg Config) (_ *DB, err error) {
	db := &DB{Now: time.Now}
	defer func() {
		if err != nil {
			db.Close()
		}
	}()
	if cfg.BlobDir == "" {
		cfg.BlobDir = filepath.Join(cfg.DataDir, "blobs")
	}
	if cfg.PostgresURL != "" {
		db.Engine = Postgres
		if db.write, err = sql.Open("pgx", cfg.PostgresURL); err != nil {
			return nil, err
		}
		db.write.SetMaxOpenConns(32)
		db.write.SetConnMaxIdleTime(5 * time.Minute)
		db.read = db.write
		db.Keys = &Keyring{db: db.write}
	} else {
		db.Engine = SQLite
		if cfg.DataDir == "" {
			return nil, errors.New("store: no data directory")
		}
		if err := mkdirPrivate(cfg.DataDir); err != nil {
			return nil, err
		}
		path := filepath.Join(cfg.DataDir, "tresen.db")
		if db.write, err = openSQLite(path, false); err != nil {
			return nil, err
		}
		db.write.SetMaxOpenConns(1)
		if db.read, err = openSQLite(path, true); err != nil {
			return nil, err
		}
		db.read.SetMaxOpenConns(8)
		if cfg.KeyringPath == "" {
			cfg.KeyringPath = filepath.Join(cfg.DataDir, "keys.db")
		}
		kdb, err := openSQLite(cfg.KeyringPath, false)
		if err != nil {
			return nil, err
		}
		kdb.SetMaxOpenConns(1)
		db.Keys = &Keyring{db: kdb, own: true}
	}
	if err := db.write.PingContext(ctx); err != nil {
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	if err := db.migrate(ctx); err != nil {
		return nil, err
	}
	if db.Engine == Postgres {
		if err := db.write.QueryRowContext(ctx, `SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user`).Scan(&db.BypassesRLS); err != nil {
			return nil, fmt.Errorf("store: role: %w", err)
		}
	}
	if err := db.Keys.init(ctx); err != nil {
		return nil, fmt.Errorf("store: keyring: %w", err)
	}
	if db.Blobs, err = blob.NewDir(cfg.BlobDir); err != nil {
		return nil, err
	}
	if cfg.Master == nil {
		return nil, errors.New("store: no master key")
	}
	db.Vault, db.master = vault.New(cfg.Master, db.Keys), cfg.Master
	if err := db.ensureOperatorKey(ctx); err != nil {
		return nil, fmt.Errorf("store: operator key: %w", err)
	}
	if err := db.upgrade(ctx); err != nil {
		return nil, err
	}
	if cfg.Argon == (password.Params{}) {
		cfg.Argon = password.Default
	}
	if db.Hasher, err = password.NewHasher(cfg.Pepper, cfg.Argon); err != nil {
		return nil, err
	}
	db.dummyHash = sync.OnceValue(func() string {
		h, _ := db.Hasher.Hash("no such user")
		return h
	})
	return db, nil
}

func openSQLite(path string, readOnly bool) (*sql.DB, error) {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "secure_delete(1)") // deleted personal data is overwritten, not left in free pages
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	return sql.Open("sqlite", "file:"+path+"?"+q.Encode())
}

// migrate applies the migrations for this engine: shared files and this engine's twins
// (NNNNN_x_sqlite.sql / NNNNN_x_postgres.sql) share their version numbers.
func (db *DB) migrate(ctx context.Context) error {
	other := "_postgres.sql"
	dialect := goose.DialectSQLite3
	if db.Engine == Postgres {
		other, dialect = "_sqlite.sql", goose.DialectPostgres
	}
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(dialect, db.write, filterFS{sub, other})
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	return nil
}

// upgrade brings data up to the schema where SQL alone cannot: blind indexes need the
// tenants' keys.
func (db *DB) upgrade(ctx context.Context) error {
	if err := db.indexBirthDates(ctx); err != nil {
		return fmt.Errorf("store: index birth dates: %w", err)
	}
	return nil
}

// filterFS hides migration files of the other engine.
type filterFS struct {
	fs.FS
	hide string
}

func (f filterFS) ReadDir(name string) ([]fs.DirEntry, error) {
	all, err := fs.ReadDir(f.FS, name)
	var out []fs.DirEntry
	for _, e := range all {
		if !strings.HasSuffix(e.Name(), f.hide) {
			out = append(out, e)
		}
	}
	return out, err
}

func (f filterFS) Open(name string) (fs.File, error) {
	if strings.HasSuffix(name, f.hide) {
		return nil, fs.ErrNotExist
	}
	return f.FS.Open(name)
}

// Close closes the database handles.
func (db *DB) Close() error {
	var errList []error
	if db.read != nil && db.read != db.write {
		errList = append(errList, db.read.Close())
	}
	if db.write != nil {
		errList = append(errList, db.write.Close())
	}
	if db.Keys != nil && db.Keys.own {
		errList = append(errList, db.Keys.db.Close())
	}
	return errors.Join(errList...)
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.write.PingContext(ctx) }

// Tx is a transaction acting for one tenant (or System).
type Tx struct {
	*sql.Tx
	ctx    context.Context
	db     *DB
	tenant string
	now    time.Time
	after  []func() // run after a successful commit
}

// Update runs fn in a read-write transaction for tenant (or System), committing if fn
// returns nil and rolling back otherwise.
func (db *DB) Update(ctx context.Context, tenant string, fn func(*Tx) error) error {
	return db.transact(ctx, db.write, sql.TxOptions{}, tenant, fn)
}

// View runs fn in a read-only transaction for tenant (or System).
func (db *DB) View(ctx context.Context, tenant string, fn func(*Tx) error) error {
	return db.transact(ctx, db.read, sql.TxOptions{ReadOnly: true}, tenant, fn)
}

// snapshot runs fn in a read-only System transaction that sees the whole database as of one
// instant (for backups). A SQLite read transaction on WAL always does; PostgreSQL needs
// REPEATABLE READ, since READ COMMITTED takes a new snapshot for every statement.
func (db *DB) snapshot(ctx context.Context, fn func(*Tx) error) error {
	return db.transact(ctx, db.read, sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}, System, fn)
}

func (db *DB) transact(ctx context.Context, h *sql.DB, opts sql.TxOptions, tenant string, fn func(*Tx) error) (err error) {
	if tenant == "" {
		return errs.E(errs.Internal, "store: transaction without tenant scope")
	}
	if db.Engine != Postgres {
		opts = sql.TxOptions{} // SQLite: the read pool is query_only, the write handle BEGIN IMMEDIATE
	}
	sqlTx, err := h.BeginTx(ctx, &opts)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	// Times are stored in milliseconds: what a method returns equals what it stored.
	tx := &Tx{Tx: sqlTx, ctx: ctx, db: db, tenant: tenant, now: db.Now().UTC().Truncate(time.Millisecond)}
	defer func() {
		if p := recover(); p != nil {
			sqlTx.Rollback()
			panic(p)
		}
		if err != nil {
			sqlTx.Rollback()
			return
		}
		if err = sqlTx.Commit(); err != nil {
			err = fmt.Errorf("store: commit: %w", err)
			return
		}
		for _, f := range tx.after {
			f()
		}
	}()
	if db.Engine == Postgres {
		if _, err := sqlTx.ExecContext(ctx, `SELECT set_config('tresen.tenant', $1, true)`, tenant); err != nil {
			return err
		}
	}
	return fn(tx)
}

// exec, query and queryRow run statements with the transaction's context.
func (tx *Tx) exec(q string, args ...any) (sql.Result, error) {
	return tx.ExecContext(tx.ctx, q, args...)
}
func (tx *Tx) query(q string, args ...any) (*sql.Rows, error) {
	return tx.QueryContext(tx.ctx, q, args...)
}
func (tx *Tx) queryRow(q string, args ...any) *sql.Row { return tx.QueryRowContext(tx.ctx, q, args...) }

// checkScope refuses to act for a tenant other than the transaction's.
func (tx *Tx) checkScope(tenantID string) error {
	if tx.tenant != System && tx.tenant != tenantID {
		return errs.E(errs.Forbidden, "Zugriff auf einen anderen Mandanten verweigert")
	}
	return nil
}

// cipher returns the data cipher of tenantID.
func (tx *Tx) cipher(tenantID string) (*vault.Cipher, error) {
	return tx.db.Vault.Cipher(tx.ctx, tenantID)
}

// afterCommit registers f to run once the transaction has committed.
func (tx *Tx) afterCommit(f func()) { tx.after = append(tx.after, f) }

// newID returns a new time-ordered unique id.
func newID() string { return uuid.Must(uuid.NewV7()).String() }

// newToken returns a random token for cookies and links.
func newToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return fmt.Sprintf("%x", b)
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// rowsAffected returns an errs.NotFound error if res changed no row.
func rowsAffected(res sql.Result, what string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return errs.E(errs.NotFound, "%s nicht gefunden", what)
	}
	return nil
}

// notFound turns sql.ErrNoRows into an errs.NotFound error.
func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return errs.E(errs.NotFound, "%s nicht gefunden", what)
	}
	return err
}

func mkdirPrivate(dir string) error {
	return os.MkdirAll(dir, 0o700)
}
