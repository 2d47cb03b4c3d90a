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
    # Executes against the book up to the instrument's protection price; never rests.
    MARKET = "market"
    # Rests unseen until the last trade price reaches its stop price, then enters as a
    # (protected) market order or as a limit order.
    STOP = "stop"
    STOP_LIMIT = "stop_limit"


class TimeInForce(StrEnum):
    DAY = "DAY"
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"


class StpMode(StrEnum):
    """What happens when an order would trade with one of the same account or SMP group."""

    CANCEL_RESTING = "cancel_resting"
    CANCEL_AGGRESSOR = "cancel_aggressor"
    CANCEL_BOTH = "cancel_both"
    DECREMENT_BOTH = "decrement_both"


class Reason(StrEnum):
    """Stable, machine-readable reason codes; the sentence travels beside them."""

    # Rejections of a command.
    UNKNOWN_INSTRUMENT = "unknown_instrument"
    INSTRUMENT_CLOSED = "instrument_closed"
    INVALID_PRICE = "invalid_price"
    INVALID_STOP_PRICE = "invalid_stop_price"
    INVALID_QUANTITY = "invalid_quantity"
    QUANTITY_OUT_OF_RANGE = "quantity_out_of_range"
    INVALID_DISPLAY_QUANTITY = "invalid_display_quantity"
    INVALID_ORDER = "invalid_order"
    DUPLICATE_CLIENT_ORDER_ID = "duplicate_client_order_id"
    FOK_NOT_FILLABLE = "fok_not_fillable"
    POST_ONLY_WOULD_TAKE = "post_only_would_take"
    NO_LIQUIDITY = "no_liquidity"
    MALFORMED_COMMAND = "malformed_command"
    ORDER_NOT_FOUND = "order_not_found"
    NOT_ORDER_OWNER = "not_order_owner"
    # Why quantity left the book without trading.
    CANCELLED_BY_USER = "cancelled_by_user"
    IOC_REMAINDER = "ioc_remainder"
    MARKET_PROTECTION = "market_protection"
    SELF_TRADE_PREVENTED = "self_trade_prevented"
    MASS_CANCEL = "mass_cancel"
    EXPIRED = "expired"
