"""The breaker stage through `Engine.apply`: LULD bands, limit state and its 15 s clock, pauses
and halts, the reopening auction and its collar, manual halts, the market-wide breaker, volume
spikes and breaker parameters, and replay of all of it from a snapshot.

AAPL trades in cents (a tick is 10,000 micros) with a reference price of $100.00 (10,000
ticks): as a Tier 1 stock its band is 9,500 to 10,500, as Tier 2 9,000 to 11,000. Alice (1),
Bob (2) and Carol (3) trade their own accounts; user 9 is a risk manager. Every command sent
through `Market.send` is checked for one outcome first, gapless sequence numbers, book deltas
last, and a book that is never crossed outside a halt.
"""

import json
from typing import Any

import pytest

from apps.matching.engine import (
    OUTCOME_KINDS,
    AuctionIndicative,
    BookDelta,
    BreakerParameter,
    BreakerParameterChanged,
    CancelOrder,
    ClockAdvanced,
    ClockTick,
    Command,
    CommandRejected,
    DefineInstrument,
    Engine,
    Event,
    HaltInstrument,
    HaltKind,
    HaltRequestDone,
    InstrumentDefined,
    LimitStateEntered,
    LimitStateExited,
    MarketWideBreakerTriggered,
    ModifyOrder,
    NewOrder,
    OrderAccepted,
    OrderCancelled,
    OrderModified,
    OrderRejected,
    OrderType,
    PauseExtended,
    Reason,
    SessionStarted,
    SetBreakerParameter,
    Side,
    StartSession,
    StopTriggered,
    TimeInForce,
    Trade,
    TradingHalted,
    TradingResumed,
    VolumeSpikeDetected,
)

ALICE, BOB, CAROL, RISK = 1, 2, 3, 9
SECOND = 1_000_000_000
MINUTE = 60 * SECOND
# A trading day: 9:30 to 16:00 as epoch nanoseconds (the engine never sees a time zone).
OPEN = 1_700_000_000 * SECOND
CLOSE = OPEN + 390 * MINUTE
BUY, SELL = Side.BUY, Side.SELL
GTC, DAY, IOC, FOK = TimeInForce.GTC, TimeInForce.DAY, TimeInForce.IOC, TimeInForce.FOK
LIMIT, MARKET = OrderType.LIMIT, OrderType.MARKET
# Outcome kinds that never come as a consequence (a cancellation can be either).
OUTCOME_ONLY = OUTCOME_KINDS - {"order_cancelled"}


class Market:
    """An engine and a clock, with helpers that read like a trading day."""

    def __init__(self, tier: int = 1, symbol: str = "AAPL", **definition: Any) -> None:
        self.engine = Engine()
        self.now = OPEN + MINUTE
        self.ids = 0
        self.commands: list[Command] = []
        self.outcomes: list[list[Event]] = []
        # Where each command's outcome sits among its events (engine.outcome_index).
        self.outcome_at: list[int] = []
        if symbol:
            self.define(symbol, luld_tier=tier, **definition)

    # -- sending ----------------------------------------------------------------------------

    def next_id(self) -> str:
        self.ids += 1
        return f"c{self.ids}"

    def send(self, command: Command) -> list[Event]:
        events = self.engine.apply(command)
        self.commands.append(command)
        self.outcomes.append(events)
        self.outcome_at.append(self.engine.outcome_index)
        check_command_events(self.engine, events)
        return events

    def define(self, symbol: str, **definition: Any) -> list[Event]:
        definition.setdefault("reference_price_ticks", 10_000)
        return self.send(DefineInstrument(self.next_id(), self.now, symbol, **definition))

    def order(
        self,
        user: int,
        side: Side,
        qty: int,
        price: int = 0,
        tif: TimeInForce = GTC,
        order_type: OrderType = LIMIT,
        symbol: str = "AAPL",
        stop: int = 0,
    ) -> list[Event]:
        command_id = self.next_id()
        return self.send(
            NewOrder(
                command_id,
                self.now,
                user,
                f"ACC-{user}",
                symbol,
                side,
                order_type,
                tif,
                price,
                qty,
                command_id,
                stop_price_ticks=stop,
            )
        )

    def rest(self, user: int, side: Side, qty: int, price: int, symbol: str = "AAPL") -> int:
        """A resting limit order; returns its id."""
        outcome = self.order(user, side, qty, price, symbol=symbol)[self.engine.outcome_index]
        assert isinstance(outcome, OrderAccepted), outcome
        return outcome.order_id

    def cancel(self, user: int, order_id: int) -> list[Event]:
        return self.send(CancelOrder(self.next_id(), self.now, user, order_id))

    def tick(self, at_ns: int | None = None) -> list[Event]:
        if at_ns is not None:
            self.now = at_ns
        return self.send(ClockTick(self.next_id(), self.now))

    def halt(self, symbol: str = "AAPL", halt: bool = True, reason: str = "news") -> list[Event]:
        return self.send(HaltInstrument(self.next_id(), self.now, RISK, reason, halt, symbol))

    def resume(self, symbol: str = "AAPL", reason: str = "news out") -> list[Event]:
        return self.halt(symbol, halt=False, reason=reason)

    def session(self, open_ns: int = OPEN, close_ns: int = CLOSE) -> list[Event]:
        return self.send(StartSession(self.next_id(), self.now, RISK, open_ns, close_ns))

    def parameter(
        self, parameter: BreakerParameter, value: int | None, symbol: str = "", why: str = "desk"
    ) -> list[Event]:
        return self.send(
            SetBreakerParameter(self.next_id(), self.now, RISK, why, parameter, value, symbol)
        )

    # -- reading ----------------------------------------------------------------------------

    def bids(self, symbol: str = "AAPL") -> list[tuple[int, int]]:
        return [(price, lots) for price, lots, _ in self.engine.depth(symbol, BUY)]

    def asks(self, symbol: str = "AAPL") -> list[tuple[int, int]]:
        return [(price, lots) for price, lots, _ in self.engine.depth(symbol, SELL)]


