from django.urls import include, path
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import DefaultRouter

from apps.trading.api import views

router = DefaultRouter(trailing_slash=True)
router.register("instruments", views.InstrumentViewSet, basename="instrument")
router.register("orders", views.OrderViewSet, basename="order")
router.register("positions", views.PositionViewSet, basename="position")

urlpatterns = [
    path("auth/token/", obtain_auth_token, name="api-token"),
    path("me/", views.MeView.as_view(), name="api-me"),
    path("", include(router.urls)),
]
