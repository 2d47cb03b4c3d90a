"""Folds engine events into the order and fill read models, inside the journal transaction."""

from collections.abc import Sequence
from typing import Any

from django.db.models import Model

from apps.instruments.models import Instrument
from apps.matching.engine import (
    Event,
    OrderAccepted,
    OrderCancelled,
    OrderModified,
    OrderReduced,
    StopTriggered,
    Trade,
)
from apps.trading import bulk
from apps.trading.models import Fill, Order, Position

# The columns each write sets: every stored field on insert (foreign keys by their id), the
# ones an event changes on update.
ORDER_UPDATED = (
    "price_ticks",
    "qty_lots",
    "filled_lots",
    "leaves_lots",
    "status",
    "reason_code",
    "updated_ts_ns",
)
POSITION_UPDATED = (
    "qty_lots",
    "cost_ticks",
    "realised_pnl_ticks",
    "bought_lots",
    "sold_lots",
    "updated_ts_ns",
)


def _stored(model: type[Model]) -> tuple[str, ...]:
    return tuple(f.attname for f in model._meta.concrete_fields if not f.primary_key)


POSITION_KEY = ("account", "instrument")
ORDER_INSERTED = _stored(Order)
FILL_INSERTED = _stored(Fill)
POSITION_INSERTED = _stored(Position)


def _values(row: Model, names: Sequence[str]) -> tuple[Any, ...]:
    return tuple(getattr(row, name) for name in names)


def _fill_values(fill: Fill) -> tuple[Any, ...]:
    # The order by its order id (resolved to its key in the insert), as new orders have none.
    return tuple(
        fill.order.order_id if name == "order_id" else getattr(fill, name) for name in FILL_INSERTED
    )