def check_command_events(engine: Engine, events: list[Event]) -> None:
    """One outcome, led only by the events of timers that came due before the command, then
    consequences, book deltas last; seqs gapless; no crossed book at rest outside a halt."""
    assert events
    at = engine.outcome_index
    assert events[at].kind in OUTCOME_KINDS
    assert not [e for e in events[:at] + events[at + 1 :] if e.kind in OUTCOME_ONLY]
    assert [e.seq for e in events] == list(
        range(engine.last_command_seq + 1, engine.last_command_seq + 1 + len(events))
    )
    deltas = [i for i, e in enumerate(events) if isinstance(e, BookDelta)]
    assert deltas == list(range(len(events) - len(deltas), len(events)))
    halted = engine.halts()
    for symbol in engine.instruments:
        bid, ask = engine.depth(symbol, BUY, 1), engine.depth(symbol, SELL, 1)
        if bid and ask and symbol not in halted:
            assert bid[0][0] < ask[0][0], f"{symbol} crossed at rest"


def kinds(events: list[Event]) -> list[str]:
    return [e.kind for e in events]


def prints(events: list[Event]) -> list[tuple[int, int]]:
    return [(e.price_ticks, e.qty_lots) for e in events if isinstance(e, Trade)]


def only(events: list[Event], event_type: type[Any]) -> Any:
    found = [e for e in events if isinstance(e, event_type)]
    assert len(found) == 1, kinds(events)
    return found[0]


def offers(market: Market, *levels: int, qty: int = 10, user: int = BOB) -> None:
    for price in levels:
        market.rest(user, SELL, qty, price)


def bids(market: Market, *levels: int, qty: int = 10, user: int = BOB) -> None:
    for price in levels:
        market.rest(user, BUY, qty, price)


def pin_to_upper_band(market: Market) -> int:
    """Alice's bid slides to the upper band (10,500): limit state. Returns when it began."""
    offers(market, 10_400)
    market.order(ALICE, BUY, 20, 10_700)
    assert market.bids() == [(10_500, 10)]
    return market.now


# -- bands -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tier", "reference", "band"),
    [
        (1, 10_000, (9_500, 10_500)),  # above $3.00: 5 %
        (2, 10_000, (9_000, 11_000)),  # above $3.00: 10 %
        (1, 200, (160, 240)),  # $0.75 to $3.00: 20 % for both tiers
        (2, 50, (35, 65)),  # below $0.75: the lesser of $0.15 and 75 %
        (0, 10_000, None),  # no bands
    ],
)
def test_band_per_tier_and_price(tier: int, reference: int, band: tuple[int, int] | None) -> None:
    market = Market(tier, reference_price_ticks=reference)
    assert market.engine.band("AAPL") == band


def test_instrument_without_a_reference_has_no_band_until_it_trades() -> None:
    market = Market(1, reference_price_ticks=0)
    assert market.engine.band("AAPL") is None
    market.rest(BOB, SELL, 10, 10_000)
    market.order(ALICE, BUY, 10, 10_000)
    assert market.engine.band("AAPL") == (9_500, 10_500)


@pytest.mark.parametrize(
    ("tier", "side", "tif", "order_type", "price", "traded", "rest", "cancel_reason"),
    [
        # Tier 1: a buy takes up to the upper band, 10,500; the rest slides to it or goes.
        (1, BUY, GTC, LIMIT, 10_700, [10_400, 10_500], (10_500, 10), None),
        (1, BUY, DAY, LIMIT, 10_700, [10_400, 10_500], (10_500, 10), None),
        (1, BUY, IOC, LIMIT, 10_700, [10_400, 10_500], None, Reason.PRICE_BAND),
        (1, BUY, IOC, MARKET, 0, [10_400, 10_500], None, Reason.PRICE_BAND),
        # Tier 2's band (11,000) admits all three offers.
        (2, BUY, GTC, LIMIT, 10_700, [10_400, 10_500, 10_600], None, None),
        # No band at all.
        (0, BUY, IOC, LIMIT, 10_700, [10_400, 10_500, 10_600], None, None),
        # Sells, down to the lower band (9,500).
        (1, SELL, GTC, LIMIT, 9_300, [9_600, 9_500], (9_500, 10), None),
        (1, SELL, IOC, MARKET, 0, [9_600, 9_500], None, Reason.PRICE_BAND),
        (2, SELL, IOC, LIMIT, 9_300, [9_600, 9_500, 9_400], None, None),
    ],
)
def test_an_order_trades_up_to_the_band_and_the_rest_rests_there_or_goes(
    tier: int,
    side: Side,
    tif: TimeInForce,
    order_type: OrderType,
    price: int,
    traded: list[int],
    rest: tuple[int, int] | None,
    cancel_reason: Reason | None,
) -> None:
    market = Market(tier)
    if side is BUY:
        offers(market, 10_400, 10_500, 10_600)
    else:
        bids(market, 9_600, 9_500, 9_400)
    events = market.order(ALICE, side, 30, price, tif, order_type)
    accepted = events[0]
    assert isinstance(accepted, OrderAccepted)
    assert prints(events) == [(p, 10) for p in traded]
    mine = market.bids() if side is BUY else market.asks()
    assert (rest in mine) if rest else all(lots != 10 or p != price for p, lots in mine)
    assert accepted.band_price_ticks == (rest[0] if rest else 0)
    cancels = [e for e in events if isinstance(e, OrderCancelled)]
    assert [c.reason for c in cancels] == ([cancel_reason] if cancel_reason else [])


def test_the_rest_of_an_order_within_the_band_keeps_its_own_reason() -> None:
    market = Market(1)
    offers(market, 10_400, 10_600)
    events = market.order(ALICE, BUY, 20, 10_450, IOC)
    assert prints(events) == [(10_400, 10)]
    assert only(events, OrderCancelled).reason is Reason.IOC_REMAINDER


