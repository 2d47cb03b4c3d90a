"""/api/v1/breakers/: breaker settings, instruments' breaker settings, and halts."""

from django.urls import path

from apps.breakers.api import views

urlpatterns = [
    path("settings/", views.SettingsView.as_view(), name="breakers-settings"),
    path("instruments/", views.InstrumentListView.as_view(), name="breakers-instruments"),
    path(
        "instruments/<str:symbol>/",
        views.InstrumentDetailView.as_view(),
        name="breakers-instrument",
    ),
    path("halts/", views.HaltsView.as_view(), name="breakers-halts"),
]
