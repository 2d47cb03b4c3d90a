"""Every order type, time in force and self-trade prevention mode, as tables.

A scenario is a list of steps (orders placed, modified, cancelled, mass cancels, expiries)
and what they must lead to: the trades `(maker, taker, price, qty)`, the other things that
happened (rejections, cancellations with their reason, reductions, stop triggers,
modifications), the resulting depth of AAPL and, where it matters, which orders still work.
Orders are named by the label of the step that placed them.

Every scenario is also checked for what holds of any command stream: one outcome first, the
book deltas rebuild the depth, every order's lots are accounted for, and an engine restored
from a snapshot taken halfway carries on with identical events.
"""

import itertools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from apps.matching.engine import (
    OUTCOME_KINDS,
    BookDelta,
    CancelOrder,
    CancelRejected,
    Command,
    DefineInstrument,
    Engine,
    Event,
    ExpireOrders,
    MassCancel,
    MassCancelDone,
    ModifyOrder,
    ModifyRejected,
    NewOrder,
    OrderAccepted,
    OrderCancelled,
    OrderModified,
    OrderReduced,
    OrderRejected,
    OrdersExpired,
    OrderType,
    Side,
    StopTriggered,
    StpMode,
    TimeInForce,
    Trade,
)

SYMBOLS = ("AAPL", "MSFT")
MAX_QTY = 1_000
UNKNOWN_ORDER_ID = 999_999


@dataclass(frozen=True, slots=True)
class Trader:
    user_id: int
    account: str


TRADERS = {
    "alice": Trader(1, "ALICE-1"),
    "alice2": Trader(1, "ALICE-2"),  # alice trading for her second account
    "bob": Trader(2, "BOB-1"),
    "carol": Trader(3, "CAROL-1"),
    "risk": Trader(9, "RISK-DESK"),  # a risk manager: owns no orders
}


# -- steps ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Place:
    label: str
    trader: str
    side: str
    order_type: str
    tif: str
    price: int
    qty: int
    stop: int = 0
    display: int = 0
    post_only: bool = False
    stp: str = "cancel_resting"
    group: str = ""
    symbol: str = "AAPL"


@dataclass(frozen=True, slots=True)
class Cancel:
    trader: str
    label: str


@dataclass(frozen=True, slots=True)
class Modify:
    trader: str
    label: str
    price: int
    qty: int


@dataclass(frozen=True, slots=True)
class CancelAll:
    """A mass cancel; `of_trader` names the trader whose orders are wanted."""

    trader: str
    account: str = ""
    of_trader: str = ""
    symbol: str = ""
    side: str = ""
    any_owner: bool = False


@dataclass(frozen=True, slots=True)
class Expire:
    tif: str = "DAY"
    symbol: str = ""


@dataclass(frozen=True, slots=True)
class Define:
    symbol: str = "AAPL"
    is_open: bool = True
    protection_ticks: int = 0
    protection_bps: int = 500
    min_qty: int = 1


Step = Place | Cancel | Modify | CancelAll | Expire | Define
TradeRow = tuple[str, str, int, int]
Depth = list[tuple[int, int, int]]


@dataclass(frozen=True)
class Scenario:
    """`trades` are (maker, taker, price, qty) in print order. `happened` is everything else the
    events told, in order: ("rejected", label, reason), ("cancelled", label, lots, reason),
    ("reduced", label, lots), ("triggered", label), ("modified", label, price, leaves,
    kept_priority), ("mass_cancelled", count), ("expired", count). `bids` and `asks` are AAPL's
    depth after the last step as (price, displayed lots, orders); `working` the labels of the
    orders in `engine.orders`, `leaves` the open lots of some, `last_trade` AAPL's last price."""

    name: str
    steps: Sequence[Step]
    trades: Sequence[TradeRow] = ()
    happened: Sequence[tuple[object, ...]] = ()
    bids: Depth = field(default_factory=list)
    asks: Depth = field(default_factory=list)
    working: Sequence[str] | None = None
    leaves: dict[str, int] = field(default_factory=dict)
    last_trade: int | None = None
    # The contract orders the cancellations of maker and taker in a self-trade by neither.
    happened_in_any_order: bool = False


def params(*scenarios: Scenario) -> list[object]:
    return [pytest.param(scenario, id=scenario.name) for scenario in scenarios]


# -- running a scenario -----------------------------------------------------------------------


