from django.contrib import admin

from .models import Assignment, Exposure


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows the app writes and only ever counts: visible by visitor id, never added or changed here."""

    search_fields = ["=visitor_id"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Exposure)
class ExposureAdmin(ReadOnlyAdmin):
    """Read-only: exposures are written by the middleware and only ever counted."""

    list_display = ["day", "variant", "visitor_id", "first_seen"]
    list_filter = ["variant", "day"]


@admin.register(Assignment)
class AssignmentAdmin(ReadOnlyAdmin):
    """Read-only: each visitor's first variant, written once by the exposure beacon."""

    list_display = ["visitor_id", "variant", "day", "crossed", "orders", "revenue"]
    list_filter = ["variant", "crossed"]
