from django.urls import path

from .views import customer, staff

app_name = "orders"

# slug: tokens (token_urlsafe) and references use only [-A-Za-z0-9_]; anything else is a 404 at once.
urlpatterns = [
    path("", customer.home, name="home"),
    path("order/", customer.order_create, name="order_create"),
    path("orders/<slug:access_token>/confirmed/", customer.confirmation, name="confirmation"),
    path("orders/<slug:access_token>/", customer.order_status, name="order_status"),
    path("orders/<slug:access_token>/status.json", customer.order_status_json, name="order_status_json"),
    path("staff/orders/", staff.staff_orders, name="staff_orders"),
    path("staff/orders/<slug:reference>/status/", staff.staff_change_status, name="staff_change_status"),
    path("staff/orders/<slug:reference>/cancel/", staff.staff_confirm_cancel, name="staff_confirm_cancel"),
]
