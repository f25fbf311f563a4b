-- records.claimed_until lets one node take a record for background work (reading a
-- scanned page) so that another node's worker leaves it alone until the claim runs out:
-- milliseconds since the epoch, 0 when unclaimed.

-- +goose Up
ALTER TABLE records ADD COLUMN claimed_until BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE records DROP COLUMN claimed_until;
