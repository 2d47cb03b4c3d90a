"""The configuration the database describes, and the commands that bring a matcher to it."""

from decimal import Decimal

import pytest

from apps.accounts.models import TradingAccount, User
from apps.instruments.models import Instrument
from apps.matching.engine import Command, RiskLimit, RiskList, SetRiskLimit, SetRiskListEntry
from apps.risk.models import (
    AccountRiskLimits,
    FirmRiskPolicy,
    InstrumentRiskLimits,
    PositionLimit,
    RestrictedInstrument,
)
from apps.risk.sync import (
    SYNC_REASON,
    LimitKey,
    ListEntry,
    RiskConfiguration,
    desired_risk_configuration,
    risk_sync_commands,
)

FIRM_DEFAULTS: dict[LimitKey, int] = {
    (RiskLimit.COLLAR_BPS, "", ""): 1000,
    (RiskLimit.COLLAR_MIN_MICROS, "", ""): 500_000,
    (RiskLimit.DUPLICATE_WINDOW_NS, "", ""): 1_000_000_000,
    (RiskLimit.THROTTLE_WINDOW_NS, "", ""): 3_000_000_000,
    (RiskLimit.THROTTLE_MESSAGES, "", ""): 500,
    (RiskLimit.THROTTLE_CANCELS, "", ""): 1500,
    (RiskLimit.AUTHORISED_USERS_ONLY, "", ""): 1,
}


def applied(current: RiskConfiguration, commands: list[Command]) -> RiskConfiguration:
    """What an engine holding `current` holds after `commands` (the engine's rules: a value of
    None removes a limit; a list entry is added or removed)."""
    limits, lists = dict(current[0]), set(current[1])
    for command in commands:
        if isinstance(command, SetRiskLimit):
            key = (command.limit, command.account, command.symbol)
            if command.value is None:
                limits.pop(key, None)
            else:
                limits[key] = command.value
        else:
            assert isinstance(command, SetRiskListEntry)
            entry = (command.risk_list, command.account, command.symbol, command.trader_user_id)
            (lists.add if command.member else lists.discard)(entry)
    return limits, lists


@pytest.mark.django_db
class TestDesiredConfiguration:
    def test_an_empty_database_describes_the_firm_defaults_only(self) -> None:
        assert desired_risk_configuration() == (FIRM_DEFAULTS, set())

    def test_firm_controls_left_blank_are_not_set(self) -> None:
        FirmRiskPolicy.objects.create(
            collar_percent=Decimal("7.25"),
            collar_minimum=None,
            duplicate_window_ms=None,
            authorised_users_only=False,
        )
        limits, _ = desired_risk_configuration()
        assert limits == {
            (RiskLimit.COLLAR_BPS, "", ""): 725,
            (RiskLimit.THROTTLE_WINDOW_NS, "", ""): 3_000_000_000,
            (RiskLimit.THROTTLE_MESSAGES, "", ""): 500,
            (RiskLimit.THROTTLE_CANCELS, "", ""): 1500,
        }

    def test_every_limit_and_list_member_is_described_in_engine_units(
        self, trader: User, second_trader: User, instruments: dict[str, Instrument]
    ) -> None:
        acc1 = TradingAccount.objects.get(code="ACC-1")
        acc2 = TradingAccount.objects.get(code="ACC-2")
        limits = AccountRiskLimits.objects.create(
            account=acc1,
            max_order_lots=5000,
            max_order_notional=Decimal("250000.01"),
            credit_limit=Decimal("2000000"),
            loss_warning=Decimal("25000"),
            loss_reduce_only=Decimal("50000.50"),
            loss_kill=Decimal("100000"),
            permitted_instruments_only=True,
        )
        limits.permitted_instruments.set([instruments["AAPL"]])
        AccountRiskLimits.objects.create(account=acc2)  # a row with no limits sets nothing
        InstrumentRiskLimits.objects.create(
            instrument=instruments["INTC"], max_order_lots=20_000, max_order_notional=None
        )
        PositionLimit.objects.create(
            account=acc2, instrument=instruments["AAPL"], max_long_lots=300, max_short_lots=None
        )
        RestrictedInstrument.objects.create(instrument=instruments["INTC"], reason="firm")
        RestrictedInstrument.objects.create(
            instrument=instruments["AAPL"], account=acc2, reason="insider"
        )
        assert desired_risk_configuration() == (
            {
                **FIRM_DEFAULTS,
                (RiskLimit.MAX_ORDER_LOTS, "ACC-1", ""): 5000,
                (RiskLimit.MAX_ORDER_NOTIONAL_MICROS, "ACC-1", ""): 250_000_010_000,
                (RiskLimit.CREDIT_LIMIT_MICROS, "ACC-1", ""): 2_000_000_000_000,
                (RiskLimit.LOSS_WARNING_MICROS, "ACC-1", ""): 25_000_000_000,
                (RiskLimit.LOSS_REDUCE_ONLY_MICROS, "ACC-1", ""): 50_000_500_000,
                (RiskLimit.LOSS_KILL_MICROS, "ACC-1", ""): 100_000_000_000,
                (RiskLimit.PERMITTED_INSTRUMENTS_ONLY, "ACC-1", ""): 1,
                (RiskLimit.MAX_ORDER_LOTS, "", "INTC"): 20_000,
                (RiskLimit.MAX_LONG_LOTS, "ACC-2", "AAPL"): 300,
            },
            {
                (RiskList.PERMITTED, "ACC-1", "AAPL", 0),
                (RiskList.RESTRICTED, "", "INTC", 0),
                (RiskList.RESTRICTED, "ACC-2", "AAPL", 0),
                (RiskList.AUTHORISED, "ACC-1", "", trader.pk),
                (RiskList.AUTHORISED, "ACC-2", "", second_trader.pk),
            },
        )


