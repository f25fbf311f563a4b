-- support_reports are problems the practice team reported to the operator's support: a
-- sealed copy of a request, its conversation and its technical log, which support may read
-- until the report is closed or expires. Closing deletes the copy.

-- +goose Up
CREATE TABLE support_reports (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    record_id   TEXT NOT NULL REFERENCES records (id) ON DELETE CASCADE,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    closed_at   BIGINT NOT NULL DEFAULT 0,
    data_enc    BYTEA             -- NULL once closed or expired
);
CREATE INDEX support_reports_tenant ON support_reports (tenant_id, created_at);
CREATE INDEX support_reports_open ON support_reports (closed_at, expires_at);

-- +goose Down
DROP TABLE support_reports;
