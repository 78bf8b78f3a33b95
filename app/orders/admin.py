from django.contrib import admin

from .models import Order, Pizza


@admin.register(Pizza)
class PizzaAdmin(admin.ModelAdmin):
    list_display = ("name", "price", "active", "position")
    list_editable = ("price", "active", "position")
    search_fields = ("name",)


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ("reference", "created_at", "pizza", "size", "quantity", "total", "customer_name", "variant", "status")
    list_filter = ("status", "variant", "size")
    search_fields = ("=reference", "=phone", "customer_name")
    readonly_fields = ("reference", "form_token", "access_token", "variant", "visitor_id", "created_at", "updated_at")
    list_select_related = ("pizza",)
    # A million rows: never COUNT(*) the whole table for the paginator or the date drill-down.
    show_full_result_count = False
    date_hierarchy = None
    raw_id_fields = ("pizza",)
    list_per_page = 50
