-- persons.birth_lookup is a blind index of the birth date alone, so that patient matching
-- can fetch the few records born on a day and compare names tolerantly (Kölner Phonetik),
-- which the exact index of name and birth date cannot. Rows stored before it are indexed
-- when the store opens.

-- +goose Up
ALTER TABLE persons ADD COLUMN birth_lookup TEXT NOT NULL DEFAULT '';
CREATE INDEX persons_birth ON persons (tenant_id, birth_lookup);

-- +goose Down
DROP INDEX persons_birth;
ALTER TABLE persons DROP COLUMN birth_lookup;
