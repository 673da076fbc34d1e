from django.urls import path

from . import drill_views, views

app_name = "traffic"

urlpatterns = [
    path("applications/<slug:slug>/regions/<str:code>/traffic/<str:action>/", views.change,
         name="change"),
    path("applications/<slug:slug>/regions/<str:code>/drill/", drill_views.drill_start,
         name="drill_start"),
    path("applications/<slug:slug>/drills/", drill_views.drill_list, name="drill_list"),
    path("applications/<slug:slug>/drills/card/", drill_views.drill_card, name="drill_card"),
    path("drills/<int:pk>/", drill_views.drill_detail, name="drill_detail"),
    path("applications/<slug:slug>/dns/", views.dns_matrix, name="dns_matrix"),
]
