package store

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/blob"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/vault"
)

// A backup is a logical, engine-neutral copy of every data table as of one snapshot, with
// the files that the snapshot's records point to: a backup taken from SQLite restores into
// PostgreSQL and the other way round. It leaves out the keyring on purpose: once a tenant's
// key is destroyed, the tenant's data is unreadable in every older backup too
// (crypto-shredding). A restore therefore needs the same master key and a keyring that
// holds the tenants' keys.
//
// File format, version 1:
//
//	header  "TRESEN-BACKUP" | version (1 byte) | key id length (1 byte) | master key id |
//	        wrapped key length (2 bytes, big-endian) | backup key wrapped by the master key
//	chunks  flag (1 byte: 0 more follow, 1 final) | length (4 bytes, big-endian) | ciphertext
//
// The header is plaintext. Every chunk seals up to 64 KiB of the body with AES-256-GCM
// under the backup key, which is random per backup, so the chunk index can serve as nonce.
// The additional data binds the hash of the header, the index and the final flag: a changed
// header, a reordered, dropped or altered chunk and a file cut short are all detected. The
// body is a stream of entries (see backupWriter).

// backupTables are the tables a backup holds, in the order of their foreign keys, with the
// primary key each is read in. tenant_keys is not among them (see above).
var backupTables = []struct{ name, order string }{
	{"tenants", "id"},
	{"users", "id"},
	{"sessions", "id_hash"},
	{"reset_tokens", "token_hash"},
	{"support_grants", "id"},
	{"retention_policies", "tenant_id, kind"},
	{"settings", "tenant_id, name"},
	{"persons", "id"},
	{"records", "id"},
	{"appointments", "id"},
	{"appointment_units", "tenant_id, resource, unit"},
	{"api_tokens", "id"},
	{"inbox", "record_id"},
	{"support_reports", "id"},
	{"blob_trash", "blob_key"},
	{"audit_log", "chain, seq"},
	{"audit_heads", "chain"},
}

const (
	backupMagic   = "TRESEN-BACKUP"
	backupVersion = 1
	chunkSize     = 64 << 10
	gcmOverhead   = 16

	// Bounds that keep a damaged or forged body from making the reader allocate without end.
	maxBackupName  = 255      // table, column and blob key names
	maxBackupCols  = 256      // columns of a table
	maxBackupValue = 64 << 20 // one column value
	maxBackupBlob  = 4 << 30  // one file
)

// backupKeyAAD binds a wrapped backup key to its purpose: it cannot pass for a tenant key.
var backupKeyAAD = []byte("tresen-backup-key|v1")

// Entries of the body.
const (
	entryMeta  = 'H' // engine, snapshot time, schema version
	entryTable = 'T' // table name, column names; the rows of the table follow
	entryRow   = 'R' // one value per column
	entryBlob  = 'B' // blob key, the sealed file as the blob store holds it
	entryEnd   = 'E' // nothing follows
)

// Typed column values. The schema has TEXT, BIGINT/INTEGER and BYTEA columns only.
const (
	valNull  = 0
	valInt   = 1
	valText  = 2
	valBytes = 3
)

// BackupStats says what a backup holds or a restore brought back.
type BackupStats struct {
	Created      time.Time      // when the snapshot was taken
	Rows         map[string]int // rows per table
	Blobs        int            // files
	BlobsMissing int            // Backup: files purged between snapshot and copy, left out
	MissingKeys  int            // Restore: tenants whose key the keyring lacks; their data stays unreadable
}

// detail returns the counts for an audit entry: ids and numbers only.
func (s BackupStats) detail() string {
	var b strings.Builder
	for _, t := range backupTables {
		fmt.Fprintf(&b, "%s=%d ", t.name, s.Rows[t.name])
	}
	fmt.Fprintf(&b, "blobs=%d blobs_missing=%d missing_keys=%d", s.Blobs, s.BlobsMissing, s.MissingKeys)
	return b.String()
}

