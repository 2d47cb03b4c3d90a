"""Vocabulary shared by commands and events."""

from enum import StrEnum


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def opposite(self) -> "Side":
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(StrEnum):
    LIMIT = "limit"


class TimeInForce(StrEnum):
    DAY = "DAY"
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"


class Reason(StrEnum):
    """Stable, machine-readable reason codes; the sentence travels beside them."""

    UNKNOWN_INSTRUMENT = "unknown_instrument"
    INSTRUMENT_CLOSED = "instrument_closed"
    INVALID_PRICE = "invalid_price"
    PRICE_OFF_TICK = "price_off_tick"
    INVALID_QUANTITY = "invalid_quantity"
    QUANTITY_OUT_OF_RANGE = "quantity_out_of_range"
    UNSUPPORTED_ORDER_TYPE = "unsupported_order_type"
    FOK_NOT_FILLABLE = "fok_not_fillable"
    MALFORMED_COMMAND = "malformed_command"
    ORDER_NOT_FOUND = "order_not_found"
    NOT_ORDER_OWNER = "not_order_owner"
    # Why a resting or incoming quantity left the book without trading.
    CANCELLED_BY_USER = "cancelled_by_user"
    IOC_REMAINDER = "ioc_remainder"
