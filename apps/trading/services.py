"""The order gateway: turns a person's request into a command on the matcher's stream.

The API, the WebSocket consumer and the simulator all call these functions. The checks here
only catch obvious nonsense early (schema, role, entitlement); the matcher is the authority.
"""

import json
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, cast

import redis
from django.conf import settings

from apps.accounts.models import User
from apps.accounts.services import accounts_tradeable_by
from apps.instruments.models import Instrument
from apps.matching import keys
from apps.matching.codec import command_to_dict
from apps.matching.engine import CancelOrder, Command, NewOrder, OrderType, Side, TimeInForce
from apps.matching.redis import redis_client
from apps.trading.errors import OrderRejected
from apps.trading.models import Order


@dataclass(slots=True, frozen=True)
class OrderRequest:
    symbol: str
    side: str
    order_type: str
    price: Decimal | str
    quantity: int
    time_in_force: str
    client_order_id: str
    account: str | None = None


def _require(user: User, perm: str, action: str) -> None:
    if not user.is_active or not user.has_perm(perm):
        raise OrderRejected("permission_denied", f"Your role does not allow you to {action}.", 403)


def _resolve_account(user: User, requested: str | None) -> str:
    tradeable = accounts_tradeable_by(user)
    if requested:
        if requested not in tradeable:
            raise OrderRejected(
                "account_not_permitted", f"You are not entitled to trade account {requested}.", 403
            )
        return requested
    if len(tradeable) == 1:
        return tradeable[0]
    if not tradeable:
        raise OrderRejected("account_not_permitted", "You are not entitled to any account.", 403)
    raise OrderRejected("account_required", "Say which account the order is for.", 400)


def _price(raw: Decimal | str) -> Decimal:
    try:
        price = raw if isinstance(raw, Decimal) else Decimal(str(raw))
    except (InvalidOperation, ValueError):
        raise OrderRejected("invalid_price", f"{raw!r} is not a price.") from None
    if not price.is_finite() or price <= 0:
        raise OrderRejected("invalid_price", "The price must be a positive number.")
    return price


def order_build(user: User, request: OrderRequest) -> tuple[Instrument, NewOrder]:
    """Check a request at the edge and build its command (not yet sent)."""
    _require(user, "trading.submit_order", "submit orders")
    instrument = Instrument.objects.filter(symbol=request.symbol, is_active=True).first()
    if instrument is None:
        raise OrderRejected("unknown_instrument", f"Instrument {request.symbol!r} is not listed.")
    account = _resolve_account(user, request.account)
    try:
        side = Side(request.side)
        order_type = OrderType(request.order_type)
        tif = TimeInForce(request.time_in_force)
    except ValueError as exc:
        raise OrderRejected("invalid_field", str(exc).capitalize() + ".") from None
    price_ticks = instrument.price_to_ticks(_price(request.price))
    if price_ticks is None:
        raise OrderRejected(
            "price_off_tick",
            f"The price {request.price} is not a multiple of {instrument.symbol}'s tick "
            f"{instrument.ticks_to_price(1)}.",
        )
    if type(request.quantity) is not int or request.quantity <= 0:
        raise OrderRejected("invalid_quantity", "The quantity must be a positive whole number.")
    lots = instrument.quantity_to_lots(request.quantity)
    if lots is None:
        raise OrderRejected(
            "invalid_quantity",
            f"The quantity must be a whole number of lots of {instrument.lot_size} shares.",
        )
    command = NewOrder(
        command_id=uuid.uuid4().hex,
        ts_ns=0,
        user_id=user.pk,
        account=account,
        symbol=instrument.symbol,
        side=side,
        order_type=order_type,
        time_in_force=tif,
        price_ticks=price_ticks,
        qty_lots=lots,
        client_order_id=request.client_order_id,
    )
    return instrument, command


def command_send(shard: int, command: Command, *, request_id: str = "", want_reply: bool) -> None:
    """Put a command on its shard's stream. The matcher stamps the time when it takes it."""
    envelope = {
        "command": json.dumps(command_to_dict(command)),
        "request_id": request_id,
        "reply": "1" if want_reply else "",
    }
    try:
        redis_client().xadd(keys.command_stream(shard), envelope)  # type: ignore[arg-type]
    except redis.RedisError:
        raise OrderRejected(
            "matcher_unavailable", "The order could not be sent: the desk's queue is down.", 503
        ) from None


def reply_wait(command_id: str) -> dict[str, Any]:
    try:
        answer = cast(
            tuple[bytes, bytes] | None,
            redis_client().blpop([keys.reply(command_id)], timeout=settings.ORDER_REPLY_TIMEOUT_S),
        )
    except redis.RedisError:
        answer = None
    if answer is None:
        raise OrderRejected(
            "matcher_timeout",
            "The matcher did not answer in time; check your open orders before resending.",
            504,
        )
    result: dict[str, Any] = json.loads(answer[1])
    return result


def _outcome(reply: dict[str, Any]) -> dict[str, Any]:
    if reply["status"] >= 400:
        raise OrderRejected(reply["code"], reply["message"], reply["status"])
    order: dict[str, Any] = reply["order"]
    return order


def order_submit(user: User, request: OrderRequest) -> dict[str, Any]:
    """Submit an order and wait for the matcher's outcome: the order as it stands after it."""
    instrument, command = order_build(user, request)
    command_send(instrument.shard, command, want_reply=True)
    return _outcome(reply_wait(command.command_id))


def order_submit_async(user: User, request: OrderRequest, request_id: str) -> None:
    """Submit an order without waiting; the outcome reaches the desk over the channel layer."""
    instrument, command = order_build(user, request)
    command_send(instrument.shard, command, request_id=request_id, want_reply=False)


def _cancel_build(user: User, order_id: int) -> tuple[int, CancelOrder]:
    _require(user, "trading.cancel_order", "cancel orders")
    order = Order.objects.filter(order_id=order_id, user=user).only("shard", "status").first()
    if order is None:
        raise OrderRejected("order_not_found", f"You have no order {order_id}.", 404)
    if not order.is_open:
        raise OrderRejected("order_not_open", f"Order {order_id} is already {order.status}.", 409)
    return order.shard, CancelOrder(
        command_id=uuid.uuid4().hex, ts_ns=0, user_id=user.pk, order_id=order_id
    )


def order_cancel(user: User, order_id: int) -> dict[str, Any]:
    shard, command = _cancel_build(user, order_id)
    command_send(shard, command, want_reply=True)
    return _outcome(reply_wait(command.command_id))


def order_cancel_async(user: User, order_id: int, request_id: str) -> None:
    shard, command = _cancel_build(user, order_id)
    command_send(shard, command, request_id=request_id, want_reply=False)