class ReadModelProjector:
    """Keeps the shard's working orders and its positions in memory as last written: the
    matcher is their only writer, so the rows need not be read back on every batch. A
    projector whose transaction failed is thrown away with the matcher's engine."""

    def __init__(self, shard: int) -> None:
        self.shard = shard
        self._instrument_ids: dict[str, int] = {}
        self._working: dict[int, Order] = {}
        self._positions: dict[tuple[str, int], Position] = {}

    def _instrument_id(self, symbol: str) -> int:
        if symbol not in self._instrument_ids:
            self._instrument_ids[symbol] = Instrument.objects.values_list("pk", flat=True).get(
                symbol=symbol
            )
        return self._instrument_ids[symbol]

    def apply(self, events: Sequence[Event]) -> dict[int, Order]:
        """Project `events`; return every order they touched, by order id, as now stored."""
        touched_ids = {
            oid
            for e in events
            for oid in (
                (e.maker_order_id, e.taker_order_id)
                if isinstance(e, Trade)
                else (e.order_id,)
                if isinstance(e, OrderCancelled | OrderModified | OrderReduced | StopTriggered)
                else ()
            )
        }
        working = self._working
        orders: dict[int, Order] = {oid: working[oid] for oid in touched_ids if oid in working}
        if len(orders) < len(touched_ids):
            # After a restart: the working orders are read once, as they are touched.
            missing = touched_ids - orders.keys()
            orders.update((o.order_id, o) for o in Order.objects.filter(order_id__in=missing))
        created: dict[int, Order] = {}
        fills: list[Fill] = []
        for event in events:
            if isinstance(event, OrderAccepted):
                order = Order(
                    order_id=event.order_id,
                    shard=self.shard,
                    user_id=event.user_id,
                    account=event.account,
                    instrument_id=self._instrument_id(event.symbol),
                    client_order_id=event.client_order_id,
                    side=event.side,
                    order_type=event.order_type,
                    time_in_force=event.time_in_force,
                    # An order priced through the LULD band rests at the band.
                    price_ticks=event.band_price_ticks or event.price_ticks,
                    stop_price_ticks=event.stop_price_ticks,
                    display_qty_lots=event.display_qty_lots,
                    post_only=event.post_only,
                    qty_lots=event.qty_lots,
                    leaves_lots=event.qty_lots,
                    created_ts_ns=event.ts_ns,
                    updated_ts_ns=event.ts_ns,
                )
                orders[order.order_id] = created[order.order_id] = order
            elif isinstance(event, Trade):
                for order_id, leaves, liquidity in (
                    (event.maker_order_id, event.maker_leaves_lots, Fill.Liquidity.MAKER),
                    (event.taker_order_id, event.taker_leaves_lots, Fill.Liquidity.TAKER),
                ):
                    order = orders[order_id]
                    order.filled_lots += event.qty_lots
                    order.leaves_lots = leaves
                    order.status = (
                        Order.Status.FILLED if leaves == 0 else Order.Status.PARTIALLY_FILLED
                    )
                    order.updated_ts_ns = event.ts_ns
                    fills.append(
                        Fill(
                            trade_id=event.trade_id,
                            shard=self.shard,
                            order=order,
                            user_id=order.user_id,
                            account=order.account,
                            instrument_id=order.instrument_id,
                            side=order.side,
                            price_ticks=event.price_ticks,
                            qty_lots=event.qty_lots,
                            liquidity=liquidity,
                            ts_ns=event.ts_ns,
                        )
                    )
            elif isinstance(event, OrderModified):
                order = orders[event.order_id]
                order.price_ticks = event.band_price_ticks or event.price_ticks
                order.leaves_lots = event.leaves_lots
                order.qty_lots = order.filled_lots + event.leaves_lots
                order.updated_ts_ns = event.ts_ns
            elif isinstance(event, StopTriggered) and event.band_price_ticks:
                order = orders[event.order_id]
                order.price_ticks = event.band_price_ticks
                order.updated_ts_ns = event.ts_ns
            elif isinstance(event, OrderReduced):
                order = orders[event.order_id]
                order.leaves_lots = event.leaves_lots
                order.updated_ts_ns = event.ts_ns
            elif isinstance(event, OrderCancelled):
                order = orders[event.order_id]
                order.leaves_lots = 0
                order.status = Order.Status.CANCELLED
                order.reason_code = event.reason
                order.updated_ts_ns = event.ts_ns
        updated = [o for oid, o in orders.items() if oid not in created]
        positions = self._project_positions(fills) if fills else []
        if bulk.uses_arrays(Order):
            # Rows are found by order id, not by key: the new orders' keys are never read back.
            new_orders = [_values(o, ORDER_INSERTED) for o in created.values()]
            changed_orders = [_values(o, ("order_id", *ORDER_UPDATED)) for o in updated]
            new_fills = [_fill_values(f) for f in fills]
            changed_positions = [_values(p, POSITION_INSERTED) for p in positions]
            bulk.execute(
                Order,
                [
                    bulk.insert(Order, ORDER_INSERTED, new_orders),
                    bulk.update(Order, "order_id", ORDER_UPDATED, changed_orders),
                    bulk.insert(
                        Fill, FILL_INSERTED, new_fills, resolve=("order_id", Order, "order_id")
                    ),
                    # New and existing positions alike: inserted, or updated where they exist.
                    bulk.upsert(
                        Position,
                        POSITION_INSERTED,
                        changed_positions,
                        unique=POSITION_KEY,
                        updated=POSITION_UPDATED,
                    ),
                ],
            )
        else:
            Order.objects.bulk_create(created.values())
            if updated:
                Order.objects.bulk_update(updated, ORDER_UPDATED)
            # bulk_create returned the new orders' keys (SQLite supports it), so the fills'
            # foreign keys resolve now.
            Fill.objects.bulk_create(fills)
            # New and existing positions alike: inserted, or updated where the row exists.
            Position.objects.bulk_create(
                positions,
                update_conflicts=True,
                unique_fields=POSITION_KEY,
                update_fields=POSITION_UPDATED,
            )
        for order_id, order in orders.items():
            if order.status in Order.OPEN_STATUSES:
                working[order_id] = order
            else:
                working.pop(order_id, None)
        return orders

    def _project_positions(self, fills: list[Fill]) -> list[Position]:
        """Apply `fills` to the positions; return those they changed."""
        positions = self._positions
        keys = {(f.account, f.instrument_id) for f in fills}
        missing = keys - positions.keys()
        if missing:
            for stored in Position.objects.filter(
                account__in={a for a, _ in missing}, instrument_id__in={i for _, i in missing}
            ):
                positions.setdefault((stored.account, stored.instrument_id), stored)
        touched: dict[tuple[str, int], Position] = {}
        for fill in fills:
            key = (fill.account, fill.instrument_id)
            position = positions.get(key)
            if position is None:
                position = Position(account=fill.account, instrument_id=fill.instrument_id)
                positions[key] = position
            position.apply_fill(fill.side, fill.price_ticks, fill.qty_lots, fill.ts_ns)
            touched[key] = position
        return list(touched.values())
