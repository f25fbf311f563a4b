package store

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/tresen/tresen/internal/appointment"
	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/person"
	"github.com/tresen/tresen/internal/retention"
	"github.com/tresen/tresen/internal/vault"
)

// noBirthDate marks a person indexed without a birth date.
const noBirthDate = "-"

// birthLookup is the blind index of a birth date (YYYY-MM-DD).
func birthLookup(c *vault.Cipher, birthDate string) string {
	if birthDate == "" {
		return noBirthDate
	}
	return c.Index("persons.birth|" + birthDate)
}

// FindPersonsBornOn returns the persons born on a day (YYYY-MM-DD, or as written, see
// person.ParseBirthDate), for tolerant matching by name; the read is audited with its
// count.
func (db *DB) FindPersonsBornOn(ctx context.Context, tenantID, birthDate string) ([]person.Person, error) {
	d, err := person.ParseBirthDate(birthDate, db.Now())
	if err != nil {
		return nil, err
	}
	var out []person.Person
	err = db.Update(ctx, tenantID, func(tx *Tx) error {
		c, err := tx.cipher(tenantID)
		if err != nil {
			return err
		}
		rows, err := tx.query(`SELECT id FROM persons WHERE tenant_id = $1 AND birth_lookup = $2 ORDER BY id`, tenantID, birthLookup(c, d.Format(time.DateOnly)))
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
		if err := rows.Err(); err != nil {
			return err
		}
		for _, id := range ids {
			p, err := tx.findPerson(tenantID, id)
			if err != nil {
				return err
			}
			out = append(out, p)
		}
		return tx.appendAudit(tenantID, audit.Read, "persons", "", "count="+itoa(len(out)))
	})
	return out, err
}

