from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from .menu import forget_menu
        from .models import Pizza

        post_save.connect(forget_menu, sender=Pizza, dispatch_uid="orders.forget_menu.save")
        post_delete.connect(forget_menu, sender=Pizza, dispatch_uid="orders.forget_menu.delete")