def test_fill_or_kill_that_fills_only_through_the_band_is_refused_for_the_band() -> None:
    market = Market(1)
    offers(market, 10_400, 10_500, 10_600)
    refused = market.order(ALICE, BUY, 30, 10_600, FOK)[0]
    assert isinstance(refused, OrderRejected)
    assert refused.reason is Reason.PRICE_BAND
    not_there = market.order(ALICE, BUY, 40, 10_600, FOK)[0]
    assert isinstance(not_there, OrderRejected)
    assert not_there.reason is Reason.FOK_NOT_FILLABLE
    filled = market.order(ALICE, BUY, 20, 10_600, FOK)
    assert prints(filled) == [(10_400, 10), (10_500, 10)]


def test_reference_is_the_five_minute_mean_of_trades_then_the_last_trade() -> None:
    market = Market(1)
    for price in (10_000, 10_200):
        market.rest(BOB, SELL, 1, price)
        market.order(ALICE, BUY, 1, price)
    # Mean 10,100: 5 % either side, rounded inwards.
    assert market.engine.band("AAPL") == (9_595, 10_605)
    market.tick(market.now + 5 * MINUTE)
    # Both trades left the window: the last trade is the reference.
    assert market.engine.band("AAPL") == (9_690, 10_710)


def test_band_doubles_in_the_last_25_minutes_of_the_session() -> None:
    market = Market(1)
    market.session()
    market.tick(CLOSE - 25 * MINUTE - 1)
    assert market.engine.band("AAPL") == (9_500, 10_500)
    market.tick(CLOSE - 25 * MINUTE)
    assert market.engine.band("AAPL") == (9_000, 11_000)
    # Doubled, a buy may take up to 11,000.
    offers(market, 10_900)
    assert prints(market.order(ALICE, BUY, 10, 10_900, IOC)) == [(10_900, 10)]


def test_a_quote_left_outside_the_band_trades_at_the_band_edge() -> None:
    market = Market(1)
    market.session()
    market.now = CLOSE - 10 * MINUTE
    market.rest(BOB, BUY, 10, 10_900)  # inside the doubled band (9,000 to 11,000)
    # After the close the band is 5 % again; Bob's bid is through it. A sell trades with it
    # at the upper band, never above it.
    market.now = CLOSE + MINUTE
    events = market.order(ALICE, SELL, 5, 10_000, IOC)
    assert prints(events) == [(10_500, 5)]
    assert market.engine.last_trade_price("AAPL") == 10_500
    # The rest of the bid is through the band: limit state, as at the band.
    assert only(events, LimitStateEntered).band_side == "upper"


# -- limit state -------------------------------------------------------------------------------


def test_a_bid_at_the_upper_band_enters_limit_state() -> None:
    market = Market(1)
    offers(market, 10_400)
    events = market.order(ALICE, BUY, 20, 10_700)
    entered = only(events, LimitStateEntered)
    assert (entered.band_side, entered.lower_band_ticks, entered.upper_band_ticks) == (
        "upper",
        9_500,
        10_500,
    )
    assert entered.pause_at_ns == market.now + 15 * SECOND
    assert kinds(events)[-2:] == ["limit_state_entered", "book_delta"]
    assert market.engine.next_deadline_ns() == market.now + 15 * SECOND
    assert market.engine.limit_states()["AAPL"]["band_side"] == "upper"


def test_an_offer_at_the_lower_band_enters_limit_state() -> None:
    market = Market(1)
    events = market.order(BOB, SELL, 10, 9_500)
    assert only(events, LimitStateEntered).band_side == "lower"


def test_limit_state_clears_when_the_quote_leaves_the_band() -> None:
    market = Market(1)
    market.order(ALICE, BUY, 10, 10_500)
    order_id = next(iter(market.engine.orders))
    market.now += 3 * SECOND
    events = market.cancel(ALICE, order_id)
    assert kinds(events) == ["order_cancelled", "limit_state_exited", "book_delta"]
    assert market.engine.next_deadline_ns() is None
    assert market.engine.limit_states() == {}


def test_limit_state_also_clears_when_the_quote_trades_away() -> None:
    market = Market(1)
    market.order(ALICE, BUY, 10, 10_500)
    market.now += SECOND
    events = market.order(BOB, SELL, 10, 10_000)
    assert prints(events) == [(10_500, 10)]
    assert only(events, LimitStateExited)


def test_the_band_holds_while_in_limit_state() -> None:
    market = Market(1)
    pin_to_upper_band(market)
    market.now += SECOND
    # Trades at the band would lift the mean; the band that pinned the market stays.
    market.order(BOB, SELL, 5, 10_500)
    market.now += SECOND
    market.order(CAROL, BUY, 1, 10_000)
    assert market.engine.band("AAPL") == (9_500, 10_500)


def test_limit_state_that_lasts_15_seconds_becomes_a_five_minute_pause() -> None:
    market = Market(1)
    since = pin_to_upper_band(market)
    assert kinds(market.tick(since + 15 * SECOND - 1)) == ["clock_advanced"]
    events = market.tick(since + 15 * SECOND)
    assert kinds(events) == ["clock_advanced", "limit_state_exited", "trading_halted"]
    halted = only(events, TradingHalted)
    assert halted.halt_kind is HaltKind.LULD_PAUSE
    assert halted.until_ns == since + 15 * SECOND + 5 * MINUTE
    assert halted.accepts_orders
    assert market.engine.next_deadline_ns() == halted.until_ns
    view = market.engine.halts()["AAPL"]
    assert view["kind"] == "luld_pause"
    assert view["since_ns"] == since + 15 * SECOND
    # The reopening auction measures from the reference price: the mean of the trades, 10,400.
    assert view["reference_ticks"] == 10_400
    assert view["indicative"] is None


def test_a_late_tick_starts_the_pause_when_the_limit_state_ran_out() -> None:
    market = Market(1)
    since = pin_to_upper_band(market)
    halted = only(market.tick(since + 40 * SECOND), TradingHalted)
    assert halted.until_ns == since + 15 * SECOND + 5 * MINUTE


