from django.contrib import admin

from .models import Assignment, Exposure


@admin.register(Exposure)
class ExposureAdmin(admin.ModelAdmin):
    """Read-only: exposures are written by the middleware and only ever counted."""

    list_display = ["day", "variant", "visitor_id", "first_seen"]
    list_filter = ["variant", "day"]
    search_fields = ["=visitor_id"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    """Read-only: each visitor's first variant, written once by the exposure beacon."""

    list_display = ["visitor_id", "variant", "day", "crossed", "orders", "revenue"]
    list_filter = ["variant", "crossed"]
    search_fields = ["=visitor_id"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