// Backup writes an encrypted backup of the whole store to w: all tables as of one snapshot
// and the files of its records, taken while the store stays in use. A file purged after the
// snapshot was taken is left out and counted. The backup is audited in the system chain.
func (db *DB) Backup(ctx context.Context, w io.Writer) (stats BackupStats, err error) {
	defer errs.Wrap(&err, "Backup")
	stats.Rows = map[string]int{}
	key := make([]byte, vault.KeySize)
	if _, err := rand.Read(key); err != nil {
		return stats, err
	}
	wrapped, err := db.master.Wrap(ctx, key, backupKeyAAD)
	if err != nil {
		return stats, fmt.Errorf("wrap backup key: %w", err)
	}
	keyID := db.master.KeyID()
	if len(keyID) == 0 || len(keyID) > 255 || len(wrapped) == 0 || len(wrapped) > 0xffff {
		return stats, errs.E(errs.Internal, "Hauptschlüssel-ID oder verpackter Schlüssel passt nicht ins Sicherungsformat")
	}
	hdr := append([]byte(backupMagic), backupVersion, byte(len(keyID)))
	hdr = append(hdr, keyID...)
	hdr = binary.BigEndian.AppendUint16(hdr, uint16(len(wrapped)))
	hdr = append(hdr, wrapped...)
	if _, err := w.Write(hdr); err != nil {
		return stats, fmt.Errorf("write backup: %w", err)
	}
	cw, err := newChunkWriter(w, key, hdr)
	if err != nil {
		return stats, err
	}
	bw := &backupWriter{w: cw}
	err = db.snapshot(ctx, func(tx *Tx) error {
		stats.Created = fromMS(ms(tx.now)) // as the body records it
		schema, err := tx.schemaVersion()
		if err != nil {
			return err
		}
		bw.meta(string(db.Engine), ms(tx.now), schema)
		var blobKeys []string
		for _, t := range backupTables {
			n, keys, err := bw.table(tx, t.name, t.order)
			if err != nil {
				return fmt.Errorf("back up %s: %w", t.name, err)
			}
			stats.Rows[t.name], blobKeys = n, append(blobKeys, keys...)
		}
		// Blobs are immutable and written before the row that points to them, so each one
		// the snapshot refers to exists unless a purge removed it since.
		for _, k := range blobKeys {
			data, err := db.Blobs.Get(ctx, k)
			if errs.Is(err, errs.NotFound) {
				stats.BlobsMissing++
				continue
			}
			if err != nil {
				return fmt.Errorf("back up blob: %w", err)
			}
			bw.blob(k, data)
			stats.Blobs++
		}
		bw.end()
		return bw.err
	})
	if err != nil {
		return stats, err
	}
	if err := cw.Close(); err != nil {
		return stats, err
	}
	return stats, db.Audit(ctx, "", audit.Backup, "backup", "", stats.detail())
}

// schemaVersion returns the version of the newest applied migration.
func (tx *Tx) schemaVersion() (int64, error) {
	var v int64
	err := tx.queryRow(`SELECT COALESCE(MAX(version_id), 0) FROM goose_db_version`).Scan(&v)
	return v, err
}

// backupWriter encodes the body. Strings and byte strings are length-prefixed (uvarint),
// integers are varints. The first error sticks in err.
type backupWriter struct {
	w   io.Writer
	buf []byte
	err error
}

func (b *backupWriter) flush() {
	if b.err == nil {
		_, b.err = b.w.Write(b.buf)
	}
	b.buf = b.buf[:0]
}

func (b *backupWriter) end() { b.buf = append(b.buf, entryEnd); b.flush() }

func (b *backupWriter) appendString(s string) {
	b.buf = binary.AppendUvarint(b.buf, uint64(len(s)))
	b.buf = append(b.buf, s...)
}

func (b *backupWriter) meta(engine string, created, schema int64) {
	b.buf = append(b.buf, entryMeta)
	b.appendString(engine)
	b.buf = binary.AppendVarint(b.buf, created)
	b.buf = binary.AppendVarint(b.buf, schema)
	b.flush()
}

func (b *backupWriter) blob(key string, data []byte) {
	b.buf = append(b.buf, entryBlob)
	b.appendString(key)
	b.buf = binary.AppendUvarint(b.buf, uint64(len(data)))
	b.flush()
	if b.err == nil {
		_, b.err = b.w.Write(data)
	}
}

