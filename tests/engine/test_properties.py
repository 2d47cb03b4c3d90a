"""Invariants of the engine over random command streams (Hypothesis stateful testing).

One state machine sends random commands to the engine and follows its events with an
independent bookkeeping of its own: who owns which order, the lots of every order (the
conservation ledger) and a shadow of the book in priority order, rebuilt from the events alone.
Each test runs the machine and asserts one family of invariants after every command.
"""

import dataclasses
import json
from dataclasses import dataclass, field
from typing import ClassVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    rule,
    run_state_machine_as_test,
)

from apps.matching.engine import (
    OUTCOME_KINDS,
    BookDelta,
    CancelOrder,
    Command,
    DefineInstrument,
    Engine,
    Event,
    ExpireOrders,
    InstrumentDefined,
    MassCancel,
    MassCancelDone,
    ModifyOrder,
    NewOrder,
    OrderAccepted,
    OrderCancelled,
    OrderModified,
    OrderReduced,
    OrderRejected,
    OrdersExpired,
    OrderType,
    Reason,
    Side,
    StopTriggered,
    StpMode,
    TimeInForce,
    Trade,
    Unparseable,
)

SYMBOLS = ("AAA", "BBB")
# (user, account, stp group): users 1 and 2 share an account, users 1 and 3 an STP group.
TRADERS = (
    (1, "ACC-1", ""),
    (1, "ACC-1", "GRP"),
    (2, "ACC-2", ""),
    (2, "ACC-1", ""),
    (3, "ACC-3", "GRP"),
    (3, "ACC-3", ""),
)
RESTING_TIFS = (TimeInForce.DAY, TimeInForce.GTC)
STOP_TYPES = (OrderType.STOP, OrderType.STOP_LIMIT)
OUTCOMES_BY_COMMAND: dict[type, set[str]] = {
    NewOrder: {"order_accepted", "order_rejected"},
    CancelOrder: {"order_cancelled", "cancel_rejected"},
    ModifyOrder: {"order_modified", "modify_rejected"},
    MassCancel: {"mass_cancel_done"},
    ExpireOrders: {"orders_expired"},
    DefineInstrument: {"instrument_defined"},
    Unparseable: {"command_rejected"},
}

prices = st.integers(96, 104)
quantities = st.integers(1, 8)
sides = st.sampled_from([Side.BUY, Side.SELL])
traders = st.sampled_from(TRADERS)
stp_modes = st.sampled_from(list(StpMode))
all_tifs = st.sampled_from(list(TimeInForce))
resting_tifs = st.sampled_from(RESTING_TIFS)
# Mostly one book, so that orders meet; the second one is there for the filters.
symbols = st.sampled_from(["AAA", "AAA", "AAA", "BBB"])
order_picks = st.integers(1, 10_000)


@dataclass(slots=True)
class OrderInfo:
    symbol: str
    side: Side
    order_type: OrderType
    time_in_force: TimeInForce
    qty_lots: int
    price_ticks: int
    display_qty_lots: int
    post_only: bool
    stp_key: str


@dataclass(slots=True)
class Ledger:
    """Where an order's lots went, from the events alone."""

    accepted: int = 0
    increased: int = 0
    decreased: int = 0
    traded: int = 0
    cancelled: int = 0
    reduced: int = 0


@dataclass(slots=True)
class ShadowOrder:
    order_id: int
    price_ticks: int
    priority: int
    leaves_lots: int
    shown_lots: int


@dataclass(slots=True)
class Incoming:
    """The order matching right now (new, triggered, or re-entering after a modify)."""

    order_id: int
    price_ticks: int
    leaves_lots: int
    traded_lots: int = 0


@dataclass(slots=True)
class Shadow:
    """The book as the events describe it: resting orders with their queue priority."""

    resting: dict[int, ShadowOrder] = field(default_factory=dict)
    waiting: set[int] = field(default_factory=set)
    triggered: set[int] = field(default_factory=set)
    priorities_issued: int = 0


