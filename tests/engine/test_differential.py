"""Long seeded random command streams through the engine and the reference book, side by side.

After every command both must have produced the same events (all fields, sequence numbers and
book-delta numbering included; only message wording, the numbering of trade ids, which must be
distinct, and the order of the levels inside one delta are left to the engine), the same depth
on both sides of every book, the same working orders and the same last trade price. Now and
then the engine is swapped for one restored from a JSON round trip of its snapshot, which must
carry on exactly where the original was.
"""

import dataclasses
import json
import random
from collections.abc import Iterator

import pytest

from apps.matching.engine import Engine
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
    ModifyRejected,
    OrderRejected,
    Trade,
)
from apps.matching.engine.types import OrderType, Side, StpMode, TimeInForce
from tests.engine.reference_book import ReferenceBook

SYMBOLS = ("AAA", "BBB")
USERS = (1, 2, 3, 4)
ORDER_ID_BASE = 5_000_000
COMMANDS_PER_SEED = 10_000
HISTORY_SHOWN = 40
RESTORE_EVERY = 701

INSTRUMENTS = {
    "AAA": DefineInstrument("", 0, "AAA", min_qty_lots=1, max_qty_lots=40, protection_ticks=2),
    "BBB": DefineInstrument("", 0, "BBB", min_qty_lots=2, max_qty_lots=30, protection_bps=300),
}