BEFORE: RiskConfiguration = (
    {
        (RiskLimit.COLLAR_BPS, "", ""): 1000,
        (RiskLimit.MAX_ORDER_LOTS, "ACC-1", ""): 100,
        (RiskLimit.MAX_LONG_LOTS, "ACC-1", "AAPL"): 50,
    },
    {(RiskList.RESTRICTED, "", "INTC", 0), (RiskList.AUTHORISED, "ACC-1", "", 7)},
)
AFTER: RiskConfiguration = (
    {
        (RiskLimit.COLLAR_BPS, "", ""): 500,
        (RiskLimit.MAX_ORDER_LOTS, "ACC-1", ""): 100,
        (RiskLimit.CREDIT_LIMIT_MICROS, "ACC-2", ""): 10_000_000,
    },
    {(RiskList.AUTHORISED, "ACC-1", "", 7), (RiskList.AUTHORISED, "ACC-1", "", 9)},
)


class TestSyncCommands:
    def test_the_same_configuration_needs_no_command(self) -> None:
        assert risk_sync_commands(BEFORE, BEFORE, ts_ns=1) == []

    def test_the_commands_turn_the_current_configuration_into_the_desired_one(self) -> None:
        commands = risk_sync_commands(BEFORE, AFTER, ts_ns=1)
        assert applied(BEFORE, commands) == AFTER
        assert applied(({}, set()), risk_sync_commands(({}, set()), AFTER, 2)) == AFTER
        assert applied(AFTER, risk_sync_commands(AFTER, ({}, set()), 3)) == ({}, set())

    def test_only_differences_are_sent_in_a_fixed_order(self) -> None:
        ts_ns = 1_700_000_000_000_000_000
        assert risk_sync_commands(BEFORE, AFTER, ts_ns) == [
            SetRiskLimit(f"risk-sync-{ts_ns}-1", ts_ns, 0, SYNC_REASON, RiskLimit.COLLAR_BPS, 500),
            SetRiskLimit(
                f"risk-sync-{ts_ns}-2",
                ts_ns,
                0,
                SYNC_REASON,
                RiskLimit.CREDIT_LIMIT_MICROS,
                10_000_000,
                account="ACC-2",
            ),
            SetRiskLimit(
                f"risk-sync-{ts_ns}-3",
                ts_ns,
                0,
                SYNC_REASON,
                RiskLimit.MAX_LONG_LOTS,
                None,
                account="ACC-1",
                symbol="AAPL",
            ),
            SetRiskListEntry(
                f"risk-sync-{ts_ns}-4",
                ts_ns,
                0,
                SYNC_REASON,
                RiskList.RESTRICTED,
                False,
                symbol="INTC",
            ),
            SetRiskListEntry(
                f"risk-sync-{ts_ns}-5",
                ts_ns,
                0,
                SYNC_REASON,
                RiskList.AUTHORISED,
                True,
                account="ACC-1",
                trader_user_id=9,
            ),
        ]

    def test_the_order_does_not_depend_on_how_the_sets_were_built(self) -> None:
        entries: list[ListEntry] = [
            (RiskList.PERMITTED, f"ACC-{n % 3}", f"S{n}", 0) for n in range(30)
        ]
        forwards = risk_sync_commands(({}, set()), ({}, set(entries)), 5)
        backwards = risk_sync_commands(({}, set()), ({}, set(reversed(entries))), 5)
        assert forwards == backwards
        assert [(c.account, c.symbol) for c in forwards if isinstance(c, SetRiskListEntry)] == (
            sorted((e[1], e[2]) for e in entries)
        )

    @pytest.mark.django_db
    def test_syncing_the_database_onto_an_empty_engine_reproduces_it(
        self, trader: User, instruments: dict[str, Instrument]
    ) -> None:
        AccountRiskLimits.objects.create(
            account=TradingAccount.objects.get(code="ACC-1"), credit_limit=Decimal("1.23")
        )
        desired = desired_risk_configuration()
        commands = risk_sync_commands(({}, set()), desired, ts_ns=10)
        assert applied(({}, set()), commands) == desired
        assert all(c.user_id == 0 and c.change_reason == SYNC_REASON for c in commands)
