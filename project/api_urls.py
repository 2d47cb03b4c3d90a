"""The v1 REST API: one router over each app's endpoints (the audit trail has its own)."""

from django.urls import include, path
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import DefaultRouter

from apps.accounts.api import MeView
from apps.instruments.api import InstrumentViewSet
from apps.trading.api.views import OrderViewSet, PositionViewSet

router = DefaultRouter(trailing_slash=True)
router.register("instruments", InstrumentViewSet, basename="instrument")
router.register("orders", OrderViewSet, basename="order")
router.register("positions", PositionViewSet, basename="position")

urlpatterns = [
    path("auth/token/", obtain_auth_token, name="api-token"),
    path("me/", MeView.as_view(), name="api-me"),
    path("risk/", include("apps.risk.api.urls")),
    path("breakers/", include("apps.breakers.api.urls")),
    path("", include(router.urls)),
]
