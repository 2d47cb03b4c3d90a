"""A deliberately simple order book implementing docs/engine-semantics.md, to test the engine by.

Everything is recomputed from a flat dict of working orders: a side of a book is the list of
resting orders of that symbol and side, sorted by (price, priority), rebuilt on every look.
Priority is one counter that every order entering the back of a level takes a new value from
(resting, re-entering after a modify, showing a new iceberg slice).

Events are built with the engine's own event classes. A book delta lists every level the
command touched (an order rested, left, traded, was reduced or modified there), changed or not,
with its final displayed aggregate.

Where the contract leaves room, this book reads it so:
- `StopTriggered.trigger_price_ticks` is the last trade price that reached the stop.
- Stops are looked at once the incoming order is done (rested or its rest cancelled).
- A FOK's "walk in priority order" is a dry run of the match: an iceberg counts whole, slice by
  slice, each new slice queueing at the back of its level, so an own-key order behind a slice is
  met where the match would meet it (the FOK then is all or nothing, as the contract promises).
- "A post-only order that would trade" is one whose price reaches the opposite touch, whoever
  owns the order there.
- A modify that keeps priority cuts an iceberg's current slice to the new leaves; only an order
  re-entering after a modify shows a fresh `min(display, leaves)` slice. A self-trade decrement
  likewise cuts a resting iceberg's slice to what it has left.
"""

from dataclasses import dataclass, field

from apps.matching.engine.commands import (
    CancelOrder,
    Command,
    DefineInstrument,
    ExpireOrders,
    MassCancel,
    ModifyOrder,
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
    MassCancelDone,
    ModifyRejected,
    OrderAccepted,
    OrderCancelled,
    OrderModified,
    OrderReduced,
    OrderRejected,
    OrdersExpired,
    StopTriggered,
    Trade,
)
from apps.matching.engine.types import OrderType, Reason, Side, StpMode, TimeInForce

Level = tuple[Side, int]

RESTING_TIFS = (TimeInForce.DAY, TimeInForce.GTC)
PRICED_TYPES = (OrderType.LIMIT, OrderType.STOP_LIMIT)
MARKET_TYPES = (OrderType.MARKET, OrderType.STOP)
STOP_TYPES = (OrderType.STOP, OrderType.STOP_LIMIT)


@dataclass(slots=True)
class Instrument:
    symbol: str
    min_qty_lots: int
    max_qty_lots: int
    is_open: bool
    protection_ticks: int
    protection_bps: int
    book_seq: int = 0
    last_trade_price: int | None = None


@dataclass(slots=True)
class Order:
    order_id: int
    user_id: int
    account: str
    symbol: str
    side: Side
    order_type: OrderType
    time_in_force: TimeInForce
    price_ticks: int
    stop_price_ticks: int
    display_qty_lots: int
    post_only: bool
    stp_mode: StpMode
    stp_key: str
    leaves_lots: int
    shown_lots: int = 0
    priority: int = 0
    waiting: bool = False


@dataclass(slots=True)
class _Maker:
    """A maker as a FOK's dry run sees it."""

    price_ticks: int
    priority: int
    shown_lots: int
    leaves_lots: int
    order: Order


@dataclass(slots=True)
class _Context:
    command_id: str
    ts_ns: int
    events: list[Event] = field(default_factory=list)
    # Per symbol, the levels touched, in the order first touched.
    touched: dict[str, dict[Level, None]] = field(default_factory=dict)


def crosses(taker_side: Side, limit_ticks: int, maker_price_ticks: int) -> bool:
    """Whether a taker on `taker_side` limited at `limit_ticks` can trade at the maker's price."""
    if taker_side is Side.BUY:
        return maker_price_ticks <= limit_ticks
    return maker_price_ticks >= limit_ticks


