"""Create (or refresh) the PostgreSQL role the application connects as in production.

The role owning the schema runs migrations; the application connects as a role that owns
nothing and holds only DML privileges (SELECT, INSERT, UPDATE, DELETE on tables, USAGE
and SELECT on sequences), so it cannot drop, alter or truncate a table, nor drop or
disable the audit table's triggers (docs/security.md, "The database role"). Run it as
the owner after `migrate`; default privileges cover the tables later migrations create.

    DATABASE_URL=postgres://owner@db/symphony APP_DB_PASSWORD=… \\
        python manage.py create_app_role --name symphony_app --password-env APP_DB_PASSWORD
"""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from psycopg import sql


def app_role_statements(*, name: str, database: str, owner: str) -> list[sql.Composable]:
    role, schema = sql.Identifier(name), sql.Identifier("public")
    return [
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), role),
        sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, role),
        # PostgreSQL before 15 lets every role create in `public`: not this one.
        sql.SQL("REVOKE CREATE ON SCHEMA {} FROM {}").format(schema, role),
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {} TO {}").format(schema, role),
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}").format(schema, role),
        sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} "
                "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {}").format(sql.Identifier(owner), schema, role),
        sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} "
                "GRANT USAGE, SELECT ON SEQUENCES TO {}").format(sql.Identifier(owner), schema, role),
    ]


class Command(BaseCommand):
    help = "Create or refresh the application's DML-only PostgreSQL role (run as the schema's owner)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", default="symphony_app", help="The role's name.")
        parser.add_argument("--password-env", default="APP_DB_PASSWORD",
                            help="The environment variable holding its password (never a command-line argument).")

    def handle(self, *args: Any, name: str, password_env: str, **options: Any) -> None:
        password = os.environ.get(password_env, "")
        if not password:
            raise CommandError(f"Set {password_env} to the role's password.")
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT current_database(), current_user")
            database, owner = cursor.fetchone()
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name])
            verb = "ALTER" if cursor.fetchone() else "CREATE"
            cursor.execute(sql.SQL(verb + " ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION "
                                   "NOBYPASSRLS PASSWORD {}").format(sql.Identifier(name), sql.Literal(password)))
            for statement in app_role_statements(name=name, database=database, owner=owner):
                cursor.execute(statement)
        self.stdout.write(f"{name}: DML only on {database} (schema owner {owner}).")
