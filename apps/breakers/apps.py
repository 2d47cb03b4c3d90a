from django.apps import AppConfig


class BreakersConfig(AppConfig):
    name = "apps.breakers"
    verbose_name = "Circuit breakers, halts and sessions"