class ReferenceBook:
    """Applies commands like `Engine.apply` and answers `depth`, `orders`, `last_trade_price`."""

    def __init__(self, order_id_base: int = 0) -> None:
        self.seq = 0
        self.last_command_seq = 0
        self.order_id_base = order_id_base
        self.orders_issued = 0
        self.trades_issued = 0
        self.priorities_issued = 0
        self.instruments: dict[str, Instrument] = {}
        self.orders: dict[int, Order] = {}
        self._ctx = _Context("", 0)

    # -- reading --------------------------------------------------------------------------

    def resting(self, symbol: str, side: Side) -> list[Order]:
        """The resting orders of one side, in priority order (best price, then oldest)."""
        orders = [
            o
            for o in self.orders.values()
            if o.symbol == symbol and o.side is side and not o.waiting
        ]
        sign = -1 if side is Side.BUY else 1
        return sorted(orders, key=lambda o: (sign * o.price_ticks, o.priority))

    def depth(self, symbol: str, side: Side) -> list[tuple[int, int, int]]:
        levels: dict[int, list[int]] = {}
        for order in self.resting(symbol, side):
            level = levels.setdefault(order.price_ticks, [0, 0])
            level[0] += order.shown_lots
            level[1] += 1
        return [(price, qty, count) for price, (qty, count) in levels.items()]

    def last_trade_price(self, symbol: str) -> int | None:
        return self.instruments[symbol].last_trade_price

    def level(self, symbol: str, side: Side, price_ticks: int) -> tuple[int, int]:
        """A level's displayed lots and order count; (0, 0) when it is gone."""
        orders = [o for o in self.resting(symbol, side) if o.price_ticks == price_ticks]
        return sum(o.shown_lots for o in orders), len(orders)

    # -- applying -------------------------------------------------------------------------

    def apply(self, command: Command) -> list[Event]:
        self.last_command_seq = self._next_seq()
        self._ctx = _Context(command.command_id, command.ts_ns)
        if isinstance(command, NewOrder):
            self._new_order(command)
        elif isinstance(command, CancelOrder):
            self._cancel_order(command)
        elif isinstance(command, ModifyOrder):
            self._modify_order(command)
        elif isinstance(command, MassCancel):
            self._mass_cancel(command)
        elif isinstance(command, ExpireOrders):
            self._expire_orders(command)
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
                    command.error,
                )
            )
        else:
            raise TypeError(f"unknown command {command!r}")
        for symbol, levels in self._ctx.touched.items():
            instrument = self.instruments[symbol]
            instrument.book_seq += 1
            changes = tuple(
                LevelChange(side, price, *self.level(symbol, side, price)) for side, price in levels
            )
            self._emit(
                BookDelta(
                    self._next_seq(),
                    command.ts_ns,
                    command.command_id,
                    symbol,
                    instrument.book_seq,
                    changes,
                )
            )
        return self._ctx.events

    # -- commands -------------------------------------------------------------------------

    def _define_instrument(self, cmd: DefineInstrument) -> None:
        instrument = self.instruments.get(cmd.symbol)
        if instrument is None:
            instrument = Instrument(cmd.symbol, 0, 0, False, 0, 0)
            self.instruments[cmd.symbol] = instrument
        instrument.min_qty_lots = cmd.min_qty_lots
        instrument.max_qty_lots = cmd.max_qty_lots
        instrument.is_open = cmd.is_open
        instrument.protection_ticks = cmd.protection_ticks
        instrument.protection_bps = cmd.protection_bps
        self._emit(
            InstrumentDefined(
                self._next_seq(),
                cmd.ts_ns,
                cmd.command_id,
                cmd.symbol,
                cmd.min_qty_lots,
                cmd.max_qty_lots,
                cmd.is_open,
                cmd.protection_ticks,
                cmd.protection_bps,
            )
        )

    def _new_order(self, cmd: NewOrder) -> None:
        reason = self._validate(cmd)
        if reason is not None:
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
                    "",
                )
            )
            return
        self.orders_issued += 1
        order = Order(
            order_id=self.order_id_base + self.orders_issued,
            user_id=cmd.user_id,
            account=cmd.account,
            symbol=cmd.symbol,
            side=cmd.side,
            order_type=cmd.order_type,
            time_in_force=cmd.time_in_force,
            price_ticks=cmd.price_ticks,
            stop_price_ticks=cmd.stop_price_ticks,
            display_qty_lots=cmd.display_qty_lots,
            post_only=cmd.post_only,
            stp_mode=cmd.stp_mode,
            stp_key=cmd.stp_group or cmd.account,
            leaves_lots=cmd.qty_lots,
        )
        self._emit(
            OrderAccepted(
                self._next_seq(),
                cmd.ts_ns,
                cmd.command_id,
                order.order_id,
                cmd.user_id,
                cmd.account,
                cmd.symbol,
                cmd.side,
                cmd.order_type,
                cmd.time_in_force,
                cmd.price_ticks,
                cmd.qty_lots,
                cmd.client_order_id,
                cmd.stop_price_ticks,
                cmd.display_qty_lots,
                cmd.post_only,
                cmd.stp_mode,
                cmd.stp_group,
            )
        )
        if order.order_type in STOP_TYPES:
            order.waiting = True
            self.orders[order.order_id] = order
        else:
            self._execute(order)
        self._trigger_stops(cmd.symbol)

    def _validate(self, cmd: NewOrder) -> Reason | None:
        instrument = self.instruments.get(cmd.symbol)
        if instrument is None:
            return Reason.UNKNOWN_INSTRUMENT
        if not instrument.is_open:
            return Reason.INSTRUMENT_CLOSED
        if cmd.qty_lots <= 0:
            return Reason.INVALID_QUANTITY
        if not instrument.min_qty_lots <= cmd.qty_lots <= instrument.max_qty_lots:
            return Reason.QUANTITY_OUT_OF_RANGE
        priced = cmd.order_type in PRICED_TYPES
        if (cmd.price_ticks <= 0) if priced else (cmd.price_ticks != 0):
            return Reason.INVALID_PRICE
        stop = cmd.order_type in STOP_TYPES
        if (cmd.stop_price_ticks <= 0) if stop else (cmd.stop_price_ticks != 0):
            return Reason.INVALID_STOP_PRICE
        if not (cmd.display_qty_lots == 0 or 1 <= cmd.display_qty_lots <= cmd.qty_lots):
            return Reason.INVALID_DISPLAY_QUANTITY
        resting_tif = cmd.time_in_force in RESTING_TIFS
        if cmd.display_qty_lots and not (priced and resting_tif):
            return Reason.INVALID_ORDER
        if cmd.post_only and not (cmd.order_type is OrderType.LIMIT and resting_tif):
            return Reason.INVALID_ORDER
        if cmd.post_only and self._would_cross(cmd.symbol, cmd.side, cmd.price_ticks):
            return Reason.POST_ONLY_WOULD_TAKE
        contra = self.resting(cmd.symbol, cmd.side.opposite)
        if cmd.order_type is OrderType.MARKET and not contra:
            return Reason.NO_LIQUIDITY
        if cmd.time_in_force is TimeInForce.FOK and not stop:
            limit = (
                cmd.price_ticks
                if priced
                else self._protection_price(instrument, cmd.side, contra[0].price_ticks)
            )
            stp_key = cmd.stp_group or cmd.account
            if not self._fillable(contra, cmd.side, limit, cmd.qty_lots, stp_key, cmd.stp_mode):
                return Reason.FOK_NOT_FILLABLE
        return None

    def _cancel_order(self, cmd: CancelOrder) -> None:
        order = self.orders.get(cmd.order_id)
        reason = self._ownership(order, cmd.user_id)
        if order is None or reason is not None:
            self._emit(
                CancelRejected(
                    self._next_seq(),
                    cmd.ts_ns,
                    cmd.command_id,
                    cmd.user_id,
                    cmd.order_id,
                    reason or Reason.ORDER_NOT_FOUND,
                    "",
                )
            )
            return
        self._cancel(order, order.leaves_lots, Reason.CANCELLED_BY_USER)

    def _modify_order(self, cmd: ModifyOrder) -> None:
        order = self.orders.get(cmd.order_id)
        reason = self._ownership(order, cmd.user_id)
        if order is not None and reason is None:
            reason = self._modify_refusal(cmd, order)
        if order is None or reason is not None:
            self._emit(
                ModifyRejected(
                    self._next_seq(),
                    cmd.ts_ns,
                    cmd.command_id,
                    cmd.user_id,
                    cmd.order_id,
                    reason or Reason.ORDER_NOT_FOUND,
                    "",
                )
            )
            return
        kept = cmd.price_ticks == order.price_ticks and cmd.qty_lots <= order.leaves_lots
        self._emit(
            OrderModified(
                self._next_seq(),
                cmd.ts_ns,
                cmd.command_id,
                order.order_id,
                order.user_id,
                order.account,
                order.symbol,
                order.side,
                cmd.price_ticks,
                cmd.qty_lots,
                order.price_ticks,
                order.leaves_lots,
                kept,
            )
        )
        self._touch(order)
        if kept:
            # Keeping its place, an iceberg keeps its slice, cut to the new leaves: a fresh
            # slice is only ever shown at the back of the level.
            order.leaves_lots = cmd.qty_lots
            order.shown_lots = min(order.shown_lots, cmd.qty_lots)
            return
        del self.orders[order.order_id]
        order.price_ticks = cmd.price_ticks
        order.leaves_lots = cmd.qty_lots
        self._match(order, order.price_ticks)
        self._finish(order)
        self._trigger_stops(order.symbol)

    def _modify_refusal(self, cmd: ModifyOrder, order: Order) -> Reason | None:
        instrument = self.instruments[order.symbol]
        if not instrument.is_open:
            return Reason.INSTRUMENT_CLOSED
        if order.waiting:
            return Reason.INVALID_ORDER
        if cmd.price_ticks <= 0:
            return Reason.INVALID_PRICE
        if cmd.qty_lots <= 0:
            return Reason.INVALID_QUANTITY
        if cmd.qty_lots > instrument.max_qty_lots:
            return Reason.QUANTITY_OUT_OF_RANGE
        if (
            order.post_only
            and cmd.price_ticks != order.price_ticks
            and self._would_cross(order.symbol, order.side, cmd.price_ticks)
        ):
            return Reason.POST_ONLY_WOULD_TAKE
        return None

    def _mass_cancel(self, cmd: MassCancel) -> None:
        targets = [
            o
            for _, o in sorted(self.orders.items())
            if (cmd.any_owner or o.user_id == cmd.user_id)
            and (not cmd.account or o.account == cmd.account)
            and (not cmd.trader_user_id or o.user_id == cmd.trader_user_id)
            and (not cmd.symbol or o.symbol == cmd.symbol)
            and (cmd.side is None or o.side is cmd.side)
        ]
        self._emit(
            MassCancelDone(self._next_seq(), cmd.ts_ns, cmd.command_id, cmd.user_id, len(targets))
        )
        for order in targets:
            self._cancel(order, order.leaves_lots, Reason.MASS_CANCEL)

    def _expire_orders(self, cmd: ExpireOrders) -> None:
        targets = [
            o
            for _, o in sorted(self.orders.items())
            if o.time_in_force is cmd.time_in_force and (not cmd.symbol or o.symbol == cmd.symbol)
        ]
        self._emit(
            OrdersExpired(
                self._next_seq(), cmd.ts_ns, cmd.command_id, cmd.time_in_force, len(targets)
            )
        )
        for order in targets:
            self._cancel(order, order.leaves_lots, Reason.EXPIRED)

    # -- matching -------------------------------------------------------------------------

    def _execute(self, order: Order) -> None:
        """Match an accepted (or just triggered) order, then rest or cancel what is left."""
        contra = self.resting(order.symbol, order.side.opposite)
        if order.order_type in MARKET_TYPES:
            if not contra:
                self._cancel(order, order.leaves_lots, Reason.NO_LIQUIDITY)
                return
            instrument = self.instruments[order.symbol]
            limit = self._protection_price(instrument, order.side, contra[0].price_ticks)
        else:
            limit = order.price_ticks
        if order.time_in_force is TimeInForce.FOK and not self._fillable(
            contra, order.side, limit, order.leaves_lots, order.stp_key, order.stp_mode
        ):
            self._cancel(order, order.leaves_lots, Reason.FOK_NOT_FILLABLE)
            return
        self._match(order, limit)
        self._finish(order)

    def _match(self, taker: Order, limit: int) -> None:
        while taker.leaves_lots > 0:
            contra = self.resting(taker.symbol, taker.side.opposite)
            if not contra or not crosses(taker.side, limit, contra[0].price_ticks):
                return
            maker = contra[0]
            self._touch(maker)
            if maker.stp_key == taker.stp_key:
                self._prevent_self_trade(taker, maker)
                continue
            lots = min(maker.shown_lots, taker.leaves_lots)
            maker.shown_lots -= lots
            maker.leaves_lots -= lots
            taker.leaves_lots -= lots
            self.trades_issued += 1
            self.instruments[taker.symbol].last_trade_price = maker.price_ticks
            self._emit(
                Trade(
                    self._next_seq(),
                    self._ctx.ts_ns,
                    self._ctx.command_id,
                    self.trades_issued,
                    taker.symbol,
                    maker.price_ticks,
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
            if maker.leaves_lots == 0:
                del self.orders[maker.order_id]
            elif maker.shown_lots == 0:
                maker.shown_lots = self._slice(maker)
                maker.priority = self._next_priority()

    def _prevent_self_trade(self, taker: Order, maker: Order) -> None:
        mode = taker.stp_mode
        if mode is StpMode.CANCEL_RESTING:
            self._cancel(maker, maker.leaves_lots, Reason.SELF_TRADE_PREVENTED)
        elif mode is StpMode.CANCEL_AGGRESSOR:
            self._cancel(taker, taker.leaves_lots, Reason.SELF_TRADE_PREVENTED)
        elif mode is StpMode.CANCEL_BOTH:
            self._cancel(maker, maker.leaves_lots, Reason.SELF_TRADE_PREVENTED)
            self._cancel(taker, taker.leaves_lots, Reason.SELF_TRADE_PREVENTED)
        else:
            lots = min(maker.leaves_lots, taker.leaves_lots)
            self._decrement(maker, lots)
            self._decrement(taker, lots)

    def _decrement(self, order: Order, lots: int) -> None:
        if order.leaves_lots == lots:
            self._cancel(order, lots, Reason.SELF_TRADE_PREVENTED)
            return
        order.leaves_lots -= lots
        order.shown_lots = min(order.shown_lots, order.leaves_lots)
        self._emit(
            OrderReduced(
                self._next_seq(),
                self._ctx.ts_ns,
                self._ctx.command_id,
                order.order_id,
                order.user_id,
                order.account,
                order.symbol,
                lots,
                order.leaves_lots,
                Reason.SELF_TRADE_PREVENTED,
            )
        )

    def _finish(self, order: Order) -> None:
        """What an order that has done matching does with its rest."""
        if order.leaves_lots == 0:
            return
        if order.order_type in MARKET_TYPES:
            contra = self.resting(order.symbol, order.side.opposite)
            reason = Reason.MARKET_PROTECTION if contra else Reason.NO_LIQUIDITY
            self._cancel(order, order.leaves_lots, reason)
        elif order.time_in_force not in RESTING_TIFS:
            self._cancel(order, order.leaves_lots, Reason.IOC_REMAINDER)
        else:
            order.shown_lots = self._slice(order)
            order.priority = self._next_priority()
            self.orders[order.order_id] = order
            self._touch(order)

    def _trigger_stops(self, symbol: str) -> None:
        instrument = self.instruments[symbol]
        while instrument.last_trade_price is not None:
            last = instrument.last_trade_price
            ready = [
                o
                for o in self.orders.values()
                if o.waiting
                and o.symbol == symbol
                and (
                    last >= o.stop_price_ticks if o.side is Side.BUY else last <= o.stop_price_ticks
                )
            ]
            if not ready:
                return
            order = min(ready, key=lambda o: o.order_id)
            del self.orders[order.order_id]
            order.waiting = False
            self._emit(
                StopTriggered(
                    self._next_seq(),
                    self._ctx.ts_ns,
                    self._ctx.command_id,
                    order.order_id,
                    order.user_id,
                    order.account,
                    order.symbol,
                    last,
                )
            )
            self._execute(order)

    # -- helpers --------------------------------------------------------------------------

    def _fillable(
        self,
        contra: list[Order],
        side: Side,
        limit: int,
        qty_lots: int,
        stp_key: str,
        stp_mode: StpMode,
    ) -> bool:
        """Whether a FOK would fill completely: a dry run of the match on copies of the makers.

        The whole of an iceberg counts, slice by slice, each new slice going to the back of its
        level as it would in the match, so that an order of the FOK's own STP key queued behind
        a slice is met where the match would meet it.
        """
        queue = [_Maker(m.price_ticks, m.priority, m.shown_lots, m.leaves_lots, m) for m in contra]
        sign = -1 if side.opposite is Side.BUY else 1
        back = self.priorities_issued
        needed = qty_lots
        while queue:
            queue.sort(key=lambda q: (sign * q.price_ticks, q.priority))
            head = queue[0]
            if not crosses(side, limit, head.price_ticks):
                return False
            if head.order.stp_key == stp_key:
                if stp_mode is not StpMode.CANCEL_RESTING:
                    return False
                queue.pop(0)
                continue
            lots = min(head.shown_lots, needed)
            needed -= lots
            head.shown_lots -= lots
            head.leaves_lots -= lots
            if needed == 0:
                return True
            if head.leaves_lots == 0:
                queue.pop(0)
            elif head.shown_lots == 0:
                back += 1
                head.priority = back
                display = head.order.display_qty_lots
                head.shown_lots = min(display, head.leaves_lots) if display else head.leaves_lots
        return False

    @staticmethod
    def _protection_price(instrument: Instrument, side: Side, touch: int) -> int:
        away = instrument.protection_ticks or max(1, touch * instrument.protection_bps // 10000)
        return touch + away if side is Side.BUY else max(1, touch - away)

    def _would_cross(self, symbol: str, side: Side, price_ticks: int) -> bool:
        contra = self.resting(symbol, side.opposite)
        return bool(contra) and crosses(side, price_ticks, contra[0].price_ticks)

    @staticmethod
    def _ownership(order: Order | None, user_id: int) -> Reason | None:
        if order is None:
            return Reason.ORDER_NOT_FOUND
        if order.user_id != user_id:
            return Reason.NOT_ORDER_OWNER
        return None

    @staticmethod
    def _slice(order: Order) -> int:
        if order.display_qty_lots:
            return min(order.display_qty_lots, order.leaves_lots)
        return order.leaves_lots

    def _cancel(self, order: Order, lots: int, reason: Reason) -> None:
        if self.orders.get(order.order_id) is order:
            del self.orders[order.order_id]
            if not order.waiting:
                self._touch(order)
        order.leaves_lots = 0
        self._emit(
            OrderCancelled(
                self._next_seq(),
                self._ctx.ts_ns,
                self._ctx.command_id,
                order.order_id,
                order.user_id,
                order.account,
                order.symbol,
                lots,
                reason,
            )
        )

    def _touch(self, order: Order) -> None:
        self._ctx.touched.setdefault(order.symbol, {})[(order.side, order.price_ticks)] = None

    def _emit(self, event: Event) -> None:
        self._ctx.events.append(event)

    def _next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def _next_priority(self) -> int:
        self.priorities_issued += 1
        return self.priorities_issued
