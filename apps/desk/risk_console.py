"""Reads for the risk console: the risk state the matchers publish, merged over shards, and the
recent risk events of the event log, shaped exactly as the live risk frames are, so that the
page applies its first load and every later frame with the same code."""

import json
from decimal import Decimal
from typing import Any, Final, cast

from django.db.models import F

from apps.accounts import roles
from apps.accounts.models import TradingAccount, User
from apps.audit.models import EventRecord
from apps.matching import keys
from apps.matching.engine import Reason
from apps.matching.engine.types import RISK_REASONS
from apps.matching.redis import redis_client
from apps.trading.control import SYSTEM_USER_ID, matcher_shards
from apps.trading.selectors import ns_to_iso

# Who may watch the risk state and act on it: risk managers (and admins) hold it, auditors,
# who may read limits but never change them, do not (see accounts.roles).
RISK_PERMISSION: Final = "risk.change_risk_limits"

# The reasons for which the risk stage, not the book, refused an order.
RISK_REJECTION_REASONS: Final = RISK_REASONS
# Rejections that also belong in the alerts feed: a trader (or an algorithm) hitting the
# message-rate throttle is a risk event in itself, not only a refused order.
THROTTLE_REASONS: Final = frozenset({Reason.MESSAGE_RATE_EXCEEDED})
# How many of the latest rows of each kind the console starts with.
RECENT_ROWS: Final = 100
_LOSS_STAGES: Final = ("ok", "warning", "reduce_only", "killed")


def can_watch_risk(user: User) -> bool:
    return user.is_active and user.has_perm(RISK_PERMISSION)


# -- published state ---------------------------------------------------------------------------


def empty_account(code: str) -> dict[str, Any]:
    """An account no matcher has published yet: no limits known, nothing used."""
    return {
        "account": code,
        "credit_limit": None,
        "credit_used": "0.00",
        "loss_today": "0.00",
        "loss_warning": None,
        "loss_reduce_only": None,
        "loss_kill": None,
        "loss_stage": "ok",
        "kill_switch": None,
        "positions": [],
    }


def _money_sum(a: str | None, b: str | None) -> str:
    return str(Decimal(a or "0") + Decimal(b or "0"))


