-- records.lookup is a blind index (keyed hash) of a domain key, so that a record can be
-- found by it without decrypting every record: a prescription check by its Rezept-ID.

-- +goose Up
ALTER TABLE records ADD COLUMN lookup TEXT NOT NULL DEFAULT '';
CREATE INDEX records_lookup ON records (tenant_id, kind, lookup);

-- +goose Down
DROP INDEX records_lookup;
ALTER TABLE records DROP COLUMN lookup;
