from django.contrib import admin
from django.urls import include, path

from front import views as front_views

handler400 = "controlplane.errors.bad_request"

urlpatterns = [
    path("healthz", front_views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/", include("controlplane.api_urls")),
    path("", include("accounts.urls")),
    path("", include("watch.urls")),
    path("", include("sandbox.urls")),
    path("", include("deployer.urls")),
    path("", include("traffic.urls")),
    path("", include("alerts.urls")),
    # The inventory's fixed paths (applications/new/, regions/new/) before front's slugs.
    path("", include("regions.urls")),
    path("", include("front.urls")),
]
