"""Changing pre-trade limits and pulling kill switches: the only writes of apps.risk.

The admin, the REST API and the risk console all call these. Each change is saved, and once it
has committed, one control command per changed limit goes to every shard's stream: the matcher
applies it in sequence with the orders around it (it takes effect for the next order), journals
it with the risk manager, the old value, the new value and the reason, and replays it on
recovery. A call made outside any transaction (the API) then waits for the first shard's
answers and returns them; one made inside a longer transaction (the admin's) returns before
they are sent, since nothing is sent until that transaction commits.
"""

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import structlog
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction

from apps.accounts.models import TradingAccount, User
from apps.audit.services import web_event_record
from apps.instruments.models import Instrument
from apps.matching.engine import (
    Command,
    KillScope,
    KillSwitch,
    ResetDailyRisk,
    RiskLimit,
    RiskList,
    SetRiskLimit,
    SetRiskListEntry,
)
from apps.risk.limits import (
    ACCOUNT_FIELDS,
    FIRM_FIELDS,
    INSTRUMENT_FIELDS,
    POSITION_FIELDS,
    LimitField,
)
from apps.risk.models import (
    AccountRiskLimits,
    FirmRiskPolicy,
    InstrumentRiskLimits,
    PositionLimit,
    RestrictedInstrument,
    TraderRiskSettings,
)
from apps.trading.control import (
    SYSTEM_USER_ID,
    ShardDispatch,
    control_reason,
    instrument_shards,
    require_permission,
)
from apps.trading.services import command_send
from project.api_errors import Rejection

log = structlog.get_logger(__name__)

VIEW_LIMITS = "risk.view_risk_limits"
CHANGE_LIMITS = "risk.change_risk_limits"
OPERATE_KILL_SWITCH = "risk.operate_kill_switch"
ENTITLEMENT_REASON = "Trading account entitlements changed"
DAILY_RESET_REASON = "Session start"


# -- checks at the edge ---------------------------------------------------------------------


def can_view_limits(user: User) -> bool:
    return user.is_active and (user.has_perm(VIEW_LIMITS) or user.has_perm(CHANGE_LIMITS))


def _account(account: TradingAccount | str) -> TradingAccount:
    if isinstance(account, TradingAccount):
        return account
    found = TradingAccount.objects.filter(code=account).first()
    if found is None:
        raise Rejection("unknown_account", f"There is no trading account {account!r}.")
    return found


def _instrument(instrument: Instrument | str) -> Instrument:
    if isinstance(instrument, Instrument):
        return instrument
    found = Instrument.objects.filter(symbol=instrument).first()
    if found is None:
        raise Rejection("unknown_instrument", f"Instrument {instrument!r} is not listed.")
    return found


def _trader(username: str) -> User:
    found = User.objects.filter(username=username).first()
    if found is None:
        raise Rejection("unknown_trader", f"There is no trader {username!r}.")
    return found


def _validated(row: models.Model, exclude: Iterable[str] = ()) -> None:
    """The row's own rules (ranges, digits, the order of the loss stages), as a rejection."""
    try:
        row.full_clean(exclude=list(exclude), validate_unique=False)
    except ValidationError as exc:
        messages = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
        name, problems = next(iter(messages.items()))
        prefix = f"{name}: " if name and name != "__all__" else ""
        raise Rejection("invalid_limit", f"{prefix}{problems[0].rstrip('.')}.") from None


# -- sending after commit -------------------------------------------------------------------


def _to_every_shard(commands: list[Command], *, wait_all: bool = False) -> ShardDispatch:
    """Each command to every shard that lists an instrument, grouped by shard: only the first
    shard answers unless `wait_all` (a kill switch waits for every shard).

    Two edits of the same limit committed within microseconds of each other could reach the
    stream in the opposite order to their commits; the row lock keeps that window to the time
    between one commit and its XADD, and the matcher's start-up sync (apps.risk.sync) brings
    it back to the database's value in any case."""
    targets = [(shard, command) for shard in instrument_shards() for command in commands]
    return ShardDispatch(targets, "risk_control_unsent", wait_all=wait_all)