class StreamGenerator:
    """Random but well-aimed commands: prices within a few ticks of `center`, small lots, few
    users and accounts (some sharing an account or an STP group)."""

    def __init__(self, seed: int, reference: ReferenceBook, center: int = 100) -> None:
        self.rng = random.Random(seed)
        self.reference = reference
        self.center = center
        self.n = 0

    def commands(self, count: int) -> Iterator[Command]:
        for symbol in SYMBOLS:
            yield self._define(symbol, is_open=True)
        for _ in range(count):
            yield self.next_command()

    def next_command(self) -> Command:
        roll = self.rng.random()
        if roll < 0.60:
            return self._new_order()
        if roll < 0.72:
            return self._cancel()
        if roll < 0.86:
            return self._modify()
        if roll < 0.90:
            return self._mass_cancel()
        if roll < 0.925:
            return self._expire()
        if roll < 0.945:
            symbol = self.rng.choice(SYMBOLS)
            return self._define(symbol, is_open=self.rng.random() < 0.85)
        if roll < 0.955:
            return Unparseable(self._id(), self.n, self.rng.choice(USERS), "not json")
        return self._bad_new_order()

    # -- pieces -----------------------------------------------------------------------------

    def _id(self) -> str:
        self.n += 1
        return f"cmd-{self.n}"

    def _define(self, symbol: str, *, is_open: bool) -> DefineInstrument:
        rng = self.rng
        definition = dataclasses.replace(
            INSTRUMENTS[symbol], command_id=self._id(), ts_ns=self.n, is_open=is_open
        )
        if rng.random() < 0.3:
            definition = dataclasses.replace(
                definition,
                protection_ticks=rng.choice((0, 1, 3)),
                protection_bps=rng.choice((0, 100, 300, 500)),
            )
        if rng.random() < 0.2:
            definition = dataclasses.replace(definition, max_qty_lots=rng.randint(8, 12))
        return definition

    def _user(self) -> tuple[int, str, str]:
        user = self.rng.choice(USERS)
        account = self.rng.choice((f"ACC-{user}", f"ACC-{user}", "ACC-SHARED"))
        group = self.rng.choice(("", "", "", "GRP-X" if user <= 2 else "GRP-Y"))
        return user, account, group

    def _price(self) -> int:
        return max(1, self.center + self.rng.randint(-5, 5))

    def _working_id(self) -> int:
        working = sorted(self.reference.orders)
        if working and self.rng.random() < 0.85:
            return self.rng.choice(working)
        issued = self.reference.orders_issued
        if issued and self.rng.random() < 0.7:
            return ORDER_ID_BASE + self.rng.randint(1, issued)
        return self.rng.choice((0, -1, ORDER_ID_BASE + 999_999))

    def _new_order(self) -> NewOrder:
        rng = self.rng
        user, account, group = self._user()
        symbol = rng.choice(SYMBOLS)
        side = rng.choice((Side.BUY, Side.SELL))
        order_type = rng.choices(
            (OrderType.LIMIT, OrderType.MARKET, OrderType.STOP, OrderType.STOP_LIMIT),
            weights=(75, 10, 7, 8),
        )[0]
        tif = rng.choices(
            (TimeInForce.GTC, TimeInForce.DAY, TimeInForce.IOC, TimeInForce.FOK),
            weights=(40, 30, 15, 15),
        )[0]
        qty = rng.randint(2, 12)
        price = self._price() if order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT) else 0
        stop = 0
        if order_type in (OrderType.STOP, OrderType.STOP_LIMIT):
            last = self.reference.instruments[symbol].last_trade_price or self.center
            stop = max(1, last + rng.randint(-3, 3))
        display = 0
        if rng.random() < 0.15:
            display = rng.randint(1, qty)
        post_only = order_type is OrderType.LIMIT and rng.random() < 0.12
        if display or post_only:
            tif = rng.choice((TimeInForce.GTC, TimeInForce.DAY))
        return NewOrder(
            command_id=self._id(),
            ts_ns=self.n,
            user_id=user,
            account=account,
            symbol=symbol,
            side=side,
            order_type=order_type,
            time_in_force=tif,
            price_ticks=price,
            qty_lots=qty,
            client_order_id=f"cl-{self.n}",
            stop_price_ticks=stop,
            display_qty_lots=display,
            post_only=post_only,
            stp_mode=rng.choice(list(StpMode)),
            stp_group=group,
        )

    def _bad_new_order(self) -> NewOrder:
        base = self._new_order()
        rng = self.rng
        change = rng.choice(
            (
                {"symbol": "ZZZ"},
                {"qty_lots": rng.choice((0, -3))},
                {"qty_lots": 99},
                {"qty_lots": 1, "symbol": "BBB"},
                {"price_ticks": rng.choice((0, -1, 100))},
                {"stop_price_ticks": rng.choice((0, -2, 100))},
                {"display_qty_lots": rng.choice((-1, 50))},
                {"display_qty_lots": 1, "time_in_force": rng.choice(list(TimeInForce))},
                {"post_only": True, "order_type": rng.choice(list(OrderType))},
                {"post_only": True, "time_in_force": rng.choice(list(TimeInForce))},
            )
        )
        return dataclasses.replace(base, **change)

    def _cancel(self) -> CancelOrder:
        order_id = self._working_id()
        order = self.reference.orders.get(order_id)
        user = order.user_id if order and self.rng.random() < 0.85 else self.rng.choice(USERS)
        return CancelOrder(self._id(), self.n, user, order_id)

    def _modify(self) -> ModifyOrder:
        rng = self.rng
        order_id = self._working_id()
        order = self.reference.orders.get(order_id)
        user = order.user_id if order and rng.random() < 0.9 else rng.choice(USERS)
        price = order.price_ticks if order and order.price_ticks else self.center
        leaves = order.leaves_lots if order else 5
        shape = rng.random()
        if shape < 0.3:
            new_price, new_qty = price, max(1, leaves - rng.randint(0, 3))
        elif shape < 0.45:
            new_price, new_qty = price, leaves + rng.randint(1, 4)
        elif shape < 0.9:
            new_price, new_qty = max(1, price + rng.randint(-4, 4)), rng.randint(1, 12)
        else:
            new_price, new_qty = rng.choice(((0, 5), (100, 0), (100, 41), (-1, 3)))
        return ModifyOrder(self._id(), self.n, user, order_id, new_price, new_qty)

    def _mass_cancel(self) -> MassCancel:
        rng = self.rng
        user, account, _ = self._user()
        return MassCancel(
            self._id(),
            self.n,
            user,
            account=account if rng.random() < 0.3 else "",
            trader_user_id=rng.choice(USERS) if rng.random() < 0.2 else 0,
            symbol=rng.choice(SYMBOLS) if rng.random() < 0.5 else "",
            side=rng.choice((Side.BUY, Side.SELL)) if rng.random() < 0.4 else None,
            any_owner=rng.random() < 0.25,
        )

    def _expire(self) -> ExpireOrders:
        tif = self.rng.choices(list(TimeInForce), weights=(70, 10, 10, 10))[0]
        symbol = self.rng.choice(("", *SYMBOLS))
        return ExpireOrders(self._id(), self.n, time_in_force=tif, symbol=symbol)


