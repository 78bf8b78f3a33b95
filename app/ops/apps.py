from django.apps import AppConfig


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