@dataclass(slots=True, frozen=True)
class ControlOutcome:
    """What a change did: the row as saved, the names of the values that changed, and the
    matcher's outcome events (None: sent when the enclosing transaction commits)."""

    row: models.Model | None
    changed: list[str]
    events: list[dict[str, Any]] | None


def _limit_command(
    actor: User, reason: str, limit: RiskLimit, value: int | None, account: str, symbol: str
) -> SetRiskLimit:
    return SetRiskLimit(
        command_id="",
        ts_ns=0,
        user_id=actor.pk,
        change_reason=reason,
        limit=limit,
        value=value,
        account=account,
        symbol=symbol,
    )


def _list_command(
    user_id: int,
    reason: str,
    risk_list: RiskList,
    member: bool,
    account: str = "",
    symbol: str = "",
    trader_user_id: int = 0,
) -> SetRiskListEntry:
    return SetRiskListEntry(
        command_id="",
        ts_ns=0,
        user_id=user_id,
        change_reason=reason,
        risk_list=risk_list,
        member=member,
        account=account,
        symbol=symbol,
        trader_user_id=trader_user_id,
    )


def _apply_changes(
    row: models.Model, fields: tuple[LimitField, ...], changes: Mapping[str, Any]
) -> list[LimitField]:
    """Set `changes` on `row` and return the limits whose engine value changed."""
    known = {f.field for f in fields}
    unknown = sorted(set(changes) - known)
    if unknown:
        raise Rejection(
            "unknown_field",
            f"{unknown[0]!r} is not one of these limits: {', '.join(sorted(known))}.",
        )
    before = {f.field: f.to_engine(getattr(row, f.field)) for f in fields}
    for name, value in changes.items():
        setattr(row, name, value)
    _validated(row)
    return [f for f in fields if f.to_engine(getattr(row, f.field)) != before[f.field]]


# -- limits ---------------------------------------------------------------------------------


def firm_policy_update(actor: User, changes: Mapping[str, Any], reason: str) -> ControlOutcome:
    """Change the firm-wide controls (collar, duplicate window, throttle, authorised users)."""
    require_permission(actor, CHANGE_LIMITS, "change limits")
    reason = control_reason(reason)
    with transaction.atomic():
        # The row lock makes concurrent edits of the policy take turns, so each one's commands
        # carry the values its own transaction saved.
        FirmRiskPolicy.objects.get_or_create(pk=FirmRiskPolicy.SINGLETON_PK)
        policy = FirmRiskPolicy.objects.select_for_update().get(pk=FirmRiskPolicy.SINGLETON_PK)
        changed = _apply_changes(policy, FIRM_FIELDS, changes)
        policy.save()
        dispatch = _to_every_shard(
            [
                _limit_command(
                    actor, reason, f.limit, f.to_engine(getattr(policy, f.field)), "", ""
                )
                for f in changed
            ]
        )
        dispatch.send_on_commit()
    return ControlOutcome(policy, [f.field for f in changed], dispatch.answers())


