"""Reads of the order and fill read models, shaped as the API and the desk show them."""

from datetime import UTC, datetime
from typing import Any

from django.db.models import QuerySet

from apps.accounts.models import User
from apps.instruments.models import Instrument
from apps.trading.models import Fill, Order


def ns_to_iso(ts_ns: int) -> str:
    return datetime.fromtimestamp(ts_ns / 1e9, tz=UTC).isoformat().replace("+00:00", "Z")


def _price_or_none(instrument: Instrument, ticks: int) -> str | None:
    return str(instrument.ticks_to_price(ticks)) if ticks else None


def order_as_dict(order: Order, instrument: Instrument) -> dict[str, Any]:
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
        "status": order.status,
        "reason_code": order.reason_code,
        "created_at": ns_to_iso(order.created_ts_ns),
    }


def fill_as_dict(fill: Fill, instrument: Instrument) -> dict[str, Any]:
    return {
        "trade_id": fill.trade_id,
        "order_id": fill.order.order_id,
        "symbol": instrument.symbol,
        "side": fill.side,
        "price": str(instrument.ticks_to_price(fill.price_ticks)),
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
