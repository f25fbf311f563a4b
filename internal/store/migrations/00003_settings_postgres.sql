-- settings holds a tenant's settings as encrypted documents by name ("llm" …): they may hold
-- secrets such as a provider's API key. Row-level security as for every tenant table.

-- +goose Up
CREATE TABLE settings (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    data_enc    BYTEA NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, name)
);
ALTER TABLE settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE settings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON settings USING (tresen_tenant_visible(tenant_id));

-- +goose Down
DROP POLICY tenant_isolation ON settings;
DROP TABLE settings;
