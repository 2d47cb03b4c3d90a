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
from apps.audit.models import EventRecord
from apps.instruments.models import Instrument
from apps.matching import keys
from apps.matching.codec import command_to_dict
from apps.matching.engine import (
    CancelOrder,
    Command,
    ExpireOrders,
    MassCancel,
    ModifyOrder,
    NewOrder,
    OrderType,
    Reason,
    Side,
    StpMode,
    TimeInForce,
)
from apps.matching.redis import redis_client
from apps.trading.errors import OrderRejected
from apps.trading.models import Order
from apps.trading.selectors import order_as_dict


@dataclass(slots=True, frozen=True)
class OrderRequest:
    symbol: str
    side: str
    order_type: str
    price: Decimal | str | None
    quantity: int
    time_in_force: str
    client_order_id: str
    account: str | None = None
    stop_price: Decimal | str | None = None
    display_quantity: int | None = None
    post_only: bool = False
    stp_mode: str = StpMode.CANCEL_RESTING.value


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


def _ticks(instrument: Instrument, raw: Decimal | str, what: str, code: str) -> int:
    """Whole ticks for a positive decimal price on the instrument's tick."""
    try:
        price = raw if isinstance(raw, Decimal) else Decimal(str(raw))
    except (InvalidOperation, ValueError):
        raise OrderRejected(code, f"{raw!r} is not a {what}.") from None
    if not price.is_finite() or price <= 0:
        raise OrderRejected(code, f"The {what} must be a positive number.")
    ticks = instrument.price_to_ticks(price)
    if ticks is None:
        raise OrderRejected(
            "price_off_tick",
            f"The {what} {raw} is not a multiple of {instrument.symbol}'s tick "
            f"{instrument.ticks_to_price(1)}.",
        )
    return ticks


def _lots(instrument: Instrument, quantity: object, what: str = "quantity") -> int:
    if type(quantity) is not int or quantity <= 0:
        raise OrderRejected("invalid_quantity", f"The {what} must be a positive whole number.")
    lots = instrument.quantity_to_lots(quantity)
    if lots is None:
        raise OrderRejected(
            "invalid_quantity",
            f"The {what} must be a whole number of lots of {instrument.lot_size} shares.",
        )
    return lots


