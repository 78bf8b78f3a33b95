"""Create a staff login with one role (kitchen by default), or reset its password when one is given."""

import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from ops.roles import ROLE_NAMES, assign_role


class Command(BaseCommand):
    help = (
        "Ensure a staff user exists with exactly one role (kitchen: order table; marketing: Experiment "
        "page; admin: superuser). A generated password goes to this command's stdout once, never to a log."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="staff")
        parser.add_argument(
            "--role", default="kitchen", choices=ROLE_NAMES, help="least privilege by default: kitchen sees orders and changes their status"
        )
        parser.add_argument("--password", default="", help="set this password (else STAFF_PASSWORD; else keep, or generate on creation)")

    def handle(self, *args, username, role, password, **opts):
        password = password or os.environ.get("STAFF_PASSWORD", "")
        User = get_user_model()
        user, created = User.objects.get_or_create(username=username)
        if created or password:
            shown = password or secrets.token_urlsafe(12)
            user.set_password(shown)
        try:
            assign_role(user, role)  # saves the user
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if created or password:
            # Only stdout (the operator's terminal): a generated password is shown once; a chosen one, never.
            secret = shown if not password else "(the password you set)"
            note = "" if password else " (generated: shown this once; set STAFF_PASSWORD to choose one)"
            self.stdout.write(f"staff login ({role}): {username} / {secret}{note}")
        else:
            self.stdout.write(f"staff login ({role}): {username} / (unchanged; set STAFF_PASSWORD to reset it)")
