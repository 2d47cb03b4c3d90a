"""The call auction that reopens an instrument after a pause or halt.

During the pause orders collect without matching; `indicative` gives the price and imbalance
to publish meanwhile, and `uncross` the single price at which the auction executes and the
fills, in price-time priority, at that price. The price must lie within a collar around the
reference price (`auction_collar_ok`); if not, the caller extends the pause by
`AUCTION_EXTENSION_NS` and widens the collar (`widened_collar_bps`).

Orders come as `(price_ticks, qty_lots, order_id)` tuples (`AuctionOrder` is one), in time
priority: arrival order, oldest first (a list already in price-time priority will do). A market
order has `price_ticks` None (`MARKET`): it buys or sells at any auction price, and comes
before every limit order of its side. Integers only, as everywhere in the engine.
"""

from collections.abc import Iterable
from typing import Final, NamedTuple

from apps.matching.engine.types import Side

MARKET: Final = None
AUCTION_EXTENSION_NS: Final = 5 * 60 * 1_000_000_000


class AuctionOrder(NamedTuple):
    price_ticks: int | None  # None: a market order
    qty_lots: int
    order_id: int


class Fill(NamedTuple):
    bid_order_id: int
    ask_order_id: int
    qty_lots: int


class Indicative(NamedTuple):
    """What the auction would do now: `paired_lots` would trade at `price_ticks`, and
    `imbalance_lots` of `imbalance_side` (None: no imbalance) would be left over there."""

    price_ticks: int
    paired_lots: int
    imbalance_lots: int
    imbalance_side: Side | None


class AuctionResult(NamedTuple):
    price_ticks: int
    volume_lots: int
    imbalance_lots: int
    imbalance_side: Side | None
    fills: tuple[Fill, ...]


Orders = Iterable[tuple[int | None, int, int]]


def _by_priority(orders: Orders, is_bid: bool) -> list[AuctionOrder]:
    """Price-time priority: market orders first, then the best price; arrival order within a
    price (the sort is stable)."""
    parsed = [AuctionOrder(*order) for order in orders]
    for order in parsed:
        if order.qty_lots < 1 or (order.price_ticks is not None and order.price_ticks < 1):
            raise ValueError(f"invalid auction order {order!r}")
    sign = -1 if is_bid else 1
    return sorted(parsed, key=lambda o: (o.price_ticks is not None, sign * (o.price_ticks or 0)))


def _choose(
    bids: list[AuctionOrder], asks: list[AuctionOrder], reference_ticks: int
) -> Indicative | None:
    """The auction price (after Nasdaq Rule 4753(b), the Halt Cross), or None when nothing crosses.

    1. The price at which the most lots execute: min(bids at or above it, asks at or below it).
    2. Then the one that leaves the smallest imbalance.
    3. Then the one nearest the reference price.
    4. Then the lower price. This last rule never decides in fact (the prices that survive 2
       form one range of prices, and a reference between two of them is in it too); it is
       there so that the choice is total and plainly deterministic.

    Volume and imbalance only change at order prices, and are constant between two of them, so
    the only candidates needed are the order prices, their neighbours (the inside of a range
    nearest a reference outside it) and the reference price itself.
    """
    if reference_ticks < 1:
        raise ValueError("the reference price must be positive")
    candidates = {reference_ticks}
    for order in (*bids, *asks):
        if order.price_ticks is not None:
            candidates.update((order.price_ticks - 1, order.price_ticks, order.price_ticks + 1))
    prices = sorted(p for p in candidates if p >= 1)
    # Sweep the candidates upwards: asks at or below p accumulate, bids at or above p run out.
    ask_levels = sorted((o.price_ticks or 0, o.qty_lots) for o in asks)
    bid_levels = sorted((o.price_ticks or 0, o.qty_lots) for o in bids)
    cum_ask = 0  # market asks sort first, as price 0: they are at or below every price
    cum_bid = sum(o.qty_lots for o in bids)
    a = b = 0
    best: tuple[int, int, int, int] | None = None
    best_imbalance = 0
    for price in prices:
        while a < len(ask_levels) and ask_levels[a][0] <= price:
            cum_ask += ask_levels[a][1]
            a += 1
        while b < len(bid_levels) and bid_levels[b][0] < price:
            if bid_levels[b][0] != 0:  # market bids (price 0 here) never run out
                cum_bid -= bid_levels[b][1]
            b += 1
        key = (-min(cum_bid, cum_ask), abs(cum_bid - cum_ask), abs(price - reference_ticks), price)
        if best is None or key < best:
            best, best_imbalance = key, cum_bid - cum_ask
    if best is None or best[0] == 0:
        return None
    side = Side.BUY if best_imbalance > 0 else Side.SELL if best_imbalance < 0 else None
    return Indicative(best[3], -best[0], abs(best_imbalance), side)


def indicative(bids: Orders, asks: Orders, reference_ticks: int) -> Indicative | None:
    """The indicative auction price, paired volume and imbalance to publish during a pause
    (Nasdaq's Net Order Imbalance Indicator); None while nothing would cross."""
    return _choose(_by_priority(bids, True), _by_priority(asks, False), reference_ticks)


def uncross(bids: Orders, asks: Orders, reference_ticks: int) -> AuctionResult | None:
    """Run the auction: the price `indicative` gives, and the fills at that single price.

    Every bid at or above the price (or market) and every ask at or below it (or market) is
    eligible; each side fills in price-time priority until the volume is reached, so at most
    one order per side fills partly, the last one reached. Fills pair the two queues in order:
    (bid order id, ask order id, lots). None when nothing crosses.
    """
    bid_queue, ask_queue = _by_priority(bids, True), _by_priority(asks, False)
    chosen = _choose(bid_queue, ask_queue, reference_ticks)
    if chosen is None:
        return None
    price = chosen.price_ticks
    bid_queue = [o for o in bid_queue if o.price_ticks is None or o.price_ticks >= price]
    ask_queue = [o for o in ask_queue if o.price_ticks is None or o.price_ticks <= price]
    fills: list[Fill] = []
    left = chosen.paired_lots
    b = a = 0
    bid_left, ask_left = bid_queue[0].qty_lots, ask_queue[0].qty_lots
    while left:
        qty = min(bid_left, ask_left, left)
        fills.append(Fill(bid_queue[b].order_id, ask_queue[a].order_id, qty))
        left -= qty
        bid_left -= qty
        ask_left -= qty
        if left and not bid_left:
            b += 1
            bid_left = bid_queue[b].qty_lots
        if left and not ask_left:
            a += 1
            ask_left = ask_queue[a].qty_lots
    return AuctionResult(
        price, chosen.paired_lots, chosen.imbalance_lots, chosen.imbalance_side, tuple(fills)
    )


def auction_collar_ok(price_ticks: int, reference_ticks: int, collar_bps: int) -> bool:
    """Whether the auction price lies within `collar_bps` of the reference, bounds included.

    Modelled on the LULD reopening auction collars of the listing exchanges (Nasdaq Rule
    4120(c)(10)): a halt cross may not execute outside the collar; the pause extends instead.
    """
    return abs(price_ticks - reference_ticks) * 10_000 <= reference_ticks * collar_bps


def widened_collar_bps(initial_bps: int, extensions: int) -> int:
    """The collar after `extensions` five-minute extensions: each adds the initial collar again
    (10 %, then 20 %, 30 %, ...). Simplified from the exchanges, which widen by 5 % in the
    direction of the imbalance only; here the collar widens on both sides."""
    return initial_bps * (1 + extensions)
