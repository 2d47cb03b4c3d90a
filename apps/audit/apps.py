from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "apps.audit"
    verbose_name = "Event log and audit trail"

    def ready(self) -> None:
        from apps.audit import signals

        signals.connect(self)
