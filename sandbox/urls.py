from django.urls import path

from . import views

app_name = "sandbox"

urlpatterns = [
    path("applications/<slug:slug>/regions/<str:code>/sandbox/<str:action>/",
         views.region_fault, name="region_fault"),
]