// table writes all rows of a table and returns their number and, for records, the blob
// keys they point to.
func (b *backupWriter) table(tx *Tx, name, order string) (n int, blobKeys []string, err error) {
	rows, err := tx.query(`SELECT * FROM ` + name + ` ORDER BY ` + order)
	if err != nil {
		return 0, nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, nil, err
	}
	b.buf = append(b.buf, entryTable)
	b.appendString(name)
	b.buf = binary.AppendUvarint(b.buf, uint64(len(cols)))
	blobCol := -1
	for i, c := range cols {
		b.appendString(c)
		if name == "records" && c == "blob_key" {
			blobCol = i
		}
	}
	b.flush()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, nil, err
		}
		b.buf = append(b.buf, entryRow)
		for i, v := range vals {
			switch v := v.(type) {
			case nil:
				b.buf = append(b.buf, valNull)
			case int64:
				b.buf = binary.AppendVarint(append(b.buf, valInt), v)
			case int32:
				b.buf = binary.AppendVarint(append(b.buf, valInt), int64(v))
			case int:
				b.buf = binary.AppendVarint(append(b.buf, valInt), int64(v))
			case string:
				b.buf = append(b.buf, valText)
				b.appendString(v)
				if i == blobCol && v != "" {
					blobKeys = append(blobKeys, v)
				}
			case []byte:
				b.buf = append(b.buf, valBytes)
				b.buf = binary.AppendUvarint(b.buf, uint64(len(v)))
				b.buf = append(b.buf, v...)
			default:
				return n, nil, errs.E(errs.Internal, "Spalte %s.%s: Typ %T wird in Sicherungen nicht unterstützt", name, cols[i], v)
			}
		}
		b.flush()
		if b.err != nil {
			return n, nil, b.err
		}
		n++
	}
	return n, blobKeys, rows.Err()
}

// chunkWriter seals what is written to it in chunks; Close seals the final one. A backup
// that fails half-way has no final chunk, so that a restore reports it as cut short.
type chunkWriter struct {
	w     io.Writer
	aead  cipher.AEAD
	hdr   [sha256.Size]byte
	buf   []byte
	out   []byte
	index uint64
}

func newBackupAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func newChunkWriter(w io.Writer, key, hdr []byte) (*chunkWriter, error) {
	aead, err := newBackupAEAD(key)
	if err != nil {
		return nil, err
	}
	return &chunkWriter{w: w, aead: aead, hdr: sha256.Sum256(hdr), buf: make([]byte, 0, chunkSize),
		out: make([]byte, 0, 5+chunkSize+gcmOverhead)}, nil
}

