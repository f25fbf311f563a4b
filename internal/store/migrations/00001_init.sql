-- Portable schema for SQLite and PostgreSQL. Times are BIGINT Unix milliseconds (UTC);
-- columns ending in _enc hold AES-256-GCM ciphertext under the tenant's data key.

-- +goose Up
CREATE TABLE tenants (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    code        TEXT NOT NULL,       -- BSNR or IK: an institution's number, not personal data
    name_enc    BYTEA NOT NULL,
    created_at  BIGINT NOT NULL,
    UNIQUE (kind, code)
);

CREATE TABLE users (
    id                  TEXT PRIMARY KEY,
    tenant_id           TEXT REFERENCES tenants (id) ON DELETE CASCADE, -- NULL for support users
    username            TEXT NOT NULL UNIQUE,
    role                TEXT NOT NULL,
    name_enc            BYTEA NOT NULL,
    password_hash       TEXT NOT NULL,
    password_history    TEXT NOT NULL DEFAULT '', -- earlier hashes, newest first, one a line
    must_change_pw      INTEGER NOT NULL DEFAULT 0,
    failed_logins       INTEGER NOT NULL DEFAULT 0,
    locked_until        BIGINT NOT NULL DEFAULT 0,
    totp_secret_enc     BYTEA,
    totp_enabled        INTEGER NOT NULL DEFAULT 0,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);
CREATE INDEX users_tenant ON users (tenant_id);

CREATE TABLE sessions (
    id_hash       TEXT PRIMARY KEY,   -- SHA-256 of the cookie value; the value itself is never stored
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tenant_id     TEXT REFERENCES tenants (id) ON DELETE CASCADE, -- the tenant acted for; NULL until a support user picks a grant
    grant_id      TEXT NOT NULL DEFAULT '',
    csrf_token    TEXT NOT NULL,
    mfa_pending   INTEGER NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE reset_tokens (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tenant_id   TEXT REFERENCES tenants (id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE support_grants (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    granted_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    revoked_at  BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX support_grants_tenant ON support_grants (tenant_id);

CREATE TABLE retention_policies (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    days        INTEGER NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, kind)
);

CREATE TABLE persons (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    lookup      TEXT NOT NULL,        -- blind index of name and birth date
    data_enc    BYTEA NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX persons_lookup ON persons (tenant_id, lookup);

-- records holds every other piece of tenant data (requests, transcripts, prescriptions …)
-- as an encrypted document, with an optional encrypted file in the blob store.
CREATE TABLE records (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    person_id   TEXT REFERENCES persons (id),
    kind        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    data_enc    BYTEA NOT NULL,
    blob_key    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX records_kind_age ON records (tenant_id, kind, created_at);
CREATE INDEX records_person ON records (tenant_id, person_id);

-- blob_trash lists blobs whose rows are gone, written in the same transaction; files are
-- deleted after commit, and leftovers of a crash on the next purge.
CREATE TABLE blob_trash (
    blob_key    TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    deleted_at  BIGINT NOT NULL
);

-- The audit log outlives the tenants it speaks of: it holds ids only.
CREATE TABLE audit_log (
    chain        TEXT NOT NULL,
    seq          BIGINT NOT NULL,
    at           BIGINT NOT NULL,      -- Unix microseconds
    tenant_id    TEXT NOT NULL,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    object_type  TEXT NOT NULL,
    object_id    TEXT NOT NULL,
    source       TEXT NOT NULL,
    detail       TEXT NOT NULL,
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL,
    PRIMARY KEY (chain, seq)
);
CREATE INDEX audit_log_tenant_at ON audit_log (tenant_id, at);

CREATE TABLE audit_heads (
    chain  TEXT PRIMARY KEY,
    seq    BIGINT NOT NULL,
    hash   TEXT NOT NULL
);

-- +goose Down
DROP TABLE audit_heads;
DROP TABLE audit_log;
DROP TABLE blob_trash;
DROP TABLE records;
DROP TABLE persons;
DROP TABLE retention_policies;
DROP TABLE support_grants;
DROP TABLE reset_tokens;
DROP TABLE sessions;
DROP TABLE users;
DROP TABLE tenants;