def _merge_account(mine: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    """One account as two shards see it: each holds the exposure and P&L of its own
    instruments, and the same limits and kill switch (they are sent to every shard)."""
    stage = max(
        mine.get("loss_stage", "ok"),
        other.get("loss_stage", "ok"),
        key=lambda s: _LOSS_STAGES.index(s) if s in _LOSS_STAGES else 0,
    )
    return {
        **mine,
        "credit_used": _money_sum(mine.get("credit_used"), other.get("credit_used")),
        "loss_today": _money_sum(mine.get("loss_today"), other.get("loss_today")),
        "loss_stage": stage,
        "kill_switch": mine.get("kill_switch") or other.get("kill_switch"),
        "positions": [*mine.get("positions", []), *other.get("positions", [])],
    }


def _shard_snapshot(shard: int) -> dict[str, Any]:
    """A shard's published risk state: a Redis hash of account code → the account's figures
    as JSON, and the kill switches under their own field."""
    fields = cast(dict[bytes, bytes], redis_client().hgetall(keys.risk_snapshot(shard)))
    accounts: dict[str, Any] = {}
    switches: dict[str, Any] = {}
    for field, raw in fields.items():
        name = field.decode()
        if name == keys.KILL_SWITCHES_FIELD:
            switches = json.loads(raw)
        else:
            accounts[name] = json.loads(raw)
    return {"accounts": accounts, "kill_switches": switches}


def published_risk() -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Every account's published figures and the firm and trader kill switches, merged over
    the snapshots of every shard."""
    accounts: dict[str, dict[str, Any]] = {}
    firm: dict[str, Any] | None = None
    traders: dict[str, Any] = {}
    for shard in matcher_shards():
        snapshot = _shard_snapshot(shard)
        for code, account in snapshot["accounts"].items():
            known = accounts.get(code)
            accounts[code] = account if known is None else _merge_account(known, account)
        switches = snapshot["kill_switches"]
        firm = firm or switches.get("firm")
        for user_id, switch in (switches.get("traders") or {}).items():
            traders.setdefault(str(user_id), switch)
    return accounts, {"firm": firm, "traders": traders}


# -- recent events of the log ----------------------------------------------------------------


def _alert_frame(row: EventRecord) -> dict[str, Any]:
    p = row.payload
    return {
        "type": "risk.alert",
        "alert": {
            "account": p.get("account", ""),
            "alert": p.get("alert", ""),
            "message": p.get("message", ""),
            "ts": ns_to_iso(row.ts_ns),
        },
    }


def _kill_switch_frame(row: EventRecord) -> dict[str, Any]:
    p = row.payload
    return {
        "type": "risk.kill_switch",
        "kill_switch": {
            "scope": p.get("scope", ""),
            "account": p.get("account", ""),
            "trader_user_id": p.get("trader_user_id", 0),
            "engaged": bool(p.get("engaged")),
            "allow_risk_reducing": bool(p.get("allow_risk_reducing")),
            "reason": p.get("change_reason", ""),
            "user_id": p.get("user_id"),
            "cancelled_orders": p.get("cancelled_orders", 0),
            "ts": ns_to_iso(row.ts_ns),
        },
    }


def _limit_frame(row: EventRecord) -> dict[str, Any]:
    p = row.payload
    limit = str(p.get("limit", ""))
    return {
        "type": "risk.limit",
        "change": {
            "limit": limit,
            "account": p.get("account", ""),
            "symbol": p.get("symbol", ""),
            # The engine's integers, as the live frames carry them (money in micros).
            "old_value": p.get("old_value"),
            "new_value": p.get("new_value"),
            "reason": p.get("change_reason", ""),
            "user_id": p.get("user_id"),
            "ts": ns_to_iso(row.ts_ns),
        },
    }


def _list_frame(row: EventRecord) -> dict[str, Any]:
    p = row.payload
    return {
        "type": "risk.list",
        "change": {
            "list": p.get("risk_list", ""),
            "account": p.get("account", ""),
            "symbol": p.get("symbol", ""),
            "trader_user_id": p.get("trader_user_id", 0),
            "member": bool(p.get("member")),
            "reason": p.get("change_reason", ""),
            "user_id": p.get("user_id"),
            "ts": ns_to_iso(row.ts_ns),
        },
    }


def _rejection_frame(row: EventRecord) -> dict[str, Any]:
    p = row.payload
    return {
        "type": "risk.rejection",
        "rejection": {
            "account": p.get("account", ""),
            "user_id": p.get("user_id"),
            "symbol": p.get("symbol", ""),
            "client_order_id": p.get("client_order_id", ""),
            "code": p.get("reason", ""),
            "message": p.get("message", ""),
            "ts": ns_to_iso(row.ts_ns),
        },
    }


_FRAME_OF_KIND = {
    "risk_alert": _alert_frame,
    "kill_switch_changed": _kill_switch_frame,
    "risk_limit_changed": _limit_frame,
    "risk_list_changed": _list_frame,
}


# Limits and lists the system set (the matcher bringing itself to the database's configuration
# at start, entitlements granted outside a request) are in the audit log, not in the feed:
# they would bury what people and the risk stage did.
_SYSTEM_CHANGE_KINDS: Final = ("risk_limit_changed", "risk_list_changed")


def _latest(rows: Any) -> list[EventRecord]:
    """The newest RECENT_ROWS of a query, oldest first (the order the page applies them in)."""
    return list(reversed(rows.order_by("-ts_ns", "-shard", "-seq")[:RECENT_ROWS]))


def recent_risk_events() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The latest alerts feed (alerts, kill switches, limit and list changes, throttling)
    and the latest orders the risk stage refused, as frames, oldest first."""
    feed_rows = _latest(
        EventRecord.objects.filter(kind__in=_FRAME_OF_KIND)
        .exclude(kind__in=_SYSTEM_CHANGE_KINDS, actor_user_id=SYSTEM_USER_ID)
        # A change to the value already in force (a seed applied twice, a sync that found the
        # matcher already there) is in the audit log, but it is not news.
        .exclude(kind="risk_limit_changed", payload__old_value=F("payload__new_value"))
        .exclude(kind="risk_list_changed", payload__member=F("payload__was_member"))
    )
    throttled = _latest(
        EventRecord.objects.filter(kind="order_rejected", reason__in=THROTTLE_REASONS)
    )
    rejected = _latest(
        EventRecord.objects.filter(kind="order_rejected", reason__in=RISK_REJECTION_REASONS)
    )
    merged = sorted([*feed_rows, *throttled], key=lambda r: (r.ts_ns, r.shard, r.seq))
    feed = [
        _FRAME_OF_KIND[row.kind](row) if row.kind in _FRAME_OF_KIND else _rejection_frame(row)
        for row in merged[-RECENT_ROWS:]
    ]
    return feed, [_rejection_frame(row) for row in rejected]


# -- the console's first load ----------------------------------------------------------------


def _people(extra_ids: set[int]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The traders (for their kill switches), with the accounts each may trade, and the
    usernames of everyone the events name or may name."""
    traders = (
        User.objects.filter(groups__name=roles.TRADER, is_active=True)
        .prefetch_related("trading_accounts")
        .order_by("username")
        .distinct()
    )
    listed = [
        {
            "user_id": user.pk,
            "username": user.username,
            "accounts": sorted(a.code for a in user.trading_accounts.all()),
        }
        for user in traders
    ]
    names = {str(t["user_id"]): str(t["username"]) for t in listed}
    # Those who act on limits and switches are named in the frames to come, too.
    acting = User.objects.filter(groups__name__in=(roles.RISK_MANAGER, roles.ADMIN))
    named = User.objects.filter(pk__in={i for i in extra_ids if str(i) not in names})
    for user_id, username in (acting | named).distinct().values_list("pk", "username"):
        names[str(user_id)] = username
    return listed, names


def _user_ids(frames: list[dict[str, Any]], switches: dict[str, Any]) -> set[int]:
    ids: set[int] = set()
    for frame in frames:
        for body in frame.values():
            if isinstance(body, dict):
                for name in ("user_id", "trader_user_id"):
                    if isinstance(body.get(name), int):
                        ids.add(body[name])
    for switch in [switches.get("firm"), *switches.get("traders", {}).values()]:
        if isinstance(switch, dict) and isinstance(switch.get("engaged_by"), int):
            ids.add(switch["engaged_by"])
    ids.update(int(i) for i in switches.get("traders", {}) if str(i).isdigit())
    return ids


def risk_console_snapshot() -> dict[str, Any]:
    """Everything the console shows on arrival: every active account (with zeros where no
    matcher has published it yet), the kill switches, the traders, and recent events."""
    published, switches = published_risk()
    codes = list(TradingAccount.objects.filter(is_active=True).values_list("code", flat=True))
    codes += sorted(set(published) - set(codes))
    accounts = [published.get(code) or empty_account(code) for code in codes]
    engaged_by = {
        a["kill_switch"].get("engaged_by") for a in accounts if isinstance(a["kill_switch"], dict)
    }
    account_ids = {i for i in engaged_by if isinstance(i, int)}
    alerts, rejections = recent_risk_events()
    traders, usernames = _people(_user_ids(alerts + rejections, switches) | account_ids)
    return {
        "type": "risk.snapshot",
        "accounts": accounts,
        "kill_switches": switches,
        "traders": traders,
        "usernames": usernames,
        "alerts": alerts,
        "rejections": rejections,
    }
