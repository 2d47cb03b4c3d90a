"""The risk stage: every pre-trade control at, just under and just over its boundary.

AAPL trades in cents (a tick is 10,000 micros) in lots of one share, with a reference price
of $100.00 (10,000 ticks); money in limits is micros. Alice (user 1) trades ALICE-1, Bob (user
2) BOB-1; user 9 is a risk manager.
"""

import pytest

from apps.matching.engine import (
    OUTCOME_KINDS,
    CancelOrder,
    CancelRejected,
    Command,
    CommandRejected,
    DefineInstrument,
    Engine,
    Event,
    KillScope,
    KillSwitch,
    KillSwitchChanged,
    MarkToMarket,
    MassCancel,
    ModifyOrder,
    ModifyRejected,
    NewOrder,
    OrderAccepted,
    OrderCancelled,
    OrderRejected,
    OrderType,
    Reason,
    ResetDailyRisk,
    RiskAlert,
    RiskLimit,
    RiskLimitChanged,
    RiskList,
    RiskListChanged,
    SetRiskLimit,
    SetRiskListEntry,
    Side,
    TimeInForce,
)

ALICE, BOB, RISK = 1, 2, 9
ACCOUNTS = {ALICE: "ALICE-1", BOB: "BOB-1"}
SECOND = 1_000_000_000
DOLLAR = 1_000_000  # micros


class Desk:
    """An engine with one instrument and helpers that read like a risk manager's day."""

    def __init__(self, reference_ticks: int = 10_000) -> None:
        self.engine = Engine()
        self.now = SECOND
        self.ids = 0
        self.commands: list[Command] = []
        self.events: list[Event] = []
        self.outcomes: list[list[Event]] = []
        self.send(
            DefineInstrument(
                self.next_id(), self.now, "AAPL", reference_price_ticks=reference_ticks
            )
        )

    def next_id(self) -> str:
        self.ids += 1
        return f"c{self.ids}"

    def send(self, command: Command) -> list[Event]:
        events = self.engine.apply(command)
        self.commands.append(command)
        self.events.extend(events)
        self.outcomes.append(events)
        return events

    def limit(
        self, limit: RiskLimit, value: int | None, account: str = "", symbol: str = ""
    ) -> Event:
        return self.send(
            SetRiskLimit(self.next_id(), self.now, RISK, "policy", limit, value, account, symbol)
        )[0]

    def listed(
        self,
        risk_list: RiskList,
        account: str = "",
        symbol: str = "",
        trader: int = 0,
        member: bool = True,
    ) -> Event:
        return self.send(
            SetRiskListEntry(
                self.next_id(), self.now, RISK, "policy", risk_list, member, account, symbol, trader
            )
        )[0]

    def kill(
        self,
        scope: KillScope,
        engage: bool = True,
        account: str = "",
        trader: int = 0,
        allow_risk_reducing: bool = False,
        reason: str = "runaway algo",
    ) -> list[Event]:
        return self.send(
            KillSwitch(
                self.next_id(),
                self.now,
                RISK,
                reason,
                scope,
                engage,
                account,
                trader,
                allow_risk_reducing,
            )
        )

    def order(
        self,
        user: int,
        side: str,
        qty: int,
        price: int = 10_000,
        order_type: str = "limit",
        tif: str = "DAY",
        account: str = "",
        stop: int = 0,
    ) -> list[Event]:
        return self.send(
            NewOrder(
                self.next_id(),
                self.now,
                user,
                account or ACCOUNTS[user],
                "AAPL",
                Side(side),
                OrderType(order_type),
                TimeInForce(tif),
                price if order_type in ("limit", "stop_limit") else 0,
                qty,
                "",
                stop_price_ticks=stop,
            )
        )

    def outcome(self, *args: object, **kwargs: object) -> str:
        """Place an order and say "accepted" or the rejection's reason code."""
        event = self.order(*args, **kwargs)[0]  # type: ignore[arg-type]
        if isinstance(event, OrderAccepted):
            return "accepted"
        assert isinstance(event, OrderRejected)
        return str(event.reason)

    def trade_at(self, price: int, qty: int = 1) -> None:
        """Bob and a third party print a trade at `price` (moving the mark)."""
        self.order(BOB, "sell", qty, price, account="BOB-2")
        self.order(BOB, "buy", qty, price, tif="IOC")


