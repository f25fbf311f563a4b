-- inbox holds how the practice team handles each request (a record of kind request):
-- status, who took it, notes. Apart from the request itself, which the assistant keeps
-- writing while a conversation goes on.

-- +goose Up
CREATE TABLE inbox (
    record_id   TEXT PRIMARY KEY REFERENCES records (id) ON DELETE CASCADE,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    status      TEXT NOT NULL,
    assignee    TEXT NOT NULL DEFAULT '',
    data_enc    BYTEA NOT NULL,       -- notes
    updated_at  BIGINT NOT NULL
);
CREATE INDEX inbox_tenant ON inbox (tenant_id, status);

-- +goose Down
DROP TABLE inbox;
