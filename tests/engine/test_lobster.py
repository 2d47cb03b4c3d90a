"""Real Nasdaq order flow through the engine: the LOBSTER sample files of 21 June 2012.

A LOBSTER message file lists every event that touched the visible levels of one stock's book,
and its orderbook file the visible book after each event. The replay turns each message into
engine commands and, after every message, compares `engine.depth` with the recorded book.

Messages become commands as follows (one share is one lot, one cent one tick):

- 1, a new limit order: a GTC limit order of the book's trader (`NASDAQ-BOOK`). It never crosses.
- 2, a partial cancellation: `ModifyOrder` to the smaller quantity at the same price (the order
  keeps its place); 3, a deletion: `CancelOrder`.
- 4, an execution of a visible order: an IOC limit order of another trader (`NASDAQ-STREET`) on
  the other side, at that price and for that size. It must trade exactly the order the message
  names, for exactly that size, and nothing else.
- 5 (hidden execution), 6 (cross) and 7 (halt) leave the visible book as it was: no command.

The files show only part of the book (1 level for AMZN and GOOG, 10 for AAPL), so some orders
have no "new order" message: those already resting at 09:30 and those that joined a level while
it lay beyond the visible levels. The replay handles them as a replay of a partial feed has to:

- The book before the first message (the first recorded book, with the first message undone)
  is seeded with one order per level, of unknown identity.
- When a level comes into view (the levels in front of it emptied), the recorded book is the
  only witness of what rests there: the replay adds an order of unknown identity for lots the
  engine lacks, and takes away lots that left unseen (cancelled while out of view). Known
  orders at such a level may have left unseen: their identity is no longer certain.
- A message about an order the replay never saw acts on the orders of unknown or uncertain
  identity at its price; which ones is decided with the file itself (lots that no later message
  will ask of an order are the ones that left unseen).
- When an execution names an order that is not at the front of its level in the engine, the
  orders in front of it cannot have been ahead of it: they are moved to the back (cancelled and
  entered again), which leaves the displayed book as it was. Almost always these are orders of
  unknown or uncertain identity, or orders younger than the executed one (LOBSTER ids grow with
  arrival), placed in front of it only because the replay could not know better. A handful of
  executions (4 in AMZN, 4 in GOOG) name an order younger than one the file showed arriving
  before it at the same price: the feed prints them out of strict time priority, mostly within
  one nanosecond, and the older order is moved back too.

Every command's outcome is checked, every trade against the maker expected at the front, and
the depth (prices, lots and order counts) against the recorded book after every message of every
file: each file is replayed whole, about 108,000 messages in all, in about four seconds.
"""

import bisect
import csv
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from apps.matching.engine import (
    CancelOrder,
    Command,
    DefineInstrument,
    Engine,
    Event,
    ModifyOrder,
    NewOrder,
    OrderAccepted,
    OrderCancelled,
    OrderModified,
    OrderType,
    Reason,
    Side,
    TimeInForce,
    Trade,
)

LOBSTER_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "lobster"

NEW_ORDER, PARTIAL_CANCEL, DELETION, EXECUTION = 1, 2, 3, 4
# Seconds after midnight in New York, which kept daylight saving time (UTC-4) on that day.
SESSION_MIDNIGHT_NS = (
    int(datetime(2012, 6, 21, tzinfo=timezone(timedelta(hours=-4))).timestamp()) * 1_000_000_000
)
EMPTY_LEVEL_PRICE = 9_999_999_999
BOOK_USER, BOOK_ACCOUNT = 1, "NASDAQ-BOOK"
STREET_USER, STREET_ACCOUNT = 2, "NASDAQ-STREET"

Level = tuple[int, int]
"""A recorded or engine level: (price_ticks, displayed lots)."""


@dataclass(frozen=True, slots=True)
class Sample:
    """One stock's pair of files, and what replaying them must give."""

    symbol: str
    levels: int
    message_file: str
    orderbook_file: str
    messages: int
    executions_of_named_orders: int
    executions_of_unnamed_orders: int
    printed_out_of_priority: int


