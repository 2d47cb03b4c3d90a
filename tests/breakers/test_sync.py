"""The breaker configuration the database describes, and the commands that bring a matcher's
engine to it at start."""

from decimal import Decimal

import pytest

from apps.breakers.models import BreakerSettings
from apps.breakers.sync import (
    SYNC_REASON,
    SYNC_USER_ID,
    BreakerConfiguration,
    breaker_sync_commands,
    desired_breaker_parameters,
)
from apps.matching.engine import BreakerParameter, SetBreakerParameter
from apps.matching.engine.auction import AUCTION_EXTENSION_NS
from apps.matching.engine.breakers import (
    CLOSE_DOUBLING_NS,
    LIMIT_STATE_PAUSE_NS,
    MINUTE_NS,
    REFERENCE_WINDOW_NS,
    SECOND_NS,
    TRADING_PAUSE_NS,
)

P = BreakerParameter
TS = 1_700_000_000_000_000_000


@pytest.mark.django_db
class TestDesired:
    def test_an_empty_database_describes_every_parameter_at_its_default(self) -> None:
        desired = desired_breaker_parameters()
        assert set(desired) == {(p, "") for p in BreakerParameter}
        assert desired[(P.REFERENCE_WINDOW_NS, "")] == REFERENCE_WINDOW_NS
        assert desired[(P.LIMIT_STATE_NS, "")] == LIMIT_STATE_PAUSE_NS
        assert desired[(P.PAUSE_NS, "")] == TRADING_PAUSE_NS
        assert desired[(P.AUCTION_EXTENSION_NS, "")] == AUCTION_EXTENSION_NS
        assert desired[(P.CLOSE_DOUBLING_NS, "")] == CLOSE_DOUBLING_NS
        assert desired[(P.AUCTION_COLLAR_BPS, "")] == 500
        assert [
            desired[(p, "")] for p in (P.MARKET_WIDE_LEVEL_1_BPS, P.MARKET_WIDE_LEVEL_2_BPS)
        ] == [
            700,
            1300,
        ]
        assert desired[(P.MARKET_WIDE_LEVEL_3_BPS, "")] == 2000
        assert desired[(P.MARKET_WIDE_PAUSE_NS, "")] == 15 * MINUTE_NS
        assert desired[(P.MARKET_WIDE_CUTOFF_NS, "")] == 35 * MINUTE_NS
        assert desired[(P.SPIKE_WINDOW_NS, "")] == 10 * SECOND_NS
        assert desired[(P.SPIKE_LOOKBACK_NS, "")] == 5 * MINUTE_NS
        assert desired[(P.SPIKE_MULTIPLE, "")] == 5
        assert desired[(P.SPIKE_MIN_LOTS, "")] == 100

    def test_saved_settings_are_described_exactly_in_engine_units(self) -> None:
        BreakerSettings.objects.create(
            limit_state_seconds=Decimal("0.001"),
            pause_minutes=Decimal("0.033"),
            auction_collar_percent=Decimal("12.34"),
            spike_window_seconds=Decimal("2.5"),
        )
        desired = desired_breaker_parameters()
        assert desired[(P.LIMIT_STATE_NS, "")] == 1_000_000
        assert desired[(P.PAUSE_NS, "")] == 1_980_000_000
        assert desired[(P.AUCTION_COLLAR_BPS, "")] == 1234
        assert desired[(P.SPIKE_WINDOW_NS, "")] == 2_500_000_000


class TestCommands:
    def test_the_same_configuration_needs_no_command(self) -> None:
        same: BreakerConfiguration = {(P.PAUSE_NS, ""): 1, (P.SPIKE_MULTIPLE, ""): 2}
        assert breaker_sync_commands(same, dict(same), TS) == []

    def test_only_differences_are_sent_in_a_fixed_order_by_the_system(self) -> None:
        current: BreakerConfiguration = {
            (P.PAUSE_NS, ""): TRADING_PAUSE_NS,
            (P.SPIKE_MULTIPLE, ""): 5,
            (P.LIMIT_STATE_NS, "AAPL"): 1,  # held by the engine, set by nobody: back to default
        }
        desired: BreakerConfiguration = {
            (P.SPIKE_MULTIPLE, ""): 9,
            (P.PAUSE_NS, ""): TRADING_PAUSE_NS,
            (P.AUCTION_COLLAR_BPS, ""): 1000,
        }
        commands = breaker_sync_commands(current, desired, TS)
        assert all(isinstance(c, SetBreakerParameter) for c in commands)
        assert [(c.parameter, c.symbol, c.value) for c in commands] == [  # type: ignore[union-attr]
            (P.AUCTION_COLLAR_BPS, "", 1000),
            (P.LIMIT_STATE_NS, "AAPL", None),
            (P.SPIKE_MULTIPLE, "", 9),
        ]
        for n, command in enumerate(commands, 1):
            assert isinstance(command, SetBreakerParameter)
            assert command.ts_ns == TS
            assert command.command_id == f"breaker-sync-{TS}-{n}"
            assert (command.user_id, command.change_reason) == (SYNC_USER_ID, SYNC_REASON)

    def test_the_order_does_not_depend_on_how_the_dicts_were_built(self) -> None:
        items = [((p, ""), n) for n, p in enumerate(BreakerParameter)]
        forwards = breaker_sync_commands({}, dict(items), TS)
        backwards = breaker_sync_commands({}, dict(reversed(items)), TS)
        assert forwards == backwards
        assert len(forwards) == len(BreakerParameter)

    @pytest.mark.django_db
    def test_syncing_the_database_onto_an_engine_at_its_defaults_sends_only_what_differs(
        self,
    ) -> None:
        engine_defaults = desired_breaker_parameters()
        BreakerSettings.objects.create(pause_minutes=Decimal(1))
        commands = breaker_sync_commands(engine_defaults, desired_breaker_parameters(), TS)
        assert [(c.parameter, c.value) for c in commands] == [  # type: ignore[union-attr]
            (P.PAUSE_NS, MINUTE_NS)
        ]
