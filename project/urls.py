"""URL map: the API under /v1/ and its extensions under /ext/v1/, the browse pages at / and /coverage/,
login at /accounts/, the admin at /admin/."""
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path

from backups.api.errors import not_found

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("v1/", include("backups.api.urls")),
    path("ext/v1/", include("backups.coverage.api_urls")),
    re_path(r"^ext/", not_found),  # the rest of the extension prefix: CSBS 404s too
    path("coverage/", include("backups.coverage.urls")),
    path("", include("backups.ui.urls")),
]

handler400 = "backups.api.errors.handler400"
handler403 = "backups.api.errors.handler403"
handler404 = "backups.api.errors.handler404"
handler500 = "backups.api.errors.handler500"
