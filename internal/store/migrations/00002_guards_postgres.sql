-- Row-level security as a second wall behind the tenant filter in every query: a transaction
-- sees only rows of the tenant named in tresen.tenant, or all rows when the store runs an
-- operator task and sets it to '*'. FORCE makes it bind the table owner too. The service
-- must connect as a role without SUPERUSER and BYPASSRLS.
--
-- The audit log is append-only: the engine refuses changes and deletions. (A superuser can
-- still drop the trigger; the hash chain then shows what they did.)

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION tresen_tenant_visible(t TEXT) RETURNS BOOLEAN LANGUAGE sql STABLE AS $$
    SELECT current_setting('tresen.tenant', true) = '*'
        OR (t IS NOT NULL AND t = current_setting('tresen.tenant', true))
$$;
-- +goose StatementEnd

ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenants USING (tresen_tenant_visible(id));

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON users USING (tresen_tenant_visible(tenant_id));

ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON sessions USING (tresen_tenant_visible(tenant_id));

ALTER TABLE reset_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE reset_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON reset_tokens USING (tresen_tenant_visible(tenant_id));

ALTER TABLE support_grants ENABLE ROW LEVEL SECURITY;
ALTER TABLE support_grants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON support_grants USING (tresen_tenant_visible(tenant_id));

ALTER TABLE retention_policies ENABLE ROW LEVEL SECURITY;
ALTER TABLE retention_policies FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON retention_policies USING (tresen_tenant_visible(tenant_id));

ALTER TABLE persons ENABLE ROW LEVEL SECURITY;
ALTER TABLE persons FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON persons USING (tresen_tenant_visible(tenant_id));

ALTER TABLE records ENABLE ROW LEVEL SECURITY;
ALTER TABLE records FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON records USING (tresen_tenant_visible(tenant_id));

ALTER TABLE blob_trash ENABLE ROW LEVEL SECURITY;
ALTER TABLE blob_trash FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON blob_trash USING (tresen_tenant_visible(tenant_id));

ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_log USING (tresen_tenant_visible(chain));

ALTER TABLE audit_heads ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_heads FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_heads USING (tresen_tenant_visible(chain));

-- +goose StatementBegin
CREATE FUNCTION tresen_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit log is append-only';
END $$;
-- +goose StatementEnd
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION tresen_audit_append_only();

-- +goose Down
DROP TRIGGER audit_log_append_only ON audit_log;
DROP FUNCTION tresen_audit_append_only();
DROP POLICY tenant_isolation ON audit_heads;
DROP POLICY tenant_isolation ON audit_log;
DROP POLICY tenant_isolation ON blob_trash;
DROP POLICY tenant_isolation ON records;
DROP POLICY tenant_isolation ON persons;
DROP POLICY tenant_isolation ON retention_policies;
DROP POLICY tenant_isolation ON support_grants;
DROP POLICY tenant_isolation ON reset_tokens;
DROP POLICY tenant_isolation ON sessions;
DROP POLICY tenant_isolation ON users;
DROP POLICY tenant_isolation ON tenants;
DROP FUNCTION tresen_tenant_visible(TEXT);
