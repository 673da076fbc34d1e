from django.urls import path

from . import views

app_name = "watch"

urlpatterns = [
    path("watch/<slug:slug>/", views.dashboard, name="dashboard"),
    path("watch/<slug:slug>/tiles/", views.region_tiles, name="region_tiles"),
    path("watch/<slug:slug>/matrix/", views.replication_matrix, name="replication_matrix"),
    path("watch/<slug:slug>/regions/<str:code>/checkers/", views.checker_detail,
         name="checker_detail"),
]