func (c *chunkWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		k := copy(c.buf[len(c.buf):chunkSize], p)
		c.buf, p, n = c.buf[:len(c.buf)+k], p[k:], n+k
		if len(c.buf) == chunkSize {
			if err := c.seal(false); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// Close seals the final chunk; it does not close the underlying writer.
func (c *chunkWriter) Close() error { return c.seal(true) }

func (c *chunkWriter) seal(final bool) error {
	c.out = c.aead.Seal(c.out[:5], chunkNonce(c.index), c.buf, chunkAAD(c.hdr, c.index, final))
	c.out[0] = 0
	if final {
		c.out[0] = 1
	}
	binary.BigEndian.PutUint32(c.out[1:5], uint32(len(c.out)-5))
	if _, err := c.w.Write(c.out); err != nil {
		return fmt.Errorf("write backup: %w", err)
	}
	c.index++
	c.buf = c.buf[:0]
	return nil
}

func chunkNonce(index uint64) []byte {
	n := make([]byte, 12)
	binary.BigEndian.PutUint64(n[4:], index)
	return n
}

func chunkAAD(hdr [sha256.Size]byte, index uint64, final bool) []byte {
	aad := append([]byte("tresen-backup-chunk|"), hdr[:]...)
	aad = binary.BigEndian.AppendUint64(aad, index)
	if final {
		return append(aad, 1)
	}
	return append(aad, 0)
}

// Restore reads a backup into this store, which must be empty. The rows go in in one
// transaction; the files are written before it commits, so that no row ever points to a
// missing file, and removed again if the restore fails. Restore checks the master key,
// every chunk and the end of the file, and reports a damaged or cut-short file by the
// number of its block. Tenants whose key the keyring lacks are restored unreadable and
// counted in MissingKeys.
func (db *DB) Restore(ctx context.Context, r io.Reader) (stats BackupStats, err error) {
	defer errs.Wrap(&err, "Restore")
	stats.Rows = map[string]int{}
	cr, err := db.openBackup(ctx, r)
	if err != nil {
		return stats, err
	}
	var written []string
	err = db.Update(ctx, System, func(tx *Tx) error {
		if err := tx.checkEmpty(); err != nil {
			return err
		}
		rr := &restorer{tx: tx, db: db, d: &backupReader{r: cr}, stats: &stats, written: &written}
		return rr.run()
	})
	if err != nil && len(written) > 0 {
		for _, k := range written {
			db.Blobs.Delete(context.WithoutCancel(ctx), k)
		}
	}
	return stats, err
}

// openBackup reads the header, unwraps the backup key and returns a reader of the body.
func (db *DB) openBackup(ctx context.Context, r io.Reader) (*chunkReader, error) {
	head := make([]byte, len(backupMagic)+2)
	n, err := io.ReadFull(r, head)
	if magic := head[:min(n, len(backupMagic))]; n == 0 || !bytes.HasPrefix([]byte(backupMagic), magic) {
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("read backup: %w", err)
		}
		return nil, errs.E(errs.Invalid, "keine Tresen-Sicherung")
	}
	if err != nil {
		return nil, readErr(err, "Sicherung unvollständig: Kopf abgeschnitten")
	}
	if v := head[len(backupMagic)]; v != backupVersion {
		return nil, errs.E(errs.Invalid, "Sicherungsformat %d wird nicht unterstützt (erwartet %d)", v, backupVersion)
	}
	idLen := int(head[len(backupMagic)+1])
	rest := make([]byte, idLen+2)
	if _, err := io.ReadFull(r, rest); err != nil {
		return nil, readErr(err, "Sicherung unvollständig: Kopf abgeschnitten")
	}
	keyID := string(rest[:idLen])
	wrapped := make([]byte, binary.BigEndian.Uint16(rest[idLen:]))
	if _, err := io.ReadFull(r, wrapped); err != nil {
		return nil, readErr(err, "Sicherung unvollständig: Kopf abgeschnitten")
	}
	for _, c := range []byte(keyID) {
		if c <= ' ' || c > '~' {
			return nil, errs.E(errs.Invalid, "Sicherung beschädigt: Kopf ungültig")
		}
	}
	if keyID == "" || len(wrapped) == 0 {
		return nil, errs.E(errs.Invalid, "Sicherung beschädigt: Kopf ungültig")
	}
	key, err := db.master.Unwrap(ctx, keyID, wrapped, backupKeyAAD)
	if err == nil && len(key) != vault.KeySize {
		err = vault.ErrDecrypt
	}
	if err != nil {
		return nil, &errs.Error{Kind: errs.Invalid, Err: err, Message: fmt.Sprintf(
			"die Sicherung lässt sich mit diesem Hauptschlüssel nicht öffnen (sie verlangt den Hauptschlüssel %q, oder ihr Kopf ist beschädigt)", keyID)}
	}
	aead, err := newBackupAEAD(key)
	if err != nil {
		return nil, err
	}
	hdr := append(append(head, rest...), wrapped...)
	return &chunkReader{r: r, aead: aead, hdr: sha256.Sum256(hdr)}, nil
}

// readErr turns a short read into an Invalid error with msg, and passes other I/O errors on.
func readErr(err error, msg string, args ...any) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errs.E(errs.Invalid, msg, args...)
	}
	return fmt.Errorf("read backup: %w", err)
}