def account_limits_update(
    actor: User, account: TradingAccount | str, changes: Mapping[str, Any], reason: str
) -> ControlOutcome:
    """Change an account's limits. `changes` maps limit names to values (None: no limit);
    "permitted_instruments" (a list of symbols) replaces the account's permitted list."""
    require_permission(actor, CHANGE_LIMITS, "change limits")
    reason = control_reason(reason)
    account = _account(account)
    changes = dict(changes)
    permitted_symbols = changes.pop("permitted_instruments", None)
    permitted = _instruments_named(permitted_symbols) if permitted_symbols is not None else None
    with transaction.atomic():
        AccountRiskLimits.objects.get_or_create(account=account)
        # Concurrent edits of one account take turns on its row (see firm_policy_update).
        row = AccountRiskLimits.objects.select_for_update().get(account=account)
        changed = _apply_changes(row, ACCOUNT_FIELDS, changes)
        row.save()
        commands: list[Command] = [
            _limit_command(
                actor, reason, f.limit, f.to_engine(getattr(row, f.field)), account.code, ""
            )
            for f in changed
        ]
        names = [f.field for f in changed]
        if permitted is not None:
            had = {i.symbol: i for i in row.permitted_instruments.all()}
            wanted = {i.symbol: i for i in permitted}
            row.permitted_instruments.set(permitted)
            for symbol in sorted(had.keys() - wanted.keys()):
                commands.append(
                    _list_command(actor.pk, reason, RiskList.PERMITTED, False, account.code, symbol)
                )
            for symbol in sorted(wanted.keys() - had.keys()):
                commands.append(
                    _list_command(actor.pk, reason, RiskList.PERMITTED, True, account.code, symbol)
                )
            if had.keys() != wanted.keys():
                names.append("permitted_instruments")
        dispatch = _to_every_shard(commands)
        dispatch.send_on_commit()
    return ControlOutcome(row, names, dispatch.answers())


def permitted_set(
    actor: User, account: TradingAccount | str, symbols: Iterable[str], reason: str
) -> ControlOutcome:
    """Replace the instruments an account may trade when it trades permitted instruments only."""
    return account_limits_update(actor, account, {"permitted_instruments": list(symbols)}, reason)


def _instruments_named(symbols: object) -> list[Instrument]:
    if not isinstance(symbols, list | tuple) or not all(isinstance(s, str) for s in symbols):
        raise Rejection("invalid_limit", "permitted_instruments must be a list of symbols.")
    found = {i.symbol: i for i in Instrument.objects.filter(symbol__in=symbols)}
    missing = sorted(set(symbols) - found.keys())
    if missing:
        raise Rejection("unknown_instrument", f"Instrument {missing[0]!r} is not listed.")
    return [found[s] for s in sorted(found)]


def instrument_limits_update(
    actor: User, instrument: Instrument | str, changes: Mapping[str, Any], reason: str
) -> ControlOutcome:
    """Change an instrument's per-order limits (for every account)."""
    require_permission(actor, CHANGE_LIMITS, "change limits")
    reason = control_reason(reason)
    instrument = _instrument(instrument)
    with transaction.atomic():
        InstrumentRiskLimits.objects.get_or_create(instrument=instrument)
        # Concurrent edits of one instrument take turns on its row (see firm_policy_update).
        row = InstrumentRiskLimits.objects.select_for_update().get(instrument=instrument)
        changed = _apply_changes(row, INSTRUMENT_FIELDS, changes)
        row.save()
        dispatch = _to_every_shard(
            [
                _limit_command(
                    actor,
                    reason,
                    f.limit,
                    f.to_engine(getattr(row, f.field)),
                    "",
                    instrument.symbol,
                )
                for f in changed
            ]
        )
        dispatch.send_on_commit()
    return ControlOutcome(row, [f.field for f in changed], dispatch.answers())


def position_limit_set(
    actor: User,
    account: TradingAccount | str,
    instrument: Instrument | str,
    max_long_lots: int | None,
    max_short_lots: int | None,
    reason: str,
) -> ControlOutcome:
    """Set how long and how short an account may be in an instrument (None: no limit; with
    neither limit left, the row goes)."""
    require_permission(actor, CHANGE_LIMITS, "change limits")
    reason = control_reason(reason)
    account = _account(account)
    instrument = _instrument(instrument)
    with transaction.atomic():
        PositionLimit.objects.get_or_create(account=account, instrument=instrument)
        # Concurrent edits of one position limit take turns on its row.
        row = PositionLimit.objects.select_for_update().get(account=account, instrument=instrument)
        changed = _apply_changes(
            row,
            POSITION_FIELDS,
            {"max_long_lots": max_long_lots, "max_short_lots": max_short_lots},
        )
        if row.max_long_lots is None and row.max_short_lots is None:
            row.delete()
            saved: PositionLimit | None = None
        else:
            row.save()
            saved = row
        dispatch = _to_every_shard(
            [
                _limit_command(
                    actor,
                    reason,
                    f.limit,
                    f.to_engine(getattr(row, f.field)),
                    account.code,
                    instrument.symbol,
                )
                for f in changed
            ]
        )
        dispatch.send_on_commit()
    return ControlOutcome(saved, [f.field for f in changed], dispatch.answers())


