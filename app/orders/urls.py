from django.urls import path

from .views import api, customer, staff

app_name = "orders"

urlpatterns = [
    path("", customer.home, name="home"),
    path("order/", customer.order_create, name="order_create"),
    path("orders/<str:access_token>/confirmed/", customer.confirmation, name="confirmation"),
    path("orders/<str:access_token>/", customer.order_status, name="order_status"),
    path("orders/<str:access_token>/status.json", customer.order_status_json, name="order_status_json"),
    path("staff/orders/", staff.staff_orders, name="staff_orders"),
    path("staff/orders/<str:reference>/status/", staff.staff_change_status, name="staff_change_status"),
    path("staff/orders/<str:reference>/cancel/", staff.staff_confirm_cancel, name="staff_confirm_cancel"),
    path("api/v1/menu", api.api_menu, name="api_menu"),
    path("api/v1/orders", api.api_orders, name="api_orders"),
    path("api/v1/orders/<str:access_token>", api.api_order, name="api_order"),
]