class Run:
    """Applies the steps of a scenario and keeps what a reader of its events would know."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.ids: dict[str, int] = {}
        self.labels: dict[int, str] = {}
        self.trades: list[TradeRow] = []
        self.happened: list[tuple[object, ...]] = []
        self.events: list[list[Event]] = []
        self.l2: dict[tuple[str, Side], dict[int, tuple[int, int]]] = {}
        self.lots: dict[int, Counter[str]] = {}
        self.sides: dict[int, Side] = {}
        self.stp_keys: dict[int, str] = {}
        self.book_seqs: Counter[str] = Counter()
        self.counter = itertools.count(1)

    @classmethod
    def started(cls, engine: Engine | None = None) -> "Run":
        run = cls(engine or Engine())
        for symbol in SYMBOLS:
            run.apply(Define(symbol))
        return run

    def command(self, step: Step) -> Command:
        n = next(self.counter)
        command_id, ts_ns = f"cmd-{n}", 1_000 + n
        if isinstance(step, Define):
            return DefineInstrument(
                command_id=command_id,
                ts_ns=ts_ns,
                symbol=step.symbol,
                min_qty_lots=step.min_qty,
                max_qty_lots=MAX_QTY,
                is_open=step.is_open,
                protection_ticks=step.protection_ticks,
                protection_bps=step.protection_bps,
            )
        if isinstance(step, Place):
            trader = TRADERS[step.trader]
            return NewOrder(
                command_id=command_id,
                ts_ns=ts_ns,
                user_id=trader.user_id,
                account=trader.account,
                symbol=step.symbol,
                side=Side(step.side),
                order_type=OrderType(step.order_type),
                time_in_force=TimeInForce(step.tif),
                price_ticks=step.price,
                qty_lots=step.qty,
                # Unique per command: labels name orders in the tables and may repeat.
                client_order_id=f"{step.label}-{command_id}",
                stop_price_ticks=step.stop,
                display_qty_lots=step.display,
                post_only=step.post_only,
                stp_mode=StpMode(step.stp),
                stp_group=step.group,
            )
        if isinstance(step, Cancel):
            return CancelOrder(
                command_id=command_id,
                ts_ns=ts_ns,
                user_id=TRADERS[step.trader].user_id,
                order_id=self.ids.get(step.label, UNKNOWN_ORDER_ID),
            )
        if isinstance(step, Modify):
            return ModifyOrder(
                command_id=command_id,
                ts_ns=ts_ns,
                user_id=TRADERS[step.trader].user_id,
                order_id=self.ids.get(step.label, UNKNOWN_ORDER_ID),
                price_ticks=step.price,
                qty_lots=step.qty,
            )
        if isinstance(step, CancelAll):
            return MassCancel(
                command_id=command_id,
                ts_ns=ts_ns,
                user_id=TRADERS[step.trader].user_id,
                account=step.account,
                trader_user_id=TRADERS[step.of_trader].user_id if step.of_trader else 0,
                symbol=step.symbol,
                side=Side(step.side) if step.side else None,
                any_owner=step.any_owner,
            )
        return ExpireOrders(
            command_id=command_id,
            ts_ns=ts_ns,
            time_in_force=TimeInForce(step.tif),
            symbol=step.symbol,
        )

    def apply(self, step: Step) -> list[Event]:
        command = self.command(step)
        events = self.engine.apply(command)
        self.record(step, events)
        return events

    def name(self, order_id: int) -> str:
        return self.labels.get(order_id, f"#{order_id}")

    def record(self, step: Step, events: list[Event]) -> None:
        assert events, f"{step} produced no events"
        assert events[0].kind in OUTCOME_KINDS, f"{step} began with {events[0].kind}"
        deltas = [i for i, e in enumerate(events) if isinstance(e, BookDelta)]
        first_delta = deltas[0] if deltas else len(events)
        assert deltas == list(range(first_delta, len(events))), f"{step}: deltas not last"
        symbols = [e.symbol for e in events if isinstance(e, BookDelta)]
        assert len(set(symbols)) == len(symbols), f"{step}: two deltas for one instrument"
        command_seq = self.engine.last_command_seq
        assert [e.seq for e in events] == list(
            range(command_seq + 1, command_seq + 1 + len(events))
        )
        self.events.append(events)
        for event in events:
            self.note(step, event)

    def open_lots(self, order_id: int) -> int:
        lots = self.lots[order_id]
        return (
            lots["accepted"]
            + lots["increased"]
            - lots["traded"]
            - lots["cancelled"]
            - lots["reduced"]
            - lots["decreased"]
        )

    def note(self, step: Step, event: Event) -> None:
        """Keep what the event says, checking the lots it reports against the earlier events."""
        if isinstance(event, OrderAccepted):
            assert isinstance(step, Place)
            self.ids[step.label] = event.order_id
            self.labels[event.order_id] = step.label
            self.lots[event.order_id] = Counter(accepted=event.qty_lots)
            self.sides[event.order_id] = event.side
            self.stp_keys[event.order_id] = event.stp_group or event.account
        elif isinstance(event, OrderRejected):
            assert isinstance(step, Place)
            self.happened.append(("rejected", step.label, event.reason))
        elif isinstance(event, CancelRejected | ModifyRejected):
            assert isinstance(step, Cancel | Modify)
            self.happened.append(("rejected", step.label, event.reason))
        elif isinstance(event, Trade):
            maker, taker = self.name(event.maker_order_id), self.name(event.taker_order_id)
            self.trades.append((maker, taker, event.price_ticks, event.qty_lots))
            self.lots[event.maker_order_id]["traded"] += event.qty_lots
            self.lots[event.taker_order_id]["traded"] += event.qty_lots
            assert event.maker_leaves_lots == self.open_lots(event.maker_order_id)
            assert event.taker_leaves_lots == self.open_lots(event.taker_order_id)
            assert event.aggressor_side is self.sides[event.taker_order_id]
            assert self.sides[event.maker_order_id] is not event.aggressor_side
            assert self.stp_keys[event.maker_order_id] != self.stp_keys[event.taker_order_id]
        elif isinstance(event, OrderCancelled):
            self.happened.append(
                ("cancelled", self.name(event.order_id), event.cancelled_lots, event.reason)
            )
            assert event.cancelled_lots == self.open_lots(event.order_id) > 0
            self.lots[event.order_id]["cancelled"] += event.cancelled_lots
        elif isinstance(event, OrderReduced):
            self.happened.append(("reduced", self.name(event.order_id), event.reduced_lots))
            self.lots[event.order_id]["reduced"] += event.reduced_lots
            assert event.leaves_lots == self.open_lots(event.order_id) > 0
        elif isinstance(event, StopTriggered):
            self.happened.append(("triggered", self.name(event.order_id)))
        elif isinstance(event, OrderModified):
            self.happened.append(
                (
                    "modified",
                    self.name(event.order_id),
                    event.price_ticks,
                    event.leaves_lots,
                    event.kept_priority,
                )
            )
            assert event.previous_leaves_lots == self.open_lots(event.order_id)
            moved = event.leaves_lots - event.previous_leaves_lots
            self.lots[event.order_id]["increased" if moved > 0 else "decreased"] += abs(moved)
        elif isinstance(event, MassCancelDone):
            self.happened.append(("mass_cancelled", event.cancelled_orders))
        elif isinstance(event, OrdersExpired):
            self.happened.append(("expired", event.expired_orders))
        elif isinstance(event, BookDelta):
            self.book_seqs[event.symbol] += 1
            assert event.book_seq == self.book_seqs[event.symbol]
            for change in event.changes:
                levels = self.l2.setdefault((event.symbol, change.side), {})
                if change.qty_lots:
                    levels[change.price_ticks] = (change.qty_lots, change.order_count)
                else:
                    levels.pop(change.price_ticks, None)

    def depth_from_deltas(self, symbol: str, side: Side) -> Depth:
        levels = self.l2.get((symbol, side), {})
        prices = sorted(levels, reverse=side is Side.BUY)
        return [(price, *levels[price]) for price in prices]

    def check_invariants(self) -> None:
        for symbol in SYMBOLS:
            for side in Side:
                assert self.depth_from_deltas(symbol, side) == self.engine.depth(symbol, side)
            bids, asks = self.engine.depth(symbol, Side.BUY), self.engine.depth(symbol, Side.SELL)
            assert not bids or not asks or bids[0][0] < asks[0][0], f"{symbol} book crossed"
        for order_id, lots in self.lots.items():
            working = (
                self.engine.orders[order_id].leaves_lots if order_id in self.engine.orders else 0
            )
            assert lots["accepted"] + lots["increased"] == (
                lots["traded"] + lots["cancelled"] + lots["reduced"] + lots["decreased"] + working
            ), f"lots of {self.name(order_id)} not conserved: {dict(lots)}, {working} working"


def check(scenario: Scenario) -> Run:
    run = Run.started()
    for step in scenario.steps:
        run.apply(step)
        run.check_invariants()
    assert run.trades == list(scenario.trades)
    if scenario.happened_in_any_order:
        assert Counter(run.happened) == Counter(scenario.happened)
    else:
        assert run.happened == list(scenario.happened)
    assert run.engine.depth("AAPL", Side.BUY) == scenario.bids
    assert run.engine.depth("AAPL", Side.SELL) == scenario.asks
    if scenario.working is not None:
        assert sorted(run.name(i) for i in run.engine.orders) == sorted(scenario.working)
    for label, leaves in scenario.leaves.items():
        assert run.engine.orders[run.ids[label]].leaves_lots == leaves
    if scenario.last_trade is not None:
        assert run.engine.last_trade_price("AAPL") == scenario.last_trade
    return run


# -- limit orders -----------------------------------------------------------------------------

LIMIT = params(
    Scenario(
        "gtc-and-day-limits-rest-when-they-do-not-cross",
        steps=[
            Place("s1", "alice", "sell", "limit", "GTC", 101, 10),
            Place("s2", "carol", "sell", "limit", "DAY", 101, 5),
            Place("b1", "bob", "buy", "limit", "DAY", 99, 5),
            Place("b2", "bob", "buy", "limit", "GTC", 98, 7),
        ],
        bids=[(99, 5, 1), (98, 7, 1)],
        asks=[(101, 15, 2)],
        working=["s1", "s2", "b1", "b2"],
    ),
    Scenario(
        "a-crossing-limit-takes-the-best-price-first-at-the-resting-price",
        steps=[
            Place("s1", "alice", "sell", "limit", "GTC", 101, 5),
            Place("s2", "carol", "sell", "limit", "GTC", 100, 5),
            Place("b1", "bob", "buy", "limit", "GTC", 102, 8),
        ],
        trades=[("s2", "b1", 100, 5), ("s1", "b1", 101, 3)],
        asks=[(101, 2, 1)],
        last_trade=101,
    ),
    Scenario(
        "the-remainder-of-a-crossing-gtc-limit-rests-at-its-limit",
        steps=[
            Place("s1", "alice", "sell", "limit", "GTC", 100, 5),
            Place("b1", "bob", "buy", "limit", "GTC", 101, 8),
        ],
        trades=[("s1", "b1", 100, 5)],
        bids=[(101, 3, 1)],
        leaves={"b1": 3},
    ),
    Scenario(
        "the-oldest-order-at-a-price-trades-first",
        steps=[
            Place("b1", "alice", "buy", "limit", "GTC", 100, 4),
            Place("b2", "carol", "buy", "limit", "DAY", 100, 4),
            Place("s1", "bob", "sell", "limit", "GTC", 100, 6),
        ],
        trades=[("b1", "s1", 100, 4), ("b2", "s1", 100, 2)],
        bids=[(100, 2, 1)],
    ),
)


@pytest.mark.parametrize("scenario", LIMIT)
def test_limit_orders_rest_or_trade_at_the_resting_price(scenario: Scenario) -> None:
    check(scenario)


# -- IOC and FOK ------------------------------------------------------------------------------

IOC_FOK = params(
    Scenario(
        "ioc-trades-what-it-can-and-cancels-the-rest",
        steps=[
            Place("s1", "alice", "sell", "limit", "GTC", 100, 4),
            Place("s2", "alice", "sell", "limit", "GTC", 102, 4),
            Place("b1", "bob", "buy", "limit", "IOC", 101, 10),
        ],
        trades=[("s1", "b1", 100, 4)],
        happened=[("cancelled", "b1", 6, "ioc_remainder")],
        asks=[(102, 4, 1)],
        working=["s2"],
    ),
    Scenario(
        "ioc-that-meets-nothing-is-cancelled-whole",
        steps=[
            Place("s1", "alice", "sell", "limit", "GTC", 102, 4),
            Place("b1", "bob", "buy", "limit", "IOC", 101, 10),
        ],
        happened=[("cancelled", "b1", 10, "ioc_remainder")],
        asks=[(102, 4, 1)],
    ),
    Scenario(
        "fok-fills-completely-across-levels",
        steps=[
            Place("s1", "alice", "sell", "limit", "GTC", 100, 4),
            Place("s2", "carol", "sell", "limit", "GTC", 101, 6),
            Place("s3", "carol", "sell", "limit", "GTC", 102, 6),
            Place("b1", "bob", "buy", "limit", "FOK", 101, 10),
        ],
        trades=[("s1", "b1", 100, 4), ("s2", "b1", 101, 6)],
        asks=[(102, 6, 1)],
        working=["s3"],
    ),
    Scenario(
        "fok-that-cannot-fill-at-its-limit-is-rejected-whole",
        steps=[
            Place("s1", "alice", "sell", "limit", "GTC", 100, 4),
            Place("s2", "carol", "sell", "limit", "GTC", 102, 6),
            Place("b1", "bob", "buy", "limit", "FOK", 101, 10),
        ],
        happened=[("rejected", "b1", "fok_not_fillable")],
        asks=[(100, 4, 1), (102, 6, 1)],
    ),
    Scenario(
        "fok-with-cancel-resting-does-not-count-its-own-orders",
        steps=[
            Place("s1", "bob", "sell", "limit", "GTC", 100, 5),
            Place("s2", "alice", "sell", "limit", "GTC", 100, 5),
            Place("b1", "bob", "buy", "limit", "FOK", 100, 8),
        ],
        happened=[("rejected", "b1", "fok_not_fillable")],
        asks=[(100, 10, 2)],
    ),
    Scenario(
        "fok-with-cancel-resting-cancels-its-own-order-and-fills-from-others",
        steps=[
            Place("s1", "bob", "sell", "limit", "GTC", 100, 5),
            Place("s2", "alice", "sell", "limit", "GTC", 100, 5),
            Place("b1", "bob", "buy", "limit", "FOK", 100, 5),
        ],
        trades=[("s2", "b1", 100, 5)],
        happened=[("cancelled", "s1", 5, "self_trade_prevented")],
    ),
    Scenario(
        "fok-with-another-stp-mode-meeting-its-own-order-first-is-not-fillable",
        steps=[
            Place("s1", "bob", "sell", "limit", "GTC", 100, 5),
            Place("s2", "alice", "sell", "limit", "GTC", 100, 5),
            Place("b1", "bob", "buy", "limit", "FOK", 100, 5, stp="cancel_aggressor"),
        ],
        happened=[("rejected", "b1", "fok_not_fillable")],
        asks=[(100, 10, 2)],
    ),
    Scenario(
        "fok-with-another-stp-mode-filled-before-its-own-order-trades",
        steps=[
            Place("s1", "alice", "sell", "limit", "GTC", 100, 5),
            Place("s2", "bob", "sell", "limit", "GTC", 100, 5),
            Place("b1", "bob", "buy", "limit", "FOK", 100, 5, stp="decrement_both"),
        ],
        trades=[("s1", "b1", 100, 5)],
        asks=[(100, 5, 1)],
        working=["s2"],
    ),
)


@pytest.mark.parametrize("scenario", IOC_FOK)
def test_ioc_and_fok_orders_never_rest(scenario: Scenario) -> None:
    check(scenario)


# -- market orders ----------------------------------------------------------------------------

MARKET = params(
    Scenario(
        "market-buy-sweeps-up-to-the-protection-ticks-and-cancels-the-rest",
        steps=[
            Define("AAPL", protection_ticks=2),
            Place("s1", "alice", "sell", "limit", "GTC", 100, 5),
            Place("s2", "carol", "sell", "limit", "GTC", 102, 5),
            Place("s3", "carol", "sell", "limit", "GTC", 103, 5),
            Place("m1", "bob", "buy", "market", "IOC", 0, 12),
        ],
        trades=[("s1", "m1", 100, 5), ("s2", "m1", 102, 5)],
        happened=[("cancelled", "m1", 2, "market_protection")],
        asks=[(103, 5, 1)],
        working=["s3"],
    ),
    Scenario(
        "market-buy-protection-defaults-to-basis-points-of-the-touch",
        steps=[
            # 500 bps of a 1000-tick touch: no further than 1050.
            Place("s1", "alice", "sell", "limit", "GTC", 1000, 5),
            Place("s2", "carol", "sell", "limit", "GTC", 1050, 5),
            Place("s3", "carol", "sell", "limit", "GTC", 1051, 5),
            Place("m1", "bob", "buy", "market", "IOC", 0, 20),
        ],
        trades=[("s1", "m1", 1000, 5), ("s2", "m1", 1050, 5)],
        happened=[("cancelled", "m1", 10, "market_protection")],
        asks=[(1051, 5, 1)],
    ),
    Scenario(
        "market-sell-protection-moves-down-from-the-bid",
        steps=[
            Place("b1", "alice", "buy", "limit", "GTC", 1000, 5),
            Place("b2", "carol", "buy", "limit", "GTC", 950, 5),
            Place("b3", "carol", "buy", "limit", "GTC", 949, 5),
            Place("m1", "bob", "sell", "market", "IOC", 0, 20),
        ],
        trades=[("b1", "m1", 1000, 5), ("b2", "m1", 950, 5)],
        happened=[("cancelled", "m1", 10, "market_protection")],
        bids=[(949, 5, 1)],
    ),
    Scenario(
        "market-protection-is-at-least-one-tick",
        steps=[
            # 500 bps of a 10-tick touch rounds down to 0: one tick is used instead.
            Place("s1", "alice", "sell", "limit", "GTC", 10, 5),
            Place("s2", "carol", "sell", "limit", "GTC", 11, 5),
            Place("s3", "carol", "sell", "limit", "GTC", 12, 5),
            Place("m1", "bob", "buy", "market", "IOC", 0, 20),
        ],
        trades=[("s1", "m1", 10, 5), ("s2", "m1", 11, 5)],
        happened=[("cancelled", "m1", 10, "market_protection")],
        asks=[(12, 5, 1)],
    ),
    Scenario(
        "market-sell-protection-is-floored-at-one-tick",
        steps=[
            Place("b1", "alice", "buy", "limit", "GTC", 2, 5),
            Place("b2", "carol", "buy", "limit", "GTC", 1, 5),
            Place("m1", "bob", "sell", "market", "IOC", 0, 20),
        ],
        trades=[("b1", "m1", 2, 5), ("b2", "m1", 1, 5)],
        happened=[("cancelled", "m1", 10, "no_liquidity")],
    ),
    Scenario(
        "market-that-empties-the-opposite-side-cancels-the-rest-for-no-liquidity",
        steps=[
            Place("s1", "alice", "sell", "limit", "GTC", 100, 5),
            Place("s2", "carol", "sell", "limit", "GTC", 101, 5),
            Place("m1", "bob", "buy", "market", "IOC", 0, 12),
        ],
        trades=[("s1", "m1", 100, 5), ("s2", "m1", 101, 5)],
        happened=[("cancelled", "m1", 2, "no_liquidity")],
        last_trade=101,
    ),
    Scenario(
        "a-market-order-with-day-time-in-force-never-rests",
        steps=[
            Define("AAPL", protection_ticks=1),
            Place("s1", "alice", "sell", "limit", "GTC", 100, 5),
            Place("s2", "carol", "sell", "limit", "GTC", 102, 5),
            Place("m1", "bob", "buy", "market", "DAY", 0, 8),
        ],
        trades=[("s1", "m1", 100, 5)],
        happened=[("cancelled", "m1", 3, "market_protection")],
        asks=[(102, 5, 1)],
        working=["s2"],
    ),
    Scenario(
        "market-into-an-empty-side-is-rejected-for-no-liquidity",
        steps=[
            Place("b1", "alice", "buy", "limit", "GTC", 99, 5),
            Place("m1", "bob", "buy", "market", "IOC", 0, 5),
        ],
        happened=[("rejected", "m1", "no_liquidity")],
        bids=[(99, 5, 1)],
        working=["b1"],
    ),
    Scenario(
        "fok-market-into-an-empty-side-is-rejected-for-no-liquidity",
        steps=[Place("m1", "bob", "sell", "market", "FOK", 0, 5)],
        happened=[("rejected", "m1", "no_liquidity")],
    ),
    Scenario(
        "fok-market-fills-within-the-protection-price",
        steps=[
            Define("AAPL", protection_ticks=1),
            Place("s1", "alice", "sell", "limit", "GTC", 100, 5),
            Place("s2", "carol", "sell", "limit", "GTC", 101, 5),
            Place("m1", "bob", "buy", "market", "FOK", 0, 8),
        ],
        trades=[("s1", "m1", 100, 5), ("s2", "m1", 101, 3)],
        asks=[(101, 2, 1)],
    ),
    Scenario(
        "fok-market-beyond-the-protection-price-is-not-fillable",
        steps=[
            Define("AAPL", protection_ticks=1),
            Place("s1", "alice", "sell", "limit", "GTC", 100, 5),
            Place("s2", "carol", "sell", "limit", "GTC", 102, 5),
            Place("m1", "bob", "buy", "market", "FOK", 0, 8),
        ],
        happened=[("rejected", "m1", "fok_not_fillable")],
        asks=[(100, 5, 1), (102, 5, 1)],
    ),
)


@pytest.mark.parametrize("scenario", MARKET)
def test_market_orders_trade_up_to_the_protection_price_and_never_rest(
    scenario: Scenario,
) -> None:
    check(scenario)


# -- post-only --------------------------------------------------------------------------------

POST_ONLY = params(
    Scenario(
        "post-only-that-does-not-cross-rests",
        steps=[
            Place("s1", "alice", "sell", "limit", "GTC", 101, 5),
            Place("b1", "bob", "buy", "limit", "GTC", 100, 5, post_only=True),
            Place("s2", "carol", "sell", "limit", "DAY", 102, 5, post_only=True),
        ],
        bids=[(100, 5, 1)],
        asks=[(101, 5, 1), (102, 5, 1)],
    ),
    Scenario(
        "post-only-that-would-take-is-rejected",
        steps=[
            Place("s1", "alice", "sell", "limit", "GTC", 101, 5),
            Place("b1", "bob", "buy", "limit", "GTC", 101, 5, post_only=True),
            Place("b2", "bob", "buy", "limit", "DAY", 102, 1, post_only=True),
        ],
        happened=[
            ("rejected", "b1", "post_only_would_take"),
            ("rejected", "b2", "post_only_would_take"),
        ],
        asks=[(101, 5, 1)],
    ),
    Scenario(
        "post-only-resting-is-taken-like-any-maker",
        steps=[
            Place("b1", "bob", "buy", "limit", "GTC", 100, 5, post_only=True),
            Place("s1", "alice", "sell", "limit", "IOC", 100, 3),
        ],
        trades=[("b1", "s1", 100, 3)],
        bids=[(100, 2, 1)],
    ),
)


@pytest.mark.parametrize("scenario", POST_ONLY)
def test_post_only_orders_rest_or_are_rejected_but_never_take(scenario: Scenario) -> None:
    check(scenario)


# -- stops ------------------------------------------------------------------------------------

CASCADE = Scenario(
    "cascading-stops-trigger-in-order-id-order",
    steps=[
        Place("s1", "alice", "sell", "limit", "GTC", 101, 5),
        Place("s2", "alice", "sell", "limit", "GTC", 102, 5),
        Place("s3", "alice", "sell", "limit", "GTC", 103, 5),
        Place("s4", "alice", "sell", "limit", "GTC", 104, 5),
        Place("st1", "carol", "buy", "stop", "GTC", 0, 5, stop=103),
        Place("st2", "carol", "buy", "stop", "GTC", 0, 5, stop=101),
        Place("st3", "bob", "buy", "stop", "DAY", 0, 5, stop=101),
        Place("b1", "bob", "buy", "limit", "GTC", 101, 5),
    ],
    trades=[
        ("s1", "b1", 101, 5),
        ("s2", "st2", 102, 5),
        ("s3", "st3", 103, 5),
        ("s4", "st1", 104, 5),
    ],
    happened=[("triggered", "st2"), ("triggered", "st3"), ("triggered", "st1")],
    last_trade=104,
)


STOPS = params(
    Scenario(
        "a-stop-waits-unseen-before-its-trigger",
        steps=[
            Place("s1", "alice", "sell", "limit", "GTC", 101, 5),
            Place("st", "carol", "buy", "stop", "GTC", 0, 4, stop=101),
            Place("sl", "carol", "sell", "stop_limit", "DAY", 95, 4, stop=96),
        ],
        asks=[(101, 5, 1)],
        working=["s1", "st", "sl"],
    ),
    Scenario(
        "a-buy-stop-triggers-after-a-trade-at-its-price-and-becomes-market",
        steps=[
            Place("s1", "alice", "sell", "limit", "GTC", 101, 5),
            Place("s2", "alice", "sell", "limit", "GTC", 102, 5),
            Place("s3", "alice", "sell", "limit", "GTC", 103, 5),
            Place("st", "carol", "buy", "stop", "GTC", 0, 4, stop=101),
            Place("b1", "bob", "buy", "limit", "GTC", 101, 5),
        ],
        trades=[("s1", "b1", 101, 5), ("s2", "st", 102, 4)],
        happened=[("triggered", "st")],
        asks=[(102, 1, 1), (103, 5, 1)],
        working=["s2", "s3"],
        last_trade=102,
    ),
    Scenario(
        "a-sell-stop-triggers-after-a-trade-through-its-price",
        steps=[
            Place("b1", "alice", "buy", "limit", "GTC", 99, 5),
            Place("b2", "alice", "buy", "limit", "GTC", 97, 5),
            Place("st", "carol", "sell", "stop", "GTC", 0, 6, stop=100),
            Place("s1", "bob", "sell", "limit", "GTC", 99, 5),
        ],
        trades=[("b1", "s1", 99, 5), ("b2", "st", 97, 5)],
        happened=[("triggered", "st"), ("cancelled", "st", 1, "no_liquidity")],
        last_trade=97,
    ),
    Scenario(
        "a-stop-not-reached-keeps-waiting",
        steps=[
            Place("s1", "alice", "sell", "limit", "GTC", 101, 5),
            Place("st", "carol", "buy", "stop", "GTC", 0, 4, stop=102),
            Place("b1", "bob", "buy", "limit", "GTC", 101, 2),
        ],
        trades=[("s1", "b1", 101, 2)],
        asks=[(101, 3, 1)],
        working=["s1", "st"],
    ),
    Scenario(
        "a-stop-limit-triggers-and-rests-at-its-limit",
        steps=[
            Place("b1", "bob", "buy", "limit", "GTC", 99, 5),
            Place("b2", "bob", "buy", "limit", "GTC", 97, 5),
            Place("sl", "carol", "sell", "stop_limit", "GTC", 98, 10, stop=99),
            Place("s1", "alice", "sell", "limit", "GTC", 99, 5),
        ],
        trades=[("b1", "s1", 99, 5)],
        happened=[("triggered", "sl")],
        bids=[(97, 5, 1)],
        asks=[(98, 10, 1)],
        working=["b2", "sl"],
    ),
    Scenario(
        "a-triggered-stop-limit-trades-up-to-its-limit-then-rests",
        steps=[
            Place("s1", "alice", "sell", "limit", "GTC", 100, 2),
            Place("s2", "alice", "sell", "limit", "GTC", 101, 3),
            Place("s3", "alice", "sell", "limit", "GTC", 103, 3),
            Place("sl", "carol", "buy", "stop_limit", "GTC", 102, 6, stop=100),
            Place("b1", "bob", "buy", "limit", "IOC", 100, 2),
        ],
        trades=[("s1", "b1", 100, 2), ("s2", "sl", 101, 3)],
        happened=[("triggered", "sl")],
        bids=[(102, 3, 1)],
        asks=[(103, 3, 1)],
    ),
    Scenario(
        "a-triggered-ioc-stop-limit-cancels-what-it-cannot-fill",
        steps=[
            Place("s1", "alice", "sell", "limit", "GTC", 100, 2),
            Place("s2", "alice", "sell", "limit", "GTC", 101, 3),
            Place("s3", "alice", "sell", "limit", "GTC", 103, 3),
            Place("sl", "carol", "buy", "stop_limit", "IOC", 102, 6, stop=100),
            Place("b1", "bob", "buy", "limit", "IOC", 100, 2),
        ],
        trades=[("s1", "b1", 100, 2), ("s2", "sl", 101, 3)],
        happened=[("triggered", "sl"), ("cancelled", "sl", 3, "ioc_remainder")],
        asks=[(103, 3, 1)],
    ),
    Scenario(
        "a-sell-stop-at-or-above-the-last-trade-triggers-on-acceptance",
        steps=[
            Place("b1", "bob", "buy", "limit", "GTC", 100, 5),
            Place("s1", "alice", "sell", "limit", "IOC", 100, 2),
            Place("st", "carol", "sell", "stop", "GTC", 0, 2, stop=101),
        ],
        trades=[("b1", "s1", 100, 2), ("b1", "st", 100, 2)],
        happened=[("triggered", "st")],
        bids=[(100, 1, 1)],
    ),
    Scenario(
        "a-stop-whose-price-was-already-traded-triggers-on-acceptance",
        steps=[
            Place("s1", "alice", "sell", "limit", "GTC", 100, 5),
            Place("s2", "alice", "sell", "limit", "GTC", 101, 5),
            Place("b1", "bob", "buy", "limit", "GTC", 100, 5),
            Place("st", "carol", "buy", "stop", "GTC", 0, 3, stop=100),
        ],
        trades=[("s1", "b1", 100, 5), ("s2", "st", 101, 3)],
        happened=[("triggered", "st")],
        asks=[(101, 2, 1)],
    ),
    CASCADE,
    Scenario(
        "a-triggered-stop-that-finds-no-liquidity-is-cancelled-not-rejected",
        steps=[
            Place("s1", "alice", "sell", "limit", "GTC", 101, 5),
            Place("st", "carol", "buy", "stop", "GTC", 0, 5, stop=101),
            Place("b1", "bob", "buy", "limit", "GTC", 101, 5),
        ],
        trades=[("s1", "b1", 101, 5)],
        happened=[("triggered", "st"), ("cancelled", "st", 5, "no_liquidity")],
        working=[],
    ),
    Scenario(
        "a-waiting-stop-can-be-cancelled",
        steps=[
            Place("st", "carol", "buy", "stop", "GTC", 0, 5, stop=101),
            Cancel("carol", "st"),
            Place("s1", "alice", "sell", "limit", "GTC", 101, 5),
            Place("b1", "bob", "buy", "limit", "GTC", 101, 1),
        ],
        trades=[("s1", "b1", 101, 1)],
        happened=[("cancelled", "st", 5, "cancelled_by_user")],
        asks=[(101, 4, 1)],
    ),
)


@pytest.mark.parametrize("scenario", STOPS)
def test_stop_orders_wait_unseen_and_trigger_on_the_last_trade(scenario: Scenario) -> None:
    check(scenario)


def test_each_stop_trigger_comes_between_the_trade_that_caused_it_and_its_own_trades() -> None:
    run = check(CASCADE)
    assert [event.kind for event in run.events[-1]] == [
        "order_accepted",
        "trade",
        "stop_triggered",
        "trade",
        "stop_triggered",
        "trade",
        "stop_triggered",
        "trade",
        "book_delta",
    ]


# -- icebergs ---------------------------------------------------------------------------------

ICEBERGS = params(
    Scenario(
        "an-iceberg-shows-only-its-display-quantity",
        steps=[Place("ice", "alice", "sell", "limit", "GTC", 100, 50, display=10)],
        asks=[(100, 10, 1)],
        leaves={"ice": 50},
    ),
    Scenario(
        "an-iceberg-refills-at-the-back-of-its-level",
        steps=[
            Place("ice", "alice", "sell", "limit", "GTC", 100, 30, display=10),
            Place("s2", "carol", "sell", "limit", "GTC", 100, 10),
            Place("b1", "bob", "buy", "limit", "GTC", 100, 25),
        ],
        trades=[("ice", "b1", 100, 10), ("s2", "b1", 100, 10), ("ice", "b1", 100, 5)],
        asks=[(100, 5, 1)],
        leaves={"ice": 15},
    ),
    Scenario(
        "an-order-behind-an-iceberg-trades-before-its-refill",
        steps=[
            Place("ice", "alice", "sell", "limit", "GTC", 100, 30, display=10),
            Place("s2", "carol", "sell", "limit", "GTC", 100, 10),
            Place("b1", "bob", "buy", "limit", "IOC", 100, 10),
            Place("b2", "bob", "buy", "limit", "IOC", 100, 12),
        ],
        trades=[("ice", "b1", 100, 10), ("s2", "b2", 100, 10), ("ice", "b2", 100, 2)],
        asks=[(100, 8, 1)],
        leaves={"ice": 18},
    ),
    Scenario(
        "an-iceberg-shows-what-is-left-when-less-than-its-display",
        steps=[
            Place("ice", "alice", "sell", "limit", "GTC", 100, 12, display=10),
            Place("b1", "bob", "buy", "limit", "GTC", 100, 10),
        ],
        trades=[("ice", "b1", 100, 10)],
        asks=[(100, 2, 1)],
        leaves={"ice": 2},
    ),
    Scenario(
        "fok-counts-the-whole-iceberg",
        steps=[
            Place("ice", "alice", "sell", "limit", "GTC", 100, 30, display=10),
            Place("b1", "bob", "buy", "limit", "FOK", 100, 25),
        ],
        trades=[("ice", "b1", 100, 10), ("ice", "b1", 100, 10), ("ice", "b1", 100, 5)],
        asks=[(100, 5, 1)],
    ),
    Scenario(
        "a-stop-limit-iceberg-shows-its-display-quantity-once-triggered",
        steps=[
            Place("s1", "alice", "sell", "limit", "GTC", 100, 5),
            Place("ice", "carol", "buy", "stop_limit", "GTC", 99, 40, stop=100, display=10),
            Place("b1", "bob", "buy", "limit", "GTC", 100, 5),
        ],
        trades=[("s1", "b1", 100, 5)],
        happened=[("triggered", "ice")],
        bids=[(99, 10, 1)],
        leaves={"ice": 40},
    ),
)


@pytest.mark.parametrize("scenario", ICEBERGS)
def test_icebergs_show_a_slice_and_refill_at_the_back(scenario: Scenario) -> None:
    check(scenario)


# -- modify -----------------------------------------------------------------------------------

CROSSING_MODIFY = Scenario(
    "a-new-crossing-price-trades-after-the-modify-outcome",
    steps=[
        Place("b1", "bob", "buy", "limit", "GTC", 99, 3),
        Place("s1", "alice", "sell", "limit", "GTC", 101, 5),
        Modify("alice", "s1", 99, 5),
    ],
    trades=[("b1", "s1", 99, 3)],
    happened=[("modified", "s1", 99, 5, False)],
    asks=[(99, 2, 1)],
    leaves={"s1": 2},
)


MODIFY = params(
    Scenario(
        "reducing-at-the-same-price-keeps-priority",
        steps=[
            Place("s1", "alice", "sell", "limit", "GTC", 100, 10),
            Place("s2", "carol", "sell", "limit", "GTC", 100, 10),
            Modify("alice", "s1", 100, 4),
            Place("b1", "bob", "buy", "limit", "GTC", 100, 6),
        ],
        trades=[("s1", "b1", 100, 4), ("s2", "b1", 100, 2)],
        happened=[("modified", "s1", 100, 4, True)],
        asks=[(100, 8, 1)],
    ),
    Scenario(
        "the-same-price-and-quantity-keeps-priority",
        steps=[
            Place("s1", "alice", "sell", "limit", "GTC", 100, 10),
            Place("s2", "carol", "sell", "limit", "GTC", 100, 10),
            Modify("alice", "s1", 100, 10),
            Place("b1", "bob", "buy", "limit", "GTC", 100, 10),
        ],
        trades=[("s1", "b1", 100, 10)],
        happened=[("modified", "s1", 100, 10, True)],
        asks=[(100, 10, 1)],
    ),
    Scenario(
        "a-new-price-loses-priority-even-when-moved-back",
        steps=[
            Place("s1", "alice", "sell", "limit", "GTC", 100, 5),
            Place("s2", "carol", "sell", "limit", "GTC", 100, 5),
            Modify("alice", "s1", 101, 5),
            Modify("alice", "s1", 100, 5),
            Place("b1", "bob", "buy", "limit", "GTC", 100, 5),
        ],
        trades=[("s2", "b1", 100, 5)],
        happened=[("modified", "s1", 101, 5, False), ("modified", "s1", 100, 5, False)],
        asks=[(100, 5, 1)],
        working=["s1"],
    ),
    CROSSING_MODIFY,
    Scenario(
        "a-larger-quantity-loses-priority",
        steps=[
            Place("s1", "alice", "sell", "limit", "GTC", 100, 5),
            Place("s2", "carol", "sell", "limit", "GTC", 100, 5),
            Modify("alice", "s1", 100, 8),
            Place("b1", "bob", "buy", "limit", "GTC", 100, 6),
        ],
        trades=[("s2", "b1", 100, 5), ("s1", "b1", 100, 1)],
        happened=[("modified", "s1", 100, 8, False)],
        asks=[(100, 7, 1)],
    ),
    Scenario(
        "a-modified-iceberg-shows-at-most-its-new-leaves",
        steps=[
            Place("ice", "alice", "sell", "limit", "GTC", 100, 50, display=10),
            Modify("alice", "ice", 100, 6),
        ],
        happened=[("modified", "ice", 100, 6, True)],
        asks=[(100, 6, 1)],
    ),
    Scenario(
        "a-modified-iceberg-keeping-its-place-keeps-its-partly-traded-slice",
        steps=[
            Place("ice", "alice", "sell", "limit", "GTC", 100, 30, display=10),
            Place("b1", "bob", "buy", "limit", "IOC", 100, 4),
            Modify("alice", "ice", 100, 20),
        ],
        trades=[("ice", "b1", 100, 4)],
        happened=[("modified", "ice", 100, 20, True)],
        asks=[(100, 6, 1)],
        leaves={"ice": 20},
    ),
    Scenario(
        "raising-an-icebergs-quantity-sends-it-to-the-back-showing-one-slice",
        steps=[
            Place("ice", "alice", "sell", "limit", "GTC", 100, 20, display=5),
            Place("s2", "carol", "sell", "limit", "GTC", 100, 5),
            Modify("alice", "ice", 100, 30),
            Place("b1", "bob", "buy", "limit", "GTC", 100, 7),
        ],
        trades=[("s2", "b1", 100, 5), ("ice", "b1", 100, 2)],
        happened=[("modified", "ice", 100, 30, False)],
        asks=[(100, 3, 1)],
        leaves={"ice": 28},
    ),
    Scenario(
        "modify-sets-the-leaves-of-a-partly-filled-order",
        steps=[
            Place("s1", "alice", "sell", "limit", "GTC", 100, 10),
            Place("b1", "bob", "buy", "limit", "IOC", 100, 4),
            Modify("alice", "s1", 100, 8),
        ],
        trades=[("s1", "b1", 100, 4)],
        happened=[("modified", "s1", 100, 8, False)],
        asks=[(100, 8, 1)],
    ),
)


@pytest.mark.parametrize("scenario", MODIFY)
def test_modify_keeps_priority_only_when_reducing_at_the_same_price(scenario: Scenario) -> None:
    check(scenario)


def test_a_modify_that_crosses_reports_the_modification_before_its_trades() -> None:
    run = check(CROSSING_MODIFY)
    assert [event.kind for event in run.events[-1]] == ["order_modified", "trade", "book_delta"]


# -- mass cancel and expiry ---------------------------------------------------------------------

BOOK_OF_THREE_TRADERS: list[Step] = [
    Place("a1", "alice", "buy", "limit", "GTC", 98, 1),
    Place("a2", "alice2", "buy", "limit", "DAY", 97, 2),
    Place("a3", "alice", "sell", "limit", "GTC", 103, 3),
    Place("a4", "alice", "sell", "limit", "DAY", 50, 4, symbol="MSFT"),
    Place("a5", "alice", "buy", "stop", "GTC", 0, 5, stop=110),
    Place("b1", "bob", "buy", "limit", "GTC", 98, 6),
    Place("c1", "carol", "sell", "limit", "DAY", 103, 7),
]

MASS_CANCEL = params(
    Scenario(
        "a-trader-cancels-all-her-orders-across-accounts-instruments-and-stops",
        steps=[*BOOK_OF_THREE_TRADERS, CancelAll("alice")],
        happened=[
            ("mass_cancelled", 5),
            ("cancelled", "a1", 1, "mass_cancel"),
            ("cancelled", "a2", 2, "mass_cancel"),
            ("cancelled", "a3", 3, "mass_cancel"),
            ("cancelled", "a4", 4, "mass_cancel"),
            ("cancelled", "a5", 5, "mass_cancel"),
        ],
        bids=[(98, 6, 1)],
        asks=[(103, 7, 1)],
        working=["b1", "c1"],
    ),
    Scenario(
        "by-account",
        steps=[*BOOK_OF_THREE_TRADERS, CancelAll("alice", account="ALICE-2")],
        happened=[("mass_cancelled", 1), ("cancelled", "a2", 2, "mass_cancel")],
        bids=[(98, 7, 2)],
        asks=[(103, 10, 2)],
        working=["a1", "a3", "a4", "a5", "b1", "c1"],
    ),
    Scenario(
        "by-trader-within-her-own-orders",
        steps=[
            *BOOK_OF_THREE_TRADERS,
            CancelAll("alice", of_trader="bob"),
            CancelAll("alice", of_trader="alice"),
        ],
        happened=[
            ("mass_cancelled", 0),
            ("mass_cancelled", 5),
            ("cancelled", "a1", 1, "mass_cancel"),
            ("cancelled", "a2", 2, "mass_cancel"),
            ("cancelled", "a3", 3, "mass_cancel"),
            ("cancelled", "a4", 4, "mass_cancel"),
            ("cancelled", "a5", 5, "mass_cancel"),
        ],
        bids=[(98, 6, 1)],
        asks=[(103, 7, 1)],
        working=["b1", "c1"],
    ),
    Scenario(
        "by-instrument",
        steps=[*BOOK_OF_THREE_TRADERS, CancelAll("alice", symbol="MSFT")],
        happened=[("mass_cancelled", 1), ("cancelled", "a4", 4, "mass_cancel")],
        bids=[(98, 7, 2), (97, 2, 1)],
        asks=[(103, 10, 2)],
        working=["a1", "a2", "a3", "a5", "b1", "c1"],
    ),
    Scenario(
        "by-side",
        steps=[*BOOK_OF_THREE_TRADERS, CancelAll("alice", side="buy")],
        happened=[
            ("mass_cancelled", 3),
            ("cancelled", "a1", 1, "mass_cancel"),
            ("cancelled", "a2", 2, "mass_cancel"),
            ("cancelled", "a5", 5, "mass_cancel"),
        ],
        bids=[(98, 6, 1)],
        asks=[(103, 10, 2)],
        working=["a3", "a4", "b1", "c1"],
    ),
    Scenario(
        "by-every-filter-at-once",
        steps=[
            *BOOK_OF_THREE_TRADERS,
            CancelAll("alice", account="ALICE-1", of_trader="alice", symbol="AAPL", side="sell"),
        ],
        happened=[("mass_cancelled", 1), ("cancelled", "a3", 3, "mass_cancel")],
        bids=[(98, 7, 2), (97, 2, 1)],
        asks=[(103, 7, 1)],
    ),
    Scenario(
        "only-the-senders-own-orders-without-any-owner",
        steps=[
            *BOOK_OF_THREE_TRADERS,
            CancelAll("bob", account="ALICE-1"),
            CancelAll("risk", of_trader="carol"),
        ],
        happened=[("mass_cancelled", 0), ("mass_cancelled", 0)],
        bids=[(98, 7, 2), (97, 2, 1)],
        asks=[(103, 10, 2)],
    ),
    Scenario(
        "a-risk-manager-with-any-owner-cancels-by-trader",
        steps=[*BOOK_OF_THREE_TRADERS, CancelAll("risk", of_trader="alice", any_owner=True)],
        happened=[
            ("mass_cancelled", 5),
            ("cancelled", "a1", 1, "mass_cancel"),
            ("cancelled", "a2", 2, "mass_cancel"),
            ("cancelled", "a3", 3, "mass_cancel"),
            ("cancelled", "a4", 4, "mass_cancel"),
            ("cancelled", "a5", 5, "mass_cancel"),
        ],
        bids=[(98, 6, 1)],
        asks=[(103, 7, 1)],
    ),
    Scenario(
        "a-risk-manager-with-any-owner-cancels-a-whole-instrument-side",
        steps=[
            *BOOK_OF_THREE_TRADERS,
            CancelAll("risk", symbol="AAPL", side="sell", any_owner=True),
        ],
        happened=[
            ("mass_cancelled", 2),
            ("cancelled", "a3", 3, "mass_cancel"),
            ("cancelled", "c1", 7, "mass_cancel"),
        ],
        bids=[(98, 7, 2), (97, 2, 1)],
        working=["a1", "a2", "a4", "a5", "b1"],
    ),
)


@pytest.mark.parametrize("scenario", MASS_CANCEL)
def test_mass_cancel_takes_the_working_orders_matching_every_filter(scenario: Scenario) -> None:
    check(scenario)


EXPIRY = params(
    Scenario(
        "expiry-of-day-orders-leaves-gtc-orders",
        steps=[*BOOK_OF_THREE_TRADERS, Expire("DAY")],
        happened=[
            ("expired", 3),
            ("cancelled", "a2", 2, "expired"),
            ("cancelled", "a4", 4, "expired"),
            ("cancelled", "c1", 7, "expired"),
        ],
        bids=[(98, 7, 2)],
        asks=[(103, 3, 1)],
        working=["a1", "a3", "a5", "b1"],
    ),
    Scenario(
        "expiry-of-one-instrument",
        steps=[*BOOK_OF_THREE_TRADERS, Expire("DAY", symbol="MSFT")],
        happened=[("expired", 1), ("cancelled", "a4", 4, "expired")],
        bids=[(98, 7, 2), (97, 2, 1)],
        asks=[(103, 10, 2)],
    ),
    Scenario(
        "expiry-takes-waiting-day-stops-too",
        steps=[
            Place("st", "carol", "sell", "stop", "DAY", 0, 5, stop=90),
            Place("s1", "alice", "sell", "limit", "GTC", 101, 5),
            Expire("DAY"),
        ],
        happened=[("expired", 1), ("cancelled", "st", 5, "expired")],
        asks=[(101, 5, 1)],
        working=["s1"],
    ),
    Scenario(
        "expiry-of-gtc-orders-when-asked",
        steps=[*BOOK_OF_THREE_TRADERS, Expire("GTC")],
        happened=[
            ("expired", 4),
            ("cancelled", "a1", 1, "expired"),
            ("cancelled", "a3", 3, "expired"),
            ("cancelled", "a5", 5, "expired"),
            ("cancelled", "b1", 6, "expired"),
        ],
        bids=[(97, 2, 1)],
        asks=[(103, 7, 1)],
    ),
)


@pytest.mark.parametrize("scenario", EXPIRY)
def test_expiry_cancels_the_working_orders_of_that_time_in_force(scenario: Scenario) -> None:
    check(scenario)


# -- self-trade prevention ----------------------------------------------------------------------

STP = params(
    Scenario(
        "cancel-resting-cancels-the-own-maker-and-trades-on",
        steps=[
            Place("s1", "alice", "sell", "limit", "GTC", 100, 5),
            Place("s2", "carol", "sell", "limit", "GTC", 100, 5),
            Place("b1", "alice", "buy", "limit", "GTC", 100, 8),
        ],
        trades=[("s2", "b1", 100, 5)],
        happened=[("cancelled", "s1", 5, "self_trade_prevented")],
        bids=[(100, 3, 1)],
    ),
    Scenario(
        "cancel-aggressor-cancels-the-taker-and-leaves-the-maker",
        steps=[
            Place("s0", "carol", "sell", "limit", "GTC", 99, 3),
            Place("s1", "alice", "sell", "limit", "GTC", 100, 5),
            Place("s2", "carol", "sell", "limit", "GTC", 100, 5),
            Place("b1", "alice", "buy", "limit", "GTC", 100, 8, stp="cancel_aggressor"),
        ],
        trades=[("s0", "b1", 99, 3)],
        happened=[("cancelled", "b1", 5, "self_trade_prevented")],
        asks=[(100, 10, 2)],
        working=["s1", "s2"],
    ),
    Scenario(
        "cancel-both-cancels-maker-and-taker",
        steps=[
            Place("s1", "alice", "sell", "limit", "GTC", 100, 5),
            Place("s2", "carol", "sell", "limit", "GTC", 100, 5),
            Place("b1", "alice", "buy", "limit", "GTC", 100, 8, stp="cancel_both"),
        ],
        happened=[
            ("cancelled", "s1", 5, "self_trade_prevented"),
            ("cancelled", "b1", 8, "self_trade_prevented"),
        ],
        happened_in_any_order=True,
        asks=[(100, 5, 1)],
        working=["s2"],
    ),
    Scenario(
        "decrement-both-cancels-the-smaller-and-reduces-the-larger-taker",
        steps=[
            Place("s1", "alice", "sell", "limit", "GTC", 100, 3),
            Place("s2", "carol", "sell", "limit", "GTC", 100, 5),
            Place("b1", "alice", "buy", "limit", "GTC", 100, 10, stp="decrement_both"),
        ],
        trades=[("s2", "b1", 100, 5)],
        happened=[("cancelled", "s1", 3, "self_trade_prevented"), ("reduced", "b1", 3)],
        happened_in_any_order=True,
        bids=[(100, 2, 1)],
        leaves={"b1": 2},
    ),
    Scenario(
        "decrement-both-reduces-the-larger-maker-and-cancels-the-taker",
        steps=[
            Place("s1", "alice", "sell", "limit", "GTC", 100, 8),
            Place("b1", "alice", "buy", "limit", "GTC", 100, 5, stp="decrement_both"),
        ],
        happened=[("reduced", "s1", 5), ("cancelled", "b1", 5, "self_trade_prevented")],
        happened_in_any_order=True,
        asks=[(100, 3, 1)],
        leaves={"s1": 3},
    ),
    Scenario(
        "decrement-both-of-equal-sizes-cancels-both",
        steps=[
            Place("s1", "alice", "sell", "limit", "GTC", 100, 5),
            Place("b1", "alice", "buy", "limit", "IOC", 100, 5, stp="decrement_both"),
        ],
        happened=[
            ("cancelled", "s1", 5, "self_trade_prevented"),
            ("cancelled", "b1", 5, "self_trade_prevented"),
        ],
        happened_in_any_order=True,
        working=[],
    ),
    Scenario(
        "a-shared-stp-group-prevents-trades-across-two-accounts",
        steps=[
            Place("s1", "bob", "sell", "limit", "GTC", 100, 5, group="HOUSE"),
            Place("s2", "alice", "sell", "limit", "GTC", 100, 5),
            Place("b1", "carol", "buy", "limit", "GTC", 100, 8, group="HOUSE"),
        ],
        trades=[("s2", "b1", 100, 5)],
        happened=[("cancelled", "s1", 5, "self_trade_prevented")],
        bids=[(100, 3, 1)],
    ),
    Scenario(
        "a-shared-stp-group-with-cancel-aggressor",
        steps=[
            Place("s1", "bob", "sell", "limit", "GTC", 100, 5, group="HOUSE"),
            Place(
                "b1", "carol", "buy", "limit", "GTC", 100, 8, stp="cancel_aggressor", group="HOUSE"
            ),
        ],
        happened=[("cancelled", "b1", 8, "self_trade_prevented")],
        asks=[(100, 5, 1)],
    ),
    Scenario(
        "a-shared-stp-group-with-cancel-both",
        steps=[
            Place("s1", "bob", "sell", "limit", "GTC", 100, 5, group="HOUSE"),
            Place("b1", "carol", "buy", "limit", "GTC", 100, 8, stp="cancel_both", group="HOUSE"),
        ],
        happened=[
            ("cancelled", "s1", 5, "self_trade_prevented"),
            ("cancelled", "b1", 8, "self_trade_prevented"),
        ],
        happened_in_any_order=True,
    ),
    Scenario(
        "a-shared-stp-group-with-decrement-both",
        steps=[
            Place("s1", "bob", "sell", "limit", "GTC", 100, 5, group="HOUSE"),
            Place(
                "b1", "carol", "buy", "limit", "GTC", 100, 8, stp="decrement_both", group="HOUSE"
            ),
        ],
        happened=[("cancelled", "s1", 5, "self_trade_prevented"), ("reduced", "b1", 5)],
        happened_in_any_order=True,
        bids=[(100, 3, 1)],
    ),
    Scenario(
        "two-accounts-of-one-trader-without-a-group-trade-with-each-other",
        steps=[
            Place("s1", "alice", "sell", "limit", "GTC", 100, 5),
            Place("b1", "alice2", "buy", "limit", "GTC", 100, 5, stp="cancel_both"),
        ],
        trades=[("s1", "b1", 100, 5)],
    ),
    Scenario(
        "the-group-replaces-the-account-as-the-stp-key",
        steps=[
            Place("s1", "alice", "sell", "limit", "GTC", 100, 5, group="DESK-1"),
            Place("b1", "alice", "buy", "limit", "GTC", 100, 5, stp="cancel_both", group="DESK-2"),
        ],
        trades=[("s1", "b1", 100, 5)],
    ),
    Scenario(
        "stp-applies-to-a-triggered-stop",
        steps=[
            Place("s1", "alice", "sell", "limit", "GTC", 101, 5),
            Place("s2", "carol", "sell", "limit", "GTC", 102, 5),
            Place("s3", "bob", "sell", "limit", "GTC", 102, 5),
            Place("st", "carol", "buy", "stop", "GTC", 0, 8, stop=101),
            Place("b1", "bob", "buy", "limit", "IOC", 101, 5),
        ],
        trades=[("s1", "b1", 101, 5), ("s3", "st", 102, 5)],
        happened=[
            ("triggered", "st"),
            ("cancelled", "s2", 5, "self_trade_prevented"),
            ("cancelled", "st", 3, "no_liquidity"),
        ],
    ),
)


@pytest.mark.parametrize("scenario", STP)
def test_self_trade_prevention_follows_the_aggressors_mode(scenario: Scenario) -> None:
    check(scenario)


# -- rejections -------------------------------------------------------------------------------

RESTING = Place("s1", "alice", "sell", "limit", "GTC", 101, 5)


def rejected(name: str, bad: Place | Cancel | Modify, reason: str, *setup: Step) -> Scenario:
    """After `setup` and one resting sell, `bad` is rejected with `reason`."""
    return Scenario(name, steps=[*setup, RESTING, bad], happened=[("rejected", bad.label, reason)])


def new(
    order_type: str = "limit",
    tif: str = "GTC",
    price: int = 100,
    qty: int = 5,
    stop: int = 0,
    display: int = 0,
    post_only: bool = False,
    symbol: str = "AAPL",
) -> Place:
    return Place(
        "x", "bob", "buy", order_type, tif, price, qty, stop, display, post_only, symbol=symbol
    )


REJECTIONS = params(
    rejected("unknown-instrument", new(symbol="ZZZZ"), "unknown_instrument"),
    rejected("instrument-closed", new(), "instrument_closed", Define("AAPL", is_open=False)),
    rejected(
        "closed-is-checked-before-the-quantity",
        new(qty=0),
        "instrument_closed",
        Define("AAPL", is_open=False),
    ),
    rejected("zero-quantity", new(qty=0), "invalid_quantity"),
    rejected("negative-quantity", new(qty=-3), "invalid_quantity"),
    rejected("quantity-above-the-maximum", new(qty=MAX_QTY + 1), "quantity_out_of_range"),
    rejected(
        "quantity-below-the-minimum",
        new(qty=9),
        "quantity_out_of_range",
        Define("AAPL", min_qty=10),
    ),
    rejected("quantity-is-checked-before-the-price", new(price=0, qty=0), "invalid_quantity"),
    rejected("limit-without-a-price", new(price=0), "invalid_price"),
    rejected("limit-with-a-negative-price", new(price=-1), "invalid_price"),
    rejected("market-with-a-price", new("market", "IOC", price=100), "invalid_price"),
    rejected("stop-with-a-price", new("stop", price=100, stop=99), "invalid_price"),
    rejected("stop-limit-without-a-price", new("stop_limit", price=0, stop=99), "invalid_price"),
    rejected("stop-without-a-stop-price", new("stop", price=0), "invalid_stop_price"),
    rejected("stop-limit-without-a-stop-price", new("stop_limit"), "invalid_stop_price"),
    rejected("limit-with-a-stop-price", new(stop=99), "invalid_stop_price"),
    rejected(
        "market-with-a-stop-price", new("market", "IOC", price=0, stop=99), "invalid_stop_price"
    ),
    rejected("price-is-checked-before-the-stop-price", new(price=0, stop=-1), "invalid_price"),
    rejected("display-above-the-quantity", new(display=6), "invalid_display_quantity"),
    rejected("negative-display", new(display=-1), "invalid_display_quantity"),
    rejected("iceberg-ioc", new(tif="IOC", display=2), "invalid_order"),
    rejected("iceberg-fok", new(tif="FOK", display=2), "invalid_order"),
    rejected("iceberg-market", new("market", "IOC", price=0, display=2), "invalid_order"),
    rejected("iceberg-stop", new("stop", price=0, stop=99, display=2), "invalid_order"),
    rejected("post-only-ioc", new(tif="IOC", post_only=True), "invalid_order"),
    rejected("post-only-market", new("market", "IOC", price=0, post_only=True), "invalid_order"),
    rejected("post-only-stop-limit", new("stop_limit", stop=99, post_only=True), "invalid_order"),
    rejected(
        "display-is-checked-before-the-order-kind",
        new(tif="IOC", display=9),
        "invalid_display_quantity",
    ),
    rejected(
        "order-kind-is-checked-before-post-only-would-take",
        new(tif="FOK", price=101, post_only=True),
        "invalid_order",
    ),
    rejected(
        "no-liquidity-is-checked-before-fok",
        Place("x", "bob", "sell", "market", "FOK", 0, 5),
        "no_liquidity",
    ),
    rejected("cancel-of-an-unknown-order", Cancel("alice", "nothing"), "order_not_found"),
    rejected("cancel-of-another-traders-order", Cancel("bob", "s1"), "not_order_owner"),
    rejected(
        "cancel-of-a-filled-order",
        Cancel("alice", "f1"),
        "order_not_found",
        Place("f1", "alice", "buy", "limit", "GTC", 99, 2),
        Place("f2", "carol", "sell", "limit", "IOC", 99, 2),
    ),
    rejected(
        "cancel-of-a-cancelled-order",
        Cancel("alice", "s0"),
        "order_not_found",
        Place("s0", "alice", "sell", "limit", "GTC", 102, 2),
        CancelAll("alice"),
    ),
    rejected(
        "cancel-of-another-traders-stop",
        Cancel("bob", "st"),
        "not_order_owner",
        Place("st", "carol", "buy", "stop", "GTC", 0, 5, stop=110),
    ),
    rejected(
        "modify-of-a-filled-order",
        Modify("alice", "f1", 99, 1),
        "order_not_found",
        Place("f1", "alice", "buy", "limit", "GTC", 99, 2),
        Place("f2", "carol", "sell", "limit", "IOC", 99, 2),
    ),
    rejected("modify-of-an-unknown-order", Modify("alice", "nothing", 101, 5), "order_not_found"),
    rejected("modify-of-another-traders-order", Modify("bob", "s1", 101, 4), "not_order_owner"),
    rejected("modify-to-a-zero-price", Modify("alice", "s1", 0, 5), "invalid_price"),
    rejected("modify-to-a-zero-quantity", Modify("alice", "s1", 101, 0), "invalid_quantity"),
    rejected(
        "modify-above-the-maximum",
        Modify("alice", "s1", 101, MAX_QTY + 1),
        "quantity_out_of_range",
    ),
    rejected(
        "modify-of-a-waiting-stop",
        Modify("carol", "st", 100, 5),
        "invalid_order",
        Place("st", "carol", "buy", "stop", "GTC", 0, 5, stop=110),
    ),
    rejected(
        "modify-moving-a-post-only-across-the-book",
        Modify("carol", "po", 101, 5),
        "post_only_would_take",
        Place("po", "carol", "buy", "limit", "GTC", 100, 5, post_only=True),
    ),
)


def engine_state(engine: Engine) -> object:
    depths = [engine.depth(symbol, side) for symbol in SYMBOLS for side in Side]
    orders = {i: (o.price_ticks, o.leaves_lots) for i, o in engine.orders.items()}
    return depths, orders, [engine.last_trade_price(symbol) for symbol in SYMBOLS]


@pytest.mark.parametrize("scenario", REJECTIONS)
def test_invalid_commands_are_rejected_with_their_reason_and_change_nothing(
    scenario: Scenario,
) -> None:
    run = Run.started()
    *setup, bad = scenario.steps
    for step in setup:
        run.apply(step)
    before = engine_state(run.engine)
    events = run.apply(bad)
    assert len(events) == 1
    assert run.happened[-1:] == list(scenario.happened)
    assert engine_state(run.engine) == before


def test_order_ids_count_up_from_the_engines_base_and_skip_rejections() -> None:
    run = Run.started(Engine(shard=3, order_id_base=3_000_000))
    run.apply(new(qty=0))
    run.apply(RESTING)
    run.apply(new("stop", price=0, stop=110))
    assert run.ids == {"s1": 3_000_001, "x": 3_000_002}


# -- what holds of every scenario ---------------------------------------------------------------

ALL = LIMIT + IOC_FOK + MARKET + POST_ONLY + STOPS + ICEBERGS + MODIFY + MASS_CANCEL
ALL += EXPIRY + STP + REJECTIONS


@pytest.mark.parametrize("scenario", ALL)
def test_an_engine_restored_halfway_carries_on_with_identical_events(scenario: Scenario) -> None:
    original = Run.started(Engine(shard=2, order_id_base=2_000_000))
    half = len(scenario.steps) // 2
    for step in scenario.steps[:half]:
        original.apply(step)
    restored = Engine.restore(original.engine.snapshot())
    for step in scenario.steps[half:]:
        command = original.command(step)
        expected = original.engine.apply(command)
        original.record(step, expected)
        assert restored.apply(command) == expected
        assert restored.last_command_seq == original.engine.last_command_seq
    for symbol in SYMBOLS:
        for side in Side:
            assert restored.depth(symbol, side) == original.engine.depth(symbol, side)
    assert restored.orders == original.engine.orders
