from django.apps import AppConfig


class ExperimentConfig(AppConfig):
    name = "experiment"
    verbose_name = "Experiment"

    def ready(self):
        from django.db.models.signals import post_save

        from orders.models import Order

        from .tracking import order_created

        # Orders feed the experiment's counters without the order code knowing about them.
        post_save.connect(order_created, sender=Order, dispatch_uid="experiment.order_created")
