"""The database refuses UPDATE of a workflow version, whatever the client."""

from django.db import migrations

FORWARD = """
CREATE FUNCTION workflows_version_refuse_update() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'workflow versions are immutable (version %)', OLD.id
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER workflows_version_immutable
    BEFORE UPDATE ON workflows_workflowversion
    FOR EACH ROW EXECUTE FUNCTION workflows_version_refuse_update();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS workflows_version_immutable ON workflows_workflowversion;
DROP FUNCTION IF EXISTS workflows_version_refuse_update();
"""


class Migration(migrations.Migration):
    dependencies = [("workflows", "0001_initial")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
