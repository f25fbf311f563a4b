-- tenants.reminded_until is where the appointment reminders of a practice have been sent
-- up to: the start (milliseconds since the epoch) before which every appointment was taken
-- by a reminder run, 0 before the first. Each run takes the window from there, once, also
-- when several nodes share the database or the service restarted within the hour.

-- +goose Up
ALTER TABLE tenants ADD COLUMN reminded_until BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE tenants DROP COLUMN reminded_until;
