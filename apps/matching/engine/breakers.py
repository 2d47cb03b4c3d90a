"""The circuit-breaker stage's building blocks: price bands, the reference price they hang on,
limit state, the market-wide breaker and volume-spike detection.

Plain, deterministic and integer-only, like the rest of the engine: prices are ticks (money is
micros, a millionth of a dollar, where a rule speaks in dollars), quantities lots, time integer
nanoseconds taken from the commands. Nothing here reads a clock; each stateful piece keeps
"sequenced time" (the latest time it has been shown) and can `snapshot()` itself to JSON-ready
data and `restore()` from it, so a restarted matcher replays to identical events.

The engine decides when to call what; each docstring says the rule, where it comes from, and
what the caller must do with the answer. The reopening auction is in `auction.py`.
"""

from collections import deque
from enum import StrEnum
from typing import Any, Final, NamedTuple

SECOND_NS: Final = 1_000_000_000
MINUTE_NS: Final = 60 * SECOND_NS
DOLLAR_MICROS: Final = 1_000_000

# LULD price ranges (Plan Appendix A): above $3.00, $0.75 to $3.00 inclusive, below $0.75.
THREE_DOLLARS_MICROS: Final = 3 * DOLLAR_MICROS
SEVENTY_FIVE_CENTS_MICROS: Final = 750_000
FIFTEEN_CENTS_MICROS: Final = 150_000
CLOSE_DOUBLING_NS: Final = 25 * MINUTE_NS
REFERENCE_WINDOW_NS: Final = 5 * MINUTE_NS
LIMIT_STATE_PAUSE_NS: Final = 15 * SECOND_NS
TRADING_PAUSE_NS: Final = 5 * MINUTE_NS


# -- price bands ------------------------------------------------------------------------------


class Band(NamedTuple):
    """The prices at which an instrument may trade: `lower_ticks` to `upper_ticks` inclusive."""

    lower_ticks: int
    upper_ticks: int

    def admits(self, price_ticks: int) -> bool:
        return self.lower_ticks <= price_ticks <= self.upper_ticks


def luld_percentage(reference_micros: int, tier: int) -> tuple[int, int | None]:
    """The LULD Percentage Parameter for a reference price, as (percent, cap in micros or None).

    LULD Plan, Appendix A: above $3.00, Tier 1 5 % and Tier 2 10 %; from $0.75 to $3.00
    inclusive, 20 % for both tiers; below $0.75, the lesser of $0.15 or 75 %.
    """
    if tier not in (1, 2):
        raise ValueError(f"LULD tier must be 1 or 2, not {tier!r}")
    if reference_micros > THREE_DOLLARS_MICROS:
        return (5 if tier == 1 else 10), None
    if reference_micros >= SEVENTY_FIVE_CENTS_MICROS:
        return 20, None
    return 75, FIFTEEN_CENTS_MICROS