def _comparable(event: Event) -> Event:
    """The event without what the contract leaves to the engine: the wording of messages, how
    trade ids are numbered (they must only be distinct) and the order of a delta's levels."""
    if isinstance(event, BookDelta):
        return dataclasses.replace(event, changes=tuple(sorted(event.changes)))
    if isinstance(event, Trade):
        return dataclasses.replace(event, trade_id=0)
    if isinstance(event, OrderRejected | CancelRejected | ModifyRejected | CommandRejected):
        return dataclasses.replace(event, message="")
    return event


class Differential:
    """Applies each command to both books and compares everything observable."""

    def __init__(self) -> None:
        self.engine = Engine(order_id_base=ORDER_ID_BASE)
        self.reference = ReferenceBook(order_id_base=ORDER_ID_BASE)
        self.history: list[Command] = []
        self.trade_ids: set[int] = set()

    def apply(self, command: Command) -> None:
        self.history.append(command)
        if len(self.history) % RESTORE_EVERY == 0:
            # Carry on with an engine restored from a snapshot of this one, as a matcher
            # recovering from its last snapshot would.
            snapshot = json.loads(json.dumps(self.engine.snapshot()))
            self.engine = Engine.restore(snapshot)
        events = self.engine.apply(command)
        expected = self.reference.apply(command)
        self._assert(
            self.engine.last_command_seq == self.reference.last_command_seq,
            "the command's seq",
            self.engine.last_command_seq,
            self.reference.last_command_seq,
        )
        got = [_comparable(e) for e in events]
        want = [_comparable(e) for e in expected]
        if got != want:
            pairs = zip([*got, None], [*want, None], strict=False)
            at = next(i for i, (g, w) in enumerate(pairs) if g != w)
            self._assert(False, f"events differ from #{at}", got[at:], want[at:])
        for event in events:
            if isinstance(event, Trade):
                self._assert(
                    event.trade_id not in self.trade_ids, "trade id reused", event.trade_id, None
                )
                self.trade_ids.add(event.trade_id)
        self._check_state()

    def _check_state(self) -> None:
        for symbol in self.reference.instruments:
            for side in (Side.BUY, Side.SELL):
                got_depth = self.engine.depth(symbol, side)
                want_depth = self.reference.depth(symbol, side)
                self._assert(
                    got_depth == want_depth, f"{symbol} {side} depth", got_depth, want_depth
                )
            got_last = self.engine.last_trade_price(symbol)
            want_last = self.reference.last_trade_price(symbol)
            self._assert(got_last == want_last, f"{symbol} last trade price", got_last, want_last)
        got_orders = {
            order_id: (o.leaves_lots, o.price_ticks, o.side, o.user_id, o.account)
            for order_id, o in self.engine.orders.items()
        }
        want_orders = {
            order_id: (o.leaves_lots, o.price_ticks, o.side, o.user_id, o.account)
            for order_id, o in self.reference.orders.items()
        }
        self._assert(got_orders == want_orders, "working orders", got_orders, want_orders)

    def _assert(self, ok: bool, what: str, got: object, want: object) -> None:
        if ok:
            return
        recent = "\n".join(f"  {c!r}" for c in self.history[-HISTORY_SHOWN:])
        raise AssertionError(
            f"after command #{len(self.history)}: {what}\n"
            f"engine:    {got!r}\nreference: {want!r}\n"
            f"last {HISTORY_SHOWN} commands:\n{recent}"
        )


@pytest.mark.parametrize(
    ("seed", "center"),
    [
        pytest.param(11, 100, id="near-100"),
        pytest.param(23, 100, id="near-100-again"),
        pytest.param(59, 100, id="near-100-once-more"),
        # Near the bottom of the price scale: protection bands round to one tick and a sell's
        # protection price is floored at 1.
        pytest.param(37, 4, id="near-1"),
    ],
)
def test_engine_and_reference_agree_after_every_command_of_a_random_stream(
    seed: int, center: int
) -> None:
    differential = Differential()
    stream = StreamGenerator(seed, differential.reference, center)
    for command in stream.commands(COMMANDS_PER_SEED):
        differential.apply(command)
