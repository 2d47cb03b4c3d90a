"""The breaker stage's building blocks: LULD bands, the reference price, limit state, the
market-wide breaker and volume spikes (apps/matching/engine/breakers.py)."""

import json
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.matching.engine.breakers import (
    MINUTE_NS,
    SECOND_NS,
    Band,
    BandSide,
    LimitStateChange,
    LimitStateTracker,
    MarketWideBreaker,
    ReferencePriceWindow,
    Session,
    VolumeSpike,
    VolumeSpikeDetector,
    band_doubled,
    luld_band,
    luld_percentage,
)

CENT = 10_000  # tick_size_micros of a one-cent tick


def tuples_as_lists(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [tuples_as_lists(item) for item in value]
    if isinstance(value, dict):
        return {key: tuples_as_lists(item) for key, item in value.items()}
    return value


def json_round_trip(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The snapshot as stored and read back: nothing lost (JSON reads a tuple as a list)."""
    data: dict[str, Any] = json.loads(json.dumps(snapshot))
    assert data == tuples_as_lists(snapshot)
    return data


# -- bands ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reference_ticks", "tier", "doubled", "band"),
    [
        # Above $3.00: Tier 1 5 %, Tier 2 10 %.
        (1000, 1, False, (950, 1050)),
        (1000, 2, False, (900, 1100)),
        # One tick above $3.00: still 5 % and 10 %, rounded inwards (285.95 up, 316.05 down).
        (301, 1, False, (286, 316)),
        (301, 2, False, (271, 331)),
        # Exactly $3.00 and one tick below: 20 % for both tiers (239.2 up, 358.8 down).
        (300, 1, False, (240, 360)),
        (300, 2, False, (240, 360)),
        (299, 1, False, (240, 358)),
        # Exactly $0.75: 20 %.
        (75, 1, False, (60, 90)),
        (75, 2, False, (60, 90)),
        # One tick below $0.75: the lesser of $0.15 and 75 % (55.5 cents) is $0.15.
        (74, 1, False, (59, 89)),
        # $0.20: 75 % is exactly $0.15; below it 75 % is the lesser (7.5 cents at $0.10).
        (20, 2, False, (5, 35)),
        (10, 1, False, (3, 17)),
        # Doubled: 10 % and 40 % and the lesser of $0.30 and 150 %, lower band at least a tick.
        (1000, 1, True, (900, 1100)),
        (300, 2, True, (180, 420)),
        (74, 2, True, (44, 104)),
        (10, 1, True, (1, 25)),
    ],
)
def test_luld_band_at_every_boundary(
    reference_ticks: int, tier: int, doubled: bool, band: tuple[int, int]
) -> None:
    assert luld_band(reference_ticks, CENT, tier, doubled) == band


def test_the_price_ranges_are_read_in_money_not_ticks() -> None:
    # A $0.0001 tick: $3.00 is 30,000 ticks, and one tick above it is in the 5 % range.
    assert luld_percentage(30_000 * 100, 1) == (20, None)
    assert luld_percentage(30_001 * 100, 1) == (5, None)
    assert luld_band(30_001, 100, 1, False) == (28_501, 31_501)


def test_the_lower_band_is_at_least_one_tick() -> None:
    assert luld_band(1, CENT, 1, True).lower_ticks == 1


def test_a_band_admits_its_bounds_and_nothing_beyond() -> None:
    band = Band(950, 1050)
    assert band.admits(950)
    assert band.admits(1050)
    assert not band.admits(949)
    assert not band.admits(1051)


def test_bad_band_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="tier"):
        luld_band(1000, CENT, 3, False)
    with pytest.raises(ValueError, match="positive"):
        luld_band(0, CENT, 1, False)


@given(
    reference_ticks=st.integers(1, 2_000_000),
    tick_size_micros=st.sampled_from([1, 100, 5_000, 10_000, 50_000]),
    tier=st.sampled_from([1, 2]),
    doubled=st.booleans(),
)
def test_the_band_is_the_widest_whole_tick_band_inside_the_exact_percentage(
    reference_ticks: int, tick_size_micros: int, tier: int, doubled: bool
) -> None:
    reference = Fraction(reference_ticks * tick_size_micros, 1_000_000)  # dollars
    if reference > 3:
        width = reference * Fraction(5 if tier == 1 else 10, 100)
    elif reference >= Fraction(3, 4):
        width = reference * Fraction(20, 100)
    else:
        width = min(Fraction(15, 100), reference * Fraction(75, 100))
    width *= 2 if doubled else 1
    tick = Fraction(tick_size_micros, 1_000_000)
    lower, upper = luld_band(reference_ticks, tick_size_micros, tier, doubled)
    assert upper * tick <= reference + width < (upper + 1) * tick
    assert lower >= 1
    assert lower * tick >= reference - width
    assert lower == 1 or (lower - 1) * tick < reference - width


@pytest.mark.parametrize(
    ("tier", "reference_ticks", "ns_to_close", "doubled"),
    [
        (1, 1000, 25 * MINUTE_NS, True),  # 3:35:00 exactly
        (1, 1000, 25 * MINUTE_NS + 1, False),  # a nanosecond before
        (1, 1000, 1, True),
        (1, 1000, 0, False),  # the close: the session is over
        (1, 1000, -MINUTE_NS, False),
        (2, 1000, MINUTE_NS, False),  # Tier 2 above $3.00 keeps its 10 %
        (2, 301, MINUTE_NS, False),
        (2, 300, MINUTE_NS, True),  # Tier 2 at $3.00 doubles
        (2, 74, MINUTE_NS, True),
        (1, 74, MINUTE_NS, True),
    ],
)
def test_band_doubles_in_the_last_25_minutes_for_tier_1_and_cheap_tier_2(
    tier: int, reference_ticks: int, ns_to_close: int, doubled: bool
) -> None:
    assert band_doubled(tier, reference_ticks, CENT, ns_to_close) is doubled


def test_session_counts_time_to_the_close() -> None:
    session = Session(open_ns=100, close_ns=200)
    assert session.ns_to_close(150) == 50
    assert session.is_open(100)
    assert not session.is_open(200)


# -- reference price --------------------------------------------------------------------------


def test_reference_is_the_fallback_before_any_trade() -> None:
    assert ReferencePriceWindow().reference(10 * SECOND_NS, 1234) == 1234


def test_reference_is_the_mean_over_trades_not_weighted_by_volume() -> None:
    window = ReferencePriceWindow()
    window.add_trade(1, 100, 1)
    window.add_trade(2, 200, 99)
    assert window.reference(3, 0) == 150


def test_reference_rounds_half_up() -> None:
    window = ReferencePriceWindow()
    window.add_trade(1, 100, 1)
    window.add_trade(2, 101, 1)
    assert window.reference(3, 0) == 101  # 100.5
    window.add_trade(3, 100, 1)
    assert window.reference(3, 0) == 100  # 100.33


def test_reference_counts_trades_within_the_preceding_window_only() -> None:
    window = ReferencePriceWindow(window_ns=5 * MINUTE_NS)
    window.add_trade(0, 100, 1)
    window.add_trade(MINUTE_NS, 200, 1)
    assert window.reference(5 * MINUTE_NS - 1, 0) == 150
    assert window.reference(5 * MINUTE_NS, 0) == 200  # the first trade is exactly 5 min old
    assert window.reference(6 * MINUTE_NS, 7) == 7


def test_reference_time_never_runs_backwards() -> None:
    window = ReferencePriceWindow(window_ns=10)
    window.add_trade(100, 50, 1)
    assert window.reference(200, 9) == 9
    # An earlier stamp is read as the latest time seen: the trade stays out of the window.
    assert window.reference(105, 9) == 9


def test_reference_window_survives_a_snapshot() -> None:
    window = ReferencePriceWindow(window_ns=100)
    for ts, price in [(10, 100), (50, 103), (90, 104)]:
        window.add_trade(ts, price, 1)
    copy = ReferencePriceWindow.restore(json_round_trip(window.snapshot()))
    for now in (100, 120, 151, 195):
        assert copy.reference(now, 0) == window.reference(now, 0)
    assert copy.snapshot() == window.snapshot()


# -- limit state ------------------------------------------------------------------------------

BAND = Band(950, 1050)


def test_best_bid_at_the_upper_band_enters_limit_state() -> None:
    tracker = LimitStateTracker()
    assert tracker.update(5, 1050, 1051, BAND) == [
        LimitStateChange(True, BandSide.UPPER, 1050, 5, 5)
    ]
    assert tracker.in_limit_state
    assert tracker.update(6, 1050, 1052, BAND) == []  # still there: nothing new


def test_best_offer_at_the_lower_band_enters_limit_state() -> None:
    tracker = LimitStateTracker()
    assert tracker.update(5, 949, 950, BAND) == [LimitStateChange(True, BandSide.LOWER, 950, 5, 5)]


def test_a_bid_left_above_a_moved_band_is_limit_state_too() -> None:
    assert LimitStateTracker().update(5, 1060, None, BAND)[0].side is BandSide.UPPER


def test_a_book_inside_the_band_is_not_in_limit_state() -> None:
    tracker = LimitStateTracker()
    assert tracker.update(5, 1049, 951, BAND) == []
    assert tracker.update(6, None, None, BAND) == []
    assert not tracker.pause_due(100 * SECOND_NS)


def test_limit_state_clears_when_the_quote_leaves_the_band() -> None:
    tracker = LimitStateTracker()
    tracker.update(5, 1050, 1051, BAND)
    assert tracker.update(9, 1049, 1051, BAND) == [
        LimitStateChange(False, BandSide.UPPER, 1050, 5, 9)
    ]
    assert not tracker.in_limit_state
    assert not tracker.pause_due(5 + 15 * SECOND_NS)


def test_switching_bands_leaves_one_limit_state_and_enters_the_other() -> None:
    tracker = LimitStateTracker()
    tracker.update(5, 1050, 1051, BAND)
    changes = tracker.update(9, 900, 950, BAND)
    assert [(c.entered, c.side) for c in changes] == [
        (False, BandSide.UPPER),
        (True, BandSide.LOWER),
    ]
    assert tracker.pause_at_ns == 9 + 15 * SECOND_NS


def test_limit_state_becomes_a_pause_after_exactly_15_seconds() -> None:
    tracker = LimitStateTracker()
    tracker.update(5, 1050, 1051, BAND)
    assert tracker.pause_at_ns == 5 + 15 * SECOND_NS
    assert not tracker.pause_due(5 + 15 * SECOND_NS - 1)
    assert tracker.pause_due(5 + 15 * SECOND_NS)
    tracker.reset()
    assert not tracker.in_limit_state
    assert not tracker.pause_due(5 + 16 * SECOND_NS)


def test_limit_state_survives_a_snapshot() -> None:
    tracker = LimitStateTracker(pause_after_ns=1000)
    tracker.update(5, 949, 950, BAND)
    copy = LimitStateTracker.restore(json_round_trip(tracker.snapshot()))
    assert copy.snapshot() == tracker.snapshot()
    assert copy.pause_due(1005)
    assert copy.update(10, 949, 951, BAND) == tracker.update(10, 949, 951, BAND)


# -- market-wide circuit breaker ---------------------------------------------------------------

OPEN = 1_700_000_000 * SECOND_NS
SESSION = Session(OPEN, OPEN + 390 * MINUTE_NS)  # 9:30 to 16:00
AT_1525 = SESSION.close_ns - 35 * MINUTE_NS
CLOSES = {"AAA": 100_000_000, "BBB": 50_000_000}  # index: 2 * $100 + 1 * $50 = $250


def breaker() -> MarketWideBreaker:
    return MarketWideBreaker({"AAA": 2, "BBB": 1}, CLOSES)


def fallen(percent_x100: int) -> dict[str, int]:
    """Prices at which the index has fallen `percent_x100` hundredths of a percent."""
    factor = 10_000 - percent_x100
    return {symbol: price * factor // 10_000 for symbol, price in CLOSES.items()}


def test_a_7_percent_fall_pauses_all_trading_for_15_minutes() -> None:
    mwcb = breaker()
    now = OPEN + MINUTE_NS
    assert mwcb.check(now, fallen(699), SESSION) is None
    trigger = mwcb.check(now, fallen(700), SESSION)
    assert trigger is not None
    assert (trigger.level, trigger.decline_bps, trigger.resume_ns) == (1, 700, now + 15 * MINUTE_NS)
    assert (trigger.index_micros, trigger.previous_close_index_micros) == (232_500_000, 250_000_000)


def test_each_level_fires_once_a_day() -> None:
    mwcb = breaker()
    assert mwcb.check(OPEN + 1, fallen(800), SESSION) is not None
    assert mwcb.check(OPEN + 2, fallen(800), SESSION) is None
    assert mwcb.check(OPEN + 3, fallen(1000), SESSION) is None
    level_2 = mwcb.check(OPEN + 4, fallen(1300), SESSION)
    assert level_2 is not None
    assert level_2.level == 2
    assert mwcb.check(OPEN + 5, fallen(1300), SESSION) is None


def test_a_higher_level_spends_the_lower_ones() -> None:
    mwcb = breaker()
    trigger = mwcb.check(OPEN + 1, fallen(1500), SESSION)
    assert trigger is not None
    assert trigger.level == 2
    assert mwcb.check(OPEN + 2, fallen(800), SESSION) is None


def test_a_20_percent_fall_halts_for_the_rest_of_the_day_even_late() -> None:
    mwcb = breaker()
    trigger = mwcb.check(SESSION.close_ns - MINUTE_NS, fallen(2000), SESSION)
    assert trigger is not None
    assert (trigger.level, trigger.resume_ns) == (3, None)
    assert mwcb.check(SESSION.close_ns - 1, fallen(3000), SESSION) is None


def test_levels_1_and_2_do_not_pause_at_or_after_1525() -> None:
    mwcb = breaker()
    assert mwcb.check(AT_1525, fallen(1500), SESSION) is None
    assert mwcb.check(AT_1525 + MINUTE_NS, fallen(800), SESSION) is None
    # Not spent: a level 3 still fires later.
    trigger = mwcb.check(AT_1525 + 2 * MINUTE_NS, fallen(2100), SESSION)
    assert trigger is not None
    assert trigger.level == 3


def test_level_1_pauses_a_nanosecond_before_1525() -> None:
    trigger = breaker().check(AT_1525 - 1, fallen(700), SESSION)
    assert trigger is not None
    assert trigger.level == 1


def test_the_breaker_sleeps_outside_the_session() -> None:
    assert breaker().check(OPEN - 1, fallen(2500), SESSION) is None
    assert breaker().check(SESSION.close_ns, fallen(2500), SESSION) is None


def test_reset_day_rearms_every_level_against_new_closes() -> None:
    mwcb = breaker()
    assert mwcb.check(OPEN + 1, fallen(2000), SESSION) is not None
    mwcb.reset_day(fallen(2000))
    assert mwcb.check(OPEN + 2, fallen(2000), SESSION) is None  # no fall from the new close
    tomorrow = {symbol: price * 93 // 100 for symbol, price in fallen(2000).items()}
    trigger = mwcb.check(OPEN + 3, tomorrow, SESSION)
    assert trigger is not None
    assert trigger.level == 1


def test_missing_prices_count_at_the_close_and_strangers_are_ignored() -> None:
    mwcb = MarketWideBreaker({"AAA": 2, "BBB": 1, "NEW": 5}, CLOSES)
    assert mwcb.index_micros({"BBB": 0, "ZZZ": 1}) == (200_000_000, 250_000_000)
    trigger = mwcb.check(OPEN + 1, {"BBB": 0}, SESSION)  # BBB worthless: index down 20 %
    assert trigger is not None
    assert trigger.level == 3


def test_market_wide_breaker_survives_a_snapshot() -> None:
    mwcb = breaker()
    mwcb.check(OPEN + 1, fallen(800), SESSION)
    copy = MarketWideBreaker.restore(json_round_trip(mwcb.snapshot()))
    assert copy.snapshot() == mwcb.snapshot()
    assert copy.check(OPEN + 2, fallen(800), SESSION) is None
    assert copy.check(OPEN + 3, fallen(1300), SESSION) == mwcb.check(
        OPEN + 3, fallen(1300), SESSION
    )


# -- volume spikes ----------------------------------------------------------------------------

WINDOW = 10 * SECOND_NS


def detector() -> VolumeSpikeDetector:
    # 30 ten-second buckets of history, 5 times the average, at least 200 lots.
    return VolumeSpikeDetector(WINDOW, 30 * WINDOW, multiple=5, min_window_lots=200)


def steady(spikes: VolumeSpikeDetector, until_ns: int, lots_per_window: int) -> None:
    for ts in range(0, until_ns, WINDOW):
        spikes.add_trade(ts, lots_per_window)
        assert spikes.check(ts) is None


def test_a_quiet_instruments_first_trade_is_not_a_spike() -> None:
    spikes = detector()
    spikes.add_trade(5, 199)
    assert spikes.check(5) is None


def test_a_big_first_print_over_the_floor_is_a_spike() -> None:
    spikes = detector()
    spikes.add_trade(5, 200)
    assert spikes.check(5) == VolumeSpike(5, 200, 0, 5)


def test_volume_above_five_times_its_average_is_a_spike() -> None:
    spikes = detector()
    steady(spikes, 30 * WINDOW, 100)  # 100 lots a window for five minutes
    now = 30 * WINDOW + SECOND_NS
    spikes.add_trade(now, 500)  # exactly 5 * the average: not above it
    assert spikes.check(now) is None
    spikes.add_trade(now + 1, 1)
    assert spikes.check(now + 1) == VolumeSpike(now + 1, 501, 100, 5)


def test_a_spike_is_reported_once_and_rearms_when_it_subsides() -> None:
    spikes = detector()
    steady(spikes, 30 * WINDOW, 100)
    now = 30 * WINDOW + SECOND_NS
    spikes.add_trade(now, 1000)
    assert spikes.check(now) is not None
    assert spikes.check(now + SECOND_NS) is None  # still hot, already reported
    assert spikes.check(now + WINDOW) is None  # the window has moved past it: re-armed
    spikes.add_trade(now + WINDOW, 2000)
    assert spikes.check(now + WINDOW) is not None


def test_old_trades_leave_the_window_and_then_the_history() -> None:
    spikes = VolumeSpikeDetector(WINDOW, 30 * WINDOW, multiple=5, min_window_lots=100)
    spikes.add_trade(0, 1000)
    assert spikes.check(WINDOW - 1) is not None
    assert spikes.check(WINDOW) is None  # now in the history, not the window
    spikes.add_trade(WINDOW + 1, 160)
    assert spikes.check(WINDOW + 1) is None  # 160 * 30 is not above 5 * 1000
    spikes.add_trade(31 * WINDOW, 160)
    assert spikes.check(31 * WINDOW) is not None  # the 1000 has aged out of the history


def test_volume_spike_detector_survives_a_snapshot() -> None:
    spikes = detector()
    steady(spikes, 20 * WINDOW, 100)
    copy = VolumeSpikeDetector.restore(json_round_trip(spikes.snapshot()))
    assert copy.snapshot() == spikes.snapshot()
    for ts, lots in [(20 * WINDOW, 900), (21 * WINDOW, 50), (25 * WINDOW, 4000)]:
        spikes.add_trade(ts, lots)
        copy.add_trade(ts, lots)
        assert copy.check(ts) == spikes.check(ts)


def test_the_lookback_must_be_whole_windows() -> None:
    with pytest.raises(ValueError, match="whole number"):
        VolumeSpikeDetector(window_ns=3, lookback_ns=10)


def test_a_busy_start_is_averaged_over_the_history_there_is() -> None:
    """A minute into trading, the average is a minute's, not five minutes' padded with the
    silence before the first trade: a busy start is not by itself a spike."""
    spikes = detector()
    steady(spikes, 6 * WINDOW, 150)  # the first minute: 150 lots a window, six windows
    now = 6 * WINDOW
    spikes.add_trade(now, 700)  # 4.7x the minute's average (over 30 windows it would be 23x)
    assert spikes.check(now) is None
    spikes.add_trade(now + 1, 50)  # exactly 5x: not above it
    assert spikes.check(now + 1) is None
    spikes.add_trade(now + 2, 1)
    assert spikes.check(now + 2) == VolumeSpike(now + 2, 751, 150, 5)
