"""The breaker stage: what the circuit breakers know and decide, in front of the book.

The engine (engine.py) asks this stage for an instrument's price band before an order may
trade, keeps each banded instrument's limit state after every command, and asks which timers
are due (a limit state's 15 s, a pause's end) before it applies a command. The stage holds the
state; the engine turns its answers into events and book changes, as it does for the risk stage.

State, all in `snapshot()`:
- parameters: firm-wide values and per-instrument overrides of `BreakerParameter`;
- today's `Session` (band doubling near the close, the market-wide cut-off);
- per watched instrument (`Watch`): the 5-minute reference price window, the limit state
  tracker and the band frozen while in limit state, the volume-spike detector;
- the market-wide breaker and today's last prices of the instruments in its index;
- the current `Halt` of each halted or paused instrument.

The building blocks are in breakers.py (bands, reference, limit state, market-wide, spikes) and
auction.py (the reopening auction); their docstrings give the rules and where they come from.
"""

from dataclasses import dataclass
from typing import Any, Final, NamedTuple

from apps.matching.engine.auction import AUCTION_EXTENSION_NS, Indicative
from apps.matching.engine.book import Instrument
from apps.matching.engine.breakers import (
    CLOSE_DOUBLING_NS,
    LIMIT_STATE_PAUSE_NS,
    MINUTE_NS,
    REFERENCE_WINDOW_NS,
    SECOND_NS,
    TRADING_PAUSE_NS,
    Band,
    LimitStateTracker,
    MarketWideBreaker,
    ReferencePriceWindow,
    Session,
    VolumeSpikeDetector,
    band_doubled,
    luld_band,
)
from apps.matching.engine.types import BreakerParameter, HaltKind, Side

P: Final = BreakerParameter

# The reopening auction may not print further than this from its reference price (5 %, the
# listing exchanges' LULD halt-cross collar); each 5-minute extension adds it again.
DEFAULT_AUCTION_COLLAR_BPS: Final = 500

DEFAULTS: dict[BreakerParameter, int] = {
    P.REFERENCE_WINDOW_NS: REFERENCE_WINDOW_NS,
    P.LIMIT_STATE_NS: LIMIT_STATE_PAUSE_NS,
    P.PAUSE_NS: TRADING_PAUSE_NS,
    P.AUCTION_COLLAR_BPS: DEFAULT_AUCTION_COLLAR_BPS,
    P.AUCTION_EXTENSION_NS: AUCTION_EXTENSION_NS,
    P.CLOSE_DOUBLING_NS: CLOSE_DOUBLING_NS,
    P.MARKET_WIDE_LEVEL_1_BPS: 700,
    P.MARKET_WIDE_LEVEL_2_BPS: 1300,
    P.MARKET_WIDE_LEVEL_3_BPS: 2000,
    P.MARKET_WIDE_PAUSE_NS: 15 * MINUTE_NS,
    P.MARKET_WIDE_CUTOFF_NS: 35 * MINUTE_NS,
    P.SPIKE_WINDOW_NS: 10 * SECOND_NS,
    P.SPIKE_LOOKBACK_NS: 5 * MINUTE_NS,
    P.SPIKE_MULTIPLE: 5,
    P.SPIKE_MIN_LOTS: 100,
}
MARKET_WIDE_PARAMETERS: Final = (
    P.MARKET_WIDE_LEVEL_1_BPS,
    P.MARKET_WIDE_LEVEL_2_BPS,
    P.MARKET_WIDE_LEVEL_3_BPS,
    P.MARKET_WIDE_PAUSE_NS,
    P.MARKET_WIDE_CUTOFF_NS,
)
LEVEL_PARAMETERS: Final = MARKET_WIDE_PARAMETERS[:3]
SPIKE_PARAMETERS: Final = frozenset(
    {P.SPIKE_WINDOW_NS, P.SPIKE_LOOKBACK_NS, P.SPIKE_MULTIPLE, P.SPIKE_MIN_LOTS}
)
# Parameters that may be 0 (no doubling near the close; any volume counts as a spike).
ZERO_ALLOWED: Final = frozenset({P.CLOSE_DOUBLING_NS, P.SPIKE_MIN_LOTS})