@dataclass(frozen=True, slots=True)
class Message:
    number: int
    ts_ns: int
    event_type: int
    lobster_id: int
    shares: int
    price_ticks: int
    side: Side


@dataclass(frozen=True, slots=True)
class RecordedBook:
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]

    def side(self, side: Side) -> tuple[Level, ...]:
        return self.bids if side is Side.BUY else self.asks


@dataclass(slots=True)
class Resting:
    """The replay's view of one engine order; `lobster_id` None when the files never named it."""

    engine_id: int
    lobster_id: int | None
    leaves: int
    uncertain: bool = False


@dataclass(slots=True)
class ReplayReport:
    messages: int = 0
    books_compared: int = 0
    divergence: str | None = None
    commands: int = 0
    message_types: Counter[int] = field(default_factory=Counter)
    executions_of_the_named_order: int = 0
    executions_of_unnamed_orders: int = 0
    executions_partly_unnamed: int = 0
    orders_seeded: int = 0
    orders_revealed: int = 0
    lots_left_unseen: int = 0
    moved_back_hidden: int = 0
    moved_back_out_of_priority: int = 0
    engine_orders_unexplained: list[str] = field(default_factory=list)


class Divergence(Exception):
    """The engine did something other than what the contract and the recorded flow imply."""


# Executions of named orders traded exactly the order the message names, for exactly its size;
# executions of unnamed orders name an order the file never showed arriving (it joined while
# its level was out of view). A few executions name an order younger than one still resting in
# front of it at the same price: the feed printed them out of strict time priority.
SAMPLES = [
    Sample(
        symbol="AAPL",
        levels=10,
        message_file="AAPL_2012-06-21_34200000_57600000_message_10.first999rows.csv",
        orderbook_file="AAPL_2012-06-21_34200000_57600000_orderbook_10.first999rows.csv",
        messages=999,
        executions_of_named_orders=94,
        executions_of_unnamed_orders=4,
        printed_out_of_priority=0,
    ),
    Sample(
        symbol="AMZN",
        levels=1,
        message_file="AMZN_2012-06-21_34200000_57600000_message_1.csv",
        orderbook_file="AMZN_2012-06-21_34200000_57600000_orderbook_1.csv",
        messages=57_515,
        executions_of_named_orders=5_903,
        executions_of_unnamed_orders=3_071,
        printed_out_of_priority=4,
    ),
    Sample(
        symbol="GOOG",
        levels=1,
        message_file="GOOG_2012-06-21_34200000_57600000_message_1.csv",
        orderbook_file="GOOG_2012-06-21_34200000_57600000_orderbook_1.csv",
        messages=49_482,
        executions_of_named_orders=5_456,
        executions_of_unnamed_orders=2_309,
        printed_out_of_priority=4,
    ),
]


# -- reading the files --------------------------------------------------------------------------


def missing_data(sample: Sample) -> str | None:
    """Why the files of `sample` cannot be read, or None when they are in place."""
    for name in (sample.message_file, sample.orderbook_file):
        if not (LOBSTER_DIR / name).is_file():
            return (
                f"LOBSTER sample file {LOBSTER_DIR / name} is missing. The replay reads real "
                f"Nasdaq order flow from shared/data/lobster/ beside the repository checkout "
                f"(expected at {LOBSTER_DIR}); put the `shared/` folder next to the repository."
            )
    return None


def parse_ts_ns(seconds_after_midnight: str) -> int:
    whole, _, fraction = seconds_after_midnight.partition(".")
    return SESSION_MIDNIGHT_NS + int(whole) * 1_000_000_000 + int(fraction.ljust(9, "0")[:9])


def read_messages(sample: Sample) -> list[Message]:
    with (LOBSTER_DIR / sample.message_file).open(newline="") as rows:
        return [
            Message(
                number,
                parse_ts_ns(row[0]),
                int(row[1]),
                int(row[2]),
                int(row[3]),
                int(row[4]) // 100,
                Side.BUY if row[5] == "1" else Side.SELL,
            )
            for number, row in enumerate(csv.reader(rows), start=1)
        ]


