from django.urls import path

from . import views

urlpatterns = [
    path("order/", views.order, name="order"),
    path("order/<int:pk>/", views.confirmed, name="confirmed"),
    path("readyz", views.ready),
]