def test_a_bare_engine_checks_nothing_beyond_validation() -> None:
    desk = Desk()
    assert desk.outcome(ALICE, "buy", 1_000_000, 1) == "accepted"
    assert desk.outcome(ALICE, "buy", 1_000_000, 1) == "accepted"


@pytest.mark.parametrize(
    ("lots", "expected"), [(99, "accepted"), (100, "accepted"), (101, "max_order_quantity")]
)
@pytest.mark.parametrize(("account", "symbol"), [("ALICE-1", ""), ("", "AAPL")])
def test_max_order_quantity_per_account_and_per_instrument(
    lots: int, expected: str, account: str, symbol: str
) -> None:
    desk = Desk()
    desk.limit(RiskLimit.MAX_ORDER_LOTS, 100, account, symbol)
    assert desk.outcome(ALICE, "buy", lots, 9_000) == expected


@pytest.mark.parametrize(
    ("lots", "expected"), [(99, "accepted"), (100, "accepted"), (101, "max_order_notional")]
)
@pytest.mark.parametrize(("account", "symbol"), [("ALICE-1", ""), ("", "AAPL")])
def test_max_order_notional_per_account_and_per_instrument(
    lots: int, expected: str, account: str, symbol: str
) -> None:
    desk = Desk()
    desk.limit(RiskLimit.MAX_ORDER_NOTIONAL_MICROS, 10_000 * DOLLAR, account, symbol)
    assert desk.outcome(ALICE, "buy", lots, 10_000) == expected  # $100.00 x lots


