"""Make audit entries append-only in the database itself.

A row trigger refuses UPDATE and DELETE on audit_auditentry, and a statement
trigger refuses TRUNCATE. The one escape hatch is retention (`audit_prune`):
inside its transaction it runs

    SET LOCAL symphony.audit_prune = '<chain>:<through sequence>'

and the trigger then lets DELETE remove rows of that chain up to that sequence,
nothing else. Anyone able to set that variable can also disable the trigger;
what stops them doing it quietly is verification: a removed range without a
matching `audit.pruned` checkpoint entry is reported as `deleted` (or
`truncated` against the chain head or a stored anchor).

TRUNCATE is allowed only when `symphony.audit_allow_truncate` is 'on' for the
session, which the test settings set so the test runner can empty tables
between transactional tests; production never sets it.
"""

from django.db import migrations

INSTALL = r"""
CREATE FUNCTION audit_entry_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    allowed text := current_setting('symphony.audit_prune', true);
BEGIN
    IF TG_OP = 'DELETE' AND allowed IS NOT NULL AND allowed LIKE '%:%' THEN
        IF COALESCE(OLD.team_id::text, 'platform') = split_part(allowed, ':', 1)
           AND OLD.sequence <= split_part(allowed, ':', 2)::bigint THEN
            RETURN OLD;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit entries are append-only: % refused on %', TG_OP, TG_TABLE_NAME
        USING HINT = 'Retention removes entries only through manage.py audit_prune.';
END
$$;

CREATE TRIGGER audit_entry_append_only
    BEFORE UPDATE OR DELETE ON audit_auditentry
    FOR EACH ROW EXECUTE FUNCTION audit_entry_refuse_change();

CREATE FUNCTION audit_entry_refuse_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('symphony.audit_allow_truncate', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit entries are append-only: TRUNCATE refused on %', TG_TABLE_NAME;
END
$$;

CREATE TRIGGER audit_entry_no_truncate
    BEFORE TRUNCATE ON audit_auditentry
    FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_refuse_truncate();
"""

REMOVE = r"""
DROP TRIGGER IF EXISTS audit_entry_no_truncate ON audit_auditentry;
DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_auditentry;
DROP FUNCTION IF EXISTS audit_entry_refuse_truncate();
DROP FUNCTION IF EXISTS audit_entry_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunSQL(INSTALL, REMOVE)]
