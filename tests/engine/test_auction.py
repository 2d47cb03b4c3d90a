"""The reopening call auction (apps/matching/engine/auction.py)."""

from collections import defaultdict

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.matching.engine.auction import (
    MARKET,
    AuctionOrder,
    AuctionResult,
    Fill,
    Indicative,
    auction_collar_ok,
    indicative,
    uncross,
    widened_collar_bps,
)
from apps.matching.engine.types import Side

Order = tuple[int | None, int, int]


def test_nothing_crosses_without_orders_or_overlap() -> None:
    assert uncross([], [], 100) is None
    assert uncross([(99, 10, 1)], [], 100) is None
    assert uncross([(99, 10, 1)], [(100, 10, 2)], 100) is None
    assert indicative([(99, 10, 1)], [(100, 10, 2)], 100) is None


def test_the_price_maximises_executable_volume() -> None:
    bids = [(102, 10, 1), (101, 10, 2), (100, 10, 3)]
    asks = [(99, 5, 4), (100, 10, 5), (102, 20, 6)]
    # At 100: 30 bid, 15 offered → 15. At 101: 20 / 15 → 15. At 102: 10 / 35 → 10.
    # 100 and 101 tie on volume; 101 leaves 5 over, 100 leaves 15: 101.
    result = uncross(bids, asks, 50)
    assert result is not None
    assert (result.price_ticks, result.volume_lots) == (101, 15)
    assert (result.imbalance_lots, result.imbalance_side) == (5, Side.BUY)


def test_equal_volume_goes_to_the_smaller_imbalance() -> None:
    bids = [(100, 10, 1), (90, 5, 2)]
    asks = [(90, 10, 3), (100, 5, 4)]
    # 10 trade anywhere from 90 to 100; at 90 5 bid lots are left, at 100 5 offered,
    # and strictly between them nothing is left: the nearest such price to a far reference.
    result = uncross(bids, asks, 120)
    assert result is not None
    assert (result.price_ticks, result.volume_lots, result.imbalance_lots) == (99, 10, 0)
    assert result.imbalance_side is None
    low = uncross(bids, asks, 10)
    assert low is not None
    assert low.price_ticks == 91


def test_equal_volume_and_imbalance_goes_nearest_the_reference() -> None:
    bids, asks = [(100, 10, 1)], [(90, 10, 2)]
    for reference, price in [(95, 95), (120, 100), (1, 90), (90, 90)]:
        result = uncross(bids, asks, reference)
        assert result is not None
        assert result.price_ticks == price


def test_the_sell_side_imbalance_is_reported() -> None:
    result = uncross([(100, 4, 1)], [(100, 10, 2)], 100)
    assert result == AuctionResult(100, 4, 6, Side.SELL, (Fill(1, 2, 4),))


def test_market_orders_trade_at_any_price_and_come_first() -> None:
    bids = [(101, 10, 1), (MARKET, 5, 2)]
    asks = [(99, 10, 3)]
    result = uncross(bids, asks, 100)
    assert result is not None
    assert (result.price_ticks, result.volume_lots) == (100, 10)
    assert result.fills == (Fill(2, 3, 5), Fill(1, 3, 5))


def test_only_market_orders_cross_at_the_reference() -> None:
    result = uncross([(MARKET, 7, 1)], [(MARKET, 3, 2)], 250)
    assert result == AuctionResult(250, 3, 4, Side.BUY, (Fill(1, 2, 3),))


def test_market_buy_against_limit_asks_clears_at_the_reference_when_it_can() -> None:
    for reference, price in [(100, 100), (80, 90)]:
        result = uncross([(MARKET, 10, 1)], [(90, 10, 2)], reference)
        assert result is not None
        assert result.price_ticks == price


def test_fills_follow_price_then_time_priority_at_the_single_price() -> None:
    # Given in arrival order: the older 101 bid (1) before the newer (3), both before 100 (2).
    bids = [(101, 5, 1), (100, 5, 2), (101, 5, 3)]
    asks = [(98, 4, 4), (97, 4, 5), (100, 4, 6)]
    result = uncross(bids, asks, 100)
    assert result is not None
    assert result.price_ticks == 100
    assert result.fills == (
        Fill(1, 5, 4),
        Fill(1, 4, 1),
        Fill(3, 4, 3),
        Fill(3, 6, 2),
        Fill(2, 6, 2),
    )


