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
    # Pre-trade risk (SEC Rule 15c3-5): the risk stage refused the order.
    MESSAGE_RATE_EXCEEDED = "message_rate_exceeded"
    USER_NOT_AUTHORISED = "user_not_authorised"
    KILL_SWITCH = "kill_switch"
    RESTRICTED_INSTRUMENT = "restricted_instrument"
    INSTRUMENT_NOT_PERMITTED = "instrument_not_permitted"
    MAX_ORDER_QUANTITY = "max_order_quantity"
    MAX_ORDER_NOTIONAL = "max_order_notional"
    PRICE_COLLAR = "price_collar"
    NO_REFERENCE_PRICE = "no_reference_price"
    DUPLICATE_ORDER = "duplicate_order"
    DAILY_LOSS_REDUCE_ONLY = "daily_loss_reduce_only"
    POSITION_LIMIT = "position_limit"
    CREDIT_LIMIT = "credit_limit"
    INVALID_CONTROL = "invalid_control"
    # Circuit breakers: the instrument is halted or paused (and takes no new orders, or none
    # of this kind, until it reopens).
    INSTRUMENT_HALTED = "instrument_halted"
    # Why quantity left the book without trading.
    CANCELLED_BY_USER = "cancelled_by_user"
    IOC_REMAINDER = "ioc_remainder"
    MARKET_PROTECTION = "market_protection"
    SELF_TRADE_PREVENTED = "self_trade_prevented"
    MASS_CANCEL = "mass_cancel"
    EXPIRED = "expired"
    CANCEL_ON_DISCONNECT = "cancel_on_disconnect"
    # The rest of a market or IOC order that would have traded through the LULD price band.
    PRICE_BAND = "price_band"
    # (KILL_SWITCH, above, is also why a kill switch took working orders out.)


# The reasons for which the risk stage, not validation or the book, refuses an order.
RISK_REASONS = frozenset(
    {
        Reason.MESSAGE_RATE_EXCEEDED,
        Reason.USER_NOT_AUTHORISED,
        Reason.KILL_SWITCH,
        Reason.RESTRICTED_INSTRUMENT,
        Reason.INSTRUMENT_NOT_PERMITTED,
        Reason.MAX_ORDER_QUANTITY,
        Reason.MAX_ORDER_NOTIONAL,
        Reason.PRICE_COLLAR,
        Reason.NO_REFERENCE_PRICE,
        Reason.DUPLICATE_ORDER,
        Reason.DAILY_LOSS_REDUCE_ONLY,
        Reason.POSITION_LIMIT,
        Reason.CREDIT_LIMIT,
    }
)


class RiskLimit(StrEnum):
    """Every numeric pre-trade limit, named for what it bounds. Money is integer micros (a
    millionth of the currency unit); `None` as a value means no limit."""

    # Firm-wide policy (no account, no symbol).
    COLLAR_BPS = "collar_bps"
    COLLAR_MIN_MICROS = "collar_min_micros"
    DUPLICATE_WINDOW_NS = "duplicate_window_ns"
    THROTTLE_WINDOW_NS = "throttle_window_ns"
    THROTTLE_MESSAGES = "throttle_messages"
    THROTTLE_CANCELS = "throttle_cancels"
    AUTHORISED_USERS_ONLY = "authorised_users_only"
    # Per account (account set), or per instrument (symbol set, no account) for the two
    # per-order limits.
    MAX_ORDER_LOTS = "max_order_lots"
    MAX_ORDER_NOTIONAL_MICROS = "max_order_notional_micros"
    CREDIT_LIMIT_MICROS = "credit_limit_micros"
    LOSS_WARNING_MICROS = "loss_warning_micros"
    LOSS_REDUCE_ONLY_MICROS = "loss_reduce_only_micros"
    LOSS_KILL_MICROS = "loss_kill_micros"
    PERMITTED_INSTRUMENTS_ONLY = "permitted_instruments_only"
    # Per account and instrument (both set).
    MAX_LONG_LOTS = "max_long_lots"
    MAX_SHORT_LOTS = "max_short_lots"


class RiskList(StrEnum):
    """Set-valued controls: membership of a list."""

    # Symbol restricted for the firm (account empty) or for one account.
    RESTRICTED = "restricted"
    # Symbol the account may trade when it trades permitted instruments only.
    PERMITTED = "permitted"
    # Operator (person or named algorithm) authorised to trade the account.
    AUTHORISED = "authorised"


class KillScope(StrEnum):
    FIRM = "firm"
    ACCOUNT = "account"
    TRADER = "trader"


class HaltKind(StrEnum):
    """Why an instrument is not trading."""

    # A LULD trading pause: limit state lasted 15 s (5 minutes, reopened by auction).
    LULD_PAUSE = "luld_pause"
    # A risk manager halted it (until resumed by hand).
    MANUAL = "manual"
    # The market-wide circuit breaker: level 1 or 2 (15 minutes), level 3 (rest of the day).
    MARKET_WIDE = "market_wide"
    # Traded volume spiked far above its recent average, on an instrument configured to pause.
    VOLUME_SPIKE = "volume_spike"


class BreakerParameter(StrEnum):
    """Circuit-breaker parameters set by command (firm-wide unless a symbol is named; integer
    ns for durations, basis points for percentages)."""

    REFERENCE_WINDOW_NS = "reference_window_ns"
    LIMIT_STATE_NS = "limit_state_ns"
    PAUSE_NS = "pause_ns"
    AUCTION_COLLAR_BPS = "auction_collar_bps"
    AUCTION_EXTENSION_NS = "auction_extension_ns"
    CLOSE_DOUBLING_NS = "close_doubling_ns"
    MARKET_WIDE_LEVEL_1_BPS = "market_wide_level_1_bps"
    MARKET_WIDE_LEVEL_2_BPS = "market_wide_level_2_bps"
    MARKET_WIDE_LEVEL_3_BPS = "market_wide_level_3_bps"
    MARKET_WIDE_PAUSE_NS = "market_wide_pause_ns"
    MARKET_WIDE_CUTOFF_NS = "market_wide_cutoff_ns"
    SPIKE_WINDOW_NS = "spike_window_ns"
    SPIKE_LOOKBACK_NS = "spike_lookback_ns"
    SPIKE_MULTIPLE = "spike_multiple"
    SPIKE_MIN_LOTS = "spike_min_lots"