@dataclass(slots=True)
class Halt:
    """Why an instrument is not trading, since and until when (`until_ns` 0: until a risk
    manager resumes it, or, for the market-wide level 3, until the next session).

    `reference_ticks` is what the reopening auction measures from (its collar's centre and its
    last tie-break): the instrument's reference price when the halt began (0: none known).
    `extensions` counts the 5-minute extensions so far; `indicative` is the auction as last
    published.
    """

    kind: HaltKind
    message: str
    since_ns: int
    until_ns: int
    user_id: int
    reference_ticks: int
    extensions: int = 0
    indicative: Indicative | None = None

    def replaces(self, current: "Halt") -> bool:
        """Whether this halt, beginning while `current` is in force, takes its place.

        A manual halt takes the place of any automatic one (only a person ends it). Otherwise
        the halt that lasts longer stands: one without an end (a manual halt, the market-wide
        level 3) is never cut short by a timed pause.
        """
        if self.kind is HaltKind.MANUAL:
            return current.kind is not HaltKind.MANUAL
        if current.until_ns == 0:
            return False
        return self.until_ns == 0 or self.until_ns > current.until_ns


@dataclass(slots=True)
class Watch:
    """A banded or spike-watched instrument's trackers. `frozen_band` is the band in force
    while the instrument is in limit state: the band that put it there holds until the limit
    state clears or the pause begins, so the 15-second clock runs against fixed prices.
    `last_trade_ticks` is the last price the window was given (the reference when the window
    is empty); unlike the book's last price it moves only between commands, so a command's
    band holds throughout the command."""

    reference: ReferencePriceWindow
    limit_state: LimitStateTracker
    spikes: VolumeSpikeDetector
    frozen_band: Band | None = None
    last_trade_ticks: int = 0
    # The last band computed and what it was computed from (reference, tier, tick size,
    # doubled): the reference moves only with trades, so most commands reuse it. Derived,
    # not in the snapshot.
    band_key: tuple[int, int, int, bool] | None = None
    band: Band | None = None

    def add_trade(self, ts_ns: int, price_ticks: int, qty_lots: int) -> None:
        self.reference.add_trade(ts_ns, price_ticks, qty_lots)
        self.last_trade_ticks = price_ticks


class Due(NamedTuple):
    """A timer that has fallen due: at `at_ns`, `symbol`'s limit state becomes a pause
    (`pause` true) or its halt ends (pause false)."""

    at_ns: int
    symbol: str
    pause: bool


