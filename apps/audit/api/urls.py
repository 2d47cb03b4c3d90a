from django.urls import path

from apps.audit.api import views

urlpatterns = [
    path("events/", views.EventSearchView.as_view(), name="audit-events"),
    path("events/export.csv", views.EventExportView.as_view(), name="audit-events-export"),
    # Any text reaches the view, so that a malformed id gets the API's 400, not an HTML 404.
    path("orders/<str:order_id>/", views.OrderLifeView.as_view(), name="audit-order-life"),
    path("verify/", views.ChainVerifyView.as_view(), name="audit-verify"),
]