// chunkReader opens the chunks of a body one by one. It returns io.EOF only after the final
// chunk has been authenticated and nothing follows it.
type chunkReader struct {
	r     io.Reader
	aead  cipher.AEAD
	hdr   [sha256.Size]byte
	in    []byte
	buf   []byte
	pos   int
	index uint64 // chunks opened so far
	final bool
}

func (c *chunkReader) next() error {
	block := c.index + 1 // as people count
	var frame [5]byte
	if _, err := io.ReadFull(c.r, frame[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return errs.E(errs.Invalid, "Sicherung unvollständig: nach Block %d abgeschnitten", c.index)
		}
		return readErr(err, "Sicherung unvollständig: Block %d abgeschnitten", block)
	}
	n := binary.BigEndian.Uint32(frame[1:])
	if frame[0] > 1 || n < gcmOverhead || n > chunkSize+gcmOverhead {
		return errs.E(errs.Invalid, "Sicherung beschädigt: Block %d ungültig", block)
	}
	if cap(c.in) < int(n) {
		c.in = make([]byte, chunkSize+gcmOverhead)
	}
	c.in = c.in[:n]
	if _, err := io.ReadFull(c.r, c.in); err != nil {
		return readErr(err, "Sicherung unvollständig: Block %d abgeschnitten", block)
	}
	final := frame[0] == 1
	plain, err := c.aead.Open(c.buf[:0], chunkNonce(c.index), c.in, chunkAAD(c.hdr, c.index, final))
	if err != nil {
		return errs.E(errs.Invalid, "Sicherung beschädigt: Block %d verändert oder abgeschnitten", block)
	}
	c.buf, c.pos, c.index, c.final = plain, 0, c.index+1, final
	if final {
		var extra [1]byte
		if n, _ := io.ReadFull(c.r, extra[:]); n > 0 {
			return errs.E(errs.Invalid, "Sicherung beschädigt: Daten nach dem letzten Block %d", block)
		}
	}
	return nil
}

func (c *chunkReader) fill() error {
	for c.pos == len(c.buf) {
		if c.final {
			return io.EOF
		}
		if err := c.next(); err != nil {
			return err
		}
	}
	return nil
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if err := c.fill(); err != nil {
		return 0, err
	}
	n := copy(p, c.buf[c.pos:])
	c.pos += n
	return n, nil
}

func (c *chunkReader) ReadByte() (byte, error) {
	if err := c.fill(); err != nil {
		return 0, err
	}
	c.pos++
	return c.buf[c.pos-1], nil
}

// backupReader decodes the body that backupWriter encoded. The chunks are authenticated,
// so a body that does not decode is a fault of the writer or a forgery with the master key;
// the reader still only fails, never panics, and bounds what it allocates.
type backupReader struct {
	r *chunkReader
}

// fix reports the end of the body inside an entry as damage.
func (d *backupReader) fix(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errs.E(errs.Invalid, "Sicherung beschädigt: Inhalt endet mitten in einem Eintrag")
	}
	return err
}

func (d *backupReader) readByte() (byte, error) {
	c, err := d.r.ReadByte()
	return c, d.fix(err)
}

func (d *backupReader) uvarint() (uint64, error) {
	v, err := binary.ReadUvarint(d.r)
	return v, d.fix(err)
}

func (d *backupReader) varint() (int64, error) {
	v, err := binary.ReadVarint(d.r)
	return v, d.fix(err)
}

func (d *backupReader) readBytes(limit uint64) ([]byte, error) {
	n, err := d.uvarint()
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, errs.E(errs.Invalid, "Sicherung beschädigt: Eintrag zu groß")
	}
	if n <= chunkSize {
		b := make([]byte, n)
		_, err := io.ReadFull(d.r, b)
		return b, d.fix(err)
	}
	// Grow with what arrives instead of trusting the length.
	var buf bytes.Buffer
	_, err = io.CopyN(&buf, d.r, int64(n))
	return buf.Bytes(), d.fix(err)
}

func (d *backupReader) name() (string, error) {
	b, err := d.readBytes(maxBackupName)
	return string(b), err
}

