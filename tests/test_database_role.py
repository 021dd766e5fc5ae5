"""The application's production database role owns nothing: it reads and writes rows, and cannot
drop the audit trigger, truncate the audit table or alter it (docs/security.md).

`manage.py create_app_role` makes the role in the test database; the test then connects as it.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from psycopg import errors, sql

pytestmark = pytest.mark.django_db(transaction=True)

ATTEMPTS = {
    "drop the append-only trigger": "DROP TRIGGER audit_entry_append_only ON audit_auditentry",
    "drop the truncate trigger": "DROP TRIGGER audit_entry_no_truncate ON audit_auditentry",
    "disable its triggers": "ALTER TABLE audit_auditentry DISABLE TRIGGER ALL",
    "truncate the audit table": "TRUNCATE audit_auditentry",
    "add a column": "ALTER TABLE audit_auditentry ADD COLUMN forged text",
    "drop the table": "DROP TABLE audit_auditentry",
    "replace the trigger's function": "CREATE OR REPLACE FUNCTION audit_entry_refuse_change() RETURNS trigger "
                                      "LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
    "create a table": "CREATE TABLE forged (id int)",
}


@pytest.fixture
def app_role(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str]]:
    name, password = f"symphony_app_{uuid.uuid4().hex[:8]}", secrets.token_urlsafe(16)
    monkeypatch.setenv("APP_DB_PASSWORD", password)
    call_command("create_app_role", name=name, password_env="APP_DB_PASSWORD")
    yield name, password
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("DROP OWNED BY {0}; DROP ROLE {0}").format(sql.Identifier(name)))


def connect_as(name: str, password: str) -> psycopg.Connection:
    database = settings.DATABASES["default"]
    return psycopg.connect(host=database["HOST"], port=database["PORT"], dbname=database["NAME"],
                           user=name, password=password, autocommit=True)


def test_the_app_role_reads_and_writes_rows(app_role: tuple[str, str]) -> None:
    with connect_as(*app_role) as app:
        assert app.execute("SELECT count(*) FROM audit_auditentry").fetchone() == (0,)
        app.execute("INSERT INTO teams_team (id, name, slug, description, created_at, updated_at) "
                    "VALUES (gen_random_uuid(), 'Z', 'z', '', now(), now())")
        assert app.execute("SELECT name FROM teams_team WHERE slug = 'z'").fetchone() == ("Z",)
        # Owning nothing: no table, sequence or function of the schema is the role's.
        owned = app.execute(
            "SELECT count(*) FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)"
        ).fetchone()
        assert owned == (0,)


@pytest.mark.parametrize("what", list(ATTEMPTS))
def test_the_app_role_cannot_touch_the_audit_tables_definition(app_role: tuple[str, str], what: str) -> None:
    with connect_as(*app_role) as app, pytest.raises(errors.InsufficientPrivilege):
        app.execute(ATTEMPTS[what])
    with connection.cursor() as cursor:
        cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_auditentry'::regclass "
                       "AND NOT tgisinternal AND tgenabled <> 'D' ORDER BY tgname")
        assert [row[0] for row in cursor.fetchall()] == ["audit_entry_append_only", "audit_entry_no_truncate"]


def test_the_command_can_run_again(app_role: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Run after each migrate: it updates the role (password, grants) instead of failing."""
    name, _password = app_role
    new_password = secrets.token_urlsafe(16)
    monkeypatch.setenv("APP_DB_PASSWORD", new_password)
    call_command("create_app_role", name=name, password_env="APP_DB_PASSWORD")
    with connect_as(name, new_password) as app:
        assert app.execute("SELECT count(*) FROM teams_team").fetchone() == (0,)
