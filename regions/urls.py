from django.urls import path

from . import views

app_name = "regions"

urlpatterns = [
    path("", views.application_list, name="application_list"),
    path("applications/new/", views.application_create, name="application_create"),
    path("applications/validate/", views.application_validate, name="application_validate"),
    path("applications/<slug:slug>/edit/", views.application_edit, name="application_edit"),
    path("applications/<slug:slug>/delete/", views.application_delete, name="application_delete"),
    path("applications/<slug:slug>/regions/new/", views.region_add, name="region_add"),
    path("applications/<slug:slug>/regions/validate/", views.region_validate,
         name="region_validate"),
    path("applications/<slug:slug>/regions/<str:code>/remove/", views.region_remove,
         name="region_remove"),
]
