"""`manage.py migration_gate`: fail when a migration would break a release still running older code."""

from django.core.management.base import BaseCommand, CommandError

from ops.gate import check_all


class Command(BaseCommand):
    help = "Check every project migration's SQL for backward-incompatible (unmarked contract) changes."

    def handle(self, *args, **opts):
        checked, problems = check_all()
        if problems:
            raise CommandError(f"{len(problems)} unsafe change(s) in {checked} migrations:\n" + "\n".join(str(p) for p in problems))
        self.stdout.write(f"migration gate: {checked} migrations checked, all backward-compatible (expand) or marked contract")