def test_a_command_stamped_after_a_due_timer_runs_it_first_and_its_events_lead() -> None:
    market = Market(1)
    since = pin_to_upper_band(market)
    market.now = since + 16 * SECOND
    # Bob's sell would have hit Alice's bid, but the pause began a second ago.
    events = market.order(BOB, SELL, 10, 10_500)
    assert kinds(events) == [
        "limit_state_exited",
        "trading_halted",
        "order_accepted",
        "auction_indicative",
        "book_delta",
    ]
    assert market.engine.outcome_index == 2
    assert prints(events) == []
    assert market.bids() == [(10_500, 10)]
    assert market.asks() == [(10_500, 10)]


def test_a_modify_stamped_after_a_due_reopening_follows_the_auction_it_missed() -> None:
    market = Market(1)
    since = pin_to_upper_band(market)
    halted = only(market.tick(since + 15 * SECOND), TradingHalted)
    (alice,) = [o.order_id for o in market.engine.orders.values() if o.user_id == ALICE]
    market.rest(BOB, SELL, 4, 10_500)
    # No tick at the pause's end: the modify, a second later, finds the reopening due.
    market.now = halted.until_ns + SECOND
    events = market.send(ModifyOrder(market.next_id(), market.now, ALICE, alice, 10_500, 3))
    at = market.engine.outcome_index
    assert kinds(events)[:at] == ["trading_resumed", "trade"]
    (trade,) = [e for e in events if isinstance(e, Trade)]
    assert trade.qty_lots == 4
    modified = events[at]
    assert isinstance(modified, OrderModified)
    assert (modified.previous_leaves_lots, modified.leaves_lots) == (6, 3)
    # Whoever folds the events in order (the read models, the desk) ends where the engine is.
    leaves = None
    for event in events:
        if isinstance(event, Trade):
            is_maker = event.maker_order_id == alice
            leaves = event.maker_leaves_lots if is_maker else event.taker_leaves_lots
        elif isinstance(event, OrderModified):
            leaves = event.leaves_lots
    assert leaves == market.engine.orders[alice].leaves_lots == 3


# -- during a halt -----------------------------------------------------------------------------


def test_nothing_matches_while_halted_and_the_auction_is_published() -> None:
    market = Market(1)
    market.halt()
    market.rest(ALICE, BUY, 10, 10_100)
    events = market.order(BOB, SELL, 15, 9_900)
    assert prints(events) == []
    assert market.bids() == [(10_100, 10)]
    assert market.asks() == [(9_900, 15)]
    indicative = only(events, AuctionIndicative)
    # Ten lots pair anywhere from 9,900 to 10,100; the reference (10,000) decides.
    assert (indicative.price_ticks, indicative.paired_lots) == (10_000, 10)
    assert (indicative.imbalance_lots, indicative.imbalance_side) == (5, "sell")
    assert market.engine.halts()["AAPL"]["indicative"] == {
        "price_ticks": 10_000,
        "paired_lots": 10,
        "imbalance_lots": 5,
        "imbalance_side": "sell",
    }


@pytest.mark.parametrize(
    ("order_type", "tif", "price", "stop"),
    [
        (MARKET, IOC, 0, 0),
        (LIMIT, IOC, 10_000, 0),
        (LIMIT, FOK, 10_000, 0),
        (OrderType.STOP, GTC, 0, 9_000),
        (OrderType.STOP_LIMIT, GTC, 9_000, 9_000),
    ],
)
def test_orders_that_cannot_rest_are_refused_while_halted(
    order_type: OrderType, tif: TimeInForce, price: int, stop: int
) -> None:
    market = Market(1)
    market.rest(BOB, SELL, 10, 10_000)
    market.halt()
    refused = market.order(ALICE, BUY, 10, price, tif, order_type, stop=stop)
    assert kinds(refused) == ["order_rejected"]
    assert refused[0].reason is Reason.INSTRUMENT_HALTED  # type: ignore[union-attr]


def test_an_instrument_configured_to_refuse_takes_no_orders_but_cancels() -> None:
    market = Market(1, halted_accepts_orders=False)
    order_id = market.rest(BOB, SELL, 10, 10_200)
    halted = only(market.halt(), TradingHalted)
    assert not halted.accepts_orders
    assert market.engine.halts()["AAPL"]["accepts_orders"] is False
    refused = market.order(ALICE, BUY, 10, 10_000, DAY)[0]
    assert isinstance(refused, OrderRejected)
    assert refused.reason is Reason.INSTRUMENT_HALTED
    events = market.cancel(BOB, order_id)
    assert kinds(events) == ["order_cancelled", "auction_indicative", "book_delta"]


def test_a_modify_during_a_halt_rests_without_matching() -> None:
    market = Market(1)
    order_id = market.rest(ALICE, BUY, 10, 9_900)
    market.rest(BOB, SELL, 10, 10_000)
    market.halt()
    events = market.send(ModifyOrder(market.next_id(), market.now, ALICE, order_id, 10_100, 10))
    assert isinstance(events[0], OrderModified)
    assert prints(events) == []
    assert market.bids() == [(10_100, 10)]
    assert only(events, AuctionIndicative).paired_lots == 10


# -- the reopening auction ---------------------------------------------------------------------


