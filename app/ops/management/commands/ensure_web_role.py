"""Create or update the web role (row rights only) before the migration runs; connects as the owner.

The migration job's first step: WEB_DATABASE_USER / WEB_DATABASE_PASSWORD name the role the web
pods use (from the pizza/<env>/database secret); DATABASE_USER is the owner (pizza/<env>/database-owner).
"""

import os

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from ops.db_roles import ensure_web_role


class Command(BaseCommand):
    help = "Create or update the web database role: rows only, no DDL (run as the owner)."

    def handle(self, *args, **options):
        connection = connections[DEFAULT_DB_ALIAS]
        if connection.vendor != "postgresql":
            self.stdout.write("not PostgreSQL: one database user, nothing to do")
            return
        user, password = os.environ.get("WEB_DATABASE_USER", ""), os.environ.get("WEB_DATABASE_PASSWORD", "")
        if not user or not password:
            raise CommandError("set WEB_DATABASE_USER and WEB_DATABASE_PASSWORD (the web pods' role, from the pizza/<env>/database secret)")
        owner = connection.settings_dict["USER"]
        if user == owner:
            raise CommandError(f"the web role must not be the owner ({owner}): web pods would be able to change the schema")
        with connection.cursor() as cursor:
            ensure_web_role(cursor, user, password, owner=owner, database=connection.settings_dict["NAME"])
        self.stdout.write(f"web role {user}: rows only on the tables {owner} owns")