def test_indicative_is_the_auction_without_its_fills() -> None:
    bids = [(102, 10, 1), (101, 10, 2)]
    asks = [(100, 25, 3)]
    result = uncross(bids, asks, 101)
    assert result is not None
    assert indicative(bids, asks, 101) == Indicative(
        result.price_ticks, result.volume_lots, result.imbalance_lots, result.imbalance_side
    )


def test_bad_orders_are_refused() -> None:
    with pytest.raises(ValueError, match="invalid auction order"):
        uncross([(100, 0, 1)], [(100, 1, 2)], 100)
    with pytest.raises(ValueError, match="reference"):
        uncross([(100, 1, 1)], [(100, 1, 2)], 0)


def test_the_collar_admits_its_bounds() -> None:
    assert auction_collar_ok(1100, 1000, 1000)
    assert auction_collar_ok(900, 1000, 1000)
    assert not auction_collar_ok(1101, 1000, 1000)
    assert not auction_collar_ok(899, 1000, 1000)


def test_each_extension_widens_the_collar_by_the_initial_collar() -> None:
    assert [widened_collar_bps(500, n) for n in range(4)] == [500, 1000, 1500, 2000]
    assert not auction_collar_ok(1100, 1000, widened_collar_bps(500, 1) - 1)
    assert auction_collar_ok(1100, 1000, widened_collar_bps(500, 1))


# -- properties -------------------------------------------------------------------------------

prices = st.one_of(st.integers(1, 12), st.just(None))
sides = st.lists(st.tuples(prices, st.integers(1, 9)), max_size=8)


def with_ids(orders: list[tuple[int | None, int]], first_id: int) -> list[Order]:
    return [(price, qty, first_id + i) for i, (price, qty) in enumerate(orders)]


def brute_force_key(
    bids: list[Order], asks: list[Order], price: int, reference: int
) -> tuple[int, int, int, int]:
    bid = sum(q for p, q, _ in bids if p is None or p >= price)
    ask = sum(q for p, q, _ in asks if p is None or p <= price)
    return (-min(bid, ask), abs(bid - ask), abs(price - reference), price)


def priority(orders: list[Order], is_bid: bool) -> list[AuctionOrder]:
    """Price-time priority, written out: market first, then best price, then arrival."""
    ranked = sorted(
        enumerate(orders),
        key=lambda io: (
            io[1][0] is not None,
            -(io[1][0] or 0) if is_bid else (io[1][0] or 0),
            io[0],
        ),
    )
    return [AuctionOrder(*order) for _i, order in ranked]


@given(sides, sides, st.integers(1, 14))
def test_the_uncross_is_the_best_of_every_possible_price(
    raw_bids: list[tuple[int | None, int]], raw_asks: list[tuple[int | None, int]], reference: int
) -> None:
    bids, asks = with_ids(raw_bids, 1), with_ids(raw_asks, 100)
    # Every price that could matter: beyond the highest order price and the reference, nothing
    # changes any more.
    every_price = range(1, 16)
    best = min(brute_force_key(bids, asks, p, reference) for p in every_price)
    result = uncross(bids, asks, reference)
    if best[0] == 0:
        assert result is None
        return
    assert result is not None
    assert result.volume_lots == -best[0]
    assert (result.price_ticks, result.imbalance_lots) == (best[3], best[1])
    assert indicative(bids, asks, reference) == result[:4]

    # The fills add up to the volume, pair eligible orders only, and fill each side in
    # price-time priority: every order ahead of the last one reached fills completely.
    assert sum(f.qty_lots for f in result.fills) == result.volume_lots
    for orders, is_bid in ((bids, True), (asks, False)):
        filled: dict[int, int] = defaultdict(int)
        for fill in result.fills:
            filled[fill.bid_order_id if is_bid else fill.ask_order_id] += fill.qty_lots
        queue = [
            o
            for o in priority(orders, is_bid)
            if o.price_ticks is None
            or (
                o.price_ticks >= result.price_ticks
                if is_bid
                else o.price_ticks <= result.price_ticks
            )
        ]
        left = result.volume_lots
        for order in queue:
            expected = min(order.qty_lots, left)
            assert filled.pop(order.order_id, 0) == expected
            left -= expected
        assert not filled  # nothing filled outside the eligible queue
        ids_in_fill_order = [f.bid_order_id if is_bid else f.ask_order_id for f in result.fills]
        assert ids_in_fill_order == sorted(ids_in_fill_order, key=[o.order_id for o in queue].index)
