-- api_tokens are the bearer tokens with which a practice's systems (its PVS) use the FHIR
-- API; only a hash of each token is stored.

-- +goose Up
CREATE TABLE api_tokens (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    token_hash  TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    scopes      TEXT NOT NULL,        -- space-separated, SMART style: system/Appointment.write
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);
CREATE INDEX api_tokens_tenant ON api_tokens (tenant_id);

-- +goose Down
DROP TABLE api_tokens;
