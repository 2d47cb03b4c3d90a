"""The desk's live connection: book subscriptions, order entry, one's own outcomes, the risk
feed for risk managers, and the count of a user's open connections behind cancel-on-disconnect."""

import json
import re
from typing import Any

import redis
import structlog
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from apps.accounts.models import User
from apps.breakers.selectors import halts_current
from apps.desk import presence
from apps.desk.risk_console import can_watch_risk, risk_console_snapshot
from apps.instruments.models import Instrument
from apps.matching import keys
from apps.matching.redis import redis_get
from apps.trading.errors import OrderRejected
from apps.trading.services import (
    OrderRequest,
    order_cancel_async,
    order_modify_async,
    order_submit_async,
)

UNAUTHENTICATED_CLOSE_CODE = 4401
_SYMBOL = re.compile(r"^[A-Z0-9.]{1,16}$")
_ORDER_FIELDS = ("symbol", "side", "quantity", "time_in_force", "client_order_id")

log = structlog.get_logger(__name__)


class BadMessage(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _optional_price(content: dict[str, Any], name: str) -> str | None:
    value = content.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise BadMessage("invalid_field", f"Field {name!r} must be a decimal price.")
    return str(value)


def _order_id(content: dict[str, Any]) -> int:
    order_id = content.get("order_id")
    if type(order_id) is not int:
        raise BadMessage("invalid_field", "Field 'order_id' must be an integer.")
    return order_id


def _text(content: dict[str, Any], name: str, max_length: int = 64) -> str:
    value = content.get(name)
    if not isinstance(value, str) or not value or len(value) > max_length:
        raise BadMessage("invalid_field", f"Field {name!r} must be a non-empty string.")
    return value


def _instrument_sync(symbol: str) -> Instrument | None:
    return Instrument.objects.filter(symbol=symbol, is_active=True).first()


_instrument = database_sync_to_async(_instrument_sync)


@sync_to_async(thread_sensitive=False)
def _snapshot(shard: int, symbol: str) -> dict[str, Any]:
    raw = redis_get(keys.book_snapshot(shard, symbol))
    if raw is None:
        return {"symbol": symbol, "seq": 0, "bids": [], "asks": []}
    snapshot: dict[str, Any] = json.loads(raw)
    return snapshot


_connection_open = sync_to_async(presence.connection_open, thread_sensitive=False)
_connection_close = sync_to_async(presence.connection_close, thread_sensitive=False)
_desk_disconnected = database_sync_to_async(presence.desk_disconnected)
_halts_current = database_sync_to_async(halts_current)
_can_watch_risk = database_sync_to_async(can_watch_risk)
_risk_console_snapshot = database_sync_to_async(risk_console_snapshot)


class DeskConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    user: User
    books: set[str]
    # Whether this connection is in the user's count of open connections, and in the risk group.
    counted: bool = False
    watching_risk: bool = False

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=UNAUTHENTICATED_CLOSE_CODE)
            return
        self.user = user
        self.books = set()
        await self.channel_layer.group_add(keys.user_group(user.pk), self.channel_name)
        # Every desk shows halts: join before reading the current ones (as for books), so that
        # none published in between is missed; frames queue behind the snapshot sent below.
        await self.channel_layer.group_add(keys.halts_group(), self.channel_name)
        try:
            await _connection_open(user.pk)
            self.counted = True
        except redis.RedisError as exc:
            # The desk still trades without the count; only cancel-on-disconnect is blind.
            log.warning("desk_connection_not_counted", user_id=user.pk, error=str(exc))
        await self.accept()
        # The halts in force, when there are any (a client forgets its halts on connecting).
        try:
            halts = await _halts_current()
        except redis.RedisError as exc:
            log.warning("desk_halts_unavailable", user_id=user.pk, error=str(exc))
            halts = []
        if halts:
            await self.send_json({"type": "halts.snapshot", "halts": halts})

    async def disconnect(self, code: int) -> None:
        if not hasattr(self, "user"):
            return
        await self.channel_layer.group_discard(keys.user_group(self.user.pk), self.channel_name)
        await self.channel_layer.group_discard(keys.halts_group(), self.channel_name)
        for symbol in self.books:
            await self.channel_layer.group_discard(keys.book_group(symbol), self.channel_name)
        if self.watching_risk:
            await self.channel_layer.group_discard(keys.risk_group(), self.channel_name)
        if self.counted:
            await self._uncount()

    async def _uncount(self) -> None:
        """The trader's last desk connection dropping cancels their DAY orders, if they opted in."""
        self.counted = False
        try:
            remaining = await _connection_close(self.user.pk)
            if remaining == 0:
                await _desk_disconnected(self.user)
        except (redis.RedisError, OrderRejected) as exc:
            log.error("cancel_on_disconnect_failed", user_id=self.user.pk, error=str(exc))

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        # Parse here rather than in the base class, so that bad JSON gets an error frame
        # instead of closing the connection with a traceback.
        try:
            content = json.loads(text_data or "")
        except ValueError:
            await self._error("", "invalid_json", "The message is not valid JSON.")
            return
        if not isinstance(content, dict):
            await self._error("", "invalid_message", "The message must be a JSON object.")
            return
        await self.receive_json(content)

    async def receive_json(self, content: dict[str, Any], **kwargs: Any) -> None:
        raw_request_id = content.get("request_id")
        request_id = raw_request_id[:64] if isinstance(raw_request_id, str) else ""
        handlers = {
            "book.subscribe": self._book_subscribe,
            "book.unsubscribe": self._book_unsubscribe,
            "order.new": self._order_new,
            "order.cancel": self._order_cancel,
            "order.modify": self._order_modify,
            "risk.subscribe": self._risk_subscribe,
        }
        handler = handlers.get(content.get("type"))  # type: ignore[arg-type]
        if handler is None:
            await self._error(
                request_id, "unknown_type", f"Unknown message type {content.get('type')!r}."
            )
            return
        try:
            await handler(content, request_id)
        except BadMessage as exc:
            await self._error(request_id, exc.code, exc.message)

    async def _error(self, request_id: str, code: str, message: str) -> None:
        await self.send_json(
            {"type": "error", "request_id": request_id, "code": code, "message": message}
        )

    async def _symbol(self, content: dict[str, Any]) -> Instrument:
        symbol = content.get("symbol")
        if not isinstance(symbol, str) or not _SYMBOL.match(symbol):
            raise BadMessage("invalid_field", "Field 'symbol' must be an instrument symbol.")
        instrument: Instrument | None = await _instrument(symbol)
        if instrument is None:
            raise BadMessage("unknown_instrument", f"Instrument {symbol!r} is not listed.")
        return instrument

    async def _book_subscribe(self, content: dict[str, Any], request_id: str) -> None:
        instrument = await self._symbol(content)
        # Join the group before reading the snapshot: every delta after the snapshot is then
        # delivered, and the client drops the ones the snapshot already covers.
        await self.channel_layer.group_add(keys.book_group(instrument.symbol), self.channel_name)
        self.books.add(instrument.symbol)
        snapshot = await _snapshot(instrument.shard, instrument.symbol)
        await self.send_json({"type": "book.snapshot", **snapshot})

    async def _book_unsubscribe(self, content: dict[str, Any], request_id: str) -> None:
        instrument = await self._symbol(content)
        self.books.discard(instrument.symbol)
        await self.channel_layer.group_discard(
            keys.book_group(instrument.symbol), self.channel_name
        )

    async def _order_new(self, content: dict[str, Any], request_id: str) -> None:
        missing = [name for name in _ORDER_FIELDS if name not in content]
        if missing:
            raise BadMessage("missing_field", f"The order lacks {', '.join(missing)}.")
        account = content.get("account")
        request = OrderRequest(
            symbol=_text(content, "symbol", 16),
            side=_text(content, "side", 8),
            order_type=_text(content, "order_type", 16) if "order_type" in content else "limit",
            price=_optional_price(content, "price"),
            quantity=content["quantity"],
            time_in_force=_text(content, "time_in_force", 4),
            client_order_id=_text(content, "client_order_id"),
            account=account if isinstance(account, str) and account else None,
            stop_price=_optional_price(content, "stop_price"),
            display_quantity=content.get("display_quantity"),
            post_only=content.get("post_only") is True,
            stp_mode=_text(content, "stp_mode", 20) if "stp_mode" in content else "cancel_resting",
        )
        try:
            await database_sync_to_async(order_submit_async)(self.user, request, request_id)
        except OrderRejected as exc:
            await self.send_json(
                {
                    "type": "order.rejected",
                    "request_id": request_id,
                    "client_order_id": request.client_order_id,
                    "code": exc.code,
                    "message": exc.message,
                }
            )

    async def _order_cancel(self, content: dict[str, Any], request_id: str) -> None:
        order_id = _order_id(content)
        try:
            await database_sync_to_async(order_cancel_async)(self.user, order_id, request_id)
        except OrderRejected as exc:
            await self._error(request_id, exc.code, exc.message)

    async def _order_modify(self, content: dict[str, Any], request_id: str) -> None:
        order_id = _order_id(content)
        price = _optional_price(content, "price")
        if price is None or "quantity" not in content:
            raise BadMessage("missing_field", "A modify needs the new price and quantity.")
        try:
            await database_sync_to_async(order_modify_async)(
                self.user, order_id, price, content["quantity"], request_id
            )
        except OrderRejected as exc:
            await self._error(request_id, exc.code, exc.message)

    async def _risk_subscribe(self, content: dict[str, Any], request_id: str) -> None:
        if not await _can_watch_risk(self.user):
            raise BadMessage("permission_denied", "Only risk managers may watch the risk feed.")
        # Join before reading the snapshot, as for books, so that nothing published in between
        # is lost. The matcher stores an account's figures before it publishes them, so a frame
        # queued meanwhile is never older than the snapshot: at worst it repeats it.
        await self.channel_layer.group_add(keys.risk_group(), self.channel_name)
        self.watching_risk = True
        snapshot = await _risk_console_snapshot()
        await self.send_json({**snapshot, "request_id": request_id})

    async def desk_frames(self, message: dict[str, Any]) -> None:
        """Frames the matcher published to one of this connection's groups, in order."""
        for frame in message["frames"]:
            await self.send_json(frame)
