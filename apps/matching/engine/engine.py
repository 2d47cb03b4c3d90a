"""The engine: applies one command at a time and returns the events it caused.

Stages, in the order an order meets them: validate → match against the book → rest or cancel
the remainder. Every command yields exactly one outcome event first (accepted, rejected,
cancelled, defined), then its consequences (trades, cancellations, book deltas).
"""

from dataclasses import dataclass

from apps.matching.engine.book import Level, OrderBook, RestingOrder
from apps.matching.engine.commands import (
    CancelOrder,
    Command,
    DefineInstrument,
    NewOrder,
    Unparseable,
)
from apps.matching.engine.events import (
    BookDelta,
    CancelRejected,
    CommandRejected,
    Event,
    InstrumentDefined,
    LevelChange,
    OrderAccepted,
    OrderCancelled,
    OrderRejected,
    Trade,
)
from apps.matching.engine.types import OrderType, Reason, Side, TimeInForce


@dataclass(slots=True)
class InstrumentState:
    symbol: str
    min_qty_lots: int
    max_qty_lots: int
    is_open: bool
    book: OrderBook


class Engine:
    """All state of one shard. `order_id_base` keeps order ids unique across shards."""

    def __init__(self, shard: int = 0, order_id_base: int = 0) -> None:
        self.shard = shard
        self.seq = 0
        # The command itself takes a place in the sequence before its events, so that the
        # log of commands and events together is gapless.
        self.last_command_seq = 0
        self._order_id_base = order_id_base
        self._orders_issued = 0
        self._trades_issued = 0
        self.instruments: dict[str, InstrumentState] = {}
        self.orders: dict[int, RestingOrder] = {}
        self._order_symbol: dict[int, str] = {}
        # Per-command scratch: the events being produced and the levels touched.
        self._events: list[Event] = []
        self._touched: dict[tuple[str, Side, int], None] = {}

    # -- public API -------------------------------------------------------------------------

    def apply(self, command: Command) -> list[Event]:
        """Apply one command; return its outcome event followed by its consequences."""
        self._events = []
        self._touched = {}
        self.last_command_seq = self._next_seq()
        if isinstance(command, NewOrder):
            self._new_order(command)
        elif isinstance(command, CancelOrder):
            self._cancel_order(command)
        elif isinstance(command, DefineInstrument):
            self._define_instrument(command)
        elif isinstance(command, Unparseable):
            self._emit(
                CommandRejected(
                    self._next_seq(),
                    command.ts_ns,
                    command.command_id,
                    command.user_id,
                    Reason.MALFORMED_COMMAND,
                    f"The command could not be read: {command.error}.",
                )
            )
        else:  # pragma: no cover - the union above is exhaustive
            raise TypeError(f"unknown command {command!r}")
        self._emit_book_deltas(command)
        events, self._events = self._events, []
        return events

    def depth(
        self, symbol: str, side: Side, levels: int | None = None
    ) -> list[tuple[int, int, int]]:
        return self.instruments[symbol].book.depth(side, levels)

    def book_seq(self, symbol: str) -> int:
        return self.instruments[symbol].book.book_seq

    # -- commands ---------------------------------------------------------------------------

    def _define_instrument(self, cmd: DefineInstrument) -> None:
        state = self.instruments.get(cmd.symbol)
        if state is None:
            self.instruments[cmd.symbol] = InstrumentState(
                cmd.symbol, cmd.min_qty_lots, cmd.max_qty_lots, cmd.is_open, OrderBook(cmd.symbol)
            )
        else:
            state.min_qty_lots = cmd.min_qty_lots
            state.max_qty_lots = cmd.max_qty_lots
            state.is_open = cmd.is_open
        self._emit(
            InstrumentDefined(
                self._next_seq(),
                cmd.ts_ns,
                cmd.command_id,
                cmd.symbol,
                cmd.min_qty_lots,
                cmd.max_qty_lots,
                cmd.is_open,
            )
        )

    def _new_order(self, cmd: NewOrder) -> None:
        rejection = self._validate(cmd)
        if rejection is not None:
            reason, message = rejection
            self._emit(
                OrderRejected(
                    self._next_seq(),
                    cmd.ts_ns,
                    cmd.command_id,
                    cmd.user_id,
                    cmd.account,
                    cmd.symbol,
                    cmd.client_order_id,
                    reason,
                    message,
                )
            )
            return
        book = self.instruments[cmd.symbol].book
        if cmd.time_in_force is TimeInForce.FOK:
            available = book.side(cmd.side.opposite).lots_available(cmd.price_ticks)
            if available < cmd.qty_lots:
                self._emit(
                    OrderRejected(
                        self._next_seq(),
                        cmd.ts_ns,
                        cmd.command_id,
                        cmd.user_id,
                        cmd.account,
                        cmd.symbol,
                        cmd.client_order_id,
                        Reason.FOK_NOT_FILLABLE,
                        f"Fill-or-kill order for {cmd.qty_lots} lots cannot be filled at once: "
                        f"only {available} lots are available at the limit price.",
                    )
                )
                return
        self._orders_issued += 1
        order_id = self._order_id_base + self._orders_issued
        self._emit(
            OrderAccepted(
                self._next_seq(),
                cmd.ts_ns,
                cmd.command_id,
                order_id,
                cmd.user_id,
                cmd.account,
                cmd.symbol,
                cmd.side,
                cmd.order_type,
                cmd.time_in_force,
                cmd.price_ticks,
                cmd.qty_lots,
                cmd.client_order_id,
            )
        )
        taker = RestingOrder(
            order_id,
            cmd.user_id,
            cmd.account,
            cmd.side,
            cmd.price_ticks,
            cmd.qty_lots,
            cmd.time_in_force,
        )
        self._match(book, taker, cmd)
        if taker.leaves_lots == 0:
            return
        if cmd.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
            self._emit(
                OrderCancelled(
                    self._next_seq(),
                    cmd.ts_ns,
                    cmd.command_id,
                    order_id,
                    cmd.user_id,
                    cmd.account,
                    cmd.symbol,
                    taker.leaves_lots,
                    Reason.IOC_REMAINDER,
                )
            )
            return
        book.side(cmd.side).add(taker)
        self.orders[order_id] = taker
        self._order_symbol[order_id] = cmd.symbol
        self._touch(cmd.symbol, cmd.side, cmd.price_ticks)

    def _cancel_order(self, cmd: CancelOrder) -> None:
        order = self.orders.get(cmd.order_id)
        if order is None:
            self._emit(
                CancelRejected(
                    self._next_seq(),
                    cmd.ts_ns,
                    cmd.command_id,
                    cmd.user_id,
                    cmd.order_id,
                    Reason.ORDER_NOT_FOUND,
                    f"Order {cmd.order_id} is not working: it is unknown, filled or cancelled.",
                )
            )
            return
        if order.user_id != cmd.user_id:
            self._emit(
                CancelRejected(
                    self._next_seq(),
                    cmd.ts_ns,
                    cmd.command_id,
                    cmd.user_id,
                    cmd.order_id,
                    Reason.NOT_ORDER_OWNER,
                    f"Order {cmd.order_id} belongs to another trader.",
                )
            )
            return
        symbol = self._order_symbol.pop(cmd.order_id)
        del self.orders[cmd.order_id]
        self.instruments[symbol].book.side(order.side).remove(order)
        self._touch(symbol, order.side, order.price_ticks)
        self._emit(
            OrderCancelled(
                self._next_seq(),
                cmd.ts_ns,
                cmd.command_id,
                order.order_id,
                order.user_id,
                order.account,
                symbol,
                order.leaves_lots,
                Reason.CANCELLED_BY_USER,
            )
        )

    # -- stages -----------------------------------------------------------------------------

    def _validate(self, cmd: NewOrder) -> tuple[Reason, str] | None:
        state = self.instruments.get(cmd.symbol)
        if state is None:
            return Reason.UNKNOWN_INSTRUMENT, f"Instrument {cmd.symbol!r} is not traded here."
        if not state.is_open:
            return Reason.INSTRUMENT_CLOSED, f"{cmd.symbol} is not open for trading."
        if cmd.order_type is not OrderType.LIMIT:
            return Reason.UNSUPPORTED_ORDER_TYPE, f"Order type {cmd.order_type} is not supported."
        if cmd.price_ticks <= 0:
            return Reason.INVALID_PRICE, "The price must be positive."
        if cmd.qty_lots <= 0:
            return Reason.INVALID_QUANTITY, "The quantity must be a positive whole number of lots."
        if not state.min_qty_lots <= cmd.qty_lots <= state.max_qty_lots:
            return (
                Reason.QUANTITY_OUT_OF_RANGE,
                f"The quantity must be between {state.min_qty_lots} and "
                f"{state.max_qty_lots} lots for {cmd.symbol}.",
            )
        return None

    def _match(self, book: OrderBook, taker: RestingOrder, cmd: NewOrder) -> None:
        contra = book.side(taker.side.opposite)
        while taker.leaves_lots and contra.crosses(taker.price_ticks):
            level = contra.best_level()
            assert level is not None  # crosses() saw a best price
            self._trade_level(book.symbol, level, taker, cmd)
            if not level.orders:
                contra.drop_level(level)

    def _trade_level(self, symbol: str, level: Level, taker: RestingOrder, cmd: NewOrder) -> None:
        """Trade the taker against one level, oldest order first (time priority)."""
        self._touch(symbol, taker.side.opposite, level.price_ticks)
        while taker.leaves_lots and level.orders:
            maker = next(iter(level.orders.values()))
            lots = min(maker.leaves_lots, taker.leaves_lots)
            maker.leaves_lots -= lots
            taker.leaves_lots -= lots
            level.total_lots -= lots
            if maker.leaves_lots == 0:
                del level.orders[maker.order_id]
                del self.orders[maker.order_id]
                del self._order_symbol[maker.order_id]
            self._trades_issued += 1
            self._emit(
                Trade(
                    self._next_seq(),
                    cmd.ts_ns,
                    cmd.command_id,
                    self._trades_issued,
                    symbol,
                    level.price_ticks,
                    lots,
                    taker.side,
                    maker.order_id,
                    maker.user_id,
                    maker.account,
                    maker.leaves_lots,
                    taker.order_id,
                    taker.user_id,
                    taker.account,
                    taker.leaves_lots,
                )
            )

    # -- plumbing ---------------------------------------------------------------------------

    def _next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def _emit(self, event: Event) -> None:
        self._events.append(event)

    def _touch(self, symbol: str, side: Side, price_ticks: int) -> None:
        self._touched[(symbol, side, price_ticks)] = None

    def _emit_book_deltas(self, cmd: Command) -> None:
        """One delta per instrument whose levels this command changed, in touch order."""
        by_symbol: dict[str, list[LevelChange]] = {}
        for symbol, side, price in self._touched:
            level = self.instruments[symbol].book.side(side).levels.get(price)
            change = (
                LevelChange(side, price, level.total_lots, len(level.orders))
                if level is not None
                else LevelChange(side, price, 0, 0)
            )
            by_symbol.setdefault(symbol, []).append(change)
        for symbol, changes in by_symbol.items():
            book = self.instruments[symbol].book
            book.book_seq += 1
            self._emit(
                BookDelta(
                    self._next_seq(),
                    cmd.ts_ns,
                    cmd.command_id,
                    symbol,
                    book.book_seq,
                    tuple(changes),
                )
            )
