"""Web-side events from Django's own signals: logins, failed logins, logouts, role changes and
trading-account entitlements. Connected in AuditConfig.ready.

Role and entitlement changes are recorded inside the transaction that makes them (Django sends
m2m_changed within it), so a change and its record commit or roll back together.
"""

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import connections
from django.db.migrations.recorder import MigrationRecorder
from django.db.models import Model
from django.db.models.signals import m2m_changed, post_migrate
from django.http import HttpRequest

from apps.accounts.models import TradingAccount, User
from apps.audit.services import acting_user_id, web_event_record

# Set on the instance between a pre_* and a post_* m2m signal: the state before the change.
_BEFORE = "_audit_m2m_before"
USERNAME_MAX = 150


def _client_address(request: HttpRequest | None) -> str | None:
    return request.META.get("REMOTE_ADDR") if request is not None else None


def login_recorded(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    web_event_record(
        "auth.login",
        actor_user_id=user.pk,
        payload={"username": user.get_username(), "client_address": _client_address(request)},
    )


def login_failure_recorded(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # Only the name that was tried: never the password, whatever else `credentials` holds.
    attempted = credentials.get(User.USERNAME_FIELD)
    web_event_record(
        "auth.login_failed",
        actor_user_id=None,
        payload={
            "username": str(attempted)[:USERNAME_MAX] if attempted is not None else None,
            "client_address": _client_address(request),
        },
        reason="bad_credentials",
    )


def logout_recorded(
    sender: Any, request: HttpRequest | None, user: User | None, **kwargs: Any
) -> None:
    web_event_record(
        "auth.logout",
        actor_user_id=user.pk if user is not None else None,
        payload={
            "username": user.get_username() if user is not None else None,
            "client_address": _client_address(request),
        },
    )


# -- many-to-many changes: roles (User.groups) and entitlements (TradingAccount.traders) ------


def _roles_of(user_ids: list[int]) -> dict[int, list[str]]:
    roles: dict[int, list[str]] = {user_id: [] for user_id in user_ids}
    memberships = User.groups.through.objects.filter(user_id__in=user_ids)
    for user_id, role in memberships.values_list("user_id", "group__name"):
        roles[user_id].append(role)
    return {user_id: sorted(names) for user_id, names in roles.items()}


def _traders_of(account_ids: list[int]) -> dict[int, list[str]]:
    traders: dict[int, list[str]] = {account_id: [] for account_id in account_ids}
    entitlements = TradingAccount.traders.through.objects.filter(tradingaccount_id__in=account_ids)
    for account_id, username in entitlements.values_list("tradingaccount_id", "user__username"):
        traders[account_id].append(username)
    return {account_id: sorted(names) for account_id, names in traders.items()}


def _owners(
    instance: Model, reverse: bool, pk_set: set[int] | None, current: list[int]
) -> list[int]:
    """The ids on the owning side whose sets the change touches: the instance itself when the
    change was made from the owning side, else those in `pk_set` (or, for a clear, `current`)."""
    if not reverse:
        return [instance.pk]
    return sorted(pk_set) if pk_set is not None else current


def roles_changed(
    sender: Any,
    instance: Model,
    action: str,
    reverse: bool,
    pk_set: set[int] | None,
    **kwargs: Any,
) -> None:
    if action.startswith("pre_"):
        members = User.groups.through.objects.filter(group_id=instance.pk)
        current = (
            list(members.values_list("user_id", flat=True))
            if reverse and action == "pre_clear"
            else []
        )
        setattr(instance, _BEFORE, _roles_of(_owners(instance, reverse, pk_set, current)))
        return
    before: dict[int, list[str]] = getattr(instance, _BEFORE, {})
    if hasattr(instance, _BEFORE):
        delattr(instance, _BEFORE)
    after = _roles_of(list(before))
    usernames = dict(User.objects.filter(pk__in=list(before)).values_list("pk", "username"))
    for user_id, old_roles in before.items():
        if after[user_id] != old_roles:
            web_event_record(
                "role.changed",
                actor_user_id=acting_user_id.get(),
                payload={
                    "subject_user_id": user_id,
                    "username": usernames.get(user_id),
                    "old_roles": old_roles,
                    "new_roles": after[user_id],
                },
            )


def entitlements_changed(
    sender: Any,
    instance: Model,
    action: str,
    reverse: bool,
    pk_set: set[int] | None,
    **kwargs: Any,
) -> None:
    if action.startswith("pre_"):
        entitled = TradingAccount.traders.through.objects.filter(user_id=instance.pk)
        current = (
            list(entitled.values_list("tradingaccount_id", flat=True))
            if reverse and action == "pre_clear"
            else []
        )
        setattr(instance, _BEFORE, _traders_of(_owners(instance, reverse, pk_set, current)))
        return
    before: dict[int, list[str]] = getattr(instance, _BEFORE, {})
    if hasattr(instance, _BEFORE):
        delattr(instance, _BEFORE)
    after = _traders_of(list(before))
    codes = dict(TradingAccount.objects.filter(pk__in=list(before)).values_list("pk", "code"))
    for account_id, old_traders in before.items():
        if after[account_id] != old_traders:
            web_event_record(
                "entitlement.changed",
                actor_user_id=acting_user_id.get(),
                payload={"old_traders": old_traders, "new_traders": after[account_id]},
                account=codes.get(account_id, ""),
            )


# -- the append-only triggers stay in place -------------------------------------------------

TRIGGERS_MIGRATION = ("audit", "0003_append_only_triggers")
EXPECTED_TRIGGERS = {
    "postgresql": {"audit_eventrecord_append_only"},
    "sqlite": {"audit_eventrecord_refuse_update", "audit_eventrecord_refuse_delete"},
}


def append_only_triggers(using: str) -> set[str]:
    """The enabled triggers on the event-log table."""
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_eventrecord'::regclass"
                " AND NOT tgisinternal AND tgenabled <> 'D'"
            )
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master"
                " WHERE type = 'trigger' AND tbl_name = 'audit_eventrecord'"
            )
        return {name for (name,) in cursor.fetchall()}


def append_only_checked(sender: Any, using: str, **kwargs: Any) -> None:
    """After every migrate (and flush): the triggers are still there.

    On SQLite, Django rebuilds a table to alter most of its columns, and the rebuilt table
    has none of the old one's triggers: the event log would silently accept UPDATE and
    DELETE. Stop loudly instead; the migration that rebuilt it must install them again."""
    connection = connections[using]
    if TRIGGERS_MIGRATION not in MigrationRecorder(connection).applied_migrations():
        return
    missing = EXPECTED_TRIGGERS.get(connection.vendor, set()) - append_only_triggers(using)
    if missing:
        raise RuntimeError(
            f"the event log's append-only triggers are missing on {using}: "
            f"{', '.join(sorted(missing))}. A migration that rebuilds audit_eventrecord "
            "must install them again (see audit migration 0003)."
        )


def connect(app_config: Any) -> None:
    user_logged_in.connect(login_recorded, dispatch_uid="audit.login")
    user_login_failed.connect(login_failure_recorded, dispatch_uid="audit.login_failed")
    user_logged_out.connect(logout_recorded, dispatch_uid="audit.logout")
    m2m_changed.connect(roles_changed, sender=User.groups.through, dispatch_uid="audit.roles")
    m2m_changed.connect(
        entitlements_changed,
        sender=TradingAccount.traders.through,
        dispatch_uid="audit.entitlements",
    )
    post_migrate.connect(append_only_checked, sender=app_config, dispatch_uid="audit.triggers")
