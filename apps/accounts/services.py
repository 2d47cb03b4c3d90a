from django.contrib.auth.models import Group, Permission
from django.db import transaction

from apps.accounts.models import TradingAccount, User
from apps.accounts.roles import ROLE_PERMISSIONS


@transaction.atomic
def roles_ensure() -> None:
    """Create the role groups and give each exactly its permissions."""
    for role, perm_names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        perms = []
        for name in perm_names:
            app_label, codename = name.split(".")
            perm = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if perm is not None:
                perms.append(perm)
        group.permissions.set(perms)


def accounts_tradeable_by(user: User) -> list[str]:
    return list(
        TradingAccount.objects.filter(traders=user, is_active=True).values_list("code", flat=True)
    )
