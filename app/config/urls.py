from django.contrib import admin
from django.urls import include, path

from experiment.views import seen_beacon

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("staff/experiment/", include("experiment.urls")),
    path("seen/<str:token>", seen_beacon, name="experiment_seen"),
    path("", include("orders.urls")),
]

handler404 = "orders.views.not_found"
handler500 = "orders.views.server_error"
