from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("staff/experiment/", include("experiment.urls")),
    path("", include("api.urls")),
    path("", include("orders.urls")),
]

handler404 = "orders.views.errors.not_found"
handler500 = "orders.views.errors.server_error"