def test_the_auction_fills_in_price_time_priority_at_one_price() -> None:
    market = Market(0)  # no bands: the auction alone decides the price
    market.halt()
    first = market.rest(ALICE, BUY, 10, 10_100)
    cheap = market.rest(BOB, SELL, 15, 9_900)
    second = market.rest(CAROL, BUY, 10, 10_100)
    market.rest(ALICE, BUY, 10, 9_950)
    dear = market.rest(BOB, SELL, 10, 10_050)
    # 20 lots pair from 10,050 to 10,100 (at 9,950 only 15): of that range 10,050 is
    # nearest the reference (10,000).
    events = market.resume()
    assert kinds(events)[:3] == ["halt_request_done", "trading_resumed", "trade"]
    resumed = only(events, TradingResumed)
    assert (resumed.auction_price_ticks, resumed.auction_volume_lots) == (10_050, 20)
    # Bids by time at 10,100, asks cheapest first; the later order of each pair is the
    # aggressor.
    trades = [e for e in events if isinstance(e, Trade)]
    assert [
        (t.price_ticks, t.qty_lots, t.maker_order_id, t.taker_order_id, t.aggressor_side)
        for t in trades
    ] == [
        (10_050, 10, first, cheap, SELL),
        (10_050, 5, cheap, second, BUY),
        (10_050, 5, second, dear, SELL),
    ]
    assert (trades[1].maker_leaves_lots, trades[1].taker_leaves_lots) == (0, 5)
    assert market.bids() == [(9_950, 10)]
    assert market.asks() == [(10_050, 5)]
    assert market.engine.last_trade_price("AAPL") == 10_050


@pytest.mark.parametrize(
    ("bids_", "asks_", "price", "volume"),
    [
        # Volume first: 40 lots trade up to 9,950, only 10 nearer the reference (10,000).
        ([(10, 10_100), (30, 9_950)], [(40, 9_900)], 9_950, 40),
        # Then the smallest imbalance: 20 pair at 9,900 to 10,000; at 10,000 nothing is left.
        ([(20, 10_000)], [(10, 9_900), (10, 10_000)], 10_000, 20),
        # Then nearest the reference (10,000): the range 10,200 to 10,300 prints at 10,200.
        ([(10, 10_300)], [(10, 10_200)], 10_200, 10),
        # A reference inside the range is the price.
        ([(10, 10_300)], [(10, 9_800)], 10_000, 10),
    ],
)
def test_auction_price_volume_then_imbalance_then_reference(
    bids_: list[tuple[int, int]], asks_: list[tuple[int, int]], price: int, volume: int
) -> None:
    market = Market(0)
    market.halt()
    for qty, limit in bids_:
        market.rest(ALICE, BUY, qty, limit)
    for qty, limit in asks_:
        market.rest(BOB, SELL, qty, limit)
    resumed = only(market.resume(), TradingResumed)
    assert (resumed.auction_price_ticks, resumed.auction_volume_lots) == (price, volume)


def test_nothing_crossing_resumes_without_an_auction_print() -> None:
    market = Market(1)
    market.rest(ALICE, BUY, 10, 9_900)
    market.rest(BOB, SELL, 10, 10_100)
    market.halt()
    events = market.resume()
    assert kinds(events) == ["halt_request_done", "trading_resumed"]
    assert only(events, TradingResumed).auction_volume_lots == 0
    # Normal matching again.
    assert prints(market.order(CAROL, BUY, 10, 10_100)) == [(10_100, 10)]


def test_stops_trigger_from_the_auction_price() -> None:
    market = Market(0)
    market.rest(BOB, SELL, 5, 10_400)
    stop = market.order(CAROL, BUY, 5, 0, GTC, OrderType.STOP, stop=10_200)[0]
    assert isinstance(stop, OrderAccepted)
    market.halt()
    market.rest(ALICE, BUY, 10, 10_300)
    market.rest(BOB, SELL, 10, 10_200)
    events = market.resume()
    # The auction prints 10 at 10,200 (no imbalance there); Carol's stop then lifts 10,400.
    assert kinds(events) == [
        "halt_request_done",
        "trading_resumed",
        "trade",
        "stop_triggered",
        "trade",
        "book_delta",
    ]
    triggered = only(events, StopTriggered)
    assert triggered.order_id == stop.order_id
    assert triggered.trigger_price_ticks == 10_200
    assert prints(events) == [(10_200, 10), (10_400, 5)]


def test_auction_trades_reach_the_risk_stage() -> None:
    market = Market(0)
    market.halt()
    market.rest(ALICE, BUY, 10, 10_100)
    market.rest(BOB, SELL, 10, 10_100)
    market.resume()
    accounts = market.engine.risk.accounts
    assert accounts["ACC-1"].holdings["AAPL"].position_lots == 10
    assert accounts["ACC-2"].holdings["AAPL"].position_lots == -10
    # Neither order works any more.
    assert accounts["ACC-1"].holdings["AAPL"].working_buy_lots == 0
    assert accounts["ACC-1"].working_notional_micros == 0


# -- the collar --------------------------------------------------------------------------------


def paused_at_upper_band(market: Market) -> tuple[int, int]:
    """A LULD pause at the upper band (10,500); returns (when it began, when it ends)."""
    since = pin_to_upper_band(market)
    halted = only(market.tick(since + 15 * SECOND), TradingHalted)
    return halted.until_ns - 5 * MINUTE, halted.until_ns


def test_an_auction_outside_the_collar_extends_the_pause_with_a_wider_collar() -> None:
    market = Market(1)
    _, until = paused_at_upper_band(market)
    market.now = until - MINUTE
    # Alice's 10 at 10,500 rests; the crowd pays up to 11,600 for 10 more, offered at 11,400.
    market.rest(CAROL, BUY, 10, 11_600)
    market.rest(BOB, SELL, 10, 11_400)
    # 11,400 (of 11,400 to 11,600, the price nearest the reference) is 9.6 % above the
    # reference (10,400), outside the 5 % collar (9,880 to 10,920).
    events = market.tick(until)
    extended = only(events, PauseExtended)
    assert (extended.auction_price_ticks, extended.reference_ticks) == (11_400, 10_400)
    assert (extended.until_ns, extended.collar_bps) == (until + 5 * MINUTE, 1_000)
    assert market.engine.next_deadline_ns() == until + 5 * MINUTE
    assert market.engine.halts()["AAPL"]["extensions"] == 1
    # Within 10 % (up to 11,440) the auction runs.
    events = market.tick(until + 5 * MINUTE)
    resumed = only(events, TradingResumed)
    assert (resumed.auction_price_ticks, resumed.auction_volume_lots) == (11_400, 10)
    assert market.engine.halts() == {}
    # The reopening price is the reference now: the band is around it.
    assert market.engine.band("AAPL") == (10_830, 11_970)


