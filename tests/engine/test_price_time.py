"""Price-time priority on hand-written books, through the engine's public API only."""

import dataclasses
import itertools
import json

import pytest

from apps.matching.engine import (
    CancelOrder,
    DefineInstrument,
    Engine,
    Event,
    ExpireOrders,
    NewOrder,
    OrderAccepted,
    OrderCancelled,
    OrderRejected,
    OrderType,
    Reason,
    Side,
    TimeInForce,
    Trade,
)

_ids = itertools.count(1)


def order(side: str, price: int, qty: int, user: int = 1, tif: str = "GTC") -> NewOrder:
    n = next(_ids)
    return NewOrder(
        command_id=f"c{n}",
        ts_ns=n,
        user_id=user,
        account=f"ACC-{user}",
        symbol="AAPL",
        side=Side(side),
        order_type=OrderType.LIMIT,
        time_in_force=TimeInForce(tif),
        price_ticks=price,
        qty_lots=qty,
        client_order_id=f"o{n}",
    )


@pytest.fixture
def engine() -> Engine:
    engine = Engine()
    engine.apply(DefineInstrument(command_id="def", ts_ns=0, symbol="AAPL"))
    return engine


def accepted_id(events: list[Event]) -> int:
    outcome = events[0]
    assert isinstance(outcome, OrderAccepted)
    return outcome.order_id


def trades(events: list[Event]) -> list[tuple[int, int, int]]:
    return [(e.maker_order_id, e.price_ticks, e.qty_lots) for e in events if isinstance(e, Trade)]


def test_better_price_trades_first(engine: Engine) -> None:
    worse = accepted_id(engine.apply(order("sell", 101, 10)))
    better = accepted_id(engine.apply(order("sell", 100, 10)))
    events = engine.apply(order("buy", 101, 15, user=2))
    assert trades(events) == [(better, 100, 10), (worse, 101, 5)]


def test_earlier_order_at_a_price_trades_first(engine: Engine) -> None:
    first = accepted_id(engine.apply(order("buy", 100, 10)))
    second = accepted_id(engine.apply(order("buy", 100, 10)))
    third = accepted_id(engine.apply(order("buy", 100, 10)))
    events = engine.apply(order("sell", 100, 25, user=2))
    assert trades(events) == [(first, 100, 10), (second, 100, 10), (third, 100, 5)]
    assert engine.depth("AAPL", Side.BUY) == [(100, 5, 1)]


def test_trade_prints_at_the_resting_price(engine: Engine) -> None:
    maker = accepted_id(engine.apply(order("sell", 100, 10)))
    events = engine.apply(order("buy", 105, 10, user=2))
    assert trades(events) == [(maker, 100, 10)]


def test_cancelled_order_loses_its_place(engine: Engine) -> None:
    first = accepted_id(engine.apply(order("sell", 100, 10)))
    second = accepted_id(engine.apply(order("sell", 100, 10)))
    engine.apply(CancelOrder(command_id="x1", ts_ns=99, user_id=1, order_id=first))
    events = engine.apply(order("buy", 100, 10, user=2))
    assert trades(events) == [(second, 100, 10)]


def test_remainder_rests_at_its_limit(engine: Engine) -> None:
    engine.apply(order("sell", 100, 10))
    engine.apply(order("buy", 101, 30, user=2))
    assert engine.depth("AAPL", Side.BUY) == [(101, 20, 1)]
    assert engine.depth("AAPL", Side.SELL) == []


def test_non_crossing_orders_rest_with_level_totals(engine: Engine) -> None:
    engine.apply(order("buy", 99, 10))
    engine.apply(order("buy", 99, 5))
    engine.apply(order("buy", 98, 7))
    engine.apply(order("sell", 101, 3))
    assert engine.depth("AAPL", Side.BUY) == [(99, 15, 2), (98, 7, 1)]
    assert engine.depth("AAPL", Side.SELL) == [(101, 3, 1)]


def test_ioc_never_rests(engine: Engine) -> None:
    engine.apply(order("sell", 100, 4))
    events = engine.apply(order("buy", 100, 10, user=2, tif="IOC"))
    cancelled = [e for e in events if isinstance(e, OrderCancelled)]
    assert [(c.cancelled_lots, c.reason) for c in cancelled] == [(6, Reason.IOC_REMAINDER)]
    assert engine.depth("AAPL", Side.BUY) == []


def test_fok_is_rejected_whole_when_it_cannot_fill(engine: Engine) -> None:
    engine.apply(order("sell", 100, 4))
    events = engine.apply(order("buy", 100, 10, user=2, tif="FOK"))
    assert isinstance(events[0], OrderRejected)
    assert events[0].reason is Reason.FOK_NOT_FILLABLE
    assert engine.depth("AAPL", Side.SELL) == [(100, 4, 1)]


