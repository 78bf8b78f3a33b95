from django.contrib import admin, messages

from .models import Order, Pizza, Status
from .services import change_status


@admin.register(Pizza)
class PizzaAdmin(admin.ModelAdmin):
    list_display = ("name", "price", "active", "position")
    list_editable = ("price", "active", "position")
    search_fields = ("name",)


def move_action(new: str, name: str, description: str):
    """An admin action moving the selected orders to `new` through change_status (OrderAdmin._move)."""

    @admin.action(description=description, permissions=["change_status"])
    def action(self, request, queryset):
        self._move(request, queryset, new)

    action.__name__ = action.__qualname__ = name
    return action


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ("reference", "created_at", "pizza", "size", "quantity", "total", "customer_name", "variant", "status")
    list_filter = ("status", "variant", "size")
    search_fields = ("=reference", "=phone", "customer_name")
    # status moves only through change_status (the actions below), like the staff table: never
    # backwards, never past a concurrent change, and updated_at always moves with it.
    readonly_fields = (
        "reference",
        "form_token",
        "access_token",
        "variant",
        "visitor_id",
        "status",
        "status_changed_by",
        "created_at",
        "updated_at",
    )
    list_select_related = ("pizza",)
    # A million rows: never COUNT(*) the whole table for the paginator or the date drill-down.
    show_full_result_count = False
    date_hierarchy = None
    raw_id_fields = ("pizza",)
    list_per_page = 50
    actions = ["to_baking", "to_out_for_delivery", "to_delivered", "to_cancelled"]

    def has_change_status_permission(self, request) -> bool:
        return request.user.has_perm("orders.change_order_status")

    def _move(self, request, queryset, new: str) -> None:
        for order in queryset.select_related(None).only("pk", "reference", "status"):
            ok, message = change_status(order.pk, order.status, new, by=request.user.get_username())
            self.message_user(request, f"{order.reference}: {message}", messages.SUCCESS if ok else messages.WARNING)

    to_baking = move_action(Status.BAKING, "to_baking", "Move selected orders to Baking")
    to_out_for_delivery = move_action(Status.OUT_FOR_DELIVERY, "to_out_for_delivery", "Move selected orders to Out for delivery")
    to_delivered = move_action(Status.DELIVERED, "to_delivered", "Move selected orders to Delivered")
    to_cancelled = move_action(Status.CANCELLED, "to_cancelled", "Cancel selected orders")
