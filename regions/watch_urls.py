from django.urls import path

from . import watch_views

app_name = "watch"

urlpatterns = [
    path("watch/<slug:slug>/", watch_views.dashboard, name="dashboard"),
    path("watch/<slug:slug>/tiles/", watch_views.region_tiles, name="region_tiles"),
    path("watch/<slug:slug>/matrix/", watch_views.replication_matrix, name="replication_matrix"),
    path("watch/<slug:slug>/regions/<str:code>/checkers/", watch_views.checker_detail,
         name="checker_detail"),
]
