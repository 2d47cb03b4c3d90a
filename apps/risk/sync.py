"""The risk configuration the database describes, and the commands that bring a matcher to it.

The matcher calls these at start: after recovery its engine holds the limits the journal
replayed; anything changed in the database while no command could reach it (a lost Redis, an
edit with the matcher down, entitlements given before the first start) is brought in line by
sequenced, journaled commands, like every other change.
"""

from apps.accounts.models import TradingAccount
from apps.matching.engine import Command, RiskLimit, RiskList, SetRiskLimit, SetRiskListEntry
from apps.risk.limits import ACCOUNT_FIELDS, FIRM_FIELDS, INSTRUMENT_FIELDS, POSITION_FIELDS
from apps.risk.models import (
    AccountRiskLimits,
    InstrumentRiskLimits,
    PositionLimit,
    RestrictedInstrument,
)
from apps.risk.selectors import firm_policy

# (limit, account, symbol) → value; only limits that are set.
LimitKey = tuple[RiskLimit, str, str]
# (list, account, symbol, trader user id): one member.
ListEntry = tuple[RiskList, str, str, int]
RiskConfiguration = tuple[dict[LimitKey, int], set[ListEntry]]

SYNC_REASON = "Matcher start: configuration from the database"
SYNC_USER_ID = 0


def desired_risk_configuration() -> RiskConfiguration:
    """Every limit and list member the database sets, in the engine's units; the same shape
    as `engine.risk.configuration()`."""
    limits: dict[LimitKey, int] = {}
    lists: set[ListEntry] = set()

    def put(limit: RiskLimit, value: int | None, account: str = "", symbol: str = "") -> None:
        if value is not None:
            limits[(limit, account, symbol)] = value

    policy = firm_policy()
    for f in FIRM_FIELDS:
        put(f.limit, f.to_engine(getattr(policy, f.field)))
    account_rows = AccountRiskLimits.objects.select_related("account").prefetch_related(
        "permitted_instruments"
    )
    for row in account_rows:
        code = row.account.code
        for f in ACCOUNT_FIELDS:
            put(f.limit, f.to_engine(getattr(row, f.field)), account=code)
        for instrument in row.permitted_instruments.all():
            lists.add((RiskList.PERMITTED, code, instrument.symbol, 0))
    for instrument_row in InstrumentRiskLimits.objects.select_related("instrument"):
        symbol = instrument_row.instrument.symbol
        for f in INSTRUMENT_FIELDS:
            put(f.limit, f.to_engine(getattr(instrument_row, f.field)), symbol=symbol)
    for position in PositionLimit.objects.select_related("account", "instrument"):
        for f in POSITION_FIELDS:
            put(
                f.limit,
                f.to_engine(getattr(position, f.field)),
                account=position.account.code,
                symbol=position.instrument.symbol,
            )
    for entry in RestrictedInstrument.objects.select_related("account", "instrument"):
        account = entry.account.code if entry.account is not None else ""
        lists.add((RiskList.RESTRICTED, account, entry.instrument.symbol, 0))
    entitlements = TradingAccount.traders.through.objects.values_list(
        "tradingaccount__code", "user_id"
    )
    for code, user_id in entitlements:
        lists.add((RiskList.AUTHORISED, code, "", user_id))
    return limits, lists


def risk_sync_commands(
    current: RiskConfiguration, desired: RiskConfiguration, ts_ns: int
) -> list[Command]:
    """The commands that turn the `current` configuration into the `desired` one, in a fixed
    order (limits by name, account and symbol; then list members removed, then added), so the
    same two configurations always give the same commands."""
    current_limits, current_lists = current
    desired_limits, desired_lists = desired
    commands: list[Command] = []

    def command_id() -> str:
        return f"risk-sync-{ts_ns}-{len(commands) + 1}"

    for key in sorted(current_limits.keys() | desired_limits.keys()):
        value = desired_limits.get(key)
        if current_limits.get(key) == value:
            continue
        limit, account, symbol = key
        commands.append(
            SetRiskLimit(
                command_id=command_id(),
                ts_ns=ts_ns,
                user_id=SYNC_USER_ID,
                change_reason=SYNC_REASON,
                limit=limit,
                value=value,
                account=account,
                symbol=symbol,
            )
        )
    for member, entries in (
        (False, current_lists - desired_lists),
        (True, desired_lists - current_lists),
    ):
        for risk_list, account, symbol, trader_user_id in sorted(entries):
            commands.append(
                SetRiskListEntry(
                    command_id=command_id(),
                    ts_ns=ts_ns,
                    user_id=SYNC_USER_ID,
                    change_reason=SYNC_REASON,
                    risk_list=risk_list,
                    member=member,
                    account=account,
                    symbol=symbol,
                    trader_user_id=trader_user_id,
                )
            )
    return commands