def restricted_set(
    actor: User,
    instrument: Instrument | str,
    account: TradingAccount | str | None,
    restricted: bool,
    reason: str,
) -> ControlOutcome:
    """Restrict an instrument (for the firm when `account` is None, else for that account),
    or lift the restriction."""
    require_permission(actor, CHANGE_LIMITS, "change limits")
    reason = control_reason(reason)
    instrument = _instrument(instrument)
    trading_account = _account(account) if account is not None else None
    scope = f"for {trading_account.code}" if trading_account is not None else "for the firm"
    with transaction.atomic():
        # Without the default ordering's join to the (nullable) account, which PostgreSQL
        # will not lock through.
        entries = (
            RestrictedInstrument.objects.select_for_update()
            .filter(instrument=instrument, account=trading_account)
            .order_by()
        )
        existing = entries.first()
        row: RestrictedInstrument | None
        if restricted:
            if existing is not None:
                raise Rejection(
                    "already_restricted", f"{instrument.symbol} is already restricted {scope}.", 409
                )
            row = RestrictedInstrument(
                instrument=instrument, account=trading_account, reason=reason, created_by=actor
            )
            _validated(row)
            # Two risk managers restricting the same instrument at once: the unique constraint
            # lets one in; the other is told it is already restricted.
            try:
                with transaction.atomic():
                    row.save()
            except IntegrityError as exc:
                if RestrictedInstrument.objects.filter(
                    instrument=instrument, account=trading_account
                ).exists():
                    raise Rejection(
                        "already_restricted",
                        f"{instrument.symbol} is already restricted {scope}.",
                        409,
                    ) from exc
                raise
        else:
            if existing is None:
                raise Rejection(
                    "not_restricted", f"{instrument.symbol} is not restricted {scope}.", 404
                )
            existing.delete()
            row = None
        dispatch = _to_every_shard(
            [
                _list_command(
                    actor.pk,
                    reason,
                    RiskList.RESTRICTED,
                    restricted,
                    trading_account.code if trading_account is not None else "",
                    instrument.symbol,
                )
            ]
        )
        dispatch.send_on_commit()
    return ControlOutcome(row, ["restricted"], dispatch.answers())


def restricted_lift(actor: User, entry_id: int, reason: str) -> ControlOutcome:
    """Lift the restriction `entry_id` (a RestrictedInstrument's id)."""
    require_permission(actor, CHANGE_LIMITS, "change limits")
    entry = RestrictedInstrument.objects.select_related("instrument", "account").filter(pk=entry_id)
    found = entry.first()
    if found is None:
        raise Rejection("not_restricted", f"There is no restriction {entry_id}.", 404)
    return restricted_set(actor, found.instrument, found.account, False, reason)


# -- kill switches --------------------------------------------------------------------------


