"""One instrument's limit order book: price levels in price-time priority, plus the stop
orders waiting for their trigger; and the instrument's definition, which holds its book."""

from bisect import bisect_left, insort
from dataclasses import dataclass, field

from apps.matching.engine.types import OrderType, Side, StpMode, TimeInForce


@dataclass(slots=True)
class OrderTerms:
    """What an order asked for besides its price and quantity. Most orders ask for the same
    (a plain limit order, good till cancelled), so resting orders share one record of it
    instead of carrying six fields each: a resting order is among the most numerous objects
    in memory. Shared, so never changed in place (not frozen only because a frozen
    dataclass is several times slower to build, and one is built for most IOC orders)."""

    order_type: OrderType
    time_in_force: TimeInForce
    display_lots: int
    stop_price_ticks: int
    post_only: bool
    stp_mode: StpMode

    # Written out, though the dataclass would write the same: compiled, an explicit __init__
    # is a native one, several times faster than the dataclass's generated Python. So for
    # the orders and levels below.
    def __init__(
        self,
        order_type: OrderType,
        time_in_force: TimeInForce,
        display_lots: int,
        stop_price_ticks: int,
        post_only: bool,
        stp_mode: StpMode,
    ) -> None:
        self.order_type = order_type
        self.time_in_force = time_in_force
        self.display_lots = display_lots
        self.stop_price_ticks = stop_price_ticks
        self.post_only = post_only
        self.stp_mode = stp_mode

    def as_type(self, order_type: OrderType) -> "OrderTerms":
        """The same terms for a stop order that entered the book as `order_type`."""
        return OrderTerms(
            order_type,
            self.time_in_force,
            self.display_lots,
            self.stop_price_ticks,
            self.post_only,
            self.stp_mode,
        )


@dataclass(slots=True)
class WorkingOrder:
    """An order that can still trade: resting in a level, or a stop waiting for its trigger.

    `leaves_lots` is all it has left; `shown_lots` the part displayed in its level (an iceberg
    shows at most `display_lots` at a time; other orders show all they have left).
    """

    order_id: int
    user_id: int
    account: str
    symbol: str
    client_order_id: str
    side: Side
    price_ticks: int
    leaves_lots: int
    shown_lots: int
    stp_key: str
    terms: OrderTerms

    def __init__(
        self,
        order_id: int,
        user_id: int,
        account: str,
        symbol: str,
        client_order_id: str,
        side: Side,
        price_ticks: int,
        leaves_lots: int,
        shown_lots: int,
        stp_key: str,
        terms: OrderTerms,
    ) -> None:
        self.order_id = order_id
        self.user_id = user_id
        self.account = account
        self.symbol = symbol
        self.client_order_id = client_order_id
        self.side = side
        self.price_ticks = price_ticks
        self.leaves_lots = leaves_lots
        self.shown_lots = shown_lots
        self.stp_key = stp_key
        self.terms = terms

    # The terms, read as the order's own.

    @property
    def order_type(self) -> OrderType:
        return self.terms.order_type

    @property
    def time_in_force(self) -> TimeInForce:
        return self.terms.time_in_force

    @property
    def display_lots(self) -> int:
        return self.terms.display_lots

    @property
    def stop_price_ticks(self) -> int:
        return self.terms.stop_price_ticks

    @property
    def post_only(self) -> bool:
        return self.terms.post_only

    @property
    def stp_mode(self) -> StpMode:
        return self.terms.stp_mode


@dataclass(slots=True)
class Level:
    price_ticks: int
    # Insertion-ordered: the first key is the oldest order, so iteration is time priority
    # and removal from the middle (a cancel) costs O(1).
    orders: dict[int, WorkingOrder] = field(default_factory=dict)
    shown_lots: int = 0

    def __init__(self, price_ticks: int, shown_lots: int = 0) -> None:
        self.price_ticks = price_ticks
        self.orders = {}
        self.shown_lots = shown_lots


class BookSide:
    """The bids or the asks. Prices are kept sorted ascending; the best is an end of the list."""

    __slots__ = ("is_bid", "levels", "prices", "side")

    def __init__(self, side: Side) -> None:
        self.side = side
        self.is_bid = side is Side.BUY
        self.levels: dict[int, Level] = {}
        self.prices: list[int] = []

    def best_price(self) -> int | None:
        prices = self.prices
        if not prices:
            return None
        return prices[-1] if self.is_bid else prices[0]

    def prices_best_first(self) -> list[int]:
        return self.prices[::-1] if self.is_bid else list(self.prices)

    def reaches(self, price_ticks: int, limit_ticks: int) -> bool:
        """Whether this side's `price_ticks` is marketable for a taker limited at `limit_ticks`."""
        return price_ticks >= limit_ticks if self.is_bid else price_ticks <= limit_ticks

    def add(self, order: WorkingOrder) -> None:
        """Put `order` at the back of its price level."""
        level = self.levels.get(order.price_ticks)
        if level is None:
            level = Level(order.price_ticks)
            self.levels[order.price_ticks] = level
            insort(self.prices, order.price_ticks)
        level.orders[order.order_id] = order
        level.shown_lots += order.shown_lots

    def remove(self, order: WorkingOrder) -> None:
        level = self.levels[order.price_ticks]
        del level.orders[order.order_id]
        level.shown_lots -= order.shown_lots
        if not level.orders:
            self.drop_level(level)

    def drop_level(self, level: Level) -> None:
        del self.levels[level.price_ticks]
        del self.prices[bisect_left(self.prices, level.price_ticks)]


class OrderBook:
    __slots__ = ("asks", "bids", "book_seq", "last_trade_ticks", "stops", "symbol")

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.bids = BookSide(Side.BUY)
        self.asks = BookSide(Side.SELL)
        self.book_seq = 0
        self.last_trade_ticks: int | None = None
        # Waiting stop orders by order id; ids only grow, so this is also arrival order.
        self.stops: dict[int, WorkingOrder] = {}

    def side(self, side: Side) -> BookSide:
        return self.bids if side is Side.BUY else self.asks

    def depth(self, side: Side, levels: int | None = None) -> list[tuple[int, int, int]]:
        """(price_ticks, displayed lots, order count) per level, best first."""
        book_side = self.side(side)
        prices = book_side.prices_best_first()
        if levels is not None:
            prices = prices[:levels]
        return [
            (p, book_side.levels[p].shown_lots, len(book_side.levels[p].orders)) for p in prices
        ]


@dataclass(slots=True)
class Instrument:
    symbol: str
    min_qty_lots: int
    max_qty_lots: int
    is_open: bool
    protection_ticks: int
    protection_bps: int
    book: OrderBook
    tick_size_micros: int = 10_000
    lot_size: int = 1
    reference_price_ticks: int = 0
    # What one tick is worth on one lot, in micros: ticks * lots * this = money.
    lot_tick_micros: int = 10_000
    # Circuit breakers (DefineInstrument says what each means).
    luld_tier: int = 0
    halted_accepts_orders: bool = True
    index_weight: int = 0
    previous_close_ticks: int = 0
    spike_pauses: bool = False
