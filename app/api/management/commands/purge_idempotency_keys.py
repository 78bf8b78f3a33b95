"""Delete expired Idempotency-Key records (run hourly: a CronJob in the chart, or cron)."""

from django.core.management.base import BaseCommand

from api.idempotency import purge_expired


class Command(BaseCommand):
    help = "Delete Idempotency-Key records older than API_IDEMPOTENCY_TTL_HOURS."

    def handle(self, *args, **options):
        deleted = purge_expired()
        self.stdout.write(f"deleted {deleted} expired idempotency keys")