def luld_band(reference_ticks: int, tick_size_micros: int, tier: int, doubled: bool) -> Band:
    """The LULD price band around `reference_ticks` (LULD Plan, Section V and Appendix A).

    The band is the reference price plus and minus the Percentage Parameter (`luld_percentage`);
    `doubled` (see `band_doubled`) doubles it, the $0.15 cap included. The plan rounds bands to
    the nearest penny; here they round inwards to whole ticks instead (the lower band up, the
    upper band down), so that the band never admits a price outside the exact percentage. The
    lower band is at least one tick (a doubled 75 % would otherwise reach zero or below).

    Exact integer arithmetic: the width is kept multiplied by 100 (percent) until the one
    division that turns micros into ticks.
    """
    if reference_ticks < 1 or tick_size_micros < 1:
        raise ValueError("reference price and tick size must be positive")
    reference_micros = reference_ticks * tick_size_micros
    percent, cap_micros = luld_percentage(reference_micros, tier)
    factor = 2 if doubled else 1
    width_x100 = reference_micros * percent * factor
    if cap_micros is not None:
        width_x100 = min(width_x100, cap_micros * 100 * factor)
    tick_x100 = tick_size_micros * 100
    lower = -((width_x100 - reference_micros * 100) // tick_x100)  # ceiling division
    upper = (reference_micros * 100 + width_x100) // tick_x100
    return Band(max(1, lower), upper)


def band_doubled(
    tier: int,
    reference_ticks: int,
    tick_size_micros: int,
    ns_to_close: int,
    window_ns: int = CLOSE_DOUBLING_NS,
) -> bool:
    """Whether the band is doubled now (LULD Plan, Section V(A), as amended in 2019).

    In the last 25 minutes of regular trading (3:35 to 4:00 p.m., or the last 25 minutes before
    an early close) the Percentage Parameters double for Tier 1 stocks and for Tier 2 stocks
    whose reference price is $3.00 or less. `ns_to_close` is the session close minus now: the
    window includes its first instant (exactly 25 minutes to go) and ends at the close.
    """
    if not 0 < ns_to_close <= window_ns:
        return False
    return tier == 1 or reference_ticks * tick_size_micros <= THREE_DOLLARS_MICROS


class Session(NamedTuple):
    """Today's regular session, as epoch nanoseconds (the caller converts the exchange's local
    9:30 and 16:00, or an early close, once a day; the engine never sees a time zone)."""

    open_ns: int
    close_ns: int

    def ns_to_close(self, now_ns: int) -> int:
        return self.close_ns - now_ns

    def is_open(self, now_ns: int) -> bool:
        return self.open_ns <= now_ns < self.close_ns


# -- reference price --------------------------------------------------------------------------


class ReferencePriceWindow:
    """The LULD reference price: the arithmetic mean of the prices of the trades in the
    preceding five minutes (LULD Plan, Section I, "Reference Price"), `window_ns` configurable.

    The plan averages eligible reported transactions, each counting once whatever its size, so
    the mean is over trades, not volume-weighted; `qty_lots` is taken for the caller's symmetry
    with the other trackers and checked, not weighed. A trade counts while its time is in
    (now - window, now]. The mean rounds half up to a whole tick. With no trade in the window
    the caller's fallback (the instrument's reference price) is the reference.

    (The SIP also republishes bands only when the reference moves by 1 % or more; that
    throttling is the caller's choice and is not modelled here.)
    """

    __slots__ = ("_now_ns", "_sum_ticks", "_trades", "window_ns")

    def __init__(self, window_ns: int = REFERENCE_WINDOW_NS) -> None:
        if window_ns < 1:
            raise ValueError("window_ns must be positive")
        self.window_ns = window_ns
        # Sequenced time: the latest time seen. A stamp that arrives earlier (stamps from
        # several gateways may interleave) is read as this time, so the window never goes back.
        self._now_ns = 0
        self._trades: deque[tuple[int, int]] = deque()  # (ts_ns, price_ticks), oldest first
        self._sum_ticks = 0

    def add_trade(self, ts_ns: int, price_ticks: int, qty_lots: int) -> None:
        if price_ticks < 1 or qty_lots < 1:
            raise ValueError("a trade has a positive price and quantity")
        self._advance(ts_ns)
        self._trades.append((self._now_ns, price_ticks))
        self._sum_ticks += price_ticks

    def reference(self, now_ns: int, fallback_ticks: int) -> int:
        self._advance(now_ns)
        count = len(self._trades)
        if count == 0:
            return fallback_ticks
        return (2 * self._sum_ticks + count) // (2 * count)  # mean, rounded half up

    def _advance(self, now_ns: int) -> None:
        self._now_ns = max(self._now_ns, now_ns)
        oldest_kept = self._now_ns - self.window_ns  # exclusive: (now - window, now]
        trades = self._trades
        while trades and trades[0][0] <= oldest_kept:
            self._sum_ticks -= trades.popleft()[1]

    def snapshot(self) -> dict[str, Any]:
        return {
            "window_ns": self.window_ns,
            "now_ns": self._now_ns,
            # The (time, price) pairs as they are: JSON writes a tuple as an array, and a
            # list of new lists for a window's tens of thousands of trades took most of a
            # live snapshot's 20 to 60 ms on the matcher's thread.
            "trades": list(self._trades),
        }

    @classmethod
    def restore(cls, snapshot: dict[str, Any]) -> "ReferencePriceWindow":
        window = cls(snapshot["window_ns"])
        window._now_ns = snapshot["now_ns"]
        window._trades = deque([(ts, price) for ts, price in snapshot["trades"]])
        window._sum_ticks = sum(price for _ts, price in window._trades)
        return window


# -- limit state ------------------------------------------------------------------------------


class BandSide(StrEnum):
    """Which band the market is pinned to."""

    UPPER = "upper"  # the best bid sits at the upper band: buyers cannot pay more
    LOWER = "lower"  # the best offer sits at the lower band: sellers cannot take less


class LimitStateChange(NamedTuple):
    """An instrument entered (`entered` True) or left limit state, pinned to `side` at
    `band_ticks`; it has been in limit state since `since_ns`; `at_ns` is when this happened."""

    entered: bool
    side: BandSide
    band_ticks: int
    since_ns: int
    at_ns: int


def limit_state_side(
    best_bid_ticks: int | None, best_ask_ticks: int | None, band: Band
) -> BandSide | None:
    """The band the book is pinned to, or None (LULD Plan, Section VI(B)).

    Limit state: the best offer equals the lower band, or the best bid equals the upper band.
    A quote through the band (a bid above the upper band, left there when the band moved under
    it) is pinned just the same, since it cannot trade beyond the band either. The bid is looked
    at first; both at once needs a band one tick wide.
    """
    if best_bid_ticks is not None and best_bid_ticks >= band.upper_ticks:
        return BandSide.UPPER
    if best_ask_ticks is not None and best_ask_ticks <= band.lower_ticks:
        return BandSide.LOWER
    return None


class LimitStateTracker:
    """One instrument's limit state and its 15-second clock (LULD Plan, Sections VI and VII).

    After every command that may move the touch or the band, the caller passes the best bid,
    best offer and band to `update`, which reports entering and leaving limit state. Before
    applying a command stamped `now_ns` (a clock tick or anything else), the caller asks
    `pause_due(now_ns)`: a limit state that has lasted `pause_after_ns` (15 s) has become a
    trading pause, starting at `pause_at_ns`, whatever that command would have done. When the
    pause begins, the caller calls `reset()`.
    """

    __slots__ = ("_now_ns", "band_ticks", "pause_after_ns", "side", "since_ns")

    def __init__(self, pause_after_ns: int = LIMIT_STATE_PAUSE_NS) -> None:
        self.pause_after_ns = pause_after_ns
        self._now_ns = 0
        self.side: BandSide | None = None
        self.band_ticks = 0
        self.since_ns = 0

    @property
    def in_limit_state(self) -> bool:
        return self.side is not None

    @property
    def pause_at_ns(self) -> int | None:
        return None if self.side is None else self.since_ns + self.pause_after_ns

    def update(
        self, now_ns: int, best_bid_ticks: int | None, best_ask_ticks: int | None, band: Band
    ) -> list[LimitStateChange]:
        self._now_ns = now_ns = max(self._now_ns, now_ns)
        side = limit_state_side(best_bid_ticks, best_ask_ticks, band)
        if side is self.side:
            return []
        changes = []
        if self.side is not None:
            changes.append(
                LimitStateChange(False, self.side, self.band_ticks, self.since_ns, now_ns)
            )
            self.side = None
        if side is not None:
            band_ticks = band.upper_ticks if side is BandSide.UPPER else band.lower_ticks
            self.side, self.band_ticks, self.since_ns = side, band_ticks, now_ns
            changes.append(LimitStateChange(True, side, band_ticks, now_ns, now_ns))
        return changes

    def pause_due(self, now_ns: int) -> bool:
        pause_at = self.pause_at_ns
        return pause_at is not None and max(self._now_ns, now_ns) >= pause_at

    def reset(self) -> None:
        self.side = None
        self.band_ticks = 0
        self.since_ns = 0

    def snapshot(self) -> dict[str, Any]:
        return {
            "pause_after_ns": self.pause_after_ns,
            "now_ns": self._now_ns,
            "side": None if self.side is None else self.side.value,
            "band_ticks": self.band_ticks,
            "since_ns": self.since_ns,
        }

    @classmethod
    def restore(cls, snapshot: dict[str, Any]) -> "LimitStateTracker":
        tracker = cls(snapshot["pause_after_ns"])
        tracker._now_ns = snapshot["now_ns"]
        tracker.side = None if snapshot["side"] is None else BandSide(snapshot["side"])
        tracker.band_ticks = snapshot["band_ticks"]
        tracker.since_ns = snapshot["since_ns"]
        return tracker


# -- market-wide circuit breaker ---------------------------------------------------------------


class MarketWideTrigger(NamedTuple):
    """A market-wide breaker level fired at `at_ns`: the index fell `decline_bps` (rounded
    down) below the previous close. Trading resumes at `resume_ns`; None: not today."""

    level: int
    decline_bps: int
    index_micros: int
    previous_close_index_micros: int
    at_ns: int
    resume_ns: int | None


class MarketWideBreaker:
    """The market-wide circuit breaker (NYSE Rule 7.12, Nasdaq Rule 4121), on this desk's
    index: the sum over listed instruments of an integer weight times the price in micros.

    A decline of 7 % (level 1) or 13 % (level 2) below the previous close's index pauses all
    trading for 15 minutes, unless it happens at or after 3:25 p.m. (35 minutes before the
    close, early closes included), when trading goes on. A 20 % decline (level 3) halts trading
    for the rest of the day at any time. Each level fires at most once a day, and firing a level
    spends the levels below it too: a market already past 13 % has passed 7 %.

    An instrument without a last price today counts at its previous close; one without a
    previous close is left out of both indices. `reset_day` re-arms the levels each morning.
    """

    __slots__ = (
        "fired_level",
        "late_cutoff_ns",
        "pause_ns",
        "previous_closes_micros",
        "thresholds_bps",
        "weights",
    )

    def __init__(
        self,
        weights: dict[str, int],
        previous_closes_micros: dict[str, int] | None = None,
        thresholds_bps: tuple[int, ...] = (700, 1300, 2000),
        pause_ns: int = 15 * MINUTE_NS,
        late_cutoff_ns: int = 35 * MINUTE_NS,
    ) -> None:
        if any(weight < 1 for weight in weights.values()):
            raise ValueError("index weights must be positive")
        if not thresholds_bps or list(thresholds_bps) != sorted(set(thresholds_bps)):
            raise ValueError("thresholds must be distinct and ascending")
        self.weights = dict(sorted(weights.items()))
        self.thresholds_bps = tuple(thresholds_bps)
        self.pause_ns = pause_ns
        self.late_cutoff_ns = late_cutoff_ns
        self.previous_closes_micros: dict[str, int] = {}
        self.fired_level = 0
        self.reset_day(previous_closes_micros or {})

    def reset_day(self, previous_closes_micros: dict[str, int]) -> None:
        self.previous_closes_micros = dict(sorted(previous_closes_micros.items()))
        self.fired_level = 0

    def index_micros(self, prices_micros: dict[str, int]) -> tuple[int, int]:
        """(today's index, the previous close's index) over the instruments that have a close."""
        now = close = 0
        for symbol, weight in self.weights.items():
            previous = self.previous_closes_micros.get(symbol)
            if previous is None:
                continue
            close += weight * previous
            now += weight * prices_micros.get(symbol, previous)
        return now, close

    def check(
        self, now_ns: int, last_prices_micros: dict[str, int], session: Session
    ) -> MarketWideTrigger | None:
        """The level that fires now, or None. The caller pauses every instrument until
        `resume_ns` (or halts them for the day when it is None)."""
        if not session.is_open(now_ns):
            return None
        index, close_index = self.index_micros(last_prices_micros)
        if close_index <= 0:
            return None
        fall = close_index - index
        top = len(self.thresholds_bps)
        for level in range(top, self.fired_level, -1):
            if fall * 10_000 < self.thresholds_bps[level - 1] * close_index:
                continue
            if level < top and now_ns >= session.close_ns - self.late_cutoff_ns:
                return None  # too late in the day to pause; the level is not spent
            self.fired_level = level
            resume_ns = None if level == top else now_ns + self.pause_ns
            decline_bps = fall * 10_000 // close_index
            return MarketWideTrigger(level, decline_bps, index, close_index, now_ns, resume_ns)
        return None

    def snapshot(self) -> dict[str, Any]:
        return {
            "weights": dict(self.weights),
            "previous_closes_micros": dict(self.previous_closes_micros),
            "thresholds_bps": list(self.thresholds_bps),
            "pause_ns": self.pause_ns,
            "late_cutoff_ns": self.late_cutoff_ns,
            "fired_level": self.fired_level,
        }

    @classmethod
    def restore(cls, snapshot: dict[str, Any]) -> "MarketWideBreaker":
        breaker = cls(
            snapshot["weights"],
            snapshot["previous_closes_micros"],
            tuple(snapshot["thresholds_bps"]),
            snapshot["pause_ns"],
            snapshot["late_cutoff_ns"],
        )
        breaker.fired_level = snapshot["fired_level"]
        return breaker


# -- volume spikes ----------------------------------------------------------------------------


class VolumeSpike(NamedTuple):
    """Traded volume in the window ending at `at_ns` was `window_lots`, more than `multiple`
    times the recent average per window, `average_lots` (rounded down, for display)."""

    at_ns: int
    window_lots: int
    average_lots: int
    multiple: int


class VolumeSpikeDetector:
    """A desk surveillance rule, not an exchange rule: volume traded in the last `window_ns`
    (10 s) above `multiple` (5) times its average per window over the `lookback_ns` (5 minutes)
    before that window, split into window-sized buckets.

    The window is (now - window, now]; the lookback is the `lookback_ns // window_ns` windows
    before it. The average is taken over the windows of history there are: until the first
    trade is a lookback old, over the windows since it (at least one), not over a lookback
    padded with the silence before trading began, which would make every busy start a spike.
    A window must also hold at least `min_window_lots`, so that a quiet instrument's first
    trade (against an average of nothing) is not a spike. `check` reports a spike once,
    when it begins; it re-arms when the window falls back to or below the threshold. The caller
    raises an alert and, where the instrument is configured for it, a pause.
    """

    __slots__ = (
        "_active",
        "_baseline",
        "_baseline_lots",
        "_now_ns",
        "_recent",
        "_recent_lots",
        "_since_ns",
        "lookback_ns",
        "min_window_lots",
        "multiple",
        "window_ns",
    )

    def __init__(
        self,
        window_ns: int = 10 * SECOND_NS,
        lookback_ns: int = 5 * MINUTE_NS,
        multiple: int = 5,
        min_window_lots: int = 100,
    ) -> None:
        if window_ns < 1 or lookback_ns < window_ns or lookback_ns % window_ns:
            raise ValueError("the lookback must be a positive whole number of windows")
        self.window_ns = window_ns
        self.lookback_ns = lookback_ns
        self.multiple = multiple
        self.min_window_lots = min_window_lots
        self._now_ns = 0  # sequenced time, as in ReferencePriceWindow
        # (ts_ns, qty_lots), oldest first: in the window, and in the lookback before it.
        self._recent: deque[tuple[int, int]] = deque()
        self._baseline: deque[tuple[int, int]] = deque()
        self._recent_lots = 0
        self._baseline_lots = 0
        self._active = False
        # When the first trade was seen (sequenced time); None before it.
        self._since_ns: int | None = None

    def add_trade(self, ts_ns: int, qty_lots: int) -> None:
        if qty_lots < 1:
            raise ValueError("a trade has a positive quantity")
        self._advance(ts_ns)
        if self._since_ns is None:
            self._since_ns = self._now_ns
        self._recent.append((self._now_ns, qty_lots))
        self._recent_lots += qty_lots

    def check(self, now_ns: int) -> VolumeSpike | None:
        self._advance(now_ns)
        buckets = self._history_windows()
        hot = (
            self._recent_lots >= self.min_window_lots
            and self._recent_lots * buckets > self.multiple * self._baseline_lots
        )
        if not hot:
            self._active = False
            return None
        if self._active:
            return None
        self._active = True
        average = self._baseline_lots // buckets
        return VolumeSpike(self._now_ns, self._recent_lots, average, self.multiple)

    def _history_windows(self) -> int:
        """How many windows the average is taken over: the lookback's, or fewer (at least one)
        while the history since the first trade is shorter. The first trade lies in the
        bucket ending at it, so the history spans (since - window, now - window]: `now - since`
        long, in whole windows (a part window counts for nothing, so a partial history never
        makes the average smaller than it is)."""
        full = self.lookback_ns // self.window_ns
        if self._since_ns is None:
            return full
        return max(1, min(full, (self._now_ns - self._since_ns) // self.window_ns))

    def _advance(self, now_ns: int) -> None:
        self._now_ns = max(self._now_ns, now_ns)
        window_start = self._now_ns - self.window_ns  # exclusive, like the lookback's start
        while self._recent and self._recent[0][0] <= window_start:
            trade = self._recent.popleft()
            self._recent_lots -= trade[1]
            self._baseline.append(trade)
            self._baseline_lots += trade[1]
        lookback_start = window_start - self.lookback_ns
        while self._baseline and self._baseline[0][0] <= lookback_start:
            self._baseline_lots -= self._baseline.popleft()[1]

    def snapshot(self) -> dict[str, Any]:
        return {
            "window_ns": self.window_ns,
            "lookback_ns": self.lookback_ns,
            "multiple": self.multiple,
            "min_window_lots": self.min_window_lots,
            "now_ns": self._now_ns,
            "active": self._active,
            "since_ns": self._since_ns,
            # (time, lots) pairs as they are: see ReferencePriceWindow.snapshot.
            "recent": list(self._recent),
            "baseline": list(self._baseline),
        }

    @classmethod
    def restore(cls, snapshot: dict[str, Any]) -> "VolumeSpikeDetector":
        detector = cls(
            snapshot["window_ns"],
            snapshot["lookback_ns"],
            snapshot["multiple"],
            snapshot["min_window_lots"],
        )
        detector._now_ns = snapshot["now_ns"]
        detector._active = snapshot["active"]
        # A snapshot from before the history was counted: the lookback is taken as full.
        detector._since_ns = snapshot.get("since_ns", 0)
        detector._recent = deque([(ts, lots) for ts, lots in snapshot["recent"]])
        detector._baseline = deque([(ts, lots) for ts, lots in snapshot["baseline"]])
        detector._recent_lots = sum(lots for _ts, lots in detector._recent)
        detector._baseline_lots = sum(lots for _ts, lots in detector._baseline)
        return detector
