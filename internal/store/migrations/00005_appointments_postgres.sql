-- appointments are the practice calendar; appointment_units hold one row per five minutes
-- that a booked appointment takes of each of its resources, so that the primary key makes
-- a double booking impossible, on either engine and on every node. Row-level security as
-- for every tenant table.

-- +goose Up
CREATE TABLE appointments (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    type_id     TEXT NOT NULL,
    resources   TEXT NOT NULL,        -- the doctor first, then rooms and devices, joined by ","
    start_at    BIGINT NOT NULL,
    end_at      BIGINT NOT NULL,
    status      TEXT NOT NULL,
    person_id   TEXT REFERENCES persons (id), -- the patient's record, when matched
    data_enc    BYTEA NOT NULL,       -- patient, note, source
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX appointments_time ON appointments (tenant_id, start_at);
CREATE INDEX appointments_person ON appointments (tenant_id, person_id);

CREATE TABLE appointment_units (
    tenant_id      TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    resource       TEXT NOT NULL,
    unit           BIGINT NOT NULL,   -- Unix time in five-minute steps
    appointment_id TEXT NOT NULL REFERENCES appointments (id) ON DELETE CASCADE,
    PRIMARY KEY (tenant_id, resource, unit)
);
CREATE INDEX appointment_units_appointment ON appointment_units (appointment_id);

ALTER TABLE appointments ENABLE ROW LEVEL SECURITY;
ALTER TABLE appointments FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON appointments USING (tresen_tenant_visible(tenant_id));
ALTER TABLE appointment_units ENABLE ROW LEVEL SECURITY;
ALTER TABLE appointment_units FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON appointment_units USING (tresen_tenant_visible(tenant_id));

-- +goose Down
DROP POLICY tenant_isolation ON appointment_units;
DROP POLICY tenant_isolation ON appointments;
DROP TABLE appointment_units;
DROP TABLE appointments;
