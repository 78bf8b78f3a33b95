from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from experiment.views import seen_beacon

urlpatterns = [
    path("admin/", admin.site.urls),
    # Log in and out only: password reset by mail is not offered (an admin resets a staff password
    # with `manage.py ensure_staff --password` or `changepassword`), so it cannot leak who has an account.
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),  # POST only
    path("staff/experiment/", include("experiment.urls")),
    path("", include("api.urls")),
    path("seen/<str:token>", seen_beacon, name="experiment_seen"),
    path("", include("orders.urls")),
]

handler400 = "orders.views.errors.bad_request"
handler404 = "orders.views.errors.not_found"
handler500 = "orders.views.errors.server_error"