def _kill_switch(
    actor: User,
    scope: KillScope | str,
    engage: bool,
    account: str,
    trader: str,
    reason: str,
    allow_risk_reducing: bool,
) -> ControlOutcome:
    verb = "engage" if engage else "release"
    require_permission(actor, OPERATE_KILL_SWITCH, f"{verb} kill switches")
    reason = control_reason(reason)
    try:
        kill_scope = KillScope(scope)
    except ValueError:
        raise Rejection(
            "invalid_scope", f"{scope!r} is not a kill switch scope (firm, account, trader)."
        ) from None
    account_code = ""
    trader_user_id = 0
    if kill_scope is KillScope.ACCOUNT:
        if not account or trader:
            raise Rejection(
                "invalid_scope", "An account kill switch names an account and no trader."
            )
        account_code = _account(account).code
    elif kill_scope is KillScope.TRADER:
        if not trader or account:
            raise Rejection("invalid_scope", "A trader kill switch names a trader and no account.")
        trader_user_id = _trader(trader).pk
    elif account or trader:
        raise Rejection("invalid_scope", "The firm kill switch names no account and no trader.")
    dispatch = _to_every_shard(
        [
            KillSwitch(
                command_id="",
                ts_ns=0,
                user_id=actor.pk,
                change_reason=reason,
                scope=kill_scope,
                engage=engage,
                account=account_code,
                trader_user_id=trader_user_id,
                allow_risk_reducing=allow_risk_reducing and engage,
            )
        ],
        # An emergency: the caller learns that every shard has stopped, not just the first.
        wait_all=True,
    )
    dispatch.send_on_commit()
    return ControlOutcome(None, [f"kill_switch.{kill_scope.value}"], dispatch.answers())


def kill_switch_engage(
    actor: User,
    scope: KillScope | str,
    *,
    account: str = "",
    trader: str = "",
    reason: str,
    allow_risk_reducing: bool = False,
) -> ControlOutcome:
    """Block new orders in scope and cancel its working orders at once, on every shard; it
    latches until released. With `allow_risk_reducing`, orders that only shrink a position
    still pass."""
    return _kill_switch(actor, scope, True, account, trader, reason, allow_risk_reducing)


def kill_switch_release(
    actor: User, scope: KillScope | str, *, account: str = "", trader: str = "", reason: str
) -> ControlOutcome:
    return _kill_switch(actor, scope, False, account, trader, reason, False)


def daily_risk_reset() -> None:
    """Session start: every shard's daily counters start again (a sequenced command, so that
    the reset replays exactly; latched kill switches stay latched)."""
    for shard in instrument_shards():
        command = ResetDailyRisk(command_id=uuid.uuid4().hex, ts_ns=0, user_id=SYSTEM_USER_ID)
        command_send(shard, command, want_reply=False)


# -- entitlements: who may trade an account -------------------------------------------------


def authorised_changes_send(pairs: Iterable[tuple[str, int]], member: bool, user_id: int) -> None:
    """Tell every shard that these (account, trader) entitlements were granted or withdrawn.

    Called after the entitlement change committed. A lost Redis loses nothing: the matcher's
    start-up sync reads the entitlements from the database."""
    commands: list[Command] = [
        _list_command(
            user_id, ENTITLEMENT_REASON, RiskList.AUTHORISED, member, account, "", trader_user_id
        )
        for account, trader_user_id in sorted(pairs)
    ]
    if not commands:
        return
    dispatch = _to_every_shard(commands)
    dispatch.send_on_commit()


# -- a trader's own settings ----------------------------------------------------------------


def trader_settings_update(actor: User, cancel_on_disconnect: bool) -> TraderRiskSettings:
    """A trader opts in to (or out of) cancel-on-disconnect for their own orders."""
    if not actor.is_active:
        raise Rejection("permission_denied", "Your account is inactive.", 403)
    with transaction.atomic():
        settings, _ = TraderRiskSettings.objects.select_for_update().get_or_create(user=actor)
        if settings.cancel_on_disconnect != cancel_on_disconnect:
            web_event_record(
                "risk.trader_settings_changed",
                actor_user_id=actor.pk,
                payload={
                    "cancel_on_disconnect": cancel_on_disconnect,
                    "old_cancel_on_disconnect": settings.cancel_on_disconnect,
                },
            )
            settings.cancel_on_disconnect = cancel_on_disconnect
            settings.save()
    return settings
