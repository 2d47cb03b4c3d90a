from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    verbose_name = "Users, roles and trading accounts"

    def ready(self) -> None:
        post_migrate.connect(_ensure_roles, dispatch_uid="accounts.ensure_roles")


def _ensure_roles(**kwargs: Any) -> None:
    # Permissions exist only after every app's post_migrate has created them, so roles are
    # (re)built after each migrate, idempotently, rather than in a data migration.
    from apps.accounts.services import roles_ensure

    roles_ensure()