@pytest.mark.parametrize(
    ("price", "qty", "symbol", "reason"),
    [
        (0, 10, "AAPL", Reason.INVALID_PRICE),
        (100, 0, "AAPL", Reason.INVALID_QUANTITY),
        (100, -5, "AAPL", Reason.INVALID_QUANTITY),
        (100, 10, "ZZZZ", Reason.UNKNOWN_INSTRUMENT),
    ],
)
def test_invalid_orders_are_rejected_and_change_nothing(
    engine: Engine, price: int, qty: int, symbol: str, reason: Reason
) -> None:
    engine.apply(order("sell", 100, 4))
    bad = order("buy", price, qty)
    bad = dataclasses.replace(bad, symbol=symbol)
    events = engine.apply(bad)
    assert len(events) == 1
    assert isinstance(events[0], OrderRejected)
    assert events[0].reason is reason
    assert engine.depth("AAPL", Side.SELL) == [(100, 4, 1)]


def test_only_the_owner_can_cancel(engine: Engine) -> None:
    mine = accepted_id(engine.apply(order("sell", 100, 4, user=1)))
    events = engine.apply(CancelOrder(command_id="x2", ts_ns=50, user_id=2, order_id=mine))
    assert [e.kind for e in events] == ["cancel_rejected"]
    assert engine.depth("AAPL", Side.SELL) == [(100, 4, 1)]


def test_events_carry_a_gapless_sequence(engine: Engine) -> None:
    seqs: list[int] = []
    for command in (order("sell", 100, 4), order("buy", 100, 10, user=2), order("buy", 0, 1)):
        events = engine.apply(command)
        seqs.append(engine.last_command_seq)
        seqs.extend(e.seq for e in events)
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))


def test_the_engine_imports_nothing_outside_the_standard_library() -> None:
    import ast
    import pathlib
    import sys

    package = pathlib.Path(__file__).resolve().parents[2] / "apps" / "matching" / "engine"
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            for name in names:
                top = name.split(".")[0]
                assert top in sys.stdlib_module_names or name.startswith("apps.matching.engine"), (
                    f"{path.name} imports {name}"
                )


def test_a_client_order_id_is_used_once_per_account_per_session(engine: Engine) -> None:
    first = order("sell", 100, 4)
    engine.apply(first)
    again = dataclasses.replace(first, command_id="again")
    events = engine.apply(again)
    assert [(e.kind, getattr(e, "reason", None)) for e in events] == [
        ("order_rejected", Reason.DUPLICATE_CLIENT_ORDER_ID)
    ]
    assert engine.depth("AAPL", Side.SELL) == [(100, 4, 1)]
    engine.apply(ExpireOrders(command_id="close", ts_ns=10**6))
    assert isinstance(engine.apply(again)[0], OrderAccepted)


def test_client_order_ids_left_out_of_snapshots_come_back_from_their_pages(engine: Engine) -> None:
    # A matcher stores each id once, in a page beside the first snapshot after its use.
    first, second, other = order("sell", 100, 4), order("sell", 101, 4), order("buy", 90, 1, 2)
    engine.apply(first)
    engine.apply(second)
    early = json.loads(json.dumps(engine.snapshot(client_order_ids=False)))
    first_page = engine.client_order_ids_after({})
    engine.apply(other)
    engine.apply(order("sell", 102, 4))
    state = json.loads(json.dumps(engine.snapshot(client_order_ids=False)))
    assert "client_order_ids" not in state
    second_page = engine.client_order_ids_after(early["client_order_id_counts"])
    assert first_page == {"ACC-1": [first.client_order_id, second.client_order_id]}
    assert set(second_page) == {"ACC-1", "ACC-2"}
    assert second_page["ACC-2"] == [other.client_order_id]

    ids = {a: first_page.get(a, []) + second_page.get(a, []) for a in ("ACC-1", "ACC-2")}
    restored = Engine.restore(state, ids)
    assert restored.snapshot() == engine.snapshot()
    for used in (first, other):
        [rejected] = restored.apply(
            dataclasses.replace(used, command_id=f"again-{used.command_id}")
        )
        assert isinstance(rejected, OrderRejected)
        assert rejected.reason is Reason.DUPLICATE_CLIENT_ORDER_ID

    # Without the first page, the ids do not add up to the snapshot's counts: no engine.
    with pytest.raises(ValueError, match="do not match the snapshot's counts"):
        Engine.restore(state, second_page)
    with pytest.raises(ValueError, match="holds no client order ids"):
        Engine.restore(state)

    # The session's end starts a new one, named by the expiry's seq: its pages start afresh.
    [expired, *_] = engine.apply(ExpireOrders(command_id="close", ts_ns=10**6))
    assert engine.client_order_ids_since_seq == expired.seq
    assert engine.snapshot(client_order_ids=False)["client_order_id_counts"] == {}
    engine.apply(first)
    assert engine.client_order_ids_after({}) == {"ACC-1": [first.client_order_id]}