def collared(reference_ticks: int = 10_000) -> Desk:
    desk = Desk(reference_ticks)
    desk.limit(RiskLimit.COLLAR_BPS, 1_000)
    desk.limit(RiskLimit.COLLAR_MIN_MICROS, DOLLAR // 2)
    return desk


@pytest.mark.parametrize(
    ("side", "price", "expected"),
    [
        ("buy", 10_999, "accepted"),
        ("buy", 11_000, "accepted"),
        ("buy", 11_001, "price_collar"),
        ("sell", 9_001, "accepted"),
        ("sell", 9_000, "accepted"),
        ("sell", 8_999, "price_collar"),
    ],
)
def test_price_collar_is_ten_percent_of_the_reference(side: str, price: int, expected: str) -> None:
    assert collared().outcome(ALICE, side, 1, price) == expected


@pytest.mark.parametrize(
    ("price", "expected"), [(349, "accepted"), (350, "accepted"), (351, "price_collar")]
)
def test_price_collar_is_at_least_fifty_cents(price: int, expected: str) -> None:
    # At $3.00, 10 % is 30 cents: the 50-cent floor is the wider band.
    assert collared(300).outcome(ALICE, "buy", 1, price) == expected


def test_price_collar_measures_from_the_last_trade_once_there_is_one() -> None:
    desk = Desk()
    desk.trade_at(12_000)
    desk.limit(RiskLimit.COLLAR_BPS, 1_000)
    assert desk.outcome(ALICE, "buy", 1, 13_200) == "accepted"
    assert desk.outcome(ALICE, "buy", 1, 13_201) == "price_collar"


def test_market_order_without_a_reference_price_is_rejected() -> None:
    desk = collared(reference_ticks=0)
    desk.order(BOB, "sell", 5, 10_000)
    assert desk.outcome(ALICE, "buy", 1, order_type="market") == "no_reference_price"
    desk.send(DefineInstrument(desk.next_id(), desk.now, "AAPL", reference_price_ticks=10_000))
    assert desk.outcome(ALICE, "buy", 1, order_type="market") == "accepted"


@pytest.mark.parametrize(
    ("later_ns", "expected"),
    [(SECOND - 1, "duplicate_order"), (SECOND, "accepted"), (SECOND + 1, "accepted")],
)
def test_identical_order_within_the_window_is_a_duplicate(later_ns: int, expected: str) -> None:
    desk = Desk()
    desk.limit(RiskLimit.DUPLICATE_WINDOW_NS, SECOND)
    assert desk.outcome(ALICE, "buy", 10, 9_900) == "accepted"
    desk.now += later_ns
    assert desk.outcome(ALICE, "buy", 10, 9_900) == expected


def test_orders_that_differ_in_anything_are_not_duplicates() -> None:
    desk = Desk()
    desk.limit(RiskLimit.DUPLICATE_WINDOW_NS, SECOND)
    desk.order(ALICE, "buy", 10, 9_900)
    assert desk.outcome(ALICE, "buy", 11, 9_900) == "accepted"
    assert desk.outcome(ALICE, "buy", 10, 9_901) == "accepted"
    assert desk.outcome(ALICE, "sell", 10, 9_900 + 2_000) == "accepted"
    assert desk.outcome(BOB, "buy", 10, 9_900) == "accepted"


@pytest.mark.parametrize(("account", "other_account_trades"), [("", False), ("ALICE-1", True)])
def test_restricted_list_for_the_firm_and_for_one_account(
    account: str, other_account_trades: bool
) -> None:
    desk = Desk()
    assert isinstance(desk.listed(RiskList.RESTRICTED, account, "AAPL"), RiskListChanged)
    assert desk.outcome(ALICE, "buy", 1) == "restricted_instrument"
    assert (desk.outcome(BOB, "buy", 1) == "accepted") is other_account_trades
    desk.listed(RiskList.RESTRICTED, account, "AAPL", member=False)
    assert desk.outcome(ALICE, "buy", 1) == "accepted"


def test_an_account_limited_to_permitted_instruments_trades_only_those() -> None:
    desk = Desk()
    desk.limit(RiskLimit.PERMITTED_INSTRUMENTS_ONLY, 1, "ALICE-1")
    assert desk.outcome(ALICE, "buy", 1) == "instrument_not_permitted"
    desk.listed(RiskList.PERMITTED, "ALICE-1", "AAPL")
    assert desk.outcome(ALICE, "buy", 1) == "accepted"


def test_only_authorised_operators_trade_an_account() -> None:
    desk = Desk()
    desk.limit(RiskLimit.AUTHORISED_USERS_ONLY, 1)
    desk.listed(RiskList.AUTHORISED, "ALICE-1", trader=ALICE)
    assert desk.outcome(ALICE, "buy", 1) == "accepted"
    assert desk.outcome(BOB, "buy", 1, account="ALICE-1") == "user_not_authorised"
    desk.listed(RiskList.AUTHORISED, "ALICE-1", trader=ALICE, member=False)
    assert desk.outcome(ALICE, "buy", 1) == "user_not_authorised"


def throttled(messages: int = 3, cancels: int = 2) -> Desk:
    desk = Desk()
    desk.limit(RiskLimit.THROTTLE_WINDOW_NS, 3 * SECOND)
    desk.limit(RiskLimit.THROTTLE_MESSAGES, messages)
    desk.limit(RiskLimit.THROTTLE_CANCELS, cancels)
    return desk


def test_message_throttle_admits_the_limit_and_refuses_one_more() -> None:
    desk = throttled()
    assert [desk.outcome(ALICE, "buy", 1, 9_000 + i) for i in range(4)] == [
        "accepted",
        "accepted",
        "accepted",
        "message_rate_exceeded",
    ]
    assert desk.outcome(BOB, "buy", 1) == "accepted"  # per trader


@pytest.mark.parametrize(
    ("later_ns", "expected"),
    [(3 * SECOND - 1, "message_rate_exceeded"), (3 * SECOND, "accepted")],
)
def test_message_throttle_window_slides(later_ns: int, expected: str) -> None:
    desk = throttled(messages=1)
    start = desk.now
    desk.order(ALICE, "buy", 1, 9_000)
    desk.now = start + later_ns
    assert desk.outcome(ALICE, "buy", 1, 9_001) == expected


def test_cancels_have_their_own_throttle() -> None:
    desk = throttled(messages=3, cancels=2)
    ids = [desk.order(ALICE, "buy", 1, 9_000 + i)[0].order_id for i in range(3)]  # type: ignore[union-attr]
    outcomes = [desk.send(CancelOrder(desk.next_id(), desk.now, ALICE, i))[0] for i in ids]
    assert [type(e).__name__ for e in outcomes] == [
        "OrderCancelled",
        "OrderCancelled",
        "CancelRejected",
    ]
    assert isinstance(outcomes[2], CancelRejected)
    assert outcomes[2].reason is Reason.MESSAGE_RATE_EXCEEDED


def credit_desk(limit_dollars: int = 10_000) -> Desk:
    desk = Desk()
    desk.limit(RiskLimit.CREDIT_LIMIT_MICROS, limit_dollars * DOLLAR, "ALICE-1")
    return desk


@pytest.mark.parametrize(
    ("lots", "expected"), [(39, "accepted"), (40, "accepted"), (41, "credit_limit")]
)
def test_credit_counts_working_orders_and_filled_notional(lots: int, expected: str) -> None:
    desk = credit_desk(10_000)
    desk.order(BOB, "sell", 30, 10_000)
    desk.order(ALICE, "buy", 30, 10_000)  # $3,000 filled
    desk.order(ALICE, "sell", 30, 11_000)  # $3,300 working
    assert desk.outcome(ALICE, "buy", lots, 9_250) == expected  # 40 x $92.50 = $3,700


def test_credit_utilisation_alerts_at_50_75_and_90_percent_once_a_day() -> None:
    desk = credit_desk(1_000)
    alerts: list[str] = []
    for price in (50_000, 25_000, 15_000, 500):  # $500, $250, $150, $5
        alerts += [e.alert for e in desk.order(ALICE, "buy", 1, price) if isinstance(e, RiskAlert)]
    assert alerts == ["credit_50", "credit_75", "credit_90"]
    # A new day measures the orders still working afresh.
    events = desk.send(ResetDailyRisk(desk.next_id(), desk.now))
    assert [e.alert for e in events if isinstance(e, RiskAlert)] == [
        "credit_50",
        "credit_75",
        "credit_90",
    ]


@pytest.mark.parametrize(
    ("side", "lots", "expected"),
    [
        ("buy", 39, "accepted"),
        ("buy", 40, "accepted"),
        ("buy", 41, "position_limit"),
        ("sell", 89, "accepted"),
        ("sell", 90, "accepted"),  # from long 40 to short 50
        ("sell", 91, "position_limit"),
    ],
)
def test_position_limits_count_working_orders_that_increase_the_position(
    side: str, lots: int, expected: str
) -> None:
    desk = Desk()
    desk.limit(RiskLimit.MAX_LONG_LOTS, 100, "ALICE-1", "AAPL")
    desk.limit(RiskLimit.MAX_SHORT_LOTS, 50, "ALICE-1", "AAPL")
    desk.order(BOB, "sell", 40, 10_000)
    desk.order(ALICE, "buy", 40, 10_000)  # long 40
    desk.order(ALICE, "buy", 20, 9_000)  # working buy 20: long could reach 60
    assert desk.outcome(ALICE, side, lots, 9_500 if side == "buy" else 10_500) == expected


def loss_desk() -> Desk:
    """Alice is long 100 at $100.00 with loss levels at $100, $200 and $300."""
    desk = Desk()
    desk.limit(RiskLimit.LOSS_WARNING_MICROS, 100 * DOLLAR, "ALICE-1")
    desk.limit(RiskLimit.LOSS_REDUCE_ONLY_MICROS, 200 * DOLLAR, "ALICE-1")
    desk.limit(RiskLimit.LOSS_KILL_MICROS, 300 * DOLLAR, "ALICE-1")
    desk.order(BOB, "sell", 100, 10_000)
    desk.order(ALICE, "buy", 100, 10_000)
    return desk


def mark_at(desk: Desk, price: int) -> list[str]:
    """Print a trade at `price`, mark to market, and return the alerts raised."""
    desk.trade_at(price)
    events = desk.send(MarkToMarket(desk.next_id(), desk.now))
    return [e.alert for e in events if isinstance(e, RiskAlert)]


@pytest.mark.parametrize(
    ("price", "alerts"),
    [
        (9_901, []),  # a $99 loss
        (9_900, ["loss_warning"]),  # $100: at the warning level
        (9_800, ["loss_warning", "loss_reduce_only"]),
        (9_700, ["loss_warning", "loss_reduce_only", "loss_kill"]),
    ],
)
def test_daily_loss_stages_at_their_levels(price: int, alerts: list[str]) -> None:
    assert mark_at(loss_desk(), price) == alerts


def test_past_reduce_only_only_risk_reducing_orders_are_accepted() -> None:
    desk = loss_desk()
    mark_at(desk, 9_800)
    assert desk.outcome(ALICE, "buy", 1, 9_000) == "daily_loss_reduce_only"
    assert desk.outcome(ALICE, "sell", 101, 9_900) == "daily_loss_reduce_only"  # would flip
    assert desk.outcome(ALICE, "sell", 100, 9_900) == "accepted"


def test_at_the_kill_level_the_account_kill_switch_latches_and_cancels_its_orders() -> None:
    desk = loss_desk()
    working = desk.order(ALICE, "sell", 10, 12_000)[0]
    assert mark_at(desk, 9_700)[-1] == "loss_kill"
    cancelled = [e for e in desk.events if isinstance(e, OrderCancelled)]
    assert cancelled[-1].order_id == working.order_id  # type: ignore[union-attr]
    assert cancelled[-1].reason is Reason.KILL_SWITCH
    assert desk.outcome(ALICE, "sell", 1, 9_700) == "kill_switch"
    assert desk.engine.risk.account_view("ALICE-1")["kill_switch"]["automatic"] is True


def test_the_day_starts_again_at_the_reset_but_a_latched_kill_switch_stays() -> None:
    desk = loss_desk()
    mark_at(desk, 9_700)
    desk.send(ResetDailyRisk(desk.next_id(), desk.now))
    assert desk.engine.risk.account_view("ALICE-1")["pnl_micros"] == 0
    assert desk.outcome(ALICE, "sell", 1, 9_700) == "kill_switch"


@pytest.mark.parametrize(
    ("scope", "account", "trader", "alice_blocked", "bob_blocked"),
    [
        (KillScope.FIRM, "", 0, True, True),
        (KillScope.ACCOUNT, "ALICE-1", 0, True, False),
        (KillScope.TRADER, "", ALICE, True, False),
    ],
)
def test_kill_switch_cancels_working_orders_and_blocks_new_ones_until_released(
    scope: KillScope, account: str, trader: int, alice_blocked: bool, bob_blocked: bool
) -> None:
    desk = Desk()
    alice_order = desk.order(ALICE, "buy", 5, 9_000)[0]
    desk.order(BOB, "sell", 5, 11_000)
    events = desk.kill(scope, account=account, trader=trader)
    assert isinstance(events[0], KillSwitchChanged)
    assert events[0].engaged
    cancelled = {e.order_id for e in events if isinstance(e, OrderCancelled)}
    assert alice_order.order_id in cancelled  # type: ignore[union-attr]
    assert len(cancelled) == events[0].cancelled_orders == (2 if bob_blocked else 1)
    assert (desk.outcome(ALICE, "buy", 1, 9_000) == "kill_switch") is alice_blocked
    assert (desk.outcome(BOB, "buy", 1, 9_000) == "kill_switch") is bob_blocked
    desk.kill(scope, engage=False, account=account, trader=trader, reason="algo fixed")
    assert desk.outcome(ALICE, "buy", 1, 8_000) == "accepted"


def test_kill_switch_may_let_risk_reducing_orders_through() -> None:
    desk = Desk()
    desk.order(BOB, "sell", 10, 10_000)
    desk.order(ALICE, "buy", 10, 10_000)  # long 10
    desk.kill(KillScope.ACCOUNT, account="ALICE-1", allow_risk_reducing=True)
    assert desk.outcome(ALICE, "buy", 1, 9_000) == "kill_switch"
    assert desk.outcome(ALICE, "sell", 11, 11_000) == "kill_switch"
    assert desk.outcome(ALICE, "sell", 10, 11_000) == "accepted"


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (KillSwitch("k", 1, RISK, "", KillScope.FIRM, True), "needs a reason"),
        (KillSwitch("k", 1, RISK, "fixed", KillScope.FIRM, False), "not engaged"),
        (KillSwitch("k", 1, RISK, "x", KillScope.ACCOUNT, True), "names the account"),
        (SetRiskLimit("k", 1, RISK, "x", RiskLimit.CREDIT_LIMIT_MICROS, -1, "A"), "negative"),
        (SetRiskLimit("k", 1, RISK, "", RiskLimit.CREDIT_LIMIT_MICROS, 1, "A"), "needs a reason"),
        (SetRiskLimit("k", 1, RISK, "x", RiskLimit.COLLAR_BPS, 1, "A"), "firm-wide"),
        (SetRiskLimit("k", 1, RISK, "x", RiskLimit.MAX_LONG_LOTS, 1, "A"), "needs an account"),
        (SetRiskLimit("k", 1, RISK, "x", RiskLimit.AUTHORISED_USERS_ONLY, 2), "a switch"),
        (SetRiskListEntry("k", 1, RISK, "x", RiskList.AUTHORISED, True, "A"), "a user"),
    ],
)
def test_bad_control_commands_are_rejected_and_change_nothing(
    command: Command, message: str
) -> None:
    desk = Desk()
    before = desk.engine.risk.snapshot()
    (event,) = desk.send(command)
    assert isinstance(event, CommandRejected)
    assert event.reason is Reason.INVALID_CONTROL
    assert message in event.message
    assert desk.engine.risk.snapshot() == before