class EngineMachine(RuleBasedStateMachine):
    checks: ClassVar[frozenset[str]] = frozenset()

    def __init__(self) -> None:
        super().__init__()
        self.engine = Engine(order_id_base=100)
        self.replicas: list[Engine] = []
        self.n = 0
        self.listed: list[str] = []
        self.last_seq = 0
        self.book_seqs: dict[str, int] = {}
        self.info: dict[int, OrderInfo] = {}
        self.ledger: dict[int, Ledger] = {}
        self.shadow = Shadow()
        self.incoming: Incoming | None = None
        self.finished: list[Incoming] = []

    # -- rules ------------------------------------------------------------------------------

    @initialize()
    def list_instruments(self) -> None:
        self.apply(DefineInstrument(*self._stamp(), "AAA", protection_ticks=2))
        self.apply(DefineInstrument(*self._stamp(), "BBB", protection_bps=300))

    @rule(
        trader=traders,
        symbol=symbols,
        side=sides,
        price=prices,
        qty=quantities,
        tif=all_tifs,
        stp_mode=stp_modes,
    )
    def place_limit_order(
        self,
        trader: tuple[int, str, str],
        symbol: str,
        side: Side,
        price: int,
        qty: int,
        tif: TimeInForce,
        stp_mode: StpMode,
    ) -> None:
        self.apply(
            self._order(trader, symbol, side, OrderType.LIMIT, tif, price, qty, stp_mode=stp_mode)
        )

    @rule(
        trader=traders,
        symbol=symbols,
        side=sides,
        price=prices,
        qty=quantities,
        tif=resting_tifs,
        stp_mode=stp_modes,
    )
    def place_resting_limit_order(
        self,
        trader: tuple[int, str, str],
        symbol: str,
        side: Side,
        price: int,
        qty: int,
        tif: TimeInForce,
        stp_mode: StpMode,
    ) -> None:
        self.place_limit_order(trader, symbol, side, price, qty, tif, stp_mode)

    @rule(
        trader=traders,
        symbol=symbols,
        side=sides,
        price=prices,
        qty=quantities,
        display=st.integers(1, 3),
        tif=resting_tifs,
        stp_mode=stp_modes,
    )
    def place_iceberg_order(
        self,
        trader: tuple[int, str, str],
        symbol: str,
        side: Side,
        price: int,
        qty: int,
        display: int,
        tif: TimeInForce,
        stp_mode: StpMode,
    ) -> None:
        self.apply(
            self._order(
                trader,
                symbol,
                side,
                OrderType.LIMIT,
                tif,
                price,
                qty,
                display=min(display, qty),
                stp_mode=stp_mode,
            )
        )

    @rule(
        trader=traders,
        symbol=symbols,
        side=sides,
        price=prices,
        qty=quantities,
        tif=resting_tifs,
    )
    def place_post_only_order(
        self,
        trader: tuple[int, str, str],
        symbol: str,
        side: Side,
        price: int,
        qty: int,
        tif: TimeInForce,
    ) -> None:
        self.apply(
            self._order(trader, symbol, side, OrderType.LIMIT, tif, price, qty, post_only=True)
        )

    @rule(
        trader=traders,
        symbol=symbols,
        side=sides,
        qty=quantities,
        tif=all_tifs,
        stp_mode=stp_modes,
    )
    def place_market_order(
        self,
        trader: tuple[int, str, str],
        symbol: str,
        side: Side,
        qty: int,
        tif: TimeInForce,
        stp_mode: StpMode,
    ) -> None:
        self.apply(
            self._order(trader, symbol, side, OrderType.MARKET, tif, 0, qty, stp_mode=stp_mode)
        )

    @rule(
        trader=traders,
        symbol=symbols,
        side=sides,
        limit=st.one_of(st.just(0), prices),
        stop=prices,
        qty=quantities,
        tif=all_tifs,
        stp_mode=stp_modes,
    )
    def place_stop_order(
        self,
        trader: tuple[int, str, str],
        symbol: str,
        side: Side,
        limit: int,
        stop: int,
        qty: int,
        tif: TimeInForce,
        stp_mode: StpMode,
    ) -> None:
        order_type = OrderType.STOP_LIMIT if limit else OrderType.STOP
        self.apply(
            self._order(
                trader, symbol, side, order_type, tif, limit, qty, stop=stop, stp_mode=stp_mode
            )
        )

    @rule(
        trader=traders,
        fault=st.sampled_from(
            [
                {"symbol": "ZZZ"},
                {"qty_lots": 0},
                {"qty_lots": 2_000_000},
                {"price_ticks": 0},
                {"stop_price_ticks": 100},
                {"display_qty_lots": 9},
                {"display_qty_lots": 1, "time_in_force": TimeInForce.IOC},
                {"post_only": True, "time_in_force": TimeInForce.FOK},
                {"order_type": OrderType.MARKET},
                {},
            ]
        ),
    )
    def send_a_bad_command(self, trader: tuple[int, str, str], fault: dict[str, object]) -> None:
        if not fault:
            self.apply(Unparseable(*self._stamp(), trader[0], "not a command"))
            return
        order = self._order(trader, "AAA", Side.BUY, OrderType.LIMIT, TimeInForce.GTC, 100, 5)
        self.apply(dataclasses.replace(order, **fault))  # type: ignore[arg-type]

    @rule(pick=order_picks, by_owner=st.booleans())
    def cancel_an_order(self, pick: int, by_owner: bool) -> None:
        order_id, owner = self._pick(pick)
        self.apply(CancelOrder(*self._stamp(), owner if by_owner else 3, order_id))

    @rule(pick=order_picks, price_move=st.integers(-3, 3), qty=st.integers(0, 9))
    def modify_an_order(self, pick: int, price_move: int, qty: int) -> None:
        order_id, owner = self._pick(pick)
        working = self.engine.orders.get(order_id)
        price = (working.price_ticks if working is not None else 100) or 100
        self.apply(ModifyOrder(*self._stamp(), owner, order_id, price + price_move, qty))

    @rule(
        trader=traders,
        symbol=st.sampled_from(["", *SYMBOLS]),
        side=st.one_of(st.none(), sides),
        by_account=st.booleans(),
        any_owner=st.booleans(),
        expire=st.one_of(st.none(), all_tifs),
    )
    def mass_cancel_or_expire(
        self,
        trader: tuple[int, str, str],
        symbol: str,
        side: Side | None,
        by_account: bool,
        any_owner: bool,
        expire: TimeInForce | None,
    ) -> None:
        if expire is not None:
            self.apply(ExpireOrders(*self._stamp(), time_in_force=expire, symbol=symbol))
            return
        user, account, _ = trader
        self.apply(
            MassCancel(
                *self._stamp(),
                user,
                account=account if by_account else "",
                symbol=symbol,
                side=side,
                any_owner=any_owner,
            )
        )

    @rule(through_json=st.booleans())
    def restore_a_replica_from_a_snapshot(self, through_json: bool) -> None:
        if "replay" not in self.checks:
            return
        snapshot = self.engine.snapshot()
        if through_json:
            snapshot = json.loads(json.dumps(snapshot))
        self.replicas = [*self.replicas[-1:], Engine.restore(snapshot)]

    # -- applying and checking --------------------------------------------------------------

    def apply(self, command: Command) -> None:
        events = self.engine.apply(command)
        for replica in self.replicas:
            replayed = replica.apply(command)
            self.require("replay", replayed == events, f"a restored engine diverged on {command}")
            self.require(
                "replay",
                self._state(replica, self.listed) == self._state(self.engine, self.listed),
                f"a restored engine reads differently after {command}",
            )
        self.check_numbering(events)
        self.check_outcome(command, events)
        self.follow(events)
        self.check_fok(command, events)
        self.check_book()
        self.check_conservation()

    def require(self, check: str, condition: bool, message: str) -> None:
        if check in self.checks:
            assert condition, message

    def check_numbering(self, events: list[Event]) -> None:
        command_seq = self.engine.last_command_seq
        seqs = [command_seq, *(e.seq for e in events)]
        self.require(
            "seq",
            seqs == list(range(self.last_seq + 1, self.last_seq + 1 + len(seqs))),
            f"command and event seqs {seqs} do not follow {self.last_seq}",
        )
        self.last_seq = seqs[-1]
        for event in events:
            if isinstance(event, BookDelta):
                previous = self.book_seqs.get(event.symbol, 0)
                self.require(
                    "seq",
                    event.book_seq == previous + 1,
                    f"{event.symbol} book_seq {event.book_seq} after {previous}",
                )
                self.book_seqs[event.symbol] = event.book_seq

    def check_outcome(self, command: Command, events: list[Event]) -> None:
        kinds = [e.kind for e in events]
        self.require("outcome", bool(events), f"{command} produced no event")
        if not events:
            return
        self.require(
            "outcome",
            kinds[0] in OUTCOMES_BY_COMMAND[type(command)] and kinds[0] in OUTCOME_KINDS,
            f"{command} began with {kinds[0]}",
        )
        consequences = OUTCOME_KINDS - {"order_cancelled"}
        self.require(
            "outcome",
            not any(kind in consequences for kind in kinds[1:]),
            f"a second outcome among {kinds}",
        )
        deltas = [e for e in events if isinstance(e, BookDelta)]
        self.require(
            "outcome",
            kinds[len(kinds) - len(deltas) :] == ["book_delta"] * len(deltas)
            and len({d.symbol for d in deltas}) == len(deltas),
            f"book deltas are not last, one per instrument: {kinds}",
        )
        outcome = events[0]
        if isinstance(command, CancelOrder) and isinstance(outcome, OrderCancelled):
            self.require(
                "outcome",
                outcome.reason is Reason.CANCELLED_BY_USER and outcome.order_id == command.order_id,
                f"cancel outcome {outcome}",
            )
        if isinstance(outcome, MassCancelDone | OrdersExpired):
            reason = Reason.MASS_CANCEL if isinstance(outcome, MassCancelDone) else Reason.EXPIRED
            count = (
                outcome.cancelled_orders
                if isinstance(outcome, MassCancelDone)
                else outcome.expired_orders
            )
            cancels = [e.order_id for e in events if isinstance(e, OrderCancelled)]
            self.require(
                "outcome",
                count == len(cancels) == len(set(cancels))
                and cancels == sorted(cancels)
                and all(e.reason is reason for e in events if isinstance(e, OrderCancelled)),
                f"{outcome.kind} counted {count}, cancelled {cancels}",
            )
        if isinstance(outcome, OrderRejected):
            self.require("outcome", len(events) == 1, f"a rejection with consequences: {kinds}")

    def follow(self, events: list[Event]) -> None:
        """Replay the events onto the ledger and the shadow book, checking each trade."""
        self.incoming = None
        self.finished = []
        for event in events:
            if isinstance(event, InstrumentDefined) and event.symbol not in self.listed:
                self.listed.append(event.symbol)
            elif isinstance(event, OrderAccepted):
                self._accepted(event)
            elif isinstance(event, StopTriggered):
                self._settle()
                self.shadow.waiting.discard(event.order_id)
                self.shadow.triggered.add(event.order_id)
                info = self.info[event.order_id]
                self.incoming = Incoming(event.order_id, info.price_ticks, info.qty_lots)
            elif isinstance(event, Trade):
                self._trade(event)
            elif isinstance(event, OrderCancelled):
                self.ledger[event.order_id].cancelled += event.cancelled_lots
                self._lots_leave(event.order_id, 0)
            elif isinstance(event, OrderReduced):
                self.ledger[event.order_id].reduced += event.reduced_lots
                self._lots_leave(event.order_id, event.leaves_lots)
            elif isinstance(event, OrderModified):
                self._modified(event)
        self._settle()

    def _accepted(self, event: OrderAccepted) -> None:
        self.info[event.order_id] = OrderInfo(
            event.symbol,
            event.side,
            event.order_type,
            event.time_in_force,
            event.qty_lots,
            event.price_ticks,
            event.display_qty_lots,
            event.post_only,
            event.stp_group or event.account,
        )
        self.ledger[event.order_id] = Ledger(accepted=event.qty_lots)
        if event.order_type in STOP_TYPES:
            self.shadow.waiting.add(event.order_id)
        else:
            self._settle()
            self.incoming = Incoming(event.order_id, event.price_ticks, event.qty_lots)

    def _trade(self, event: Trade) -> None:
        maker_info = self.info[event.maker_order_id]
        taker_info = self.info[event.taker_order_id]
        self.ledger[event.maker_order_id].traded += event.qty_lots
        self.ledger[event.taker_order_id].traded += event.qty_lots
        self.require(
            "self_trade",
            maker_info.stp_key != taker_info.stp_key,
            f"self-trade printed between {event.maker_order_id} and {event.taker_order_id} "
            f"(STP key {maker_info.stp_key!r})",
        )
        self.require(
            "post_only",
            not taker_info.post_only,
            f"post-only order {event.taker_order_id} took liquidity",
        )
        maker = self.shadow.resting.get(event.maker_order_id)
        self.require("priority", maker is not None, f"maker {event.maker_order_id} not resting")
        if maker is not None:
            rivals = [
                o
                for o in self.shadow.resting.values()
                if self.info[o.order_id].symbol == event.symbol
                and self.info[o.order_id].side is maker_info.side
                and self.info[o.order_id].stp_key != taker_info.stp_key
            ]
            sign = -1 if maker_info.side is Side.BUY else 1
            first = min(rivals, key=lambda o: (sign * o.price_ticks, o.priority), default=None)
            self.require(
                "priority",
                first is maker and maker.price_ticks == event.price_ticks,
                f"trade {event} took {event.maker_order_id} at {maker.price_ticks} (priority "
                f"{maker.priority}), but first in line among other keys was {first}",
            )
            self.require(
                "priority",
                event.qty_lots <= maker.shown_lots
                and event.maker_leaves_lots == maker.leaves_lots - event.qty_lots,
                f"trade {event} does not fit the maker's shown {maker.shown_lots} / leaves "
                f"{maker.leaves_lots}",
            )
            maker.leaves_lots -= event.qty_lots
            maker.shown_lots -= event.qty_lots
            if maker.leaves_lots <= 0:
                del self.shadow.resting[maker.order_id]
            elif maker.shown_lots <= 0:
                maker.shown_lots = self._slice(maker.order_id, maker.leaves_lots)
                maker.priority = self._next_priority()
        incoming = self.incoming
        self.require(
            "priority",
            incoming is not None and incoming.order_id == event.taker_order_id,
            f"trade {event} by an order that is not matching",
        )
        if incoming is not None:
            incoming.leaves_lots = event.taker_leaves_lots
            incoming.traded_lots += event.qty_lots

    def _lots_leave(self, order_id: int, leaves_after: int) -> None:
        """An order is cancelled (nothing left) or reduced by self-trade prevention."""
        if order_id in self.shadow.waiting:
            self.shadow.waiting.discard(order_id)
            return
        if self.incoming is not None and self.incoming.order_id == order_id:
            self.incoming.leaves_lots = leaves_after
            return
        order = self.shadow.resting.get(order_id)
        if order is None:
            return
        if leaves_after == 0:
            del self.shadow.resting[order_id]
        else:
            order.leaves_lots = leaves_after
            order.shown_lots = min(order.shown_lots, leaves_after)

    def _modified(self, event: OrderModified) -> None:
        change = event.leaves_lots - event.previous_leaves_lots
        ledger = self.ledger[event.order_id]
        ledger.increased += max(change, 0)
        ledger.decreased += max(-change, 0)
        order = self.shadow.resting.get(event.order_id)
        if order is None:
            return
        if event.kept_priority:
            # Its place kept, an iceberg keeps its current slice (cut to the new leaves): a
            # fresh slice comes only with a place at the back.
            order.leaves_lots = event.leaves_lots
            order.shown_lots = min(order.shown_lots, event.leaves_lots)
            return
        del self.shadow.resting[event.order_id]
        self._settle()
        self.info[event.order_id].price_ticks = event.price_ticks
        self.incoming = Incoming(event.order_id, event.price_ticks, event.leaves_lots)

    def _settle(self) -> None:
        """The matching order is done: what is left of it rests, if its kind may rest."""
        incoming, self.incoming = self.incoming, None
        if incoming is None:
            return
        self.finished.append(incoming)
        if incoming.leaves_lots <= 0:
            return
        info = self.info[incoming.order_id]
        if info.time_in_force in RESTING_TIFS and info.order_type in (
            OrderType.LIMIT,
            OrderType.STOP_LIMIT,
        ):
            self.shadow.resting[incoming.order_id] = ShadowOrder(
                incoming.order_id,
                incoming.price_ticks,
                self._next_priority(),
                incoming.leaves_lots,
                self._slice(incoming.order_id, incoming.leaves_lots),
            )

    def check_fok(self, command: Command, events: list[Event]) -> None:
        outcome = events[0] if events else None
        if (
            isinstance(command, NewOrder)
            and command.time_in_force is TimeInForce.FOK
            and isinstance(outcome, OrderRejected)
        ):
            self.require(
                "fok",
                not any(isinstance(e, Trade) for e in events),
                "a rejected FOK traded",
            )
        for done in self.finished:
            info = self.info[done.order_id]
            if info.time_in_force is not TimeInForce.FOK:
                continue
            self.require(
                "fok",
                done.traded_lots in (0, info.qty_lots),
                f"FOK order {done.order_id} traded {done.traded_lots} of {info.qty_lots}",
            )
            if info.order_type not in STOP_TYPES:
                self.require(
                    "fok",
                    done.traded_lots == info.qty_lots,
                    f"accepted FOK order {done.order_id} traded {done.traded_lots} of "
                    f"{info.qty_lots}",
                )

    def check_book(self) -> None:
        for symbol in self.listed:
            bids = self.engine.depth(symbol, Side.BUY)
            asks = self.engine.depth(symbol, Side.SELL)
            self.require(
                "crossed",
                not bids or not asks or bids[0][0] < asks[0][0],
                f"{symbol} is crossed at rest: bids {bids[:2]}, asks {asks[:2]}",
            )
            for side, depth in ((Side.BUY, bids), (Side.SELL, asks)):
                self.require(
                    "priority",
                    depth == self._shadow_depth(symbol, side),
                    f"{symbol} {side} depth {depth} is not what the events built: "
                    f"{self._shadow_depth(symbol, side)}",
                )
        for order_id in self.engine.orders:
            info = self.info.get(order_id)
            if info is None or order_id in self.shadow.waiting:
                continue
            self.require(
                "ioc",
                info.time_in_force in RESTING_TIFS
                and info.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT),
                f"order {order_id} ({info.order_type} {info.time_in_force}) rests",
            )
        working = set(self.shadow.resting) | self.shadow.waiting
        self.require(
            "priority",
            set(self.engine.orders) == working,
            f"working orders {sorted(self.engine.orders)}, events say {sorted(working)}",
        )

    def check_conservation(self) -> None:
        for order_id, ledger in self.ledger.items():
            working = self.engine.orders.get(order_id)
            still = working.leaves_lots if working is not None else 0
            came = ledger.accepted + ledger.increased
            went = ledger.traded + ledger.cancelled + ledger.reduced + ledger.decreased + still
            self.require(
                "conservation",
                came == went,
                f"order {order_id}: {ledger} with {still} working does not add up",
            )

    # -- helpers ----------------------------------------------------------------------------

    def _stamp(self) -> tuple[str, int]:
        self.n += 1
        return f"cmd-{self.n}", self.n

    def _order(
        self,
        trader: tuple[int, str, str],
        symbol: str,
        side: Side,
        order_type: OrderType,
        tif: TimeInForce,
        price: int,
        qty: int,
        *,
        stop: int = 0,
        display: int = 0,
        post_only: bool = False,
        stp_mode: StpMode = StpMode.CANCEL_RESTING,
    ) -> NewOrder:
        user, account, group = trader
        command_id, ts_ns = self._stamp()
        return NewOrder(
            command_id=command_id,
            ts_ns=ts_ns,
            user_id=user,
            account=account,
            symbol=symbol,
            side=side,
            order_type=order_type,
            time_in_force=tif,
            price_ticks=price,
            qty_lots=qty,
            client_order_id=f"cl-{command_id}",
            stop_price_ticks=stop,
            display_qty_lots=display,
            post_only=post_only,
            stp_mode=stp_mode,
            stp_group=group,
        )

    def _pick(self, pick: int) -> tuple[int, int]:
        """An order id to act on (mostly a working one) and its owner."""
        working = sorted(self.engine.orders)
        known = sorted(self.info)
        if working and pick % 7:
            order_id = working[pick % len(working)]
        elif known:
            order_id = known[pick % len(known)]
        else:
            return 999, 1
        order = self.engine.orders.get(order_id)
        return order_id, order.user_id if order is not None else 1

    def _slice(self, order_id: int, leaves: int) -> int:
        display = self.info[order_id].display_qty_lots
        return min(display, leaves) if display else leaves

    def _next_priority(self) -> int:
        self.shadow.priorities_issued += 1
        return self.shadow.priorities_issued

    def _shadow_depth(self, symbol: str, side: Side) -> list[tuple[int, int, int]]:
        levels: dict[int, list[int]] = {}
        for order in self.shadow.resting.values():
            info = self.info[order.order_id]
            if info.symbol == symbol and info.side is side:
                level = levels.setdefault(order.price_ticks, [0, 0])
                level[0] += order.shown_lots
                level[1] += 1
        return [
            (price, *levels[price])  # type: ignore[misc]
            for price in sorted(levels, reverse=side is Side.BUY)
        ]

    @staticmethod
    def _state(engine: Engine, symbols: list[str]) -> object:
        return (
            [engine.depth(s, side) for s in symbols for side in (Side.BUY, Side.SELL)],
            [engine.last_trade_price(s) for s in symbols],
            {i: (o.leaves_lots, o.price_ticks, o.side) for i, o in engine.orders.items()},
        )