func (d *backupReader) value() (any, error) {
	tag, err := d.readByte()
	if err != nil {
		return nil, err
	}
	switch tag {
	case valNull:
		return nil, nil
	case valInt:
		return d.varint()
	case valText:
		b, err := d.readBytes(maxBackupValue)
		return string(b), err
	case valBytes:
		return d.readBytes(maxBackupValue)
	}
	return nil, errs.E(errs.Invalid, "Sicherung beschädigt: unbekannter Werttyp %d", tag)
}

// restorer inserts the entries of a body in one transaction.
type restorer struct {
	tx      *Tx
	db      *DB
	d       *backupReader
	stats   *BackupStats
	written *[]string // blob keys written so far

	table   int // index in backupTables of the current table, -1 before the first
	cols    []string
	args    []any // rows not yet inserted, flattened
	pending int   // bytes in args
	blobCol int   // records: the blob_key column
	tenants []string
	blobs   map[string]bool // blob keys the records point to → written
}

// maxBatchArgs keeps a multi-row INSERT below SQLite's historic limit of 999 parameters.
const maxBatchArgs = 999

func (rr *restorer) run() error {
	rr.table, rr.blobs = -1, map[string]bool{}
	if tag, err := rr.d.readByte(); err != nil {
		return err
	} else if tag != entryMeta {
		return errs.E(errs.Invalid, "Sicherung beschädigt: Inhalt beginnt nicht mit den Angaben zur Sicherung")
	}
	if _, err := rr.d.name(); err != nil { // engine: informational
		return err
	}
	created, err := rr.d.varint()
	if err != nil {
		return err
	}
	schema, err := rr.d.varint()
	if err != nil {
		return err
	}
	rr.stats.Created = fromMS(created)
	have, err := rr.tx.schemaVersion()
	if err != nil {
		return err
	}
	if schema > have {
		return errs.E(errs.Invalid, "die Sicherung stammt aus einer neueren Tresen-Version (Schema %d, hier %d)", schema, have)
	}
	for {
		tag, err := rr.d.readByte()
		if err != nil {
			return err
		}
		switch tag {
		case entryTable:
			err = rr.startTable()
		case entryRow:
			err = rr.row()
		case entryBlob:
			err = rr.blob()
		case entryEnd:
			return rr.finish()
		default:
			err = errs.E(errs.Invalid, "Sicherung beschädigt: unbekannter Eintrag %d", tag)
		}
		if err != nil {
			return err
		}
	}
}

func (rr *restorer) startTable() error {
	if err := rr.flush(); err != nil {
		return err
	}
	name, err := rr.d.name()
	if err != nil {
		return err
	}
	i := rr.table + 1
	for i < len(backupTables) && backupTables[i].name != name {
		i++
	}
	if i == len(backupTables) {
		return errs.E(errs.Invalid, "Sicherung beschädigt: unbekannte oder doppelte Tabelle %q", name)
	}
	n, err := rr.d.uvarint()
	if err != nil {
		return err
	}
	if n == 0 || n > maxBackupCols {
		return errs.E(errs.Invalid, "Sicherung beschädigt: Tabelle %s hat %d Spalten", name, n)
	}
	// Column names go into SQL text: each must be a column of this table here, once.
	have, err := rr.columns(name)
	if err != nil {
		return err
	}
	rr.table, rr.cols, rr.blobCol = i, make([]string, n), -1
	for j := range rr.cols {
		c, err := rr.d.name()
		if err != nil {
			return err
		}
		if !have[c] {
			return errs.E(errs.Invalid, "die Sicherung passt nicht zu dieser Tresen-Version: Spalte %s.%q fehlt hier", name, c)
		}
		have[c] = false
		rr.cols[j] = c
		if name == "records" && c == "blob_key" {
			rr.blobCol = j
		}
	}
	rr.stats.Rows[name] = 0
	return nil
}