def test_limit_change_reports_who_why_and_the_old_and_new_values() -> None:
    desk = Desk()
    desk.limit(RiskLimit.CREDIT_LIMIT_MICROS, 5 * DOLLAR, "ALICE-1")
    event = desk.limit(RiskLimit.CREDIT_LIMIT_MICROS, None, "ALICE-1")
    assert isinstance(event, RiskLimitChanged)
    assert (event.user_id, event.old_value, event.new_value, event.change_reason) == (
        RISK,
        5 * DOLLAR,
        None,
        "policy",
    )


def test_modify_that_adds_quantity_meets_the_limits_and_a_reduction_always_passes() -> None:
    desk = Desk()
    desk.limit(RiskLimit.MAX_ORDER_LOTS, 10, "ALICE-1")
    desk.limit(RiskLimit.CREDIT_LIMIT_MICROS, 900 * DOLLAR, "ALICE-1")
    order_id = desk.order(ALICE, "buy", 9, 10_000)[0].order_id  # type: ignore[union-attr]

    def modify(price: int, qty: int) -> str:
        event = desk.send(ModifyOrder(desk.next_id(), desk.now, ALICE, order_id, price, qty))[0]
        return str(event.reason) if isinstance(event, ModifyRejected) else "modified"

    assert modify(10_000, 11) == "max_order_quantity"
    assert modify(10_001, 9) == "credit_limit"  # $900.09 > $900
    assert modify(9_000, 10) == "modified"
    desk.kill(KillScope.ACCOUNT, account="ALICE-1")
    assert modify(9_000, 5) == "order_not_found"  # the kill switch took it out


