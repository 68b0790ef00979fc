"""raw observations append-only: DELETE (and TRUNCATE on PostgreSQL) refused by the database, as UPDATE already is
(0002) and as the audit log is (0004); PostgreSQL: partitions are created by an owner-defined function, so that
the application may run as a role that owns nothing (``ecohub db app-role``).

Revision ID: 0008
Revises: 0002
Create Date: 2026-12-04
"""
from alembic import op

revision = "0008"
down_revision = "0002"
branch_labels = None
depends_on = None

_MESSAGE = "observation rows are append-only: record a correction instead (retention: see docs/security.md)"

#: PostgreSQL: creates the monthly partition (y, m) of observation if missing, with its TRUNCATE guard.
#: SECURITY DEFINER (runs as the schema owner, who ran the migration) with a pinned search_path; the bounds and
#: the name are built from two checked integers only. The application role may EXECUTE it and nothing else DDL.
PARTITION_FUNCTION = """
CREATE OR REPLACE FUNCTION ecohub_observation_partition(y integer, m integer) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
DECLARE
    name text;
    lo text;
    hi text;
    grantee text;
BEGIN
    IF y IS NULL OR m IS NULL OR y < 1900 OR y > 9998 OR m < 1 OR m > 12 THEN
        RAISE EXCEPTION 'partition month out of range: % %', y, m;
    END IF;
    name := format('observation_p%s%s', lpad(y::text, 4, '0'), lpad(m::text, 2, '0'));
    PERFORM pg_advisory_xact_lock(247483147);
    IF EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE c.relname = name AND n.nspname = current_schema()) THEN
        RETURN false;
    END IF;
    lo := format('%s-%s-01 00:00:00+00', lpad(y::text, 4, '0'), lpad(m::text, 2, '0'));
    hi := CASE WHEN m = 12 THEN format('%s-01-01 00:00:00+00', lpad((y + 1)::text, 4, '0'))
               ELSE format('%s-%s-01 00:00:00+00', lpad(y::text, 4, '0'), lpad((m + 1)::text, 2, '0')) END;
    EXECUTE format('CREATE TABLE %I PARTITION OF observation FOR VALUES FROM (%L) TO (%L)', name, lo, hi);
    EXECUTE format('CREATE TRIGGER observation_no_truncate BEFORE TRUNCATE ON %I '
                   'FOR EACH STATEMENT EXECUTE FUNCTION ecohub_observation_append_only()', name);
    -- roles that may append to observation get no UPDATE/DELETE/TRUNCATE on the new month either
    FOR grantee IN SELECT DISTINCT r.rolname FROM pg_class c, aclexplode(c.relacl) a, pg_roles r
                   WHERE c.oid = 'observation'::regclass AND a.privilege_type = 'INSERT'
                     AND a.grantee = r.oid AND a.grantee <> c.relowner LOOP
        EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON %I FROM %I', name, grantee);
    END LOOP;
    RETURN true;
END $fn$
"""


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("CREATE FUNCTION ecohub_observation_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
                   f"BEGIN RAISE EXCEPTION '{_MESSAGE}'; END $$")
        # row triggers on the partitioned table are cloned onto every partition, present and future
        op.execute("CREATE TRIGGER observation_no_delete BEFORE DELETE ON observation "
                   "FOR EACH ROW EXECUTE FUNCTION ecohub_observation_append_only()")
        # statement (TRUNCATE) triggers are not: one on the parent and one on each partition
        op.execute("CREATE TRIGGER observation_no_truncate BEFORE TRUNCATE ON observation "
                   "FOR EACH STATEMENT EXECUTE FUNCTION ecohub_observation_append_only()")
        parts = bind.exec_driver_sql(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'observation'").scalars().all()
        for name in parts:
            op.execute(f'CREATE TRIGGER observation_no_truncate BEFORE TRUNCATE ON "{name}" '
                       "FOR EACH STATEMENT EXECUTE FUNCTION ecohub_observation_append_only()")
        op.execute(PARTITION_FUNCTION)
        op.execute("REVOKE ALL ON FUNCTION ecohub_observation_partition(integer, integer) FROM PUBLIC")
    else:
        # SQLite has no TRUNCATE; "DELETE FROM observation" without WHERE fires the trigger too
        op.execute("CREATE TRIGGER observation_no_delete BEFORE DELETE ON observation "
                   f"BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP FUNCTION ecohub_observation_partition(integer, integer)")
        parts = bind.exec_driver_sql(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'observation'").scalars().all()
        for name in parts:
            op.execute(f'DROP TRIGGER IF EXISTS observation_no_truncate ON "{name}"')
        op.execute("DROP TRIGGER observation_no_truncate ON observation")
        op.execute("DROP TRIGGER observation_no_delete ON observation")
        op.execute("DROP FUNCTION ecohub_observation_append_only()")
    else:
        op.execute("DROP TRIGGER observation_no_delete")
