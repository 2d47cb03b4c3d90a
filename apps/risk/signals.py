"""Entitlements reach the matcher: a trader added to (or removed from) an account's traders,
from the admin or anywhere else, becomes a SetRiskListEntry(AUTHORISED) on every shard once
the change commits. Connected in RiskConfig.ready.
"""

from typing import Any

from django.db.models import Model
from django.db.models.signals import m2m_changed

from apps.accounts.models import TradingAccount
from apps.audit.services import acting_user_id
from apps.risk.services import authorised_changes_send
from apps.trading.control import SYSTEM_USER_ID

# Set on the instance by pre_clear: the entitlements a clear is about to remove.
_CLEARED = "_risk_authorised_cleared"

Pairs = set[tuple[str, int]]


def _pairs(instance: Model, reverse: bool, pk_set: set[int]) -> Pairs:
    """(account code, trader id) for each entitlement a change touches."""
    if reverse:  # instance is a User; pk_set holds account ids
        codes = TradingAccount.objects.filter(pk__in=pk_set).values_list("code", flat=True)
        return {(code, instance.pk) for code in codes}
    assert isinstance(instance, TradingAccount)
    return {(instance.code, user_id) for user_id in pk_set}


def _current_pairs(instance: Model, reverse: bool) -> Pairs:
    through = TradingAccount.traders.through
    if reverse:
        rows = through.objects.filter(user_id=instance.pk)
    else:
        rows = through.objects.filter(tradingaccount_id=instance.pk)
    return set(rows.values_list("tradingaccount__code", "user_id"))


def entitlements_sent(
    sender: Any,
    instance: Model,
    action: str,
    reverse: bool,
    pk_set: set[int] | None,
    **kwargs: Any,
) -> None:
    if action == "pre_clear":
        setattr(instance, _CLEARED, _current_pairs(instance, reverse))
        return
    if action == "post_clear":
        pairs: Pairs = getattr(instance, _CLEARED, set())
        if hasattr(instance, _CLEARED):
            delattr(instance, _CLEARED)
        member = False
    elif action in ("post_add", "post_remove"):
        # Django leaves out of pk_set what add() found already there and what remove() did
        # not find, so only real changes are sent.
        pairs = _pairs(instance, reverse, pk_set or set())
        member = action == "post_add"
    else:
        return
    authorised_changes_send(pairs, member, acting_user_id.get() or SYSTEM_USER_ID)


def connect() -> None:
    m2m_changed.connect(
        entitlements_sent,
        sender=TradingAccount.traders.through,
        dispatch_uid="risk.entitlements_sent",
    )
