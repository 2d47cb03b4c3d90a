"""Rejections at the edge: a machine-readable code, a sentence, and the HTTP status to use."""

from apps.matching.engine import Reason
from project.api_errors import Rejection

# The matcher's reason codes and the HTTP status each maps to at the API; codes the gateway
# itself gives (such as "price_off_tick") carry their status where they are raised.
REASON_STATUS: dict[str, int] = {
    Reason.UNKNOWN_INSTRUMENT: 400,
    Reason.INSTRUMENT_CLOSED: 409,
    Reason.INVALID_PRICE: 400,
    Reason.INVALID_STOP_PRICE: 400,
    Reason.INVALID_QUANTITY: 400,
    Reason.QUANTITY_OUT_OF_RANGE: 400,
    Reason.INVALID_DISPLAY_QUANTITY: 400,
    Reason.INVALID_ORDER: 400,
    Reason.FOK_NOT_FILLABLE: 409,
    Reason.DUPLICATE_CLIENT_ORDER_ID: 409,
    Reason.POST_ONLY_WOULD_TAKE: 409,
    Reason.NO_LIQUIDITY: 409,
    Reason.MALFORMED_COMMAND: 400,
    Reason.ORDER_NOT_FOUND: 404,
    Reason.NOT_ORDER_OWNER: 404,
    # Pre-trade risk. Not allowed to trade this at all (who, what, or a kill switch): 403.
    # Too fast: 429. A limit or a market-protection bound the order would breach: 422, the
    # same for every limit, so a client can tell "change the order" from "ask risk".
    Reason.USER_NOT_AUTHORISED: 403,
    Reason.KILL_SWITCH: 403,
    Reason.RESTRICTED_INSTRUMENT: 403,
    Reason.INSTRUMENT_NOT_PERMITTED: 403,
    Reason.MESSAGE_RATE_EXCEEDED: 429,
    Reason.MAX_ORDER_QUANTITY: 422,
    Reason.MAX_ORDER_NOTIONAL: 422,
    Reason.PRICE_COLLAR: 422,
    Reason.NO_REFERENCE_PRICE: 422,
    Reason.DAILY_LOSS_REDUCE_ONLY: 422,
    Reason.POSITION_LIMIT: 422,
    Reason.CREDIT_LIMIT: 422,
    # The same order again within the duplicate window, like a reused client order id: 409.
    Reason.DUPLICATE_ORDER: 409,
    Reason.INVALID_CONTROL: 400,
}


class OrderRejected(Rejection):
    """The order or cancel was refused; nothing changed. Without a status, the reason's own."""

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(
            code, message, status if status is not None else REASON_STATUS.get(code, 400)
        )
