"""/api/v1/risk/: limits, restrictions, kill switches and one's own risk settings."""

from django.urls import path

from apps.risk.api import views

urlpatterns = [
    path("accounts/", views.AccountListView.as_view(), name="risk-accounts"),
    path("accounts/<str:code>/", views.AccountDetailView.as_view(), name="risk-account"),
    path("instruments/", views.InstrumentListView.as_view(), name="risk-instruments"),
    path("instruments/<str:symbol>/", views.InstrumentDetailView.as_view(), name="risk-instrument"),
    path("positions/", views.PositionLimitView.as_view(), name="risk-positions"),
    path("restricted/", views.RestrictedListView.as_view(), name="risk-restricted"),
    path(
        "restricted/<int:entry_id>/",
        views.RestrictedDetailView.as_view(),
        name="risk-restricted-entry",
    ),
    path("firm/", views.FirmPolicyView.as_view(), name="risk-firm"),
    path("kill-switches/", views.KillSwitchView.as_view(), name="risk-kill-switches"),
    path("me/settings/", views.MySettingsView.as_view(), name="risk-my-settings"),
]