def test_a_manual_resume_ignores_the_collar() -> None:
    market = Market(1)
    market.halt()
    market.rest(CAROL, BUY, 10, 12_000)
    market.rest(BOB, SELL, 10, 12_000)
    resumed = only(market.resume(), TradingResumed)
    assert resumed.auction_price_ticks == 12_000


def test_the_pause_ends_on_time_and_the_book_trades_again() -> None:
    market = Market(1)
    _, until = paused_at_upper_band(market)
    assert kinds(market.tick(until - 1)) == ["clock_advanced"]
    events = market.tick(until)
    assert kinds(events) == ["clock_advanced", "trading_resumed"]
    assert market.engine.next_deadline_ns() is None
    assert prints(market.order(BOB, SELL, 10, 10_500)) == [(10_500, 10)]


# -- manual halts ------------------------------------------------------------------------------


def test_a_manual_halt_and_resume() -> None:
    market = Market(1)
    events = market.halt(reason="pending news")
    assert kinds(events) == ["halt_request_done", "trading_halted"]
    done, halted = events
    assert isinstance(done, HaltRequestDone)
    assert done.instruments == 1
    assert done.halt
    assert isinstance(halted, TradingHalted)
    assert (halted.halt_kind, halted.message, halted.until_ns, halted.user_id) == (
        HaltKind.MANUAL,
        "pending news",
        0,
        RISK,
    )
    assert market.engine.next_deadline_ns() is None
    events = market.resume()
    assert kinds(events) == ["halt_request_done", "trading_resumed"]


@pytest.mark.parametrize(
    ("symbol", "halt", "reason", "already_halted"),
    [
        ("AAPL", True, "   ", False),  # no reason
        ("MSFT", True, "news", False),  # unknown instrument
        ("AAPL", True, "news", True),  # already halted by hand
        ("AAPL", False, "news", False),  # not halted
    ],
)
def test_invalid_halt_requests_are_refused(
    symbol: str, halt: bool, reason: str, already_halted: bool
) -> None:
    market = Market(1)
    if already_halted:
        market.halt()
    refused = market.send(HaltInstrument(market.next_id(), market.now, RISK, reason, halt, symbol))
    assert kinds(refused) == ["command_rejected"]
    assert refused[0].reason is Reason.INVALID_CONTROL  # type: ignore[union-attr]


def test_a_luld_pause_is_not_resumed_by_hand_but_a_manual_halt_replaces_it() -> None:
    market = Market(1)
    paused_at_upper_band(market)
    assert kinds(market.resume()) == ["command_rejected"]
    events = market.halt(reason="regulatory halt")
    assert only(events, TradingHalted).halt_kind is HaltKind.MANUAL
    assert market.engine.next_deadline_ns() is None
    assert kinds(market.resume())[:2] == ["halt_request_done", "trading_resumed"]


def test_halting_every_instrument_at_once() -> None:
    market = Market(1)
    market.define("MSFT")
    market.halt("AAPL")
    events = market.halt("")
    assert only(events, HaltRequestDone).instruments == 1  # AAPL was halted already
    assert only(events, TradingHalted).symbol == "MSFT"
    events = market.resume("")
    assert [e.symbol for e in events if isinstance(e, TradingResumed)] == ["AAPL", "MSFT"]


# -- the market-wide breaker -------------------------------------------------------------------


def index_market() -> Market:
    """Three equally weighted index instruments closing yesterday at 10,000, no bands."""
    market = Market(symbol="")
    for symbol in ("AAA", "BBB", "CCC"):
        market.define(symbol, index_weight=1, previous_close_ticks=10_000)
    market.session()
    return market


def trade_at(market: Market, symbol: str, price: int) -> list[Event]:
    market.rest(BOB, BUY, 1, price, symbol=symbol)
    return market.order(ALICE, SELL, 1, price, IOC, symbol=symbol)


def test_market_wide_level_1_pauses_every_instrument_for_15_minutes() -> None:
    market = index_market()
    # AAA at 7,910 takes the index 6.97 % down: nothing.
    assert not [e for e in trade_at(market, "AAA", 7_910) if isinstance(e, TradingHalted)]
    events = trade_at(market, "AAA", 7_900)  # 7.00 %
    triggered = only(events, MarketWideBreakerTriggered)
    assert (triggered.level, triggered.decline_bps) == (1, 700)
    assert triggered.until_ns == market.now + 15 * MINUTE
    halted = [e for e in events if isinstance(e, TradingHalted)]
    assert [h.symbol for h in halted] == ["AAA", "BBB", "CCC"]
    assert {h.halt_kind for h in halted} == {HaltKind.MARKET_WIDE}
    assert kinds(events).index("market_wide_breaker_triggered") < kinds(events).index(
        "trading_halted"
    )
    assert market.engine.next_deadline_ns() == market.now + 15 * MINUTE


def test_each_market_wide_level_fires_once_a_day() -> None:
    market = index_market()
    trade_at(market, "AAA", 7_900)
    resumed = market.tick(market.now + 15 * MINUTE)
    assert len([e for e in resumed if isinstance(e, TradingResumed)]) == 3
    # Still 7 % down, and further: level 1 is spent.
    assert not [e for e in trade_at(market, "AAA", 7_800) if isinstance(e, TradingHalted)]
    level_2 = only(trade_at(market, "AAA", 6_100), MarketWideBreakerTriggered)
    assert level_2.level == 2
    market.tick(market.now + 15 * MINUTE)
    # The next day re-arms.
    market.now = CLOSE + 18 * 60 * MINUTE
    market.session(OPEN + 24 * 60 * MINUTE, CLOSE + 24 * 60 * MINUTE)
    market.now = OPEN + 24 * 60 * MINUTE + MINUTE
    assert only(trade_at(market, "AAA", 6_100), MarketWideBreakerTriggered).level == 2