def order_build(user: User, request: OrderRequest) -> tuple[Instrument, NewOrder]:
    """Check a request at the edge and build its command (not yet sent)."""
    _require(user, "trading.submit_order", "submit orders")
    instrument = Instrument.objects.filter(symbol=request.symbol, is_active=True).first()
    if instrument is None:
        raise OrderRejected("unknown_instrument", f"Instrument {request.symbol!r} is not listed.")
    account = _resolve_account(user, request.account)
    coid = request.client_order_id
    if not coid or len(coid) > 64 or not coid.isprintable():
        raise OrderRejected(
            "invalid_client_order_id",
            "The client order id must be 1 to 64 printable characters.",
        )
    try:
        side = Side(request.side)
        order_type = OrderType(request.order_type)
        tif = TimeInForce(request.time_in_force)
        stp_mode = StpMode(request.stp_mode)
    except ValueError as exc:
        raise OrderRejected("invalid_field", str(exc).capitalize() + ".") from None
    has_limit = order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT)
    is_stop = order_type in (OrderType.STOP, OrderType.STOP_LIMIT)
    if has_limit != (request.price is not None):
        needs = "needs a limit price" if has_limit else "takes no limit price"
        raise OrderRejected("invalid_price", f"A {order_type.value} order {needs}.")
    if is_stop != (request.stop_price is not None):
        needs = "needs a stop price" if is_stop else "takes no stop price"
        raise OrderRejected("invalid_stop_price", f"A {order_type.value} order {needs}.")
    command = NewOrder(
        command_id=uuid.uuid4().hex,
        ts_ns=0,
        user_id=user.pk,
        account=account,
        symbol=instrument.symbol,
        side=side,
        order_type=order_type,
        time_in_force=tif,
        price_ticks=(
            _ticks(instrument, request.price, "price", "invalid_price")
            if request.price is not None
            else 0
        ),
        qty_lots=_lots(instrument, request.quantity),
        client_order_id=request.client_order_id,
        stop_price_ticks=(
            _ticks(instrument, request.stop_price, "stop price", "invalid_stop_price")
            if request.stop_price is not None
            else 0
        ),
        display_qty_lots=(
            _lots(instrument, request.display_quantity, "displayed quantity")
            if request.display_quantity is not None
            else 0
        ),
        post_only=request.post_only,
        stp_mode=stp_mode,
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
    """Submit an order and wait for the matcher's outcome: the order as it stands after it.

    Idempotent on the client order id: a resubmission answers with the original outcome (the
    order as it stands, or the original rejection) and trades nothing.
    """
    instrument, command = order_build(user, request)
    command_send(instrument.shard, command, want_reply=True)
    reply = reply_wait(command.command_id)
    if reply.get("code") == Reason.DUPLICATE_CLIENT_ORDER_ID:
        return _original_outcome(command)
    return _outcome(reply)


def _original_outcome(command: NewOrder) -> dict[str, Any]:
    """The first outcome of an account's client order id, from the read model or the log."""
    order = (
        Order.objects.filter(account=command.account, client_order_id=command.client_order_id)
        .select_related("instrument")
        .order_by("order_id")
        .first()
    )
    if order is not None:
        return order_as_dict(order, order.instrument)
    rejection = (
        EventRecord.objects.filter(
            kind="order_rejected",
            account=command.account,
            client_order_id=command.client_order_id,
        )
        .exclude(reason=Reason.DUPLICATE_CLIENT_ORDER_ID)
        .order_by("shard", "seq")
        .values_list("payload", flat=True)
        .first()
    )
    if rejection is None:
        raise OrderRejected(
            Reason.DUPLICATE_CLIENT_ORDER_ID,
            f"Client order id {command.client_order_id!r} was already used.",
        )
    raise OrderRejected(rejection["reason"], rejection["message"])


def order_submit_async(user: User, request: OrderRequest, request_id: str) -> None:
    """Submit an order without waiting; the outcome reaches the desk over the channel layer."""
    instrument, command = order_build(user, request)
    command_send(instrument.shard, command, request_id=request_id, want_reply=False)


def _own_open_order(user: User, order_id: int) -> Order:
    _require(user, "trading.cancel_order", "cancel or modify orders")
    order = Order.objects.filter(order_id=order_id, user=user).select_related("instrument").first()
    if order is None:
        raise OrderRejected("order_not_found", f"You have no order {order_id}.", 404)
    if not order.is_open:
        raise OrderRejected("order_not_open", f"Order {order_id} is already {order.status}.", 409)
    return order


def _cancel_build(user: User, order_id: int) -> tuple[int, CancelOrder]:
    order = _own_open_order(user, order_id)
    return order.shard, CancelOrder(
        command_id=uuid.uuid4().hex, ts_ns=0, user_id=user.pk, order_id=order_id
    )


def _modify_build(
    user: User, order_id: int, price: Decimal | str, quantity: int
) -> tuple[int, ModifyOrder]:
    order = _own_open_order(user, order_id)
    instrument = order.instrument
    return order.shard, ModifyOrder(
        command_id=uuid.uuid4().hex,
        ts_ns=0,
        user_id=user.pk,
        order_id=order_id,
        price_ticks=_ticks(instrument, price, "price", "invalid_price"),
        qty_lots=_lots(instrument, quantity),
    )


def order_modify(user: User, order_id: int, price: Decimal | str, quantity: int) -> dict[str, Any]:
    """Change a working order's limit price and open quantity; answers with the order after."""
    shard, command = _modify_build(user, order_id, price, quantity)
    command_send(shard, command, want_reply=True)
    return _outcome(reply_wait(command.command_id))


def order_modify_async(
    user: User, order_id: int, price: Decimal | str, quantity: int, request_id: str
) -> None:
    shard, command = _modify_build(user, order_id, price, quantity)
    command_send(shard, command, request_id=request_id, want_reply=False)


@dataclass(slots=True, frozen=True)
class MassCancelRequest:
    account: str = ""
    trader: str = ""
    symbol: str = ""
    side: str = ""


def orders_mass_cancel(user: User, request: MassCancelRequest) -> int:
    """Cancel every working order the filters select, on every shard; return how many.

    A trader's mass cancel reaches only their own orders; a risk manager's reaches everyone's.
    """
    any_owner = user.is_active and user.has_perm("trading.cancel_any_order")
    if not any_owner:
        _require(user, "trading.cancel_order", "cancel orders")
    trader_id = 0
    if request.trader:
        trader = User.objects.filter(username=request.trader).first()
        if trader is None:
            raise OrderRejected("unknown_trader", f"There is no trader {request.trader!r}.")
        trader_id = trader.pk
    try:
        side = Side(request.side) if request.side else None
    except ValueError:
        raise OrderRejected("invalid_field", f"{request.side!r} is not a side.") from None
    shards = Instrument.objects.values_list("shard", flat=True).distinct()
    if request.symbol:
        shards = shards.filter(symbol=request.symbol)
        if not shards:
            raise OrderRejected(
                "unknown_instrument", f"Instrument {request.symbol!r} is not listed."
            )
    commands = [
        (
            shard,
            MassCancel(
                command_id=uuid.uuid4().hex,
                ts_ns=0,
                user_id=user.pk,
                account=request.account,
                trader_user_id=trader_id,
                symbol=request.symbol,
                side=side,
                any_owner=any_owner,
            ),
        )
        for shard in sorted(set(shards))
    ]
    for shard, command in commands:
        command_send(shard, command, want_reply=True)
    cancelled = 0
    for _, command in commands:
        reply = reply_wait(command.command_id)
        cancelled += int(reply.get("cancelled_orders", 0))
    return cancelled


def order_cancel(user: User, order_id: int) -> dict[str, Any]:
    shard, command = _cancel_build(user, order_id)
    command_send(shard, command, want_reply=True)
    return _outcome(reply_wait(command.command_id))


def order_cancel_async(user: User, order_id: int, request_id: str) -> None:
    shard, command = _cancel_build(user, order_id)
    command_send(shard, command, request_id=request_id, want_reply=False)


def orders_expire(time_in_force: TimeInForce = TimeInForce.DAY) -> None:
    """Session close: tell every shard to expire its working orders of `time_in_force`.

    Expiry is a command on each shard's stream, so it is sequenced with the orders around it
    and replays exactly; the matcher, not a timer, decides what expires.
    """
    for shard in sorted(set(Instrument.objects.values_list("shard", flat=True))):
        command = ExpireOrders(command_id=uuid.uuid4().hex, ts_ns=0, time_in_force=time_in_force)
        command_send(shard, command, want_reply=False)
