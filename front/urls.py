from django.urls import path

from . import views

app_name = "front"

urlpatterns = [
    path("applications/<slug:slug>/", views.application_detail, name="application_detail"),
    path("applications/<slug:slug>/tiles/", views.overview_tiles, name="overview_tiles"),
    path("applications/<slug:slug>/regions/<str:code>/", views.region_detail,
         name="region_detail"),
]
