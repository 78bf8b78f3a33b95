from django.urls import path

from .views import customer, staff

app_name = "orders"

urlpatterns = [
    path("", customer.home, name="home"),
    path("order/", customer.order_create, name="order_create"),
    path("orders/<str:access_token>/confirmed/", customer.confirmation, name="confirmation"),
    path("orders/<str:access_token>/", customer.order_status, name="order_status"),
    path("staff/orders/", staff.staff_orders, name="staff_orders"),
    path("staff/orders/<str:reference>/status/", staff.staff_change_status, name="staff_change_status"),
]