def test_cancel_on_disconnect_takes_only_the_traders_day_orders() -> None:
    desk = Desk()
    day = desk.order(ALICE, "buy", 1, 9_000)[0]
    gtc = desk.order(ALICE, "buy", 1, 9_001, tif="GTC")[0]
    events = desk.send(
        MassCancel(
            desk.next_id(),
            desk.now,
            ALICE,
            trader_user_id=ALICE,
            time_in_force=TimeInForce.DAY,
            on_disconnect=True,
        )
    )
    cancelled = [e for e in events if isinstance(e, OrderCancelled)]
    assert [e.order_id for e in cancelled] == [day.order_id]  # type: ignore[union-attr]
    assert cancelled[0].reason is Reason.CANCEL_ON_DISCONNECT
    assert gtc.order_id in desk.engine.orders  # type: ignore[union-attr]


def full_policy_day() -> Desk:
    desk = Desk()
    for limit, value in (
        (RiskLimit.COLLAR_BPS, 1_000),
        (RiskLimit.COLLAR_MIN_MICROS, DOLLAR // 2),
        (RiskLimit.DUPLICATE_WINDOW_NS, SECOND),
        (RiskLimit.THROTTLE_WINDOW_NS, 3 * SECOND),
        (RiskLimit.THROTTLE_MESSAGES, 6),
        (RiskLimit.THROTTLE_CANCELS, 10),
        (RiskLimit.AUTHORISED_USERS_ONLY, 1),
    ):
        desk.limit(limit, value)
    for user, account in ACCOUNTS.items():
        desk.listed(RiskList.AUTHORISED, account, trader=user)
        desk.listed(RiskList.AUTHORISED, "BOB-2", trader=BOB)
        desk.limit(RiskLimit.CREDIT_LIMIT_MICROS, 50_000 * DOLLAR, account)
        desk.limit(RiskLimit.LOSS_KILL_MICROS, 300 * DOLLAR, account)
        desk.limit(RiskLimit.MAX_LONG_LOTS, 150, account, "AAPL")
    for step in range(40):
        desk.now += SECOND // 4
        user = ALICE if step % 3 else BOB
        desk.order(user, "buy" if step % 2 else "sell", 10 + step % 7, 9_950 + (step * 37) % 100)
        if step == 25:
            desk.send(MarkToMarket(desk.next_id(), desk.now))
        if step == 30:
            desk.order(3, "buy", 1, 9_990, account="ALICE-1")  # not authorised
    return desk


def test_every_command_has_one_outcome_with_all_controls_active() -> None:
    desk = full_policy_day()
    reasons = set()
    for events in desk.outcomes:
        assert events[0].kind in OUTCOME_KINDS
        assert not any(
            isinstance(e, OrderAccepted | OrderRejected | RiskLimitChanged | KillSwitchChanged)
            for e in events[1:]
        )
        reasons.add(getattr(events[0], "reason", None))
    # The day exercised the controls, not just the book.
    assert {Reason.MESSAGE_RATE_EXCEEDED, Reason.USER_NOT_AUTHORISED} <= reasons


def test_snapshot_and_replay_regenerate_the_risk_stage_exactly() -> None:
    desk = full_policy_day()
    half = len(desk.commands) // 2
    first = Engine()
    for command in desk.commands[:half]:
        first.apply(command)
    restored = Engine.restore(first.snapshot())
    replayed = [e for command in desk.commands[half:] for e in restored.apply(command)]
    expected = [e for command in desk.commands[half:] for e in first.apply(command)]
    assert replayed == expected
    assert restored.snapshot() == first.snapshot() == desk.engine.snapshot()
