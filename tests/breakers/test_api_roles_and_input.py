"""The breakers API without a matcher: who may read and change what, what a change sends, and
bad input refused with a code and a sentence, changing nothing and sending nothing."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from apps.accounts.models import User
from apps.audit.models import EventRecord
from apps.breakers.models import BreakerSettings
from apps.instruments.models import Instrument
from apps.matching.engine import (
    BreakerParameter,
    DefineInstrument,
    HaltInstrument,
    SetBreakerParameter,
    StartSession,
)
from apps.trading.errors import OrderRejected
from tests.breakers.conftest import FakeMatcher
from tests.breakers.helpers import BREAKERS, client_for, commands_sent, nothing_sent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("instruments")]

WRITES: list[tuple[str, str, dict[str, Any]]] = [
    ("patch", "settings/", {"pause_minutes": "1", "reason": "test"}),
    ("patch", "instruments/AAPL/", {"luld_tier": 2, "reason": "test"}),
    ("post", "halts/", {"symbol": "AAPL", "action": "halt", "reason": "test"}),
    ("post", "halts/", {"action": "halt", "reason": "test"}),
    ("post", "halts/", {"symbol": "AAPL", "action": "resume", "reason": "test"}),
]
READS = ["settings/", "instruments/", "instruments/AAPL/", "halts/"]


def unchanged() -> bool:
    aapl = Instrument.objects.get(symbol="AAPL")
    return not BreakerSettings.objects.exists() and aapl.luld_tier == 1


class TestWhoMay:
    @pytest.mark.parametrize(("method", "path", "body"), WRITES)
    @pytest.mark.parametrize("persona", ["trader", "auditor", "outsider"])
    def test_only_risk_managers_and_admins_change_breakers_and_halt(
        self,
        request: pytest.FixtureRequest,
        committed: Callable[[], Any],
        persona: str,
        method: str,
        path: str,
        body: dict[str, Any],
    ) -> None:
        client = client_for(request.getfixturevalue(persona))
        with committed():
            response = getattr(client, method)(BREAKERS + path, body, format="json")
        assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
        assert response.json()["message"]
        assert unchanged()
        assert nothing_sent()

    @pytest.mark.parametrize("path", READS)
    @pytest.mark.parametrize(
        "persona", ["trader", "second_trader", "risk_manager", "auditor", "admin_user"]
    )
    def test_every_signed_in_user_reads_settings_and_halts(
        self, request: pytest.FixtureRequest, persona: str, path: str
    ) -> None:
        response = client_for(request.getfixturevalue(persona)).get(BREAKERS + path)
        assert response.status_code == 200, response.json()

    @pytest.mark.parametrize(("method", "path", "body"), [*WRITES, ("get", "halts/", {})])
    def test_anonymous_callers_are_told_to_authenticate(
        self, method: str, path: str, body: dict[str, Any]
    ) -> None:
        response = getattr(client_for(None), method)(BREAKERS + path, body, format="json")
        assert (response.status_code, response.json()["code"]) == (401, "not_authenticated")
        assert unchanged()
        assert nothing_sent()

    def test_an_inactive_risk_manager_is_refused(
        self, risk_manager: User, committed: Callable[[], Any]
    ) -> None:
        risk_manager.is_active = False
        risk_manager.save()
        client = client_for(risk_manager)
        with committed():
            response = client.patch(
                BREAKERS + "settings/", {"pause_minutes": "1", "reason": "x"}, format="json"
            )
        assert response.status_code in (401, 403)
        assert nothing_sent()


class TestSettings:
    def test_the_defaults_are_the_rules_of_the_luld_plan_and_the_market_wide_breaker(
        self, trader: User
    ) -> None:
        body = client_for(trader).get(BREAKERS + "settings/").json()
        assert body["limit_state_seconds"] == "15"
        assert body["pause_minutes"] == "5"
        assert body["extension_minutes"] == "5"
        assert body["close_doubling_minutes"] == "25"
        assert [body[f"market_wide_level_{n}_percent"] for n in (1, 2, 3)] == [
            "7.00",
            "13.00",
            "20.00",
        ]
        assert body["market_wide_pause_minutes"] == "15"
        assert body["market_wide_cutoff_minutes"] == "35"
        assert (body["session_open"], body["session_close"]) == ("09:30", "16:00")
        assert body["session_timezone"] == "America/New_York"
        assert body["parameters"]["limit_state_ns"] == 15_000_000_000
        assert body["parameters"]["market_wide_level_1_bps"] == 700

    def test_a_change_sends_each_changed_parameter_in_engine_units_with_who_and_why(
        self, risk_manager: User, committed: Callable[[], Any]
    ) -> None:
        with committed():
            response = client_for(risk_manager).patch(
                BREAKERS + "settings/",
                {
                    "limit_state_seconds": "1.5",
                    "pause_minutes": "0.05",
                    "auction_collar_percent": "5.00",  # the default: not a change
                    "reason": "Drill: short pauses",
                },
                format="json",
            )
        assert response.status_code == 200, response.json()
        body = response.json()
        assert body["changed"] == ["limit_state_seconds", "pause_minutes"]
        assert body["settings"]["pause_minutes"] == "0.05"
        assert BreakerSettings.objects.get().limit_state_seconds == Decimal("1.5")
        sent = commands_sent()
        assert [(c.parameter, c.value) for c in sent if isinstance(c, SetBreakerParameter)] == [
            (BreakerParameter.LIMIT_STATE_NS, 1_500_000_000),
            (BreakerParameter.PAUSE_NS, 3_000_000_000),
        ]
        assert all(
            isinstance(c, SetBreakerParameter)
            and c.user_id == risk_manager.pk
            and c.change_reason == "Drill: short pauses"
            and c.symbol == ""
            for c in sent
        )

    def test_a_change_reaches_every_shard(
        self, admin_user: User, committed: Callable[[], Any]
    ) -> None:
        Instrument.objects.filter(symbol="INTC").update(shard=1)
        with committed():
            response = client_for(admin_user).patch(
                BREAKERS + "settings/", {"spike_multiple": 8, "reason": "calmer"}, format="json"
            )
        assert response.status_code == 200, response.json()
        for shard in (0, 1):
            (command,) = commands_sent(shard)
            assert isinstance(command, SetBreakerParameter)
            assert (command.parameter, command.value) == (BreakerParameter.SPIKE_MULTIPLE, 8)

    def test_new_session_times_are_journaled_and_sent_as_todays_session(
        self, risk_manager: User, committed: Callable[[], Any]
    ) -> None:
        with committed():
            response = client_for(risk_manager).patch(
                BREAKERS + "settings/",
                {"session_close": "13:00", "reason": "Early close: day after Thanksgiving"},
                format="json",
            )
        assert response.status_code == 200, response.json()
        assert response.json()["changed"] == ["session_close"]
        (command,) = commands_sent()
        assert isinstance(command, StartSession)
        assert command.close_ns - command.open_ns == 3 * 3600 * 10**9 + 30 * 60 * 10**9
        record = EventRecord.objects.get(kind="breakers.session_changed")
        assert record.actor_user_id == risk_manager.pk
        detail = record.payload["detail"]
        assert detail["change_reason"] == "Early close: day after Thanksgiving"
        assert (detail["old"]["session_close"], detail["new"]["session_close"]) == (
            "16:00:00",
            "13:00:00",
        )

    def test_nothing_changed_sends_nothing(
        self, risk_manager: User, committed: Callable[[], Any]
    ) -> None:
        with committed():
            response = client_for(risk_manager).patch(
                BREAKERS + "settings/", {"pause_minutes": "5", "reason": "same"}, format="json"
            )
        assert (response.status_code, response.json()["changed"]) == (200, [])
        assert nothing_sent()

    @pytest.mark.parametrize(
        ("body", "code"),
        [
            ({"pause_minutes": "1"}, "reason_required"),
            ({"pause_minutes": "1", "reason": "   "}, "reason_required"),
            ({"pause_minutes": "1", "reason": "x" * 201}, "invalid_reason"),
            ({"pause_minutes": "1", "reason": "two\nlines"}, "invalid_reason"),
            ({"pause_minute": "1", "reason": "typo"}, "invalid_request"),
            ({"pause_minutes": "0", "reason": "zero"}, "invalid_request"),
            ({"pause_minutes": "-1", "reason": "negative"}, "invalid_request"),
            ({"pause_minutes": "0.0001", "reason": "too fine"}, "invalid_request"),
            ({"pause_minutes": "abc", "reason": "text"}, "invalid_request"),
            ({"pause_minutes": None, "reason": "null"}, "invalid_request"),
            ({"pause_minutes": "1441", "reason": "over a day"}, "invalid_request"),
            ({"auction_collar_percent": "101", "reason": "over"}, "invalid_request"),
            ({"spike_multiple": 0, "reason": "zero"}, "invalid_request"),
            ({"spike_multiple": 1.5, "reason": "fraction"}, "invalid_request"),
            ({"market_wide_level_2_percent": "5.00", "reason": "below 1"}, "invalid_setting"),
            ({"market_wide_level_3_percent": "13.00", "reason": "equal"}, "invalid_setting"),
            ({"spike_lookback_minutes": "0.1", "reason": "short"}, "invalid_setting"),
            ({"session_close": "09:00", "reason": "before open"}, "invalid_setting"),
            ({"session_open": "25:00", "reason": "no such time"}, "invalid_request"),
            ({"session_timezone": "Mars/Olympus", "reason": "where"}, "invalid_setting"),
            ({"session_timezone": "", "reason": "blank"}, "invalid_request"),
        ],
    )
    def test_bad_settings_are_refused_and_nothing_is_sent(
        self,
        risk_manager: User,
        committed: Callable[[], Any],
        body: dict[str, Any],
        code: str,
    ) -> None:
        with committed():
            response = client_for(risk_manager).patch(BREAKERS + "settings/", body, format="json")
        assert (response.status_code, response.json()["code"]) == (400, code)
        assert response.json()["message"]
        assert not BreakerSettings.objects.exists()
        assert nothing_sent()

    @pytest.mark.parametrize("body", [[1, 2], "text", 5])
    def test_a_body_that_is_not_an_object_is_refused(
        self, risk_manager: User, committed: Callable[[], Any], body: Any
    ) -> None:
        with committed():
            response = client_for(risk_manager).patch(BREAKERS + "settings/", body, format="json")
        assert response.status_code == 400
        assert response.json()["code"] in ("malformed_request", "invalid_request")
        assert nothing_sent()

    def test_malformed_json_is_refused(self, risk_manager: User) -> None:
        response = client_for(risk_manager).generic(
            "PATCH", BREAKERS + "settings/", "{not json", content_type="application/json"
        )
        assert (response.status_code, response.json()["code"]) == (400, "malformed_request")
        assert nothing_sent()

    @pytest.mark.django_db(transaction=True)
    def test_a_lost_queue_says_the_change_is_saved_and_will_be_taken_at_start(
        self, risk_manager: User, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def down(*args: object, **kwargs: object) -> None:
            raise OrderRejected("matcher_unavailable", "down", 503)

        monkeypatch.setattr("apps.trading.control.command_send", down)
        # Outside any test transaction, as a request runs: the change commits, then is sent.
        response = client_for(risk_manager).patch(
            BREAKERS + "settings/", {"pause_minutes": "2", "reason": "x"}, format="json"
        )
        assert (response.status_code, response.json()["code"]) == (503, "matcher_unavailable")
        assert "saved" in response.json()["message"]
        assert BreakerSettings.objects.get().pause_minutes == Decimal(2)


class TestInstruments:
    def test_an_instruments_breaker_settings_are_shown(self, trader: User) -> None:
        body = client_for(trader).get(BREAKERS + "instruments/AAPL/").json()
        assert body == {
            "symbol": "AAPL",
            "luld_tier": 1,
            "halted_accepts_orders": True,
            "index_weight": 0,
            "previous_close": None,
            "spike_pauses": False,
            "shard": 0,
        }
        listed = client_for(trader).get(BREAKERS + "instruments/").json()
        assert [i["symbol"] for i in listed] == ["AAPL", "INTC"]

    def test_a_change_is_saved_journaled_and_its_definition_sent(
        self, risk_manager: User, committed: Callable[[], Any]
    ) -> None:
        with committed():
            response = client_for(risk_manager).patch(
                BREAKERS + "instruments/AAPL/",
                {
                    "luld_tier": 2,
                    "halted_accepts_orders": False,
                    "index_weight": 3,
                    "previous_close": "230.10",
                    "spike_pauses": True,
                    "reason": "Index review",
                },
                format="json",
            )
        assert response.status_code == 200, response.json()
        body = response.json()
        assert body["instrument"]["previous_close"] == "230.10"
        assert set(body["changed"]) == {
            "luld_tier",
            "halted_accepts_orders",
            "index_weight",
            "previous_close",
            "spike_pauses",
        }
        (command,) = commands_sent()
        assert isinstance(command, DefineInstrument)
        assert (
            command.symbol,
            command.luld_tier,
            command.halted_accepts_orders,
            command.index_weight,
            command.previous_close_ticks,
            command.spike_pauses,
        ) == ("AAPL", 2, False, 3, 23010, True)
        record = EventRecord.objects.get(kind="breakers.instrument_changed")
        assert (record.actor_user_id, record.symbol) == (risk_manager.pk, "AAPL")
        assert record.payload["detail"]["change_reason"] == "Index review"
        assert record.payload["detail"]["changes"]["luld_tier"] == [1, 2]
        assert record.payload["detail"]["changes"]["previous_close"] == [None, "230.10"]

    def test_an_unknown_instrument_is_not_found(self, risk_manager: User) -> None:
        for method in ("get", "patch"):
            response = getattr(client_for(risk_manager), method)(
                BREAKERS + "instruments/NOPE/", {"luld_tier": 2, "reason": "x"}, format="json"
            )
            assert (response.status_code, response.json()["code"]) == (404, "unknown_instrument")
        assert nothing_sent()

    @pytest.mark.parametrize(
        ("body", "code"),
        [
            ({"luld_tier": 2}, "reason_required"),
            ({"luld_tier": 3, "reason": "x"}, "invalid_request"),
            ({"luld_tier": 0, "reason": "x"}, "invalid_request"),
            ({"index_weight": -1, "reason": "x"}, "invalid_request"),
            ({"previous_close": "0", "reason": "x"}, "invalid_request"),
            ({"previous_close": "230.105", "reason": "off tick"}, "invalid_setting"),
            ({"previous_close": "1e400", "reason": "huge"}, "invalid_request"),
            ({"halted_accepts_orders": "perhaps", "reason": "x"}, "invalid_request"),
            ({"tick_size": "0.05", "reason": "not a breaker"}, "invalid_request"),
        ],
    )
    def test_bad_instrument_settings_are_refused_and_nothing_is_sent(
        self,
        risk_manager: User,
        committed: Callable[[], Any],
        body: dict[str, Any],
        code: str,
    ) -> None:
        with committed():
            response = client_for(risk_manager).patch(
                BREAKERS + "instruments/AAPL/", body, format="json"
            )
        assert (response.status_code, response.json()["code"]) == (400, code)
        assert unchanged()
        assert not EventRecord.objects.filter(kind="breakers.instrument_changed").exists()
        assert nothing_sent()


class TestHaltRequests:
    def test_a_risk_manager_halts_an_instrument_with_a_reason(
        self, risk_manager: User, fake_matcher: FakeMatcher
    ) -> None:
        response = client_for(risk_manager).post(
            BREAKERS + "halts/",
            {"symbol": "AAPL", "action": "halt", "reason": "News pending"},
            format="json",
        )
        assert response.status_code == 200, response.json()
        assert response.json()["message"] == "Halted AAPL."
        assert response.json()["instruments"] == 1
        (command,) = commands_sent()
        assert isinstance(command, HaltInstrument)
        assert (command.halt, command.symbol, command.user_id, command.change_reason) == (
            True,
            "AAPL",
            risk_manager.pk,
            "News pending",
        )
        assert fake_matcher.awaited == [command.command_id]

    def test_halting_everything_reaches_every_shard_and_waits_for_each(
        self, admin_user: User, fake_matcher: FakeMatcher
    ) -> None:
        Instrument.objects.filter(symbol="INTC").update(shard=1)
        response = client_for(admin_user).post(
            BREAKERS + "halts/", {"action": "halt", "reason": "Exchange outage"}, format="json"
        )
        assert response.status_code == 200, response.json()
        assert response.json()["message"] == "Halted 2 instruments."
        halts = [commands_sent(0)[0], commands_sent(1)[0]]
        assert all(isinstance(c, HaltInstrument) and c.symbol == "" for c in halts)
        assert len(fake_matcher.awaited) == 2

    def test_resuming_says_the_instrument_reopens_by_auction(
        self, risk_manager: User, fake_matcher: FakeMatcher
    ) -> None:
        response = client_for(risk_manager).post(
            BREAKERS + "halts/",
            {"symbol": "AAPL", "action": "resume", "reason": "News out"},
            format="json",
        )
        assert response.json()["message"] == "Resumed AAPL: it reopens with an auction."
        (command,) = commands_sent()
        assert isinstance(command, HaltInstrument)
        assert not command.halt

    def test_resuming_what_is_not_halted_says_so(
        self, risk_manager: User, fake_matcher: FakeMatcher
    ) -> None:
        fake_matcher.instruments = 0
        response = client_for(risk_manager).post(
            BREAKERS + "halts/",
            {"symbol": "AAPL", "action": "resume", "reason": "x"},
            format="json",
        )
        assert response.json()["message"] == "Nothing to resume: AAPL is not halted."

    def test_a_matcher_refusal_is_passed_on(
        self, risk_manager: User, fake_matcher: FakeMatcher
    ) -> None:
        fake_matcher.reply = {"status": 400, "code": "invalid_control", "message": "No."}
        response = client_for(risk_manager).post(
            BREAKERS + "halts/", {"symbol": "AAPL", "action": "halt", "reason": "x"}, format="json"
        )
        assert (response.status_code, response.json()) == (
            400,
            {"code": "invalid_control", "message": "No."},
        )

    def test_a_matcher_that_does_not_answer_is_a_timeout_not_an_error(
        self, risk_manager: User, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def silent(command_id: str) -> dict[str, Any]:
            raise OrderRejected("matcher_timeout", "late", 504)

        monkeypatch.setattr("apps.trading.control.reply_wait", silent)
        response = client_for(risk_manager).post(
            BREAKERS + "halts/", {"symbol": "AAPL", "action": "halt", "reason": "x"}, format="json"
        )
        assert (response.status_code, response.json()["code"]) == (504, "matcher_timeout")
        assert "halts page" in response.json()["message"]

    def test_a_lost_queue_is_unavailable(
        self, risk_manager: User, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def down(*args: object, **kwargs: object) -> None:
            raise OrderRejected("matcher_unavailable", "down", 503)

        monkeypatch.setattr("apps.trading.control.command_send", down)
        response = client_for(risk_manager).post(
            BREAKERS + "halts/", {"symbol": "AAPL", "action": "halt", "reason": "x"}, format="json"
        )
        assert (response.status_code, response.json()["code"]) == (503, "matcher_unavailable")

    @pytest.mark.parametrize(
        ("body", "code"),
        [
            ({"symbol": "AAPL", "action": "halt"}, "reason_required"),
            ({"symbol": "AAPL", "action": "halt", "reason": ""}, "reason_required"),
            ({"symbol": "AAPL", "action": "halt", "reason": "a\tb"}, "invalid_reason"),
            ({"symbol": "AAPL", "action": "halt", "reason": "\x00"}, "invalid_request"),
            ({"symbol": "AAPL", "reason": "x"}, "invalid_request"),
            ({"symbol": "AAPL", "action": "pause", "reason": "x"}, "invalid_request"),
            ({"symbol": "NOPE", "action": "halt", "reason": "x"}, "unknown_instrument"),
            ({"symbol": "A" * 17, "action": "halt", "reason": "x"}, "invalid_request"),
            ({"symbol": ["AAPL"], "action": "halt", "reason": "x"}, "invalid_request"),
            ({"symbol": "AAPL", "action": "halt", "reason": "x", "at": 1}, "invalid_request"),
        ],
    )
    def test_bad_halt_requests_are_refused_and_nothing_is_sent(
        self,
        risk_manager: User,
        fake_matcher: FakeMatcher,
        body: dict[str, Any],
        code: str,
    ) -> None:
        response = client_for(risk_manager).post(BREAKERS + "halts/", body, format="json")
        assert (response.status_code, response.json()["code"]) == (400, code)
        assert nothing_sent()
        assert fake_matcher.awaited == []

    def test_a_delisted_instrument_cannot_be_halted(
        self, risk_manager: User, fake_matcher: FakeMatcher
    ) -> None:
        Instrument.objects.filter(symbol="AAPL").update(is_active=False)
        response = client_for(risk_manager).post(
            BREAKERS + "halts/", {"symbol": "AAPL", "action": "halt", "reason": "x"}, format="json"
        )
        assert (response.status_code, response.json()["code"]) == (400, "unknown_instrument")
        assert nothing_sent()

    @pytest.mark.parametrize("limit", ["0", "501", "x", "-3"])
    def test_a_bad_listing_limit_is_refused(self, trader: User, limit: str) -> None:
        response = client_for(trader).get(BREAKERS + "halts/", {"limit": limit})
        assert (response.status_code, response.json()["code"]) == (400, "invalid_request")
