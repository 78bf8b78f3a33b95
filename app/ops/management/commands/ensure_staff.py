"""Create the local stack's staff login, or reset its password when one is given."""

import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Ensure a staff user exists; prints a generated password once, when it creates the user."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="staff")
        parser.add_argument("--password", default="", help="set this password (else keep, or generate on creation)")

    def handle(self, *args, username, password, **opts):
        User = get_user_model()
        user, created = User.objects.get_or_create(username=username, defaults={"is_staff": True, "is_superuser": True})
        if created or password:
            shown = password or secrets.token_urlsafe(12)
            user.set_password(shown)
            user.is_staff = user.is_superuser = True
            user.save()
            note = "" if password else " (generated: shown this once; set STAFF_PASSWORD to choose one)"
            self.stdout.write(f"staff login: {username} / {shown}{note}")
        else:
            self.stdout.write(f"staff login: {username} / (unchanged; set STAFF_PASSWORD to reset it)")
