from django.urls import path

from . import views

app_name = "alerts"

urlpatterns = [
    path("alerts/", views.alert_list, name="alert_list"),
    path("alerts/channels/", views.channel_list, name="channel_list"),
    path("alerts/channels/new/", views.channel_create, name="channel_create"),
    path("alerts/channels/<int:pk>/edit/", views.channel_edit, name="channel_edit"),
    path("alerts/channels/<int:pk>/delete/", views.channel_delete, name="channel_delete"),
    path("alerts/channels/<int:pk>/test/", views.channel_test, name="channel_test"),
    path("alerts/deliveries/<int:pk>/", views.delivery_status, name="delivery_status"),
    path("alerts/rules/", views.rule_list, name="rule_list"),
    path("alerts/rules/<slug:slug>/", views.rule_edit, name="rule_edit"),
    path("alerts/maintenance/", views.window_list, name="window_list"),
    path("alerts/maintenance/new/", views.window_create, name="window_create"),
    path("alerts/maintenance/<int:pk>/end/", views.window_end, name="window_end"),
]