def test_levels_1_and_2_do_not_pause_at_or_after_15_25() -> None:
    market = index_market()
    market.now = CLOSE - 35 * MINUTE
    assert not [e for e in trade_at(market, "AAA", 6_100) if isinstance(e, TradingHalted)]
    # Level 3 halts at any time, for the rest of the day.
    events = trade_at(market, "BBB", 7_900)  # (6,100 + 7,900 + 10,000) / 30,000: 20 % down
    triggered = only(events, MarketWideBreakerTriggered)
    assert (triggered.level, triggered.until_ns) == (3, 0)
    assert market.engine.next_deadline_ns() is None
    assert market.engine.halts()["AAA"]["until_ns"] == 0


def test_the_next_session_ends_a_level_3_halt() -> None:
    market = index_market()
    trade_at(market, "AAA", 4_000)
    refused = trade_at(market, "BBB", 10_000)[0]
    assert isinstance(refused, OrderRejected)
    assert refused.reason is Reason.INSTRUMENT_HALTED
    market.now = CLOSE + 17 * 60 * MINUTE
    events = market.session(OPEN + 24 * 60 * MINUTE, CLOSE + 24 * 60 * MINUTE)
    assert isinstance(events[0], SessionStarted)
    assert [e.symbol for e in events if isinstance(e, TradingResumed)] == ["AAA", "BBB", "CCC"]


def test_no_market_wide_breaker_without_a_session() -> None:
    market = Market(symbol="")
    market.define("AAA", index_weight=1, previous_close_ticks=10_000)
    assert not [e for e in trade_at(market, "AAA", 5_000) if isinstance(e, TradingHalted)]


def test_a_manual_halt_outlasts_a_market_wide_pause() -> None:
    market = index_market()
    market.halt("CCC")
    events = trade_at(market, "AAA", 7_900)
    assert [e.symbol for e in events if isinstance(e, TradingHalted)] == ["AAA", "BBB"]
    market.tick(market.now + 15 * MINUTE)
    assert set(market.engine.halts()) == {"CCC"}


# -- volume spikes -----------------------------------------------------------------------------


def test_a_volume_spike_raises_an_alert() -> None:
    market = Market(1)
    market.rest(BOB, SELL, 100, 10_000)
    events = market.order(ALICE, BUY, 100, 10_000)
    spike = only(events, VolumeSpikeDetected)
    assert (spike.window_lots, spike.average_lots, spike.pauses) == (100, 0, False)
    assert not [e for e in events if isinstance(e, TradingHalted)]


def test_small_volume_is_no_spike() -> None:
    market = Market(1)
    market.rest(BOB, SELL, 99, 10_000)
    assert not [e for e in market.order(ALICE, BUY, 99, 10_000) if e.kind == "volume_spike"]


def test_a_volume_spike_pauses_an_instrument_configured_for_it() -> None:
    market = Market(0, spike_pauses=True)
    market.parameter(BreakerParameter.SPIKE_MIN_LOTS, 10, "AAPL")
    market.rest(BOB, SELL, 50, 10_000)
    events = market.order(ALICE, BUY, 50, 10_000)
    assert only(events, VolumeSpikeDetected).pauses
    halted = only(events, TradingHalted)
    assert (halted.halt_kind, halted.until_ns) == (HaltKind.VOLUME_SPIKE, market.now + 5 * MINUTE)


# -- parameters and definitions ----------------------------------------------------------------


def test_a_breaker_parameter_change_says_old_and_new() -> None:
    market = Market(1)
    changed = market.parameter(BreakerParameter.LIMIT_STATE_NS, 5 * SECOND, "AAPL", "tighter")
    assert isinstance(changed[0], BreakerParameterChanged)
    assert (changed[0].old_value, changed[0].new_value, changed[0].change_reason) == (
        None,
        5 * SECOND,
        "tighter",
    )
    entered = only(market.order(ALICE, BUY, 10, 10_500), LimitStateEntered)
    assert entered.pause_at_ns == market.now + 5 * SECOND
    again = market.parameter(BreakerParameter.LIMIT_STATE_NS, None, "AAPL")[0]
    assert isinstance(again, BreakerParameterChanged)
    assert again.old_value == 5 * SECOND


@pytest.mark.parametrize(
    ("parameter", "value", "symbol", "why"),
    [
        (BreakerParameter.PAUSE_NS, -1, "", "desk"),
        (BreakerParameter.PAUSE_NS, 0, "", "desk"),
        (BreakerParameter.MARKET_WIDE_LEVEL_1_BPS, 500, "AAPL", "desk"),
        (BreakerParameter.MARKET_WIDE_LEVEL_2_BPS, 600, "", "desk"),
        (BreakerParameter.SPIKE_LOOKBACK_NS, 15 * SECOND, "", "desk"),
        (BreakerParameter.AUCTION_COLLAR_BPS, 200, "", ""),
    ],
)
def test_invalid_breaker_parameters_are_refused(
    parameter: BreakerParameter, value: int, symbol: str, why: str
) -> None:
    market = Market(1)
    refused = market.parameter(parameter, value, symbol, why)[0]
    assert isinstance(refused, CommandRejected)
    assert refused.reason is Reason.INVALID_CONTROL


def test_instrument_definition_carries_breaker_settings_and_checks_them() -> None:
    market = Market(symbol="")
    defined = market.define(
        "AAPL",
        luld_tier=2,
        halted_accepts_orders=False,
        index_weight=3,
        previous_close_ticks=9_900,
        spike_pauses=True,
    )[0]
    assert isinstance(defined, InstrumentDefined)
    assert (
        defined.luld_tier,
        defined.halted_accepts_orders,
        defined.index_weight,
        defined.previous_close_ticks,
        defined.spike_pauses,
    ) == (2, False, 3, 9_900, True)
    refused = market.define("MSFT", luld_tier=3)[0]
    assert isinstance(refused, CommandRejected)
    assert refused.reason is Reason.INVALID_CONTROL


