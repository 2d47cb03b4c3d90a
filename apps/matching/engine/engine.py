"""The engine: applies one command at a time and returns the events it caused.

Stages, in the order an order meets them: validate → risk (apps/matching/engine/risk.py, the
pre-trade controls) → accept → match against the book (with self-trade prevention) → rest, or
cancel the remainder → trigger the stops its trades reached.
Every command yields exactly one outcome event first, then its consequences, then one book
delta per instrument whose displayed levels it changed. See docs/engine-semantics.md.
"""

from dataclasses import dataclass
from typing import Any

from apps.matching.engine.book import BookSide, Level, OrderBook, WorkingOrder
from apps.matching.engine.commands import (
    CancelOrder,
    Command,
    DefineInstrument,
    ExpireOrders,
    KillSwitch,
    MarkToMarket,
    MassCancel,
    ModifyOrder,
    NewOrder,
    ResetDailyRisk,
    SetRiskLimit,
    SetRiskListEntry,
    Unparseable,
)
from apps.matching.engine.events import (
    BookDelta,
    CancelRejected,
    CommandRejected,
    DailyRiskReset,
    Event,
    InstrumentDefined,
    KillSwitchChanged,
    LevelChange,
    MarkedToMarket,
    MassCancelDone,
    ModifyRejected,
    OrderAccepted,
    OrderCancelled,
    OrderModified,
    OrderReduced,
    OrderRejected,
    OrdersExpired,
    RiskAlert,
    RiskLimitChanged,
    RiskListChanged,
    StopTriggered,
    Trade,
)
from apps.matching.engine.risk import LOSS_KILLED, Kill, RiskStage
from apps.matching.engine.types import KillScope, OrderType, Reason, Side, StpMode, TimeInForce

BUY = Side.BUY
SELL = Side.SELL
LIMIT = OrderType.LIMIT
MARKET = OrderType.MARKET
STOP = OrderType.STOP
STOP_LIMIT = OrderType.STOP_LIMIT
RESTING_TIFS = (TimeInForce.DAY, TimeInForce.GTC)
SNAPSHOT_VERSION = 2


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


class _Stopped(Exception):
    """Self-trade prevention ended the taker's matching."""


