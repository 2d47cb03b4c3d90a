"""One instrument's limit order book: price levels in price-time priority."""

from bisect import bisect_left, insort
from dataclasses import dataclass, field

from apps.matching.engine.types import Side, TimeInForce


@dataclass(slots=True)
class RestingOrder:
    order_id: int
    user_id: int
    account: str
    side: Side
    price_ticks: int
    leaves_lots: int
    time_in_force: TimeInForce


@dataclass(slots=True)
class Level:
    price_ticks: int
    # Insertion-ordered: the first key is the oldest order, so iteration is time priority
    # and removal from the middle (a cancel) costs O(1).
    orders: dict[int, RestingOrder] = field(default_factory=dict)
    total_lots: int = 0


class BookSide:
    """The bids or the asks. Prices are kept sorted ascending; the best is an end of the list."""

    __slots__ = ("levels", "prices", "side")

    def __init__(self, side: Side) -> None:
        self.side = side
        self.levels: dict[int, Level] = {}
        self.prices: list[int] = []

    def best_price(self) -> int | None:
        if not self.prices:
            return None
        return self.prices[-1] if self.side is Side.BUY else self.prices[0]

    def best_level(self) -> Level | None:
        price = self.best_price()
        return None if price is None else self.levels[price]

    def prices_best_first(self) -> list[int]:
        return self.prices[::-1] if self.side is Side.BUY else list(self.prices)

    def add(self, order: RestingOrder) -> Level:
        level = self.levels.get(order.price_ticks)
        if level is None:
            level = Level(order.price_ticks)
            self.levels[order.price_ticks] = level
            insort(self.prices, order.price_ticks)
        level.orders[order.order_id] = order
        level.total_lots += order.leaves_lots
        return level

    def remove(self, order: RestingOrder) -> Level:
        level = self.levels[order.price_ticks]
        del level.orders[order.order_id]
        level.total_lots -= order.leaves_lots
        if not level.orders:
            self.drop_level(level)
        return level

    def drop_level(self, level: Level) -> None:
        del self.levels[level.price_ticks]
        del self.prices[bisect_left(self.prices, level.price_ticks)]

    def crosses(self, limit_ticks: int) -> bool:
        """Whether an incoming order on the other side at `limit_ticks` can trade here."""
        best = self.best_price()
        if best is None:
            return False
        return best <= limit_ticks if self.side is Side.SELL else best >= limit_ticks

    def lots_available(self, limit_ticks: int) -> int:
        total = 0
        for price in self.prices_best_first():
            if not (price <= limit_ticks if self.side is Side.SELL else price >= limit_ticks):
                break
            total += self.levels[price].total_lots
        return total


class OrderBook:
    __slots__ = ("asks", "bids", "book_seq", "symbol")

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.bids = BookSide(Side.BUY)
        self.asks = BookSide(Side.SELL)
        self.book_seq = 0

    def side(self, side: Side) -> BookSide:
        return self.bids if side is Side.BUY else self.asks

    def depth(self, side: Side, levels: int | None = None) -> list[tuple[int, int, int]]:
        """(price_ticks, total_lots, order_count) per level, best first."""
        book_side = self.side(side)
        prices = book_side.prices_best_first()
        if levels is not None:
            prices = prices[:levels]
        return [
            (p, book_side.levels[p].total_lots, len(book_side.levels[p].orders)) for p in prices
        ]
