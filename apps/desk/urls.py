from django.urls import path

from apps.desk import views

urlpatterns = [
    path("", views.DeskView.as_view(), name="desk"),
    path("audit/", views.AuditView.as_view(), name="audit"),
    path("risk/", views.RiskView.as_view(), name="risk"),
    path("halts/", views.HaltsView.as_view(), name="halts"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
]
