from django.urls import path

from . import views

app_name = "orders"

urlpatterns = [
    path("", views.home, name="home"),
    path("order/", views.order_create, name="order_create"),
    path("orders/<str:access_token>/confirmed/", views.confirmation, name="confirmation"),
    path("orders/<str:access_token>/", views.order_status, name="order_status"),
    path("staff/orders/", views.staff_orders, name="staff_orders"),
    path("staff/orders/<str:reference>/status/", views.staff_change_status, name="staff_change_status"),
    path("api/v1/menu", views.api_menu, name="api_menu"),
    path("api/v1/orders", views.api_orders, name="api_orders"),
    path("api/v1/orders/<str:access_token>", views.api_order, name="api_order"),
]
