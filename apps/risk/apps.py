from django.apps import AppConfig


class RiskConfig(AppConfig):
    name = "apps.risk"
    verbose_name = "Pre-trade risk limits and kill switches"

    def ready(self) -> None:
        from apps.risk import signals

        signals.connect()