class Engine:
    """All state of one shard. `order_id_base` keeps order ids unique across shards."""

    def __init__(self, shard: int = 0, order_id_base: int = 0) -> None:
        self.shard = shard
        self.seq = 0
        # The command itself takes a place in the sequence before its events, so that the
        # log of commands and events together is gapless.
        self.last_command_seq = 0
        self.order_id_base = order_id_base
        self._orders_issued = 0
        self._trades_issued = 0
        self.instruments: dict[str, Instrument] = {}
        self.orders: dict[int, WorkingOrder] = {}
        # Client order ids each account has used this session, accepted or rejected: a
        # resubmission is recognised, not executed twice. Cleared at the DAY expiry.
        self.client_order_ids: dict[str, set[str]] = {}
        # Per-command scratch: the events being produced and the levels touched.
        self._events: list[Event] = []
        self._touched: dict[tuple[str, Side, int], None] = {}
        self._ts_ns = 0
        self._command_id = ""
        self.risk = RiskStage(self.instruments)
        self._handlers = {
            NewOrder: self._new_order,
            CancelOrder: self._cancel_order,
            ModifyOrder: self._modify_order,
            MassCancel: self._mass_cancel,
            ExpireOrders: self._expire_orders,
            DefineInstrument: self._define_instrument,
            SetRiskLimit: self._set_risk_limit,
            SetRiskListEntry: self._set_risk_list_entry,
            KillSwitch: self._kill_switch,
            ResetDailyRisk: self._reset_daily_risk,
            MarkToMarket: self._mark_to_market,
            Unparseable: self._unparseable,
        }

    # -- public API -------------------------------------------------------------------------

    def apply(self, command: Command) -> list[Event]:
        """Apply one command; return its outcome event followed by its consequences."""
        events: list[Event] = []
        self._events = events
        self._touched = {}
        self._ts_ns = command.ts_ns
        self._command_id = command.command_id
        self.seq += 1
        self.last_command_seq = self.seq
        self._handlers[type(command)](command)  # type: ignore[operator]
        if self.risk.changed:
            self._settle_risk()
        if self._touched:
            self._emit_book_deltas()
        return events

    def depth(
        self, symbol: str, side: Side, levels: int | None = None
    ) -> list[tuple[int, int, int]]:
        return self.instruments[symbol].book.depth(side, levels)

    def book_seq(self, symbol: str) -> int:
        return self.instruments[symbol].book.book_seq

    def last_trade_price(self, symbol: str) -> int | None:
        return self.instruments[symbol].book.last_trade_ticks

    # -- instrument and housekeeping commands -----------------------------------------------

    def _define_instrument(self, cmd: DefineInstrument) -> None:
        if cmd.tick_size_micros <= 0 or cmd.lot_size <= 0 or cmd.reference_price_ticks < 0:
            self._control_rejected(
                cmd.command_id, 0, "The tick size and lot size must be positive."
            )
            return
        instrument = self.instruments.get(cmd.symbol)
        if instrument is None:
            instrument = self.instruments[cmd.symbol] = Instrument(
                cmd.symbol,
                cmd.min_qty_lots,
                cmd.max_qty_lots,
                cmd.is_open,
                cmd.protection_ticks,
                cmd.protection_bps,
                OrderBook(cmd.symbol),
            )
        instrument.min_qty_lots = cmd.min_qty_lots
        instrument.max_qty_lots = cmd.max_qty_lots
        instrument.is_open = cmd.is_open
        instrument.protection_ticks = cmd.protection_ticks
        instrument.protection_bps = cmd.protection_bps
        instrument.tick_size_micros = cmd.tick_size_micros
        instrument.lot_size = cmd.lot_size
        instrument.reference_price_ticks = cmd.reference_price_ticks
        instrument.lot_tick_micros = cmd.tick_size_micros * cmd.lot_size
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
                cmd.tick_size_micros,
                cmd.lot_size,
                cmd.reference_price_ticks,
            )
        )

    def _unparseable(self, cmd: Unparseable) -> None:
        self._emit(
            CommandRejected(
                self._next_seq(),
                cmd.ts_ns,
                cmd.command_id,
                cmd.user_id,
                Reason.MALFORMED_COMMAND,
                f"The command could not be read: {cmd.error}.",
            )
        )

    # -- new orders -------------------------------------------------------------------------

    def _new_order(self, cmd: NewOrder) -> None:
        coid = cmd.client_order_id
        if coid:
            used = self.client_order_ids.get(cmd.account)
            if used is None:
                self.client_order_ids[cmd.account] = {coid}
            elif coid in used:
                self._reject(
                    cmd,
                    Reason.DUPLICATE_CLIENT_ORDER_ID,
                    f"Client order id {coid!r} was already used by {cmd.account} this session.",
                )
                return
            else:
                used.add(coid)
        instrument = self.instruments.get(cmd.symbol)
        rejection = self._validate(cmd, instrument)
        if rejection is not None:
            self._reject(cmd, *rejection)
            return
        assert instrument is not None
        book = instrument.book
        order_type = cmd.order_type
        contra = book.asks if cmd.side is BUY else book.bids
        limit = cmd.price_ticks
        if order_type is MARKET:
            touch = contra.best_price()
            if touch is None:
                self._reject(
                    cmd,
                    Reason.NO_LIQUIDITY,
                    f"There is nothing to {'buy' if cmd.side is BUY else 'sell'} in "
                    f"{cmd.symbol}: a market order needs a {contra.side.value} side.",
                )
                return
            limit = self._protection_price(instrument, cmd.side, touch)
        refusal = self.risk.check_new_order(
            cmd.ts_ns,
            cmd.user_id,
            cmd.account,
            cmd.symbol,
            cmd.side,
            cmd.qty_lots,
            limit or cmd.stop_price_ticks,
            order_type is MARKET or order_type is STOP,
            cmd.price_ticks,
        )
        if refusal is not None:
            self._reject(cmd, *refusal)
            return
        if order_type is LIMIT:
            best = contra.best_price()
            if cmd.post_only and best is not None and contra.reaches(best, limit):
                self._reject(
                    cmd,
                    Reason.POST_ONLY_WOULD_TAKE,
                    f"The post-only order at {limit} would trade with the resting order at {best}.",
                )
                return
        stp_key = cmd.stp_group or cmd.account
        if (
            cmd.time_in_force is TimeInForce.FOK
            and order_type in (LIMIT, MARKET)
            and not self._fok_fillable(contra, cmd.qty_lots, limit, stp_key, cmd.stp_mode)
        ):
            self._reject(
                cmd,
                Reason.FOK_NOT_FILLABLE,
                f"The fill-or-kill order for {cmd.qty_lots} lots cannot be filled "
                f"completely at once.",
            )
            return
        self._orders_issued += 1
        order_id = self.order_id_base + self._orders_issued
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
                order_type,
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
        display = cmd.display_qty_lots
        order = WorkingOrder(
            order_id,
            cmd.user_id,
            cmd.account,
            cmd.symbol,
            cmd.client_order_id,
            cmd.side,
            order_type,
            cmd.time_in_force,
            cmd.price_ticks,
            cmd.qty_lots,
            min(display, cmd.qty_lots) if display else cmd.qty_lots,
            display,
            cmd.stop_price_ticks,
            cmd.post_only,
            cmd.stp_mode,
            stp_key,
        )
        trades_before = self._trades_issued
        if order_type is STOP or order_type is STOP_LIMIT:
            self.orders[order_id] = order
            book.stops[order_id] = order
            self._work(order, order.leaves_lots)
            if book.last_trade_ticks is not None:
                self._trigger_stops(instrument)
        else:
            self._execute(instrument, order, limit)
            if book.stops and self._trades_issued != trades_before:
                self._trigger_stops(instrument)

    def _validate(self, cmd: NewOrder, instrument: Instrument | None) -> tuple[Reason, str] | None:
        if instrument is None:
            return Reason.UNKNOWN_INSTRUMENT, f"Instrument {cmd.symbol!r} is not traded here."
        if not instrument.is_open:
            return Reason.INSTRUMENT_CLOSED, f"{cmd.symbol} is not open for trading."
        qty = cmd.qty_lots
        if qty <= 0:
            return Reason.INVALID_QUANTITY, "The quantity must be a positive whole number of lots."
        if not instrument.min_qty_lots <= qty <= instrument.max_qty_lots:
            return (
                Reason.QUANTITY_OUT_OF_RANGE,
                f"The quantity must be between {instrument.min_qty_lots} and "
                f"{instrument.max_qty_lots} lots for {cmd.symbol}.",
            )
        order_type = cmd.order_type
        has_limit = order_type is LIMIT or order_type is STOP_LIMIT
        if has_limit and cmd.price_ticks <= 0:
            return Reason.INVALID_PRICE, "The limit price must be positive."
        if not has_limit and cmd.price_ticks != 0:
            return Reason.INVALID_PRICE, f"A {order_type.value} order carries no limit price."
        is_stop = order_type is STOP or order_type is STOP_LIMIT
        if is_stop and cmd.stop_price_ticks <= 0:
            return Reason.INVALID_STOP_PRICE, "The stop price must be positive."
        if not is_stop and cmd.stop_price_ticks != 0:
            return Reason.INVALID_STOP_PRICE, f"A {order_type.value} order carries no stop price."
        resting_tif = cmd.time_in_force in RESTING_TIFS
        if cmd.display_qty_lots:
            if not 0 < cmd.display_qty_lots <= qty:
                return (
                    Reason.INVALID_DISPLAY_QUANTITY,
                    "The displayed quantity must be between 1 lot and the order quantity.",
                )
            if not (has_limit and resting_tif):
                return (
                    Reason.INVALID_ORDER,
                    "Only limit and stop-limit orders that may rest (DAY, GTC) can be icebergs.",
                )
        if cmd.post_only and not (order_type is LIMIT and resting_tif):
            return Reason.INVALID_ORDER, "Only limit orders that may rest can be post-only."
        return None

    def _reject(self, cmd: NewOrder, reason: Reason, message: str) -> None:
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

    @staticmethod
    def _protection_price(instrument: Instrument, side: Side, touch: int) -> int:
        band = instrument.protection_ticks or max(1, touch * instrument.protection_bps // 10_000)
        return touch + band if side is BUY else max(1, touch - band)

    @staticmethod
    def _fok_fillable(
        contra: BookSide, qty: int, limit: int, stp_key: str, stp_mode: StpMode
    ) -> bool:
        """Walk the book exactly as matching would (icebergs refilling at the back of their
        level, own orders skipped or ending the walk) and see whether `qty` lots trade."""
        need = qty
        for price in contra.prices_best_first():
            if not contra.reaches(price, limit):
                return False
            queue = [
                [o.stp_key == stp_key, o.leaves_lots, o.shown_lots, o.display_lots]
                for o in contra.levels[price].orders.values()
            ]
            position = 0
            while position < len(queue):
                is_own, leaves, shown, display = queue[position]
                position += 1
                if is_own:
                    if stp_mode is StpMode.CANCEL_RESTING:
                        continue
                    return False
                take = min(shown, need)
                need -= take
                if need == 0:
                    return True
                if leaves - take > 0:
                    queue.append([False, leaves - take, min(display, leaves - take), display])
        return False

    # -- matching ---------------------------------------------------------------------------

    def _execute(self, instrument: Instrument, order: WorkingOrder, limit: int) -> None:
        """Match `order` as the taker up to `limit`, then rest it or cancel what is left."""
        book = instrument.book
        contra = book.asks if order.side is BUY else book.bids
        prices = contra.prices
        # Most orders do not cross: look at the touch before entering the matching loop.
        if prices and contra.reaches(prices[-1] if contra.is_bid else prices[0], limit):
            try:
                self._match(book, order, limit)
            except _Stopped:
                return
        leaves = order.leaves_lots
        if leaves == 0:
            return
        if order.order_type is MARKET:
            contra = instrument.book.asks if order.side is BUY else instrument.book.bids
            reason = Reason.MARKET_PROTECTION if contra.prices else Reason.NO_LIQUIDITY
            self._cancelled(order, leaves, reason)
        elif order.time_in_force in RESTING_TIFS:
            order.shown_lots = min(order.display_lots, leaves) if order.display_lots else leaves
            instrument.book.side(order.side).add(order)
            self.orders[order.order_id] = order
            self._work(order, leaves)
            self._touched[(order.symbol, order.side, order.price_ticks)] = None
        else:
            self._cancelled(order, leaves, Reason.IOC_REMAINDER)

    def _match(self, book: OrderBook, taker: WorkingOrder, limit: int) -> None:
        contra = book.asks if taker.side is BUY else book.bids
        touched = self._touched
        symbol = book.symbol
        contra_side = contra.side
        while taker.leaves_lots:
            best = contra.best_price()
            if best is None or not contra.reaches(best, limit):
                return
            level = contra.levels[best]
            touched[(symbol, contra_side, best)] = None
            try:
                self._match_level(book, level, taker)
            finally:
                # Also when self-trade prevention stopped the taker after emptying the level.
                if not level.orders:
                    contra.drop_level(level)

    def _match_level(self, book: OrderBook, level: Level, taker: WorkingOrder) -> None:
        """Trade the taker against one level, oldest order first (time priority)."""
        orders = level.orders
        price = level.price_ticks
        symbol = book.symbol
        risk = self.risk
        while taker.leaves_lots and orders:
            maker = next(iter(orders.values()))
            if maker.stp_key == taker.stp_key:
                self._prevent_self_trade(level, maker, taker)
                continue
            lots = maker.shown_lots if maker.shown_lots < taker.leaves_lots else taker.leaves_lots
            maker.shown_lots -= lots
            maker.leaves_lots -= lots
            taker.leaves_lots -= lots
            level.shown_lots -= lots
            if maker.shown_lots == 0:
                del orders[maker.order_id]
                if maker.leaves_lots:
                    # An iceberg shows its next slice at the back of the level.
                    maker.shown_lots = min(maker.display_lots, maker.leaves_lots)
                    orders[maker.order_id] = maker
                    level.shown_lots += maker.shown_lots
                else:
                    del self.orders[maker.order_id]
            risk.unwork(maker.account, symbol, maker.side, price, lots)
            if taker.side is BUY:
                risk.trade(symbol, price, lots, taker.account, maker.account)
            else:
                risk.trade(symbol, price, lots, maker.account, taker.account)
            self._trades_issued += 1
            self.seq += 1
            self._events.append(
                Trade(
                    self.seq,
                    self._ts_ns,
                    self._command_id,
                    self._trades_issued,
                    symbol,
                    price,
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
            book.last_trade_ticks = price

    def _prevent_self_trade(self, level: Level, maker: WorkingOrder, taker: WorkingOrder) -> None:
        mode = taker.stp_mode
        reason = Reason.SELF_TRADE_PREVENTED
        if mode is StpMode.DECREMENT_BOTH:
            lots = min(maker.leaves_lots, taker.leaves_lots)
            self._reduce_resting(level, maker, lots, reason)
            taker.leaves_lots -= lots
            if taker.leaves_lots:
                self._reduced(taker, lots, reason)
                return
            self._cancelled(taker, lots, reason)
            raise _Stopped
        if mode is not StpMode.CANCEL_AGGRESSOR:
            self._reduce_resting(level, maker, maker.leaves_lots, reason)
            if mode is StpMode.CANCEL_RESTING:
                return
        self._cancelled(taker, taker.leaves_lots, reason)
        taker.leaves_lots = 0
        raise _Stopped

    def _reduce_resting(self, level: Level, order: WorkingOrder, lots: int, reason: Reason) -> None:
        """Take `lots` off a resting order without a trade; cancel it if nothing is left."""
        order.leaves_lots -= lots
        self._work(order, -lots)
        shown = min(order.shown_lots, order.leaves_lots)
        level.shown_lots -= order.shown_lots - shown
        order.shown_lots = shown
        if order.leaves_lots:
            self._reduced(order, lots, reason)
            return
        del level.orders[order.order_id]
        del self.orders[order.order_id]
        self._cancelled(order, lots, reason)

    def _trigger_stops(self, instrument: Instrument) -> None:
        """Trigger, one at a time and oldest first, every stop the last trade price reached."""
        book = instrument.book
        while True:
            last = book.last_trade_ticks
            assert last is not None
            triggered = next(
                (
                    o
                    for o in book.stops.values()
                    if (last >= o.stop_price_ticks if o.side is BUY else last <= o.stop_price_ticks)
                ),
                None,
            )
            if triggered is None:
                return
            del book.stops[triggered.order_id]
            del self.orders[triggered.order_id]
            self._work(triggered, -triggered.leaves_lots)
            self._emit(
                StopTriggered(
                    self._next_seq(),
                    self._ts_ns,
                    self._command_id,
                    triggered.order_id,
                    triggered.user_id,
                    triggered.account,
                    triggered.symbol,
                    last,
                )
            )
            self._enter_triggered(instrument, triggered)
            if not book.stops:
                return

    def _enter_triggered(self, instrument: Instrument, order: WorkingOrder) -> None:
        book = instrument.book
        contra = book.asks if order.side is BUY else book.bids
        if order.order_type is STOP:
            order.order_type = MARKET
            touch = contra.best_price()
            if touch is None:
                self._cancelled(order, order.leaves_lots, Reason.NO_LIQUIDITY)
                return
            limit = self._protection_price(instrument, order.side, touch)
        else:
            order.order_type = LIMIT
            limit = order.price_ticks
        if order.time_in_force is TimeInForce.FOK and not self._fok_fillable(
            contra, order.leaves_lots, limit, order.stp_key, order.stp_mode
        ):
            self._cancelled(order, order.leaves_lots, Reason.FOK_NOT_FILLABLE)
            return
        self._execute(instrument, order, limit)

    # -- cancel, modify, mass cancel, expiry ------------------------------------------------

    def _working_order(
        self, order_id: int, user_id: int
    ) -> tuple[WorkingOrder | None, tuple[Reason, str] | None]:
        order = self.orders.get(order_id)
        if order is None:
            return None, (
                Reason.ORDER_NOT_FOUND,
                f"Order {order_id} is not working: it is unknown, filled or cancelled.",
            )
        if order.user_id != user_id:
            return None, (Reason.NOT_ORDER_OWNER, f"Order {order_id} belongs to another trader.")
        return order, None

    def _cancel_order(self, cmd: CancelOrder) -> None:
        order, refusal = self._working_order(cmd.order_id, cmd.user_id)
        if order is not None:
            refusal = self.risk.admit_cancel(cmd.user_id, cmd.ts_ns)
            if refusal is not None:
                order = None
        if order is None:
            assert refusal is not None
            self._emit(
                CancelRejected(
                    self._next_seq(), cmd.ts_ns, cmd.command_id, cmd.user_id, cmd.order_id, *refusal
                )
            )
            return
        self._take_out(order, Reason.CANCELLED_BY_USER)

    def _take_out(self, order: WorkingOrder, reason: Reason) -> None:
        """Remove a working order (resting or waiting stop) and say so."""
        book = self.instruments[order.symbol].book
        del self.orders[order.order_id]
        self._work(order, -order.leaves_lots)
        if order.order_id in book.stops:
            del book.stops[order.order_id]
        else:
            book.side(order.side).remove(order)
            self._touched[(order.symbol, order.side, order.price_ticks)] = None
        self._cancelled(order, order.leaves_lots, reason)

    def _modify_order(self, cmd: ModifyOrder) -> None:
        order, refusal = self._working_order(cmd.order_id, cmd.user_id)
        if order is not None:
            refusal = self._modify_refusal(cmd, order)
        if refusal is not None:
            self._emit(
                ModifyRejected(
                    self._next_seq(), cmd.ts_ns, cmd.command_id, cmd.user_id, cmd.order_id, *refusal
                )
            )
            return
        assert order is not None
        instrument = self.instruments[order.symbol]
        book_side = instrument.book.side(order.side)
        previous_price, previous_leaves = order.price_ticks, order.leaves_lots
        keeps_priority = cmd.price_ticks == previous_price and cmd.qty_lots <= previous_leaves
        self._touched[(order.symbol, order.side, previous_price)] = None
        if keeps_priority:
            level = book_side.levels[previous_price]
            self._work(order, cmd.qty_lots - previous_leaves)
            order.leaves_lots = cmd.qty_lots
            shown = min(order.shown_lots, cmd.qty_lots)
            level.shown_lots -= order.shown_lots - shown
            order.shown_lots = shown
        else:
            book_side.remove(order)
            del self.orders[order.order_id]
            self._work(order, -previous_leaves)
            order.price_ticks = cmd.price_ticks
            order.leaves_lots = cmd.qty_lots
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
                previous_price,
                previous_leaves,
                keeps_priority,
            )
        )
        if not keeps_priority:
            # Re-enters as if new: it may trade, then rests at the back of its level.
            trades_before = self._trades_issued
            self._execute(instrument, order, cmd.price_ticks)
            if instrument.book.stops and self._trades_issued != trades_before:
                self._trigger_stops(instrument)

    def _modify_refusal(self, cmd: ModifyOrder, order: WorkingOrder) -> tuple[Reason, str] | None:
        instrument = self.instruments[order.symbol]
        if not instrument.is_open:
            return Reason.INSTRUMENT_CLOSED, f"{order.symbol} is not open for trading."
        if order.order_id in instrument.book.stops:
            return (
                Reason.INVALID_ORDER,
                "A stop order waiting for its trigger cannot be modified; cancel it instead.",
            )
        if cmd.price_ticks <= 0:
            return Reason.INVALID_PRICE, "The limit price must be positive."
        if cmd.qty_lots <= 0:
            return Reason.INVALID_QUANTITY, "The quantity must be a positive whole number of lots."
        if cmd.qty_lots > instrument.max_qty_lots:
            return (
                Reason.QUANTITY_OUT_OF_RANGE,
                f"The quantity may not exceed {instrument.max_qty_lots} lots for {order.symbol}.",
            )
        refusal = self.risk.check_modify(
            cmd.ts_ns,
            cmd.user_id,
            order.account,
            order.symbol,
            order.side,
            order.price_ticks,
            order.leaves_lots,
            cmd.price_ticks,
            cmd.qty_lots,
        )
        if refusal is not None:
            return refusal
        if order.post_only and cmd.price_ticks != order.price_ticks:
            contra = instrument.book.asks if order.side is BUY else instrument.book.bids
            best = contra.best_price()
            if best is not None and contra.reaches(best, cmd.price_ticks):
                return (
                    Reason.POST_ONLY_WOULD_TAKE,
                    f"At {cmd.price_ticks} the post-only order would trade with the resting "
                    f"order at {best}.",
                )
        return None

    def _mass_cancel(self, cmd: MassCancel) -> None:
        selected = [
            order
            for order_id, order in sorted(self.orders.items())
            if (cmd.any_owner or order.user_id == cmd.user_id)
            and (not cmd.account or order.account == cmd.account)
            and (not cmd.trader_user_id or order.user_id == cmd.trader_user_id)
            and (not cmd.symbol or order.symbol == cmd.symbol)
            and (cmd.side is None or order.side is cmd.side)
            and (cmd.time_in_force is None or order.time_in_force is cmd.time_in_force)
        ]
        self._emit(
            MassCancelDone(self._next_seq(), cmd.ts_ns, cmd.command_id, cmd.user_id, len(selected))
        )
        reason = Reason.CANCEL_ON_DISCONNECT if cmd.on_disconnect else Reason.MASS_CANCEL
        for order in selected:
            self._take_out(order, reason)

    def _expire_orders(self, cmd: ExpireOrders) -> None:
        selected = [
            order
            for order_id, order in sorted(self.orders.items())
            if order.time_in_force is cmd.time_in_force
            and (not cmd.symbol or order.symbol == cmd.symbol)
        ]
        self._emit(
            OrdersExpired(
                self._next_seq(), cmd.ts_ns, cmd.command_id, cmd.time_in_force, len(selected)
            )
        )
        if cmd.time_in_force is TimeInForce.DAY and not cmd.symbol:
            # The session is over: client order ids may be used again from the next one.
            self.client_order_ids.clear()
        for order in selected:
            self._take_out(order, Reason.EXPIRED)

    # -- risk controls ----------------------------------------------------------------------

    def _control_rejected(self, command_id: str, user_id: int, message: str) -> None:
        self._emit(
            CommandRejected(
                self._next_seq(), self._ts_ns, command_id, user_id, Reason.INVALID_CONTROL, message
            )
        )

    def _set_risk_limit(self, cmd: SetRiskLimit) -> None:
        refusal = self.risk.limit_refusal(cmd.limit, cmd.value, cmd.account, cmd.symbol)
        if not cmd.change_reason.strip():
            refusal = "A limit change needs a reason."
        if refusal:
            self._control_rejected(cmd.command_id, cmd.user_id, refusal)
            return
        old = self.risk.set_limit(cmd.limit, cmd.value, cmd.account, cmd.symbol)
        self._emit(
            RiskLimitChanged(
                self._next_seq(),
                cmd.ts_ns,
                cmd.command_id,
                cmd.user_id,
                cmd.limit,
                cmd.account,
                cmd.symbol,
                old,
                cmd.value,
                cmd.change_reason,
            )
        )

    def _set_risk_list_entry(self, cmd: SetRiskListEntry) -> None:
        refusal = self.risk.list_refusal(cmd.risk_list, cmd.account, cmd.symbol, cmd.trader_user_id)
        if not cmd.change_reason.strip():
            refusal = "A list change needs a reason."
        if refusal:
            self._control_rejected(cmd.command_id, cmd.user_id, refusal)
            return
        was_member = self.risk.set_list_entry(
            cmd.risk_list, cmd.member, cmd.account, cmd.symbol, cmd.trader_user_id
        )
        self._emit(
            RiskListChanged(
                self._next_seq(),
                cmd.ts_ns,
                cmd.command_id,
                cmd.user_id,
                cmd.risk_list,
                cmd.account,
                cmd.symbol,
                cmd.trader_user_id,
                cmd.member,
                was_member,
                cmd.change_reason,
            )
        )

    def _kill_switch(self, cmd: KillSwitch) -> None:
        scope, account, trader = cmd.scope, cmd.account, cmd.trader_user_id
        refusal = ""
        if scope is KillScope.ACCOUNT and (not account or trader):
            refusal = "An account kill switch names the account only."
        elif scope is KillScope.TRADER and (trader <= 0 or account):
            refusal = "A trader kill switch names the trader only."
        elif scope is KillScope.FIRM and (account or trader):
            refusal = "The firm kill switch names no account or trader."
        elif not cmd.change_reason.strip():
            refusal = "Pulling or releasing a kill switch needs a reason."
        elif not cmd.engage and self.risk.kill_engaged(scope, account, trader) is None:
            refusal = "That kill switch is not engaged."
        if refusal:
            self._control_rejected(cmd.command_id, cmd.user_id, refusal)
            return
        selected: list[WorkingOrder] = []
        if cmd.engage:
            kill = Kill(cmd.user_id, cmd.ts_ns, cmd.change_reason, cmd.allow_risk_reducing, False)
            self.risk.set_kill(scope, account, trader, kill)
            selected = [
                order
                for _, order in sorted(self.orders.items())
                if scope is KillScope.FIRM
                or (scope is KillScope.ACCOUNT and order.account == account)
                or (scope is KillScope.TRADER and order.user_id == trader)
            ]
        else:
            self.risk.set_kill(scope, account, trader, None)
        self._emit(
            KillSwitchChanged(
                self._next_seq(),
                cmd.ts_ns,
                cmd.command_id,
                cmd.user_id,
                scope,
                account,
                trader,
                cmd.engage,
                cmd.allow_risk_reducing,
                cmd.change_reason,
                len(selected),
            )
        )
        for order in selected:
            self._take_out(order, Reason.KILL_SWITCH)

    def _reset_daily_risk(self, cmd: ResetDailyRisk) -> None:
        accounts = self.risk.reset_day()
        self.client_order_ids.clear()
        self._emit(
            DailyRiskReset(self._next_seq(), cmd.ts_ns, cmd.command_id, cmd.user_id, accounts)
        )

    def _mark_to_market(self, cmd: MarkToMarket) -> None:
        self._emit(
            MarkedToMarket(self._next_seq(), cmd.ts_ns, cmd.command_id, len(self.risk.accounts))
        )
        self.risk.changed.update(self.risk.account_limits)

    def _settle_risk(self) -> None:
        """After a command: alerts for the accounts whose figures it changed, and the daily
        loss stages, latching an account's kill switch when it reaches its kill level."""
        risk = self.risk
        changed = sorted(risk.changed)
        risk.touched.update(changed)
        risk.changed.clear()
        for account in changed:
            for alert in risk.evaluate(account):
                self._emit(
                    RiskAlert(
                        self._next_seq(),
                        self._ts_ns,
                        self._command_id,
                        alert.account,
                        alert.alert,
                        alert.value,
                        alert.limit,
                        alert.message,
                    )
                )
                if alert.alert == "loss_kill" and risk.accounts[account].loss_stage == LOSS_KILLED:
                    kill = Kill(0, self._ts_ns, alert.message, False, True)
                    risk.set_kill(KillScope.ACCOUNT, account, 0, kill)
                    for _, order in sorted(self.orders.items()):
                        if order.account == account:
                            self._take_out(order, Reason.KILL_SWITCH)
        # The kill's cancels changed figures again; they are published, not re-evaluated.
        risk.touched.update(risk.changed)
        risk.changed.clear()

    def _work(self, order: WorkingOrder, lots: int) -> None:
        """`lots` more (or, negative, fewer) of `order` are working, valued at its limit or,
        for a stop waiting for its trigger, at its stop price."""
        self.risk.work(
            order.account,
            order.symbol,
            order.side,
            order.price_ticks or order.stop_price_ticks,
            lots,
        )

    # -- plumbing ---------------------------------------------------------------------------

    def _next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def _emit(self, event: Event) -> None:
        self._events.append(event)

    def _cancelled(self, order: WorkingOrder, lots: int, reason: Reason) -> None:
        self._emit(
            OrderCancelled(
                self._next_seq(),
                self._ts_ns,
                self._command_id,
                order.order_id,
                order.user_id,
                order.account,
                order.symbol,
                lots,
                reason,
            )
        )

    def _reduced(self, order: WorkingOrder, lots: int, reason: Reason) -> None:
        self._emit(
            OrderReduced(
                self._next_seq(),
                self._ts_ns,
                self._command_id,
                order.order_id,
                order.user_id,
                order.account,
                order.symbol,
                lots,
                order.leaves_lots,
                reason,
            )
        )

    def _emit_book_deltas(self) -> None:
        """One delta per instrument whose levels this command changed, in touch order."""
        by_symbol: dict[str, list[LevelChange]] = {}
        symbol = ""
        changes: list[LevelChange] = []
        bid_levels: dict[int, Level] = {}
        ask_levels: dict[int, Level] = {}
        for touched_symbol, side, price in self._touched:
            if touched_symbol != symbol:
                # Nearly every command touches one instrument; switch books only when needed.
                symbol = touched_symbol
                changes = by_symbol.setdefault(symbol, [])
                book = self.instruments[symbol].book
                bid_levels, ask_levels = book.bids.levels, book.asks.levels
            level = (bid_levels if side is BUY else ask_levels).get(price)
            changes.append(
                LevelChange(side, price, level.shown_lots, len(level.orders))
                if level is not None
                else LevelChange(side, price, 0, 0)
            )
        events = self._events
        for symbol, changes in by_symbol.items():
            book = self.instruments[symbol].book
            book.book_seq += 1
            self.seq += 1
            events.append(
                BookDelta(
                    self.seq, self._ts_ns, self._command_id, symbol, book.book_seq, tuple(changes)
                )
            )

    # -- snapshot and restore ---------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """The whole state as plain JSON-ready data: counters, instruments, every working order
        and, per level, the queue in time priority."""

        def queue(book_side: BookSide) -> list[list[Any]]:
            return [[p, list(book_side.levels[p].orders)] for p in book_side.prices]

        return {
            "version": SNAPSHOT_VERSION,
            "shard": self.shard,
            "order_id_base": self.order_id_base,
            "seq": self.seq,
            "last_command_seq": self.last_command_seq,
            "orders_issued": self._orders_issued,
            "trades_issued": self._trades_issued,
            "client_order_ids": {
                account: sorted(ids) for account, ids in self.client_order_ids.items()
            },
            "risk": self.risk.snapshot(),
            "instruments": [
                {
                    "symbol": i.symbol,
                    "min_qty_lots": i.min_qty_lots,
                    "max_qty_lots": i.max_qty_lots,
                    "is_open": i.is_open,
                    "protection_ticks": i.protection_ticks,
                    "protection_bps": i.protection_bps,
                    "tick_size_micros": i.tick_size_micros,
                    "lot_size": i.lot_size,
                    "reference_price_ticks": i.reference_price_ticks,
                    "book_seq": i.book.book_seq,
                    "last_trade_ticks": i.book.last_trade_ticks,
                    "bids": queue(i.book.bids),
                    "asks": queue(i.book.asks),
                    "stops": list(i.book.stops),
                }
                for i in self.instruments.values()
            ],
            "orders": [
                [
                    o.order_id,
                    o.user_id,
                    o.account,
                    o.symbol,
                    o.client_order_id,
                    o.side.value,
                    o.order_type.value,
                    o.time_in_force.value,
                    o.price_ticks,
                    o.leaves_lots,
                    o.shown_lots,
                    o.display_lots,
                    o.stop_price_ticks,
                    o.post_only,
                    o.stp_mode.value,
                    o.stp_key,
                ]
                for o in self.orders.values()
            ],
        }

    @classmethod
    def restore(cls, snapshot: dict[str, Any]) -> "Engine":
        if snapshot.get("version") != SNAPSHOT_VERSION:
            raise ValueError(f"unsupported snapshot version {snapshot.get('version')!r}")
        engine = cls(snapshot["shard"], snapshot["order_id_base"])
        engine.seq = snapshot["seq"]
        engine.last_command_seq = snapshot["last_command_seq"]
        engine._orders_issued = snapshot["orders_issued"]
        engine._trades_issued = snapshot["trades_issued"]
        engine.client_order_ids = {
            account: set(ids) for account, ids in snapshot["client_order_ids"].items()
        }
        for row in snapshot["orders"]:
            (oid, uid, account, symbol, coid, side, otype, tif, price, leaves, shown, display,
             stop, post_only, stp_mode, stp_key) = row  # fmt: skip
            engine.orders[oid] = WorkingOrder(
                oid, uid, account, symbol, coid, Side(side), OrderType(otype), TimeInForce(tif),
                price, leaves, shown, display, stop, post_only, StpMode(stp_mode), stp_key,
            )  # fmt: skip
        for data in snapshot["instruments"]:
            book = OrderBook(data["symbol"])
            book.book_seq = data["book_seq"]
            book.last_trade_ticks = data["last_trade_ticks"]
            for book_side, levels in ((book.bids, data["bids"]), (book.asks, data["asks"])):
                for _price, order_ids in levels:
                    for order_id in order_ids:
                        book_side.add(engine.orders[order_id])
            for order_id in data["stops"]:
                book.stops[order_id] = engine.orders[order_id]
            engine.instruments[book.symbol] = Instrument(
                data["symbol"],
                data["min_qty_lots"],
                data["max_qty_lots"],
                data["is_open"],
                data["protection_ticks"],
                data["protection_bps"],
                book,
                data["tick_size_micros"],
                data["lot_size"],
                data["reference_price_ticks"],
                data["tick_size_micros"] * data["lot_size"],
            )
        engine.risk.restore(snapshot["risk"])
        return engine
