from django.urls import path

from . import views

app_name = "traffic"

urlpatterns = [
    path("applications/<slug:slug>/regions/<str:code>/traffic/<str:action>/", views.change,
         name="change"),
    path("applications/<slug:slug>/dns/", views.dns_matrix, name="dns_matrix"),
]