// indexBirthDates indexes the persons stored before the birth-date index existed.
func (db *DB) indexBirthDates(ctx context.Context) error {
	return db.Update(ctx, System, func(tx *Tx) error {
		rows, err := tx.query(`SELECT id, tenant_id FROM persons WHERE birth_lookup = ''`)
		if err != nil {
			return err
		}
		var todo [][2]string
		for rows.Next() {
			var id, tenantID string
			if err := rows.Scan(&id, &tenantID); err != nil {
				rows.Close()
				return err
			}
			todo = append(todo, [2]string{id, tenantID})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, x := range todo {
			p, err := tx.findPerson(x[1], x[0])
			if err != nil {
				return err
			}
			c, err := tx.cipher(x[1])
			if err != nil {
				return err
			}
			if _, err := tx.exec(`UPDATE persons SET birth_lookup = $1 WHERE tenant_id = $2 AND id = $3`, birthLookup(c, p.BirthDate), x[1], x[0]); err != nil {
				return err
			}
		}
		return nil
	})
}

// lookupKey is what a person is found by: name and birth date, normalised.
func lookupKey(name, birthDate string) string {
	return strings.ToLower(strings.Join(strings.Fields(name), " ")) + "|" + birthDate
}

// CreatePerson stores a data subject of a tenant.
func (db *DB) CreatePerson(ctx context.Context, tenantID string, p person.Person) (_ person.Person, err error) {
	defer errs.Wrap(&err, "CreatePerson")
	p.Name = strings.TrimSpace(p.Name)
	if err := p.Validate(db.Now()); err != nil {
		return p, err
	}
	if p.BirthDate != "" { // stored and indexed as YYYY-MM-DD, whichever way it was written
		d, _ := person.ParseBirthDate(p.BirthDate, db.Now())
		p.BirthDate = d.Format(time.DateOnly)
	}
	p.ID, p.TenantID = newID(), tenantID
	err = db.Update(ctx, tenantID, func(tx *Tx) error {
		c, err := tx.cipher(tenantID)
		if err != nil {
			return err
		}
		p.CreatedAt = tx.now
		data, err := json.Marshal(p)
		if err != nil {
			return err
		}
		if _, err := tx.exec(`INSERT INTO persons (id, tenant_id, lookup, birth_lookup, data_enc, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)`,
			p.ID, tenantID, c.Index(lookupKey(p.Name, p.BirthDate)), birthLookup(c, p.BirthDate), c.Seal(data, []byte("persons.data|"+p.ID)), ms(tx.now)); err != nil {
			return err
		}
		return tx.appendAudit(tenantID, audit.Create, "person", p.ID, "")
	})
	return p, err
}

func (tx *Tx) findPerson(tenantID, id string) (person.Person, error) {
	var p person.Person
	var data []byte
	if err := tx.queryRow(`SELECT data_enc FROM persons WHERE tenant_id = $1 AND id = $2`, tenantID, id).Scan(&data); err != nil {
		return p, notFound(err, "Person")
	}
	c, err := tx.cipher(tenantID)
	if err != nil {
		return p, err
	}
	plain, err := c.Open(data, []byte("persons.data|"+id))
	if err != nil {
		return p, err
	}
	err = json.Unmarshal(plain, &p)
	p.TenantID = tenantID
	return p, err
}

// FindPersonByID returns a person; the read is audited.
func (db *DB) FindPersonByID(ctx context.Context, tenantID, id string) (p person.Person, err error) {
	err = db.Update(ctx, tenantID, func(tx *Tx) error {
		if p, err = tx.findPerson(tenantID, id); err != nil {
			return err
		}
		return tx.appendAudit(tenantID, audit.Read, "person", id, "")
	})
	return p, err
}

// FindPersons returns the ids of a tenant's persons with a name and birth date
// (YYYY-MM-DD or DD.MM.YYYY), found by blind index without decrypting anyone else.
func (db *DB) FindPersons(ctx context.Context, tenantID, name, birthDate string) ([]string, error) {
	if d, err := person.ParseBirthDate(birthDate, db.Now()); err == nil {
		birthDate = d.Format(time.DateOnly)
	}
	var ids []string
	err := db.View(ctx, tenantID, func(tx *Tx) error {
		c, err := tx.cipher(tenantID)
		if err != nil {
			return err
		}
		rows, err := tx.query(`SELECT id FROM persons WHERE tenant_id = $1 AND lookup = $2 ORDER BY id`, tenantID, c.Index(lookupKey(name, birthDate)))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return rows.Err()
	})
	return ids, err
}

// Record is one piece of tenant data of a retention kind (a request, a transcript, a
// prescription …): a JSON document from its domain, sealed, with an optional file.
type Record struct {
	ID        string          `json:"id"`
	TenantID  string          `json:"-"`
	PersonID  string          `json:"person_id,omitempty"`
	Kind      retention.Kind  `json:"kind"`
	CreatedAt time.Time       `json:"created_at"`
	Data      json.RawMessage `json:"data"`
	HasFile   bool            `json:"has_file"`
	// Lookup is a key the record can be found by (RecordFilter.Lookup), such as a
	// prescription's Rezept-ID. Only its blind index is stored; it is never read back.
	Lookup string `json:"-"`
}

// maxRecordData bounds a record's document; files go to the blob store.
const maxRecordData = 1 << 20

// AddRecord stores a record and, if file is not nil, its file; both sealed. The file is
// written first: a record never points to a missing file.
func (db *DB) AddRecord(ctx context.Context, tenantID string, r Record, file []byte) (_ Record, err error) {
	defer errs.Wrap(&err, "AddRecord")
	if _, err := retention.Lookup(r.Kind); err != nil {
		return r, err
	}
	if !json.Valid(r.Data) {
		return r, errs.Field("data", "kein gültiges JSON")
	}
	if len(r.Data) > maxRecordData {
		return r, errs.Field("data", "größer als %d Bytes", maxRecordData)
	}
	r.ID, r.TenantID, r.HasFile = newID(), tenantID, file != nil
	c, err := db.Vault.Cipher(ctx, tenantID)
	if err != nil {
		return r, err
	}
	blobKey := ""
	if file != nil {
		blobKey = tenantID + "/" + r.ID
		if err := db.Blobs.Put(ctx, blobKey, c.Seal(file, []byte("blob|"+blobKey))); err != nil {
			return r, err
		}
	}
	err = db.Update(ctx, tenantID, func(tx *Tx) error {
		if r.PersonID != "" {
			if _, err := tx.findPerson(tenantID, r.PersonID); err != nil {
				return err
			}
		}
		r.CreatedAt = tx.now
		if _, err := tx.exec(`INSERT INTO records (id, tenant_id, person_id, kind, created_at, data_enc, blob_key, lookup) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			r.ID, tenantID, nullable(r.PersonID), string(r.Kind), ms(r.CreatedAt), c.Seal(r.Data, []byte("records.data|"+r.ID)), blobKey,
			recordLookup(c, r.Kind, r.Lookup)); err != nil {
			return err
		}
		return tx.appendAudit(tenantID, audit.Create, string(r.Kind), r.ID, "")
	})
	if err != nil && blobKey != "" {
		db.Blobs.Delete(context.WithoutCancel(ctx), blobKey)
	}
	return r, err
}

const recordColumns = `id, person_id, kind, created_at, data_enc, blob_key`

// recordLookup is the blind index of a record's lookup key, or "" without one.
func recordLookup(c *vault.Cipher, kind retention.Kind, key string) string {
	if key == "" {
		return ""
	}
	return c.Index("records.lookup|" + string(kind) + "|" + key)
}

func (tx *Tx) scanRecord(tenantID string, s scanner) (Record, string, error) {
	var r Record
	var personID *string
	var kind, blobKey string
	var created int64
	var data []byte
	if err := s.Scan(&r.ID, &personID, &kind, &created, &data, &blobKey); err != nil {
		return r, "", notFound(err, "Datensatz")
	}
	if personID != nil {
		r.PersonID = *personID
	}
	r.TenantID, r.Kind, r.CreatedAt, r.HasFile = tenantID, retention.Kind(kind), fromMS(created), blobKey != ""
	c, err := tx.cipher(tenantID)
	if err != nil {
		return r, "", err
	}
	r.Data, err = c.Open(data, []byte("records.data|"+r.ID))
	return r, blobKey, err
}

// UpdateRecord replaces a record's document, as a conversation or request grows turn by
// turn; the change is audited. The record keeps its kind, person and creation time (its
// retention runs from when it was first stored).
func (db *DB) UpdateRecord(ctx context.Context, tenantID, id string, data json.RawMessage) (err error) {
	defer errs.Wrap(&err, "UpdateRecord")
	if !json.Valid(data) {
		return errs.Field("data", "kein gültiges JSON")
	}
	if len(data) > maxRecordData {
		return errs.Field("data", "größer als %d Bytes", maxRecordData)
	}
	c, err := db.Vault.Cipher(ctx, tenantID)
	if err != nil {
		return err
	}
	return db.Update(ctx, tenantID, func(tx *Tx) error {
		var kind string
		if err := tx.queryRow(`SELECT kind FROM records WHERE tenant_id = $1 AND id = $2`, tenantID, id).Scan(&kind); err != nil {
			return notFound(err, "Datensatz")
		}
		if _, err := tx.exec(`UPDATE records SET data_enc = $1 WHERE tenant_id = $2 AND id = $3`,
			c.Seal(data, []byte("records.data|"+id)), tenantID, id); err != nil {
			return err
		}
		return tx.appendAudit(tenantID, audit.Update, kind, id, "")
	})
}

// SetRecordPerson links a record to the person it is about, once that is known (a request
// matched to a patient), so that the person's export and erasure include it; audited.
func (db *DB) SetRecordPerson(ctx context.Context, tenantID, id, personID string) (err error) {
	defer errs.Wrap(&err, "SetRecordPerson")
	return db.Update(ctx, tenantID, func(tx *Tx) error {
		if _, err := tx.findPerson(tenantID, personID); err != nil {
			return err
		}
		res, err := tx.exec(`UPDATE records SET person_id = $1 WHERE tenant_id = $2 AND id = $3`, personID, tenantID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.E(errs.NotFound, "Datensatz nicht gefunden")
		}
		return tx.appendAudit(tenantID, audit.Update, "record", id, "person="+personID)
	})
}

// ClaimRecord takes a record for background work until until, unless a claim that has
// not run out holds it: it reports whether this caller has it now (not found: no such
// record of the tenant). Nodes sharing the
// store thus leave each other's work alone; work that outlives its claim may be done
// twice, so until should be generous.
func (db *DB) ClaimRecord(ctx context.Context, tenantID, id string, until time.Time) (claimed bool, err error) {
	defer errs.Wrap(&err, "ClaimRecord")
	err = db.Update(ctx, tenantID, func(tx *Tx) error {
		res, err := tx.exec(`UPDATE records SET claimed_until = $1 WHERE tenant_id = $2 AND id = $3 AND claimed_until <= $4`,
			ms(until), tenantID, id, ms(tx.now))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			claimed = true
			return nil
		}
		var one int
		return notFound(tx.queryRow(`SELECT 1 FROM records WHERE tenant_id = $1 AND id = $2`, tenantID, id).Scan(&one), "Datensatz")
	})
	return claimed, err
}

// FindRecordByID returns a record; the read is audited.
func (db *DB) FindRecordByID(ctx context.Context, tenantID, id string) (r Record, err error) {
	err = db.Update(ctx, tenantID, func(tx *Tx) error {
		if r, _, err = tx.scanRecord(tenantID, tx.queryRow(`SELECT `+recordColumns+` FROM records WHERE tenant_id = $1 AND id = $2`, tenantID, id)); err != nil {
			return err
		}
		return tx.appendAudit(tenantID, audit.Read, string(r.Kind), id, "")
	})
	return r, err
}

// RecordFile returns a record's file, decrypted; the read is audited.
func (db *DB) RecordFile(ctx context.Context, tenantID, id string) ([]byte, error) {
	var key string
	err := db.Update(ctx, tenantID, func(tx *Tx) error {
		var kind string
		if err := tx.queryRow(`SELECT kind, blob_key FROM records WHERE tenant_id = $1 AND id = $2`, tenantID, id).Scan(&kind, &key); err != nil {
			return notFound(err, "Datensatz")
		}
		if key == "" {
			return errs.E(errs.NotFound, "zu diesem Datensatz gibt es keine Datei")
		}
		return tx.appendAudit(tenantID, audit.Read, kind+".file", id, "")
	})
	if err != nil {
		return nil, err
	}
	return db.openBlob(ctx, tenantID, key)
}

func (db *DB) openBlob(ctx context.Context, tenantID, key string) ([]byte, error) {
	sealed, err := db.Blobs.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	c, err := db.Vault.Cipher(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	return c.Open(sealed, []byte("blob|"+key))
}

// RecordFilter selects records; nil fields do not filter.
type RecordFilter struct {
	Kind     *retention.Kind
	PersonID *string
	// Lookup finds records by the key they were stored with (Record.Lookup); it needs Kind.
	Lookup *string
	// Since and Until bound the creation time: Since <= created < Until.
	Since, Until *time.Time
	// Limit is at most MaxRecordList; 0 means 100.
	Limit int
}

// MaxRecordList is the most records one ListRecords returns.
const MaxRecordList = 100_000

// ListRecords returns a tenant's records, newest first; the read is audited with its count.
func (db *DB) ListRecords(ctx context.Context, tenantID string, f RecordFilter) ([]Record, error) {
	var out []Record
	err := db.Update(ctx, tenantID, func(tx *Tx) error {
		q := `SELECT ` + recordColumns + ` FROM records WHERE tenant_id = $1`
		args := []any{tenantID}
		if f.Kind != nil {
			args = append(args, string(*f.Kind))
			q += ` AND kind = $` + itoa(len(args))
		}
		if f.PersonID != nil {
			args = append(args, *f.PersonID)
			q += ` AND person_id = $` + itoa(len(args))
		}
		if f.Lookup != nil {
			if f.Kind == nil {
				return errs.E(errs.Invalid, "Suche nach Schlüssel ohne Art des Datensatzes")
			}
			c, err := tx.cipher(tenantID)
			if err != nil {
				return err
			}
			args = append(args, recordLookup(c, *f.Kind, *f.Lookup))
			q += ` AND lookup = $` + itoa(len(args))
		}
		if f.Since != nil {
			args = append(args, ms(*f.Since))
			q += ` AND created_at >= $` + itoa(len(args))
		}
		if f.Until != nil {
			args = append(args, ms(*f.Until))
			q += ` AND created_at < $` + itoa(len(args))
		}
		limit := f.Limit
		if limit <= 0 {
			limit = 100
		}
		limit = min(limit, MaxRecordList)
		rows, err := tx.query(q+` ORDER BY created_at DESC, id DESC LIMIT `+itoa(limit), args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			r, _, err := tx.scanRecord(tenantID, rows)
			if err != nil {
				rows.Close()
				return err
			}
			out = append(out, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		return tx.appendAudit(tenantID, audit.Read, "records", "", "count="+itoa(len(out)))
	})
	return out, err
}

// PersonExport is everything stored about one person (Art. 15 DSGVO).
type PersonExport struct {
	Person       person.Person             `json:"person"`
	Records      []Record                  `json:"records"`
	Appointments []appointment.Appointment `json:"appointments"`
	Files        map[string][]byte         `json:"-"` // record id → file
}

// ExportPerson gathers everything stored about one person; the export is audited.
func (db *DB) ExportPerson(ctx context.Context, tenantID, personID string) (PersonExport, error) {
	x := PersonExport{Files: map[string][]byte{}}
	keys := map[string]string{}
	err := db.Update(ctx, tenantID, func(tx *Tx) error {
		var err error
		if x.Person, err = tx.findPerson(tenantID, personID); err != nil {
			return err
		}
		rows, err := tx.query(`SELECT `+recordColumns+` FROM records WHERE tenant_id = $1 AND person_id = $2 ORDER BY created_at, id`, tenantID, personID)
		if err != nil {
			return err
		}
		for rows.Next() {
			r, key, err := tx.scanRecord(tenantID, rows)
			if err != nil {
				rows.Close()
				return err
			}
			x.Records = append(x.Records, r)
			if key != "" {
				keys[r.ID] = key
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		arows, err := tx.query(`SELECT `+appointmentColumns+` FROM appointments WHERE tenant_id = $1 AND person_id = $2 ORDER BY start_at, id`, tenantID, personID)
		if err != nil {
			return err
		}
		for arows.Next() {
			a, err := tx.scanAppointment(tenantID, arows)
			if err != nil {
				arows.Close()
				return err
			}
			x.Appointments = append(x.Appointments, a)
		}
		arows.Close()
		if err := arows.Err(); err != nil {
			return err
		}
		return tx.appendAudit(tenantID, audit.Export, "person", personID,
			"records="+itoa(len(x.Records))+" appointments="+itoa(len(x.Appointments)))
	})
	if err != nil {
		return x, err
	}
	for id, key := range keys {
		if x.Files[id], err = db.openBlob(ctx, tenantID, key); err != nil {
			return x, err
		}
	}
	return x, nil
}

// ErasePerson deletes a person and everything stored about them (Art. 17 DSGVO); the
// erasure is audited with its counts.
func (db *DB) ErasePerson(ctx context.Context, tenantID, personID string) error {
	var keys []string
	err := db.Update(ctx, tenantID, func(tx *Tx) error {
		if _, err := tx.findPerson(tenantID, personID); err != nil {
			return err
		}
		var err error
		keys, err = tx.trashWhere(tenantID, `SELECT blob_key FROM records WHERE tenant_id = $1 AND person_id = $2 AND blob_key <> ''`, tenantID, personID)
		if err != nil {
			return err
		}
		res, err := tx.exec(`DELETE FROM records WHERE tenant_id = $1 AND person_id = $2`, tenantID, personID)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		res, err = tx.exec(`DELETE FROM appointments WHERE tenant_id = $1 AND person_id = $2`, tenantID, personID)
		if err != nil {
			return err
		}
		appts, _ := res.RowsAffected()
		if _, err := tx.exec(`DELETE FROM persons WHERE tenant_id = $1 AND id = $2`, tenantID, personID); err != nil {
			return err
		}
		tx.afterCommit(func() { db.deleteBlobs(context.WithoutCancel(ctx), keys) })
		return tx.appendAudit(tenantID, audit.Erase, "person", personID,
			"records="+itoa(int(n))+" appointments="+itoa(int(appts))+" files="+itoa(len(keys)))
	})
	return err
}
