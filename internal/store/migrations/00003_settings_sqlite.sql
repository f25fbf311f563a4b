-- settings holds a tenant's settings as encrypted documents by name ("llm" …): they may hold
-- secrets such as a provider's API key.

-- +goose Up
CREATE TABLE settings (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    data_enc    BYTEA NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

-- +goose Down
DROP TABLE settings;
