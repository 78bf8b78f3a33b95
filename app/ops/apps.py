from django.apps import AppConfig
from django.db.models.signals import post_migrate


class OpsConfig(AppConfig):
    name = "ops"
    verbose_name = "Operations"

    def ready(self):
        from django.core.signals import request_finished
        from django.db.backends.signals import connection_created

        from . import metrics

        # Connected after Django's own close_old_connections, so the count sees what it kept open.
        connection_created.connect(metrics.on_connection_created, dispatch_uid="pizza-metrics-db")
        request_finished.connect(metrics.on_request_finished, dispatch_uid="pizza-metrics-conns")
        metrics.initialise()

        from .roles import sync_roles

        post_migrate.connect(sync_roles, dispatch_uid="ops.sync_roles")
