"""Folds engine events into the order and fill read models, inside the journal transaction."""

from collections.abc import Sequence

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
from apps.trading.models import Fill, Order, Position


class ReadModelProjector:
    def __init__(self, shard: int) -> None:
        self.shard = shard
        self._instrument_ids: dict[str, int] = {}

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
        orders: dict[int, Order] = {
            o.order_id: o for o in Order.objects.filter(order_id__in=touched_ids)
        }
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
        Order.objects.bulk_create(created.values())
        updated = [o for oid, o in orders.items() if oid not in created]
        if updated:
            Order.objects.bulk_update(
                updated,
                [
                    "price_ticks",
                    "qty_lots",
                    "filled_lots",
                    "leaves_lots",
                    "status",
                    "reason_code",
                    "updated_ts_ns",
                ],
            )
        # bulk_create returned the new orders' keys (PostgreSQL and SQLite both support it), so
        # the fills' foreign keys resolve now.
        Fill.objects.bulk_create(fills)
        if fills:
            self._positions(fills)
        return orders

    def _positions(self, fills: list[Fill]) -> None:
        keys = {(f.account, f.instrument_id) for f in fills}
        positions = {
            (p.account, p.instrument_id): p
            for p in Position.objects.filter(
                account__in={a for a, _ in keys}, instrument_id__in={i for _, i in keys}
            )
        }
        created = []
        for fill in fills:
            key = (fill.account, fill.instrument_id)
            position = positions.get(key)
            if position is None:
                position = Position(account=fill.account, instrument_id=fill.instrument_id)
                positions[key] = position
                created.append(position)
            position.apply_fill(fill.side, fill.price_ticks, fill.qty_lots, fill.ts_ns)
        Position.objects.bulk_create(created)
        existing = [p for p in positions.values() if p.pk is not None and p not in created]
        if existing:
            Position.objects.bulk_update(
                existing,
                ["qty_lots", "cost_ticks", "realised_pnl_ticks", "bought_lots", "sold_lots",
                 "updated_ts_ns"],
            )  # fmt: skip
