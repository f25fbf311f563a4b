-- appointments are the practice calendar; appointment_units hold one row per five minutes
-- that a booked appointment takes of each of its resources, so that the primary key makes
-- a double booking impossible, on either engine and on every node.

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

-- +goose Down
DROP TABLE appointment_units;
DROP TABLE appointments;