class BreakerStage:
    """Parameters, session, trackers and halts; the engine applies its decisions."""

    def __init__(self, instruments: dict[str, Instrument]) -> None:
        # The engine's instruments (their tiers, tick sizes, books); shared, like the risk
        # stage's.
        self.instruments = instruments
        self.firm: dict[BreakerParameter, int] = {}
        self.by_symbol: dict[str, dict[BreakerParameter, int]] = {}
        self.session: Session | None = None
        self.market_wide = self._new_market_wide()
        # Today's last trade price of each index instrument (micros); reset by a session.
        self.session_prices_micros: dict[str, int] = {}
        self.halts: dict[str, Halt] = {}
        self.watches: dict[str, Watch] = {}
        # Instruments the engine looks at after a command: banded, spike-watched or in the
        # market-wide index.
        self.watched: set[str] = set()
        # Sequenced time: the latest command time seen (stamps may interleave a little).
        self.now_ns = 0

    def advance(self, ts_ns: int) -> int:
        if ts_ns > self.now_ns:
            self.now_ns = ts_ns
        return self.now_ns

    # -- parameters -------------------------------------------------------------------------

    def configuration(self) -> dict[tuple[BreakerParameter, str], int]:
        """Every parameter set by command, keyed by (parameter, symbol; "" = firm-wide)."""
        current = {(parameter, ""): value for parameter, value in self.firm.items()}
        for symbol, overrides in self.by_symbol.items():
            current.update(((parameter, symbol), value) for parameter, value in overrides.items())
        return current

    def parameter(self, parameter: BreakerParameter, symbol: str = "") -> int:
        if symbol:
            overrides = self.by_symbol.get(symbol)
            if overrides is not None and parameter in overrides:
                return overrides[parameter]
        return self.firm.get(parameter, DEFAULTS[parameter])

    def parameter_refusal(self, parameter: BreakerParameter, value: int | None, symbol: str) -> str:
        """Why setting `parameter` to `value` (for `symbol`, or the firm) is invalid, or ""."""
        if symbol and parameter in MARKET_WIDE_PARAMETERS:
            return f"{parameter} is firm-wide: name no instrument."
        if value is not None:
            if value < 0 or (value == 0 and parameter not in ZERO_ALLOWED):
                return f"{parameter} must be positive."
            if parameter is P.AUCTION_COLLAR_BPS and value > 10_000:
                return "The auction collar cannot be wider than 10,000 basis points."
        if parameter in LEVEL_PARAMETERS:
            levels = [self.firm.get(p, DEFAULTS[p]) for p in LEVEL_PARAMETERS]
            levels[LEVEL_PARAMETERS.index(parameter)] = (
                DEFAULTS[parameter] if value is None else value
            )
            if levels != sorted(set(levels)) or levels[-1] > 10_000:
                return "The market-wide levels must rise from level 1 to 3, up to 10,000 bps."
        if parameter in (P.SPIKE_WINDOW_NS, P.SPIKE_LOOKBACK_NS):
            for scope in self._scopes_affected(parameter, symbol):
                window = self._would_be(P.SPIKE_WINDOW_NS, parameter, value, symbol, scope)
                lookback = self._would_be(P.SPIKE_LOOKBACK_NS, parameter, value, symbol, scope)
                if lookback < window or lookback % window:
                    return "The spike lookback must be a whole number of spike windows."
        return ""

    def _scopes_affected(self, parameter: BreakerParameter, symbol: str) -> list[str]:
        """The scopes whose effective value a change at `symbol` ("" = firm) reaches."""
        if symbol:
            return [symbol]
        return [""] + [s for s, o in sorted(self.by_symbol.items()) if parameter not in o]

    def _would_be(
        self,
        wanted: BreakerParameter,
        changing: BreakerParameter,
        value: int | None,
        symbol: str,
        scope: str,
    ) -> int:
        if wanted is not changing:
            return self.parameter(wanted, scope)
        if value is not None:
            return value
        return self.parameter(wanted, "") if symbol else DEFAULTS[wanted]

    def set_parameter(
        self, parameter: BreakerParameter, value: int | None, symbol: str
    ) -> int | None:
        """Set (None: remove) a firm value or an instrument's override; return the value that
        scope had. Trackers pick the change up at once."""
        table = self.by_symbol.setdefault(symbol, {}) if symbol else self.firm
        old = table.get(parameter)
        if value is None:
            table.pop(parameter, None)
        else:
            table[parameter] = value
        if symbol and not table:
            del self.by_symbol[symbol]
        if parameter in MARKET_WIDE_PARAMETERS:
            fired = self.market_wide.fired_level
            self.market_wide = self._new_market_wide(self.market_wide)
            self.market_wide.fired_level = fired
            return old
        for watched in [symbol] if symbol else list(self.watches):
            watch = self.watches.get(watched)
            if watch is None:
                continue
            if parameter is P.REFERENCE_WINDOW_NS:
                watch.reference.window_ns = self.parameter(parameter, watched)
            elif parameter is P.LIMIT_STATE_NS:
                watch.limit_state.pause_after_ns = self.parameter(parameter, watched)
            elif parameter in SPIKE_PARAMETERS:
                # The detector starts afresh: its windows are cut to the old sizes.
                watch.spikes = self._new_spike_detector(watched)
        return old

    def _new_market_wide(self, previous: MarketWideBreaker | None = None) -> MarketWideBreaker:
        return MarketWideBreaker(
            previous.weights if previous else {},
            previous.previous_closes_micros if previous else {},
            tuple(self.parameter(p) for p in LEVEL_PARAMETERS),
            self.parameter(P.MARKET_WIDE_PAUSE_NS),
            self.parameter(P.MARKET_WIDE_CUTOFF_NS),
        )

    def _new_spike_detector(self, symbol: str) -> VolumeSpikeDetector:
        return VolumeSpikeDetector(
            self.parameter(P.SPIKE_WINDOW_NS, symbol),
            self.parameter(P.SPIKE_LOOKBACK_NS, symbol),
            self.parameter(P.SPIKE_MULTIPLE, symbol),
            self.parameter(P.SPIKE_MIN_LOTS, symbol),
        )

    # -- instruments and the session --------------------------------------------------------

    def configure(self, instrument: Instrument) -> Watch | None:
        """An instrument was (re)defined: watch it if it has bands, a spike pause or an index
        weight. Returns its watch if it is in limit state without bands any more (the caller
        ends the limit state)."""
        symbol = instrument.symbol
        watch = self.watches.get(symbol)
        if instrument.luld_tier or instrument.spike_pauses:
            if watch is None:
                self.watches[symbol] = Watch(
                    ReferencePriceWindow(self.parameter(P.REFERENCE_WINDOW_NS, symbol)),
                    LimitStateTracker(self.parameter(P.LIMIT_STATE_NS, symbol)),
                    self._new_spike_detector(symbol),
                )
        elif watch is not None:
            del self.watches[symbol]
        dropped = None
        if watch is not None and not instrument.luld_tier and watch.limit_state.in_limit_state:
            dropped = watch
        if instrument.luld_tier or instrument.spike_pauses or instrument.index_weight:
            self.watched.add(symbol)
        else:
            self.watched.discard(symbol)
        self.market_wide.weights = dict(
            sorted((s, i.index_weight) for s, i in self.instruments.items() if i.index_weight)
        )
        return dropped

    def start_session(self, session: Session) -> None:
        """Today's session: the market-wide levels re-arm against each index instrument's
        previous close (as its definition gives it) and today's last prices start empty."""
        self.session = session
        self.session_prices_micros = {}
        self.market_wide.reset_day(
            {
                symbol: i.previous_close_ticks * i.tick_size_micros
                for symbol, i in self.instruments.items()
                if i.index_weight and i.previous_close_ticks > 0
            }
        )

    # -- bands and references ---------------------------------------------------------------

    def band(self, instrument: Instrument, now_ns: int, peek: bool = False) -> Band | None:
        """The band in force for a banded instrument at `now_ns`, or None when it has no
        reference price yet. While in limit state, the band that put it there. Asking moves
        the reference window's clock (state, in the snapshot); `peek` asks a copy instead,
        for readers outside the command stream."""
        watch = self.watches[instrument.symbol]
        if watch.frozen_band is not None:
            return watch.frozen_band
        fallback = watch.last_trade_ticks or instrument.reference_price_ticks
        window = watch.reference
        if peek:
            window = ReferencePriceWindow.restore(window.snapshot())
        reference = window.reference(now_ns, fallback)
        if reference < 1:
            return None
        tier, tick = instrument.luld_tier, instrument.tick_size_micros
        doubled = self.session is not None and band_doubled(
            tier,
            reference,
            tick,
            self.session.ns_to_close(now_ns),
            self.parameter(P.CLOSE_DOUBLING_NS, instrument.symbol),
        )
        key = (reference, tier, tick, doubled)
        if watch.band_key != key:
            watch.band_key, watch.band = key, luld_band(reference, tick, tier, doubled)
        return watch.band

    def reference(self, instrument: Instrument, now_ns: int) -> int:
        """The instrument's reference price now (0: none): the window's mean where it is
        watched (with no trade in the window, the last trade, or before any trade the
        instrument's reference price), else its last trade or its reference price."""
        watch = self.watches.get(instrument.symbol)
        if watch is None:
            return int(instrument.book.last_trade_ticks or instrument.reference_price_ticks)
        fallback = watch.last_trade_ticks or instrument.reference_price_ticks
        return watch.reference.reference(now_ns, fallback)

    # -- timers -----------------------------------------------------------------------------

    def deadline_ns(self) -> int | None:
        """The earliest time a clock tick would change anything: a limit state turning into a
        pause, or a pause (or its extension) ending. None: no timer runs."""
        deadline: int | None = None
        for watch in self.watches.values():
            pause_at = watch.limit_state.pause_at_ns
            if pause_at is not None and (deadline is None or pause_at < deadline):
                deadline = pause_at
        for halt in self.halts.values():
            until = halt.until_ns
            if until and (deadline is None or until < deadline):
                deadline = until
        return deadline

    def due(self, now_ns: int) -> list[Due]:
        """The timers due at `now_ns`, in time order (then symbol order)."""
        due = []
        for symbol, watch in self.watches.items():
            pause_at = watch.limit_state.pause_at_ns
            if pause_at is not None and symbol not in self.halts and pause_at <= now_ns:
                due.append(Due(pause_at, symbol, True))
        for symbol, halt in self.halts.items():
            if halt.until_ns and halt.until_ns <= now_ns:
                due.append(Due(halt.until_ns, symbol, False))
        return sorted(due)

    # -- views ------------------------------------------------------------------------------

    def halts_view(self) -> dict[str, dict[str, Any]]:
        """Each halted instrument: why, since and until when, whether it takes orders, and the
        reopening auction as last published (JSON-ready)."""
        view = {}
        for symbol, halt in sorted(self.halts.items()):
            indicative = halt.indicative
            view[symbol] = {
                "kind": halt.kind.value,
                "message": halt.message,
                "since_ns": halt.since_ns,
                "until_ns": halt.until_ns,
                "accepts_orders": bool(self.instruments[symbol].halted_accepts_orders),
                "user_id": halt.user_id,
                "reference_ticks": halt.reference_ticks,
                "extensions": halt.extensions,
                "indicative": None
                if indicative is None
                else {
                    "price_ticks": indicative.price_ticks,
                    "paired_lots": indicative.paired_lots,
                    "imbalance_lots": indicative.imbalance_lots,
                    "imbalance_side": indicative.imbalance_side.value
                    if indicative.imbalance_side
                    else "",
                },
            }
        return view

    def limit_states_view(self) -> dict[str, dict[str, Any]]:
        view = {}
        for symbol, watch in sorted(self.watches.items()):
            tracker, band = watch.limit_state, watch.frozen_band
            if tracker.side is None or band is None:
                continue
            view[symbol] = {
                "band_side": tracker.side.value,
                "lower_band_ticks": band.lower_ticks,
                "upper_band_ticks": band.upper_ticks,
                "since_ns": tracker.since_ns,
                "pause_at_ns": tracker.pause_at_ns,
            }
        return view

    # -- snapshot ---------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        def indicative(value: Indicative | None) -> list[Any] | None:
            if value is None:
                return None
            side = value.imbalance_side.value if value.imbalance_side else None
            return [value.price_ticks, value.paired_lots, value.imbalance_lots, side]

        return {
            "now_ns": self.now_ns,
            "firm": {p.value: v for p, v in sorted(self.firm.items())},
            "by_symbol": {
                symbol: {p.value: v for p, v in sorted(table.items())}
                for symbol, table in sorted(self.by_symbol.items())
            },
            "session": None if self.session is None else list(self.session),
            "market_wide": self.market_wide.snapshot(),
            "session_prices_micros": dict(sorted(self.session_prices_micros.items())),
            "halts": [
                [
                    symbol,
                    h.kind.value,
                    h.message,
                    h.since_ns,
                    h.until_ns,
                    h.user_id,
                    h.reference_ticks,
                    h.extensions,
                    indicative(h.indicative),
                ]
                for symbol, h in sorted(self.halts.items())
            ],
            "watches": {
                symbol: {
                    "reference": w.reference.snapshot(),
                    "limit_state": w.limit_state.snapshot(),
                    "spikes": w.spikes.snapshot(),
                    "frozen_band": None if w.frozen_band is None else list(w.frozen_band),
                    "last_trade_ticks": w.last_trade_ticks,
                }
                for symbol, w in sorted(self.watches.items())
            },
            "watched": sorted(self.watched),
        }

    def restore(self, data: dict[str, Any]) -> None:
        self.now_ns = data["now_ns"]
        self.firm = {P(p): v for p, v in data["firm"].items()}
        self.by_symbol = {
            symbol: {P(p): v for p, v in table.items()}
            for symbol, table in data["by_symbol"].items()
        }
        self.session = None if data["session"] is None else Session(*data["session"])
        self.market_wide = MarketWideBreaker.restore(data["market_wide"])
        self.session_prices_micros = dict(data["session_prices_micros"])
        # Cleared in place: the engine holds this dict too.
        self.halts.clear()
        for row in data["halts"]:
            symbol, kind, message, since, until, user_id, reference, extensions, shown = row
            indicative = None
            if shown is not None:
                price, paired, imbalance, side = shown
                imbalance_side = None if side is None else Side(side)
                indicative = Indicative(price, paired, imbalance, imbalance_side)
            self.halts[symbol] = Halt(
                HaltKind(kind), message, since, until, user_id, reference, extensions, indicative
            )
        self.watches = {
            symbol: Watch(
                ReferencePriceWindow.restore(w["reference"]),
                LimitStateTracker.restore(w["limit_state"]),
                VolumeSpikeDetector.restore(w["spikes"]),
                None if w["frozen_band"] is None else Band(*w["frozen_band"]),
                w["last_trade_ticks"],
            )
            for symbol, w in data["watches"].items()
        }
        self.watched = set(data["watched"])
