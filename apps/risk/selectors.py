"""Reads: the limits as the firm set them, and the kill switches as the matchers last said."""

from typing import Any

from apps.accounts.models import TradingAccount, User
from apps.audit.models import EventRecord
from apps.instruments.models import Instrument
from apps.risk.models import (
    AccountRiskLimits,
    FirmRiskPolicy,
    InstrumentRiskLimits,
    PositionLimit,
    RestrictedInstrument,
    TraderRiskSettings,
)


def _money(amount: object) -> str | None:
    return None if amount is None else f"{amount:.2f}"


def firm_policy() -> FirmRiskPolicy:
    """The firm's policy: its row, or the defaults while none has been saved."""
    return FirmRiskPolicy.objects.filter(pk=FirmRiskPolicy.SINGLETON_PK).first() or (
        FirmRiskPolicy(pk=FirmRiskPolicy.SINGLETON_PK)
    )


def account_limits(account: TradingAccount) -> AccountRiskLimits:
    """The account's limits: its row, or no limits at all while none has been saved."""
    return AccountRiskLimits.objects.filter(account=account).first() or AccountRiskLimits(
        account=account
    )


def instrument_limits(instrument: Instrument) -> InstrumentRiskLimits:
    return InstrumentRiskLimits.objects.filter(instrument=instrument).first() or (
        InstrumentRiskLimits(instrument=instrument)
    )


def cancel_on_disconnect(user: User) -> bool:
    """Whether the trader's working DAY orders go when their last desk connection drops."""
    return bool(
        TraderRiskSettings.objects.filter(user=user)
        .values_list("cancel_on_disconnect", flat=True)
        .first()
    )


def firm_policy_as_dict(policy: FirmRiskPolicy) -> dict[str, Any]:
    return {
        "collar_percent": None if policy.collar_percent is None else f"{policy.collar_percent:.2f}",
        "collar_minimum": _money(policy.collar_minimum),
        "duplicate_window_ms": policy.duplicate_window_ms,
        "throttle_window_ms": policy.throttle_window_ms,
        "throttle_messages": policy.throttle_messages,
        "throttle_cancels": policy.throttle_cancels,
        "authorised_users_only": policy.authorised_users_only,
    }


def position_limit_as_dict(limit: PositionLimit) -> dict[str, Any]:
    return {
        "account": limit.account.code,
        "symbol": limit.instrument.symbol,
        "max_long": limit.max_long_lots,
        "max_short": limit.max_short_lots,
    }


def restricted_as_dict(entry: RestrictedInstrument) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "symbol": entry.instrument.symbol,
        "account": entry.account.code if entry.account is not None else None,
        "reason": entry.reason,
        "created_by": entry.created_by.username if entry.created_by is not None else None,
        "created_at": entry.created_at.isoformat(),
    }


def instrument_limits_as_dict(limits: InstrumentRiskLimits) -> dict[str, Any]:
    return {
        "symbol": limits.instrument.symbol,
        "max_order_lots": limits.max_order_lots,
        "max_order_notional": _money(limits.max_order_notional),
    }


def _account_as_dict(
    account: TradingAccount,
    limits: AccountRiskLimits | None,
    positions: list[PositionLimit],
    restricted: list[RestrictedInstrument],
) -> dict[str, Any]:
    limits = limits if limits is not None else AccountRiskLimits(account=account)
    permitted = sorted(i.symbol for i in limits.permitted_instruments.all()) if limits.pk else []
    return {
        "account": account.code,
        "name": account.name,
        "is_active": account.is_active,
        "traders": sorted(user.username for user in account.traders.all()),
        "max_order_lots": limits.max_order_lots,
        "max_order_notional": _money(limits.max_order_notional),
        "credit_limit": _money(limits.credit_limit),
        "loss_warning": _money(limits.loss_warning),
        "loss_reduce_only": _money(limits.loss_reduce_only),
        "loss_kill": _money(limits.loss_kill),
        "permitted_instruments_only": limits.permitted_instruments_only,
        "permitted_instruments": permitted,
        "position_limits": [position_limit_as_dict(p) for p in positions],
        "restricted": sorted(r.instrument.symbol for r in restricted),
    }


def accounts_with_limits(code: str | None = None) -> list[dict[str, Any]]:
    """Every trading account (or the one named) with every limit that applies to it alone."""
    accounts = TradingAccount.objects.prefetch_related("traders").order_by("code")
    if code is not None:
        accounts = accounts.filter(code=code)
    accounts_list = list(accounts)
    ids = [a.pk for a in accounts_list]
    limits = {
        row.account_id: row
        for row in AccountRiskLimits.objects.filter(account_id__in=ids).prefetch_related(
            "permitted_instruments"
        )
    }
    positions: dict[int, list[PositionLimit]] = {}
    for position in PositionLimit.objects.filter(account_id__in=ids).select_related(
        "account", "instrument"
    ):
        positions.setdefault(position.account_id, []).append(position)
    restricted: dict[int, list[RestrictedInstrument]] = {}
    for entry in RestrictedInstrument.objects.filter(account_id__in=ids).select_related(
        "instrument"
    ):
        assert entry.account_id is not None
        restricted.setdefault(entry.account_id, []).append(entry)
    return [
        _account_as_dict(
            account,
            limits.get(account.pk),
            positions.get(account.pk, []),
            restricted.get(account.pk, []),
        )
        for account in accounts_list
    ]


def position_limits(account: str | None = None) -> list[PositionLimit]:
    rows = PositionLimit.objects.select_related("account", "instrument")
    if account:
        rows = rows.filter(account__code=account)
    return list(rows)


def restricted_entries() -> list[RestrictedInstrument]:
    return list(RestrictedInstrument.objects.select_related("instrument", "account", "created_by"))


def kill_switches_engaged() -> list[dict[str, Any]]:
    """The kill switches engaged now, as the matchers journaled them (the engine latches an
    account's switch by itself at the daily loss limit, so the log, not a table, is the truth).
    """
    latest: dict[tuple[str, str, int], dict[str, Any]] = {}
    changes = (
        EventRecord.objects.filter(kind="kill_switch_changed")
        .order_by("ts_ns", "shard", "seq")
        .values_list("payload", "ts_ns")
    )
    for payload, ts_ns in changes.iterator():
        key = (payload["scope"], payload["account"], payload["trader_user_id"])
        latest[key] = {**payload, "ts_ns": ts_ns}
    engaged = [change for change in latest.values() if change["engaged"]]
    usernames = dict(
        User.objects.filter(
            pk__in={c["trader_user_id"] for c in engaged} | {c["user_id"] for c in engaged}
        ).values_list("pk", "username")
    )
    return [
        {
            "scope": change["scope"],
            "account": change["account"] or None,
            "trader": usernames.get(change["trader_user_id"]) if change["trader_user_id"] else None,
            "allow_risk_reducing": change["allow_risk_reducing"],
            "engaged_by": usernames.get(change["user_id"]),
            "reason": change["change_reason"],
            "since_ns": change["ts_ns"],
        }
        for change in sorted(engaged, key=lambda c: (c["scope"], c["account"], c["trader_user_id"]))
    ]