RUN_SETTINGS = settings(
    max_examples=60,
    stateful_step_count=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def run_checking(*checks: str) -> None:
    machine = type(
        "Checking" + "And".join(c.title().replace("_", "") for c in checks),
        (EngineMachine,),
        {"checks": frozenset(checks)},
    )
    run_state_machine_as_test(machine, settings=RUN_SETTINGS)


def test_book_is_never_crossed_at_rest() -> None:
    run_checking("crossed")


def test_quantity_is_conserved_for_every_order() -> None:
    run_checking("conservation")


def test_fills_respect_price_time_priority_and_the_book_is_what_the_events_say() -> None:
    run_checking("priority")


def test_ioc_fok_and_market_orders_never_rest() -> None:
    run_checking("ioc")


def test_fok_is_all_or_nothing() -> None:
    run_checking("fok")


def test_post_only_orders_never_take() -> None:
    run_checking("post_only")


def test_no_self_trade_ever_prints() -> None:
    run_checking("self_trade")


def test_every_command_has_exactly_one_outcome_and_it_comes_first() -> None:
    run_checking("outcome")


def test_event_sequence_numbers_are_gapless_with_the_command_seq() -> None:
    run_checking("seq")


def test_a_restored_snapshot_replays_the_same_events() -> None:
    run_checking("replay")