def read_books(sample: Sample) -> list[RecordedBook]:
    books = []
    with (LOBSTER_DIR / sample.orderbook_file).open(newline="") as rows:
        for row in csv.reader(rows):
            values = [int(value) for value in row]
            assert len(values) == 4 * sample.levels, f"{sample.orderbook_file}: {row}"
            asks, bids = [], []
            for level in range(sample.levels):
                ask_price, ask_size, bid_price, bid_size = values[4 * level : 4 * level + 4]
                if ask_size and ask_price != EMPTY_LEVEL_PRICE:
                    asks.append((ask_price // 100, ask_size))
                if bid_size and bid_price != -EMPTY_LEVEL_PRICE:
                    bids.append((bid_price // 100, bid_size))
            books.append(RecordedBook(tuple(bids), tuple(asks)))
    return books


def is_worse(side: Side, price: int, than: int) -> bool:
    return price < than if side is Side.BUY else price > than


def best_first(side: Side, levels: dict[int, int]) -> list[Level]:
    return sorted(levels.items(), reverse=side is Side.BUY)


# -- the replay's view of the book --------------------------------------------------------------


class ShadowBook:
    """What the replay expects the engine to hold, queue order included."""

    def __init__(self) -> None:
        self.levels: dict[Side, dict[int, dict[int, Resting]]] = {Side.BUY: {}, Side.SELL: {}}
        self.prices: dict[Side, list[int]] = {Side.BUY: [], Side.SELL: []}
        self.where: dict[int, tuple[Side, int]] = {}
        self.by_lobster_id: dict[int, Resting] = {}

    def queue(self, side: Side, price: int) -> dict[int, Resting]:
        return self.levels[side].get(price, {})

    def lots_at(self, side: Side, price: int) -> int:
        return sum(resting.leaves for resting in self.queue(side, price).values())

    def append(self, side: Side, price: int, resting: Resting) -> None:
        queue = self.levels[side].get(price)
        if queue is None:
            queue = self.levels[side][price] = {}
            bisect.insort(self.prices[side], price)
        queue[resting.engine_id] = resting
        self.where[resting.engine_id] = (side, price)
        if resting.lobster_id is not None:
            self.by_lobster_id[resting.lobster_id] = resting

    def remove(self, resting: Resting) -> None:
        side, price = self.where.pop(resting.engine_id)
        queue = self.levels[side][price]
        del queue[resting.engine_id]
        if not queue:
            del self.levels[side][price]
            prices = self.prices[side]
            del prices[bisect.bisect_left(prices, price)]
        self.forget_identity(resting)

    def forget_identity(self, resting: Resting) -> None:
        if resting.lobster_id is not None:
            del self.by_lobster_id[resting.lobster_id]
            resting.lobster_id = None

    def prices_beyond(self, side: Side, boundary: int, last: int | None) -> list[int]:
        """Prices worse than `boundary` and, when `last` is given, no worse than `last`."""
        prices = self.prices[side]
        if side is Side.BUY:
            low = 0 if last is None else bisect.bisect_left(prices, last)
            return prices[low : bisect.bisect_left(prices, boundary)]
        high = len(prices) if last is None else bisect.bisect_right(prices, last)
        return prices[bisect.bisect_right(prices, boundary) : high]

    def working(self) -> Iterator[Resting]:
        for side_levels in self.levels.values():
            for queue in side_levels.values():
                yield from queue.values()


# -- the replay ---------------------------------------------------------------------------------


class Replay:
    def __init__(self, sample: Sample, messages: list[Message], books: list[RecordedBook]) -> None:
        self.sample = sample
        self.symbol = sample.symbol
        self.messages = messages
        self.books = books
        self.engine = Engine()
        self.shadow = ShadowBook()
        self.report = ReplayReport(messages=len(messages))
        # Lots that later messages will still ask of each named order.
        self.still_needed: Counter[int] = Counter()
        for message in messages:
            if message.event_type in (PARTIAL_CANCEL, DELETION, EXECUTION):
                self.still_needed[message.lobster_id] += message.shares
        # The worst visible price of each side, None when the file showed the whole side.
        self.boundary: dict[Side, int | None] = {Side.BUY: None, Side.SELL: None}
        self.ts_ns = messages[0].ts_ns
        self.label = "seed"
        self.command_count = 0

    def run(self) -> ReplayReport:
        self.apply(
            DefineInstrument(command_id=f"{self.symbol}-define", ts_ns=0, symbol=self.symbol)
        )
        message = None
        try:
            self.seed()
            for message, book in zip(self.messages, self.books, strict=True):
                self.ts_ns = message.ts_ns
                self.label = f"{self.symbol}-{message.number}"
                self.report.message_types[message.event_type] += 1
                self.replay(message)
                self.reveal(book)
                self.compare(book)
            self.check_final_orders()
        except Divergence as divergence:
            where = "seeding" if message is None else f"message {message.number} {message}"
            self.report.divergence = f"{self.sample.message_file}, {where}: {divergence}"
        self.report.commands = self.command_count
        return self.report

    # -- message by message

    def seed(self) -> None:
        """The book before the first message: the first recorded book with it undone."""
        first, book = self.messages[0], self.books[0]
        for side in Side:
            levels = dict(book.side(side))
            if first.side is side and first.event_type == NEW_ORDER:
                levels[first.price_ticks] -= first.shares
            elif first.side is side and first.event_type in (PARTIAL_CANCEL, DELETION, EXECUTION):
                levels[first.price_ticks] = levels.get(first.price_ticks, 0) + first.shares
            before = [(price, lots) for price, lots in best_first(side, levels) if lots > 0]
            for price, lots in before:
                self.rest(side, price, lots, None)
                self.report.orders_seeded += 1
            if len(before) >= self.sample.levels:
                self.boundary[side] = before[self.sample.levels - 1][0]

    def replay(self, message: Message) -> None:
        if message.event_type not in (NEW_ORDER, PARTIAL_CANCEL, DELETION, EXECUTION):
            return
        self.still_needed[message.lobster_id] -= (
            0 if message.event_type == NEW_ORDER else message.shares
        )
        named = self.shadow.by_lobster_id.get(message.lobster_id)
        if named is not None:
            named.uncertain = False
        side, price, shares = message.side, message.price_ticks, message.shares
        if message.event_type == NEW_ORDER:
            if named is not None:
                raise Divergence(f"order {message.lobster_id} arrives a second time")
            self.rest(side, price, shares, message.lobster_id)
        elif message.event_type == EXECUTION:
            self.replay_execution(message, named)
        elif named is None:
            self.take_unnamed(side, price, shares)
        elif message.event_type == PARTIAL_CANCEL or named.leaves <= shares:
            from_named = min(shares, named.leaves)
            self.take(named, from_named)
            self.take_unnamed(side, price, shares - from_named)
        else:
            # A deletion smaller than the lots the replay gave the order: the rest belongs to
            # orders it could not name.
            self.take(named, shares)
            self.shadow.forget_identity(named)

    def replay_execution(self, message: Message, named: Resting | None) -> None:
        side, price, shares = message.side, message.price_ticks, message.shares
        if named is not None and named.leaves >= shares:
            self.report.executions_of_the_named_order += 1
            self.execute(message, [named])
        elif named is not None:
            self.report.executions_partly_unnamed += 1
            unnamed = self.choose_unnamed(side, price, shares - named.leaves, exclude=named)
            self.execute(message, [named, *unnamed])
        else:
            self.report.executions_of_unnamed_orders += 1
            self.execute(message, self.choose_unnamed(side, price, shares))

    def reveal(self, book: RecordedBook) -> None:
        """Make levels that just came into view hold what the recorded book shows there."""
        for side in Side:
            recorded = book.side(side)
            previous = self.boundary[side]
            full = len(recorded) >= self.sample.levels
            self.boundary[side] = recorded[-1][0] if full else None
            if previous is None:
                continue
            wanted = {price: lots for price, lots in recorded if is_worse(side, price, previous)}
            prices = set(self.shadow.prices_beyond(side, previous, self.boundary[side]))
            for price in sorted(prices | set(wanted)):
                for resting in self.shadow.queue(side, price).values():
                    resting.uncertain = resting.lobster_id is not None
                held, want = self.shadow.lots_at(side, price), wanted.get(price, 0)
                if held < want:
                    self.rest(side, price, want - held, None)
                    self.report.orders_revealed += 1
                elif held > want:
                    self.take_unnamed(side, price, held - want)
                    self.report.lots_left_unseen += held - want

    def compare(self, book: RecordedBook) -> None:
        """The engine's visible levels are the recorded ones, each with as many orders as the
        replay placed there."""
        for side in Side:
            depth = self.engine.depth(self.symbol, side, self.sample.levels)
            shown = [(price, lots) for price, lots, _ in depth]
            if shown != list(book.side(side)):
                raise Divergence(f"{side} depth is {shown}, the file shows {list(book.side(side))}")
            counts = [count for _, _, count in depth]
            placed = [len(self.shadow.queue(side, price)) for price, _ in shown]
            if counts != placed:
                raise Divergence(f"{side} levels {shown} hold {counts} orders, not {placed}")
        self.report.books_compared += 1

    def check_final_orders(self) -> None:
        for resting in self.shadow.working():
            order = self.engine.orders.get(resting.engine_id)
            if order is None or order.leaves_lots != resting.leaves:
                self.report.engine_orders_unexplained.append(
                    f"order {resting.engine_id} should work with {resting.leaves} lots: {order}"
                )
        expected = {resting.engine_id for resting in self.shadow.working()}
        for order_id in set(self.engine.orders) - expected:
            self.report.engine_orders_unexplained.append(f"order {order_id} should not work")

    # -- choosing orders the files do not name

    def surplus(self, resting: Resting) -> int:
        """Lots of an order that no later message will ask for."""
        if resting.lobster_id is None:
            return resting.leaves
        return max(0, resting.leaves - self.still_needed[resting.lobster_id])

    def unnamed_candidates(self, side: Side, price: int) -> list[Resting]:
        """Orders at a price whose lots the files may not name: unnamed ones and uncertain ones
        with lots no later message asks for, in queue order; then uncertain ones still needed."""
        queue = list(self.shadow.queue(side, price).values())
        spare = [r for r in queue if r.lobster_id is None or (r.uncertain and self.surplus(r))]
        needed = [r for r in queue if r.uncertain and not self.surplus(r)]
        return spare + needed

    def take_unnamed(self, side: Side, price: int, lots: int) -> None:
        """Remove lots that left without a trade from orders the files do not name: first what
        no later message needs, then the rest."""
        candidates = self.unnamed_candidates(side, price)
        plan: dict[int, int] = {}
        for resting in candidates:
            share = min(lots - sum(plan.values()), self.surplus(resting))
            if share > 0:
                plan[resting.engine_id] = share
        for resting in candidates:
            share = min(lots - sum(plan.values()), resting.leaves - plan.get(resting.engine_id, 0))
            if share > 0:
                plan[resting.engine_id] = plan.get(resting.engine_id, 0) + share
        if sum(plan.values()) < lots:
            raise Divergence(f"{lots} unseen lots at {side} {price} but only {plan} to take")
        for resting in candidates:
            if resting.engine_id in plan:
                self.take(resting, plan[resting.engine_id])

    def choose_unnamed(
        self, side: Side, price: int, lots: int, exclude: Resting | None = None
    ) -> list[Resting]:
        chosen: list[Resting] = []
        for resting in self.unnamed_candidates(side, price):
            if sum(r.leaves for r in chosen) >= lots:
                break
            if resting is not exclude:
                chosen.append(resting)
        if sum(r.leaves for r in chosen) < lots:
            raise Divergence(f"{lots} lots executed at {side} {price} but only {chosen} unnamed")
        return chosen

    # -- commands

    def apply(self, command: Command) -> list[Event]:
        self.command_count += 1
        return self.engine.apply(command)

    def next_command_id(self, what: str) -> str:
        return f"{self.label}-{what}-{self.command_count + 1}"

    def rest(self, side: Side, price: int, lots: int, lobster_id: int | None) -> Resting:
        command_id = self.next_command_id("rest")
        command = NewOrder(
            command_id=command_id,
            ts_ns=self.ts_ns,
            user_id=BOOK_USER,
            account=BOOK_ACCOUNT,
            symbol=self.symbol,
            side=side,
            order_type=OrderType.LIMIT,
            time_in_force=TimeInForce.GTC,
            price_ticks=price,
            qty_lots=lots,
            # Unique per entry: an order moved to the back re-enters under a new client id.
            client_order_id=f"{lobster_id or 'unnamed'}-{command_id}",
        )
        events = self.apply(command)
        outcome = events[0]
        if not isinstance(outcome, OrderAccepted) or [e.kind for e in events[1:]] != ["book_delta"]:
            raise Divergence(f"{command} should rest untouched, got {events}")
        resting = Resting(outcome.order_id, lobster_id, lots)
        self.shadow.append(side, price, resting)
        return resting

    def take(self, resting: Resting, lots: int) -> None:
        """Take lots off a resting order without trading: cancel it when that is all it has,
        else reduce it in place (it keeps its time priority)."""
        if lots == 0:
            return
        price = self.shadow.where[resting.engine_id][1]
        if lots == resting.leaves:
            events = self.apply(
                CancelOrder(
                    command_id=self.next_command_id("cancel"),
                    ts_ns=self.ts_ns,
                    user_id=BOOK_USER,
                    order_id=resting.engine_id,
                )
            )
            outcome = events[0]
            if not (
                isinstance(outcome, OrderCancelled)
                and outcome.reason is Reason.CANCELLED_BY_USER
                and outcome.cancelled_lots == lots
            ):
                raise Divergence(f"cancelling order {resting.engine_id} gave {events}")
            self.shadow.remove(resting)
            return
        events = self.apply(
            ModifyOrder(
                command_id=self.next_command_id("reduce"),
                ts_ns=self.ts_ns,
                user_id=BOOK_USER,
                order_id=resting.engine_id,
                price_ticks=price,
                qty_lots=resting.leaves - lots,
            )
        )
        outcome = events[0]
        if not (
            isinstance(outcome, OrderModified)
            and outcome.kept_priority
            and outcome.leaves_lots == resting.leaves - lots
            and [e.kind for e in events[1:]] == ["book_delta"]
        ):
            raise Divergence(f"reducing order {resting.engine_id} by {lots} gave {events}")
        resting.leaves -= lots

    def move_to_back(self, resting: Resting) -> None:
        side, price = self.shadow.where[resting.engine_id]
        lobster_id, leaves, uncertain = resting.lobster_id, resting.leaves, resting.uncertain
        self.take(resting, leaves)
        self.rest(side, price, leaves, lobster_id).uncertain = uncertain

    def execute(self, message: Message, makers: list[Resting]) -> None:
        """An IOC of the street for the executed size must trade `makers`, in queue order.

        Orders in front of them are moved to the back first. LOBSTER ids grow with arrival, so
        a named order younger than the executed one was behind it all along (the replay had
        placed unseen lots behind it); an older one was printed out of time priority."""
        side, price, lots = message.side, message.price_ticks, message.shares
        chosen = {resting.engine_id for resting in makers}
        queue = list(self.shadow.queue(side, price).values())
        in_order = [resting for resting in queue if resting.engine_id in chosen]
        expected: list[tuple[int, int]] = []
        for resting in in_order:
            take = min(resting.leaves, lots - sum(qty for _, qty in expected))
            if take == 0:
                break
            expected.append((resting.engine_id, take))
        last = expected[-1][0]
        for resting in queue:
            if resting.engine_id == last:
                break
            if resting.engine_id not in chosen:
                if (
                    resting.lobster_id is None
                    or resting.uncertain
                    or resting.lobster_id > message.lobster_id
                ):
                    self.report.moved_back_hidden += 1
                else:
                    self.report.moved_back_out_of_priority += 1
                self.move_to_back(resting)
        command = NewOrder(
            command_id=self.next_command_id("take"),
            ts_ns=self.ts_ns,
            user_id=STREET_USER,
            account=STREET_ACCOUNT,
            symbol=self.symbol,
            side=side.opposite,
            order_type=OrderType.LIMIT,
            time_in_force=TimeInForce.IOC,
            price_ticks=price,
            qty_lots=lots,
            client_order_id=f"street-{self.command_count + 1}",
        )
        events = self.apply(command)
        traded = [
            (e.maker_order_id, e.price_ticks, e.qty_lots) for e in events if isinstance(e, Trade)
        ]
        wanted = [(order_id, price, qty) for order_id, qty in expected]
        others = [e.kind for e in events if not isinstance(e, Trade)]
        if traded != wanted or others != ["order_accepted", "book_delta"]:
            raise Divergence(
                f"the street's IOC {command.command_id} to {command.side} {lots} at {price} "
                f"should trade (maker id, price, lots) {wanted} and fill; it traded {traded} "
                f"with {others}"
            )
        queue_now = self.shadow.queue(side, price)
        for order_id, qty in expected:
            resting = queue_now[order_id]
            resting.leaves -= qty
            if resting.leaves == 0:
                self.shadow.remove(resting)


def replay_sample(sample: Sample) -> ReplayReport:
    problem = missing_data(sample)
    if problem is not None:
        return ReplayReport(divergence=problem)
    messages, books = read_messages(sample), read_books(sample)
    assert len(messages) == len(books), f"{sample.symbol}: one recorded book per message"
    return Replay(sample, messages, books).run()


@pytest.fixture(scope="module", params=SAMPLES, ids=[sample.symbol for sample in SAMPLES])
def sample(request: pytest.FixtureRequest) -> Sample:
    chosen: Sample = request.param
    return chosen


@pytest.fixture(scope="module")
def replay(sample: Sample) -> ReplayReport:
    """Each file is replayed once per module, whichever of its tests ask for it."""
    return replay_sample(sample)


def replayed_without_divergence(replay: ReplayReport) -> None:
    if replay.divergence is not None:
        pytest.fail(replay.divergence, pytrace=False)


def test_the_sample_files_are_found_beside_the_repository(sample: Sample) -> None:
    problem = missing_data(sample)
    if problem is not None:
        pytest.fail(problem, pytrace=False)


def test_the_engine_shows_the_recorded_book_after_every_message(replay: ReplayReport) -> None:
    replayed_without_divergence(replay)
    assert replay.books_compared == replay.messages


def test_every_visible_execution_trades_the_resting_order_it_names(
    replay: ReplayReport, sample: Sample
) -> None:
    replayed_without_divergence(replay)
    assert replay.messages == sample.messages
    assert replay.executions_of_the_named_order == sample.executions_of_named_orders
    assert replay.executions_of_unnamed_orders == sample.executions_of_unnamed_orders
    assert replay.executions_partly_unnamed == 0
    assert (
        replay.executions_of_the_named_order + replay.executions_of_unnamed_orders
        == replay.message_types[EXECUTION]
    )


def test_only_a_few_executions_are_printed_out_of_time_priority(
    replay: ReplayReport, sample: Sample
) -> None:
    replayed_without_divergence(replay)
    assert replay.moved_back_out_of_priority == sample.printed_out_of_priority


def test_the_engine_holds_exactly_the_expected_orders_when_the_file_ends(
    replay: ReplayReport,
) -> None:
    replayed_without_divergence(replay)
    assert replay.engine_orders_unexplained == []