// columns returns the columns of a table in this store's schema.
func (rr *restorer) columns(table string) (map[string]bool, error) {
	rows, err := rr.tx.query(`SELECT * FROM ` + table + ` WHERE 1 = 0`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, c := range cols {
		have[c] = true
	}
	return have, rows.Err()
}

func (rr *restorer) row() error {
	if rr.table < 0 {
		return errs.E(errs.Invalid, "Sicherung beschädigt: Zeile ohne Tabelle")
	}
	name := backupTables[rr.table].name
	for j, c := range rr.cols {
		v, err := rr.d.value()
		if err != nil {
			return err
		}
		switch v := v.(type) {
		case string:
			rr.pending += len(v)
			if j == rr.blobCol && v != "" {
				rr.blobs[v] = false
			}
			if name == "tenants" && c == "id" {
				rr.tenants = append(rr.tenants, v)
			}
		case []byte:
			rr.pending += len(v)
		}
		rr.args = append(rr.args, v)
	}
	rr.stats.Rows[name]++
	if len(rr.args)+len(rr.cols) > maxBatchArgs || rr.pending > 4<<20 {
		return rr.flush()
	}
	return nil
}

// flush inserts the rows collected so far with one statement.
func (rr *restorer) flush() error {
	if len(rr.args) == 0 {
		return nil
	}
	var q strings.Builder
	q.WriteString("INSERT INTO " + backupTables[rr.table].name + " (" + strings.Join(rr.cols, ", ") + ") VALUES ")
	for i := range rr.args {
		switch {
		case i == 0:
			q.WriteString("(")
		case i%len(rr.cols) == 0:
			q.WriteString("), (")
		default:
			q.WriteString(", ")
		}
		q.WriteString("$" + itoa(i+1))
	}
	q.WriteString(")")
	if _, err := rr.tx.exec(q.String(), rr.args...); err != nil {
		return fmt.Errorf("restore %s: %w", backupTables[rr.table].name, err)
	}
	rr.args, rr.pending = rr.args[:0], 0
	return nil
}

// blob writes a file at once, before the rows that point to it commit.
func (rr *restorer) blob() error {
	if err := rr.flush(); err != nil {
		return err
	}
	key, err := rr.d.name()
	if err != nil {
		return err
	}
	if done, ok := rr.blobs[key]; !ok || done || !blob.ValidKey(key) {
		return errs.E(errs.Invalid, "Sicherung beschädigt: Datei, auf die kein Datensatz verweist")
	}
	data, err := rr.d.readBytes(maxBackupBlob)
	if err != nil {
		return err
	}
	if err := rr.db.Blobs.Put(rr.tx.ctx, key, data); err != nil {
		return fmt.Errorf("restore blob: %w", err)
	}
	rr.blobs[key] = true
	*rr.written = append(*rr.written, key)
	rr.stats.Blobs++
	return nil
}

// finish checks that the body ends here, counts the tenants whose key is missing and
// audits the restore in the same transaction.
func (rr *restorer) finish() error {
	if err := rr.flush(); err != nil {
		return err
	}
	if _, err := rr.d.r.ReadByte(); !errors.Is(err, io.EOF) {
		if err != nil {
			return err
		}
		return errs.E(errs.Invalid, "Sicherung beschädigt: Daten nach dem Ende des Inhalts")
	}
	for k, done := range rr.blobs {
		if !done {
			rr.stats.BlobsMissing++ // purged while the backup was taken
			delete(rr.blobs, k)
		}
	}
	for _, id := range rr.tenants {
		if _, err := rr.db.Keys.GetKey(rr.tx.ctx, id); errs.Is(err, errs.NotFound) {
			rr.stats.MissingKeys++
		} else if err != nil {
			return fmt.Errorf("keyring: %w", err)
		}
	}
	return rr.tx.appendAudit("", audit.Restore, "backup", "", rr.stats.detail())
}

// checkEmpty refuses to restore over data: a restore does not merge.
func (tx *Tx) checkEmpty() error {
	for _, t := range backupTables {
		var one int
		err := tx.queryRow(`SELECT 1 FROM ` + t.name + ` LIMIT 1`).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return err
		}
		return errs.E(errs.Conflict, "Ziel ist nicht leer (Tabelle %s enthält Daten); eine Sicherung wird nur in einen leeren Speicher zurückgespielt", t.name)
	}
	return nil
}
