from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from regions import views as region_views

urlpatterns = [
    path("healthz", region_views.healthz, name="healthz"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/", include("regions.api_urls")),
    path("", include("regions.watch_urls")),
    path("", include("deployer.urls")),
    path("", include("regions.urls")),
]