def test_an_instrument_losing_its_bands_leaves_limit_state() -> None:
    market = Market(1)
    market.order(ALICE, BUY, 10, 10_500)
    events = market.define("AAPL", luld_tier=0)
    assert kinds(events) == ["instrument_defined", "limit_state_exited"]
    assert market.engine.next_deadline_ns() is None


# -- replay ------------------------------------------------------------------------------------


def eventful_day() -> Market:
    """Bands, limit state, a pause with orders, an extension, a reopening, a manual halt, a
    volume spike and the market-wide breaker, all in one shard."""
    market = Market(1, index_weight=1, previous_close_ticks=10_000)
    market.define("MSFT", luld_tier=2, index_weight=1, previous_close_ticks=10_000)
    market.define("IDX", index_weight=10, previous_close_ticks=10_000)
    market.session()
    market.parameter(BreakerParameter.SPIKE_MIN_LOTS, 30, "MSFT")
    since = pin_to_upper_band(market)
    market.now = since + 5 * SECOND
    market.order(CAROL, BUY, 5, 10_000)
    market.tick(since + 15 * SECOND)
    market.now += MINUTE
    market.rest(CAROL, BUY, 10, 11_600)
    market.rest(BOB, SELL, 10, 11_400)
    market.order(BOB, SELL, 3, 11_700)
    order_id = market.rest(CAROL, BUY, 4, 9_000)
    market.cancel(CAROL, order_id)
    market.tick(since + 15 * SECOND + 5 * MINUTE)
    market.tick(since + 15 * SECOND + 10 * MINUTE)
    market.now += SECOND
    market.rest(BOB, SELL, 40, 10_000, symbol="MSFT")
    market.order(ALICE, BUY, 40, 10_000, symbol="MSFT")
    market.halt("MSFT", reason="news")
    market.rest(ALICE, BUY, 5, 10_100, symbol="MSFT")
    market.rest(BOB, SELL, 5, 10_050, symbol="MSFT")
    market.resume("MSFT")
    market.now += MINUTE
    trade_at(market, "MSFT", 9_000)  # below MSFT's band: Alice's sell goes, for the band
    trade_at(market, "IDX", 8_000)  # the index falls past 13 %
    market.tick(market.now + 20 * MINUTE)
    return market


def test_the_eventful_day_covers_every_breaker_event() -> None:
    market = eventful_day()
    seen = {e.kind for events in market.outcomes for e in events}
    assert {
        "limit_state_entered",
        "limit_state_exited",
        "trading_halted",
        "auction_indicative",
        "pause_extended",
        "trading_resumed",
        "halt_request_done",
        "volume_spike_detected",
        "market_wide_breaker_triggered",
        "session_started",
        "breaker_parameter_changed",
        "clock_advanced",
    } <= seen


def test_a_snapshot_at_any_point_replays_to_identical_events() -> None:
    market = eventful_day()
    for split in range(1, len(market.commands)):
        first = Engine()
        for command in market.commands[:split]:
            first.apply(command)
        snapshot = json.loads(json.dumps(first.snapshot()))
        restored = Engine.restore(snapshot)
        assert restored.next_deadline_ns() == first.next_deadline_ns()
        assert restored.halts() == first.halts()
        replayed = [restored.apply(command) for command in market.commands[split:]]
        assert replayed == market.outcomes[split:], f"diverged after command {split}"
        assert restored.snapshot() == market.engine.snapshot()


def test_every_command_of_the_day_has_one_outcome() -> None:
    # Market.send checks each command as it goes; this says so for the whole day.
    market = eventful_day()
    assert len(market.outcomes) == len(market.commands)
    outcomes = [events[at] for events, at in zip(market.outcomes, market.outcome_at, strict=True)]
    assert all(outcome.kind in OUTCOME_KINDS for outcome in outcomes)
    assert any(isinstance(outcome, ClockAdvanced) for outcome in outcomes)


def test_another_instruments_command_runs_a_due_timer_before_its_own_outcome() -> None:
    market = Market(1)
    market.define("MSFT")
    since = pin_to_upper_band(market)
    market.rest(BOB, SELL, 10, 10_000, symbol="MSFT")
    market.now = since + 20 * SECOND
    events = market.order(ALICE, BUY, 10, 10_000, symbol="MSFT")
    assert kinds(events) == [
        "limit_state_exited",
        "trading_halted",
        "order_accepted",
        "trade",
        "book_delta",
    ]
    assert only(events, TradingHalted).symbol == "AAPL"
    assert only(events, Trade).symbol == "MSFT"


def test_a_price_run_pauses_and_the_auction_reopens_near_the_reference() -> None:
    # The desk's drill (tests/browser/test_halts.py) at the engine: 1 s of limit state, then
    # a 6 s pause, AAPL referenced at $232.50.
    market = Market(1, reference_price_ticks=23_250)
    market.parameter(BreakerParameter.LIMIT_STATE_NS, SECOND)
    market.parameter(BreakerParameter.PAUSE_NS, 6 * SECOND)
    assert market.engine.band("AAPL") == (22_088, 24_412)
    market.rest(BOB, BUY, 100, 23_800)
    entered = only(market.order(BOB, BUY, 100, 24_412), LimitStateEntered)
    halted = only(market.tick(entered.pause_at_ns), TradingHalted)
    indicative = only(market.order(ALICE, SELL, 100, 24_000), AuctionIndicative)
    # 100 pair anywhere from 240.00 to 244.12: 240.00 is nearest the reference.
    assert (indicative.price_ticks, indicative.paired_lots) == (24_000, 100)
    events = market.tick(halted.until_ns)
    assert only(events, TradingResumed).auction_price_ticks == 24_000
    assert prints(events) == [(24_000, 100)]
