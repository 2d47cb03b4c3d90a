"""Reads of the order and fill read models, shaped as the API and the desk show them."""

import functools
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet

from apps.accounts.models import User
from apps.instruments.models import Instrument
from apps.trading.models import Fill, Order, Position
from apps.trading.projection import OrderRow


# An order's creation time is written into every frame about the order, and a trade's time
# into each of its frames.
@functools.lru_cache(maxsize=8192)
def ns_to_iso(ts_ns: int) -> str:
    return datetime.fromtimestamp(ts_ns / 1e9, tz=UTC).isoformat().replace("+00:00", "Z")


def _price_or_none(instrument: Instrument, ticks: int) -> str | None:
    return instrument.price_text(ticks) if ticks else None


def order_as_dict(order: Order | OrderRow, instrument: Instrument) -> dict[str, Any]:
    return {
        "order_id": order.order_id,
        "client_order_id": order.client_order_id,
        "account": order.account,
        "symbol": instrument.symbol,
        "side": order.side,
        "type": order.order_type,
        "time_in_force": order.time_in_force,
        "price": _price_or_none(instrument, order.price_ticks),
        "stop_price": _price_or_none(instrument, order.stop_price_ticks),
        "display_quantity": instrument.lots_to_quantity(order.display_qty_lots) or None,
        "post_only": order.post_only,
        "quantity": instrument.lots_to_quantity(order.qty_lots),
        "filled_quantity": instrument.lots_to_quantity(order.filled_lots),
        "leaves_quantity": instrument.lots_to_quantity(order.leaves_lots),
        "status": str(order.status),
        "reason_code": order.reason_code,
        "created_at": ns_to_iso(order.created_ts_ns),
    }


def fill_as_dict(fill: Fill, instrument: Instrument) -> dict[str, Any]:
    return {
        "trade_id": fill.trade_id,
        "order_id": fill.order.order_id,
        "symbol": instrument.symbol,
        "side": fill.side,
        "price": instrument.price_text(fill.price_ticks),
        "quantity": instrument.lots_to_quantity(fill.qty_lots),
        "liquidity": fill.liquidity,
        "ts": ns_to_iso(fill.ts_ns),
    }


def orders_of(user: User, status: str | None = None) -> QuerySet[Order]:
    orders = Order.objects.filter(user=user).select_related("instrument")
    if status == "open":
        orders = orders.filter(status__in=Order.OPEN_STATUSES)
    elif status == "closed":
        orders = orders.exclude(status__in=Order.OPEN_STATUSES)
    return orders


def position_as_dict(position: Position) -> dict[str, Any]:
    instrument = position.instrument
    tick, lot = instrument.tick_size, instrument.lot_size
    held = abs(position.qty_lots)
    average = (tick * position.cost_ticks / held).quantize(Decimal("0.000001")) if held else None
    return {
        "account": position.account,
        "symbol": instrument.symbol,
        "quantity": instrument.lots_to_quantity(position.qty_lots),
        "average_price": str(average) if average is not None else None,
        "realised_pnl": str((tick * lot * position.realised_pnl_ticks).quantize(Decimal("0.01"))),
        "bought_quantity": instrument.lots_to_quantity(position.bought_lots),
        "sold_quantity": instrument.lots_to_quantity(position.sold_lots),
    }


def positions_of(user: User) -> QuerySet[Position]:
    """Positions of the accounts the user trades."""
    accounts = user.trading_accounts.values_list("code", flat=True)
    return Position.objects.filter(account__in=accounts).select_related("instrument")
