"""The risk API without a matcher: who may read and change what, what a change sends, and bad
input refused with a code and a sentence, changing nothing and sending nothing."""

from collections.abc import Callable
from contextlib import AbstractContextManager
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from apps.accounts.models import TradingAccount, User
from apps.instruments.models import Instrument
from apps.matching.engine import (
    KillScope,
    KillSwitch,
    RiskLimit,
    RiskList,
    SetRiskLimit,
    SetRiskListEntry,
)
from apps.risk.models import (
    AccountRiskLimits,
    FirmRiskPolicy,
    InstrumentRiskLimits,
    PositionLimit,
    RestrictedInstrument,
    TraderRiskSettings,
)
from tests.risk.helpers import RISK, client_for, commands_sent, nothing_sent

pytestmark = pytest.mark.django_db

Capture = Callable[..., AbstractContextManager[list[Callable[[], Any]]]]


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Capture) -> Callable[[], Any]:
    """Run what a request registers for after commit, as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def accounts(trader: User, second_trader: User) -> dict[str, TradingAccount]:
    return {a.code: a for a in TradingAccount.objects.all()}


def no_risk_rows() -> bool:
    return not any(
        model.objects.exists()
        for model in (
            FirmRiskPolicy,
            AccountRiskLimits,
            InstrumentRiskLimits,
            PositionLimit,
            RestrictedInstrument,
        )
    )


WRITES: list[tuple[str, str, dict[str, Any]]] = [
    ("patch", "accounts/ACC-1/", {"max_order_lots": 10, "reason": "test"}),
    ("patch", "instruments/AAPL/", {"max_order_lots": 10, "reason": "test"}),
    (
        "put",
        "positions/",
        {"account": "ACC-1", "symbol": "AAPL", "max_long": 5, "max_short": 5, "reason": "t"},
    ),
    ("post", "restricted/", {"symbol": "AAPL", "reason": "test"}),
    ("patch", "firm/", {"throttle_messages": 10, "reason": "test"}),
    ("post", "kill-switches/", {"scope": "firm", "action": "engage", "reason": "test"}),
    ("post", "kill-switches/", {"scope": "firm", "action": "release", "reason": "test"}),
]
READS = ["accounts/", "accounts/ACC-1/", "instruments/", "instruments/AAPL/", "positions/"]
READS += ["restricted/", "firm/", "kill-switches/"]


@pytest.mark.usefixtures("instruments", "accounts")
class TestWhoMay:
    @pytest.mark.parametrize(("method", "path", "body"), WRITES)
    @pytest.mark.parametrize("persona", ["trader", "auditor", "outsider"])
    def test_only_risk_managers_and_admins_change_limits_and_pull_kill_switches(
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
            response = getattr(client, method)(RISK + path, body, format="json")
        assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
        assert response.json()["message"]
        assert no_risk_rows()
        assert nothing_sent()

    @pytest.mark.parametrize("path", READS)
    def test_risk_managers_and_auditors_read_the_limits(
        self, risk_manager: User, auditor: User, path: str
    ) -> None:
        assert client_for(risk_manager).get(RISK + path).status_code == 200
        assert client_for(auditor).get(RISK + path).status_code == 200

    @pytest.mark.parametrize("path", READS)
    def test_traders_and_outsiders_do_not_read_the_limits(
        self, trader: User, outsider: User, path: str
    ) -> None:
        for user in (trader, outsider):
            response = client_for(user).get(RISK + path)
            assert (response.status_code, response.json()["code"]) == (403, "permission_denied")

    def test_anonymous_callers_are_told_to_authenticate(self) -> None:
        response = client_for(None).patch(
            RISK + "accounts/ACC-1/", {"max_order_lots": 1, "reason": "x"}, format="json"
        )
        assert (response.status_code, response.json()["code"]) == (401, "not_authenticated")
        assert no_risk_rows()

    def test_an_admin_changes_limits(self, committed: Callable[[], Any]) -> None:
        from django.contrib.auth.models import Group

        admin_user = User.objects.create_user("ada")
        admin_user.groups.add(Group.objects.get(name="admin"))
        with committed():
            response = client_for(admin_user).patch(
                RISK + "firm/", {"throttle_messages": 50, "reason": "quiet day"}, format="json"
            )
        assert response.status_code == 200, response.json()
        assert FirmRiskPolicy.objects.get().throttle_messages == 50


@pytest.mark.usefixtures("instruments", "accounts")
class TestChanges:
    def test_an_account_change_saves_and_sends_one_command_per_changed_limit(
        self, risk_manager: User, committed: Callable[[], Any]
    ) -> None:
        with committed():
            response = client_for(risk_manager).patch(
                RISK + "accounts/ACC-1/",
                {
                    "max_order_lots": 500,
                    "credit_limit": "1000000.25",
                    "loss_kill": None,
                    "reason": "New desk limits",
                },
                format="json",
            )
        assert response.status_code == 200, response.json()
        body = response.json()
        assert body["changed"] == ["max_order_lots", "credit_limit"]
        # Inside the test's transaction nothing is sent before the response: no answers yet.
        assert body["events"] is None
        assert body["account"]["max_order_lots"] == 500
        assert body["account"]["credit_limit"] == "1000000.25"
        assert body["account"]["traders"] == ["alice"]
        assert commands_sent() == [
            SetRiskLimit(
                command_id=commands_sent()[0].command_id,
                ts_ns=0,
                user_id=risk_manager.pk,
                change_reason="New desk limits",
                limit=RiskLimit.MAX_ORDER_LOTS,
                value=500,
                account="ACC-1",
            ),
            SetRiskLimit(
                command_id=commands_sent()[1].command_id,
                ts_ns=0,
                user_id=risk_manager.pk,
                change_reason="New desk limits",
                limit=RiskLimit.CREDIT_LIMIT_MICROS,
                value=1_000_000_250_000,
                account="ACC-1",
            ),
        ]

    def test_a_limit_set_to_its_current_value_sends_nothing(
        self, risk_manager: User, committed: Callable[[], Any]
    ) -> None:
        client = client_for(risk_manager)
        body = {"max_order_notional": "5000", "reason": "cap"}
        client.patch(RISK + "accounts/ACC-1/", body, format="json")
        with committed():
            again = client.patch(RISK + "accounts/ACC-1/", body, format="json")
        assert (again.status_code, again.json()["changed"]) == (200, [])
        assert nothing_sent()

    def test_the_permitted_list_is_replaced_and_each_difference_sent(
        self, risk_manager: User, committed: Callable[[], Any]
    ) -> None:
        client = client_for(risk_manager)
        client.patch(
            RISK + "accounts/ACC-2/",
            {"permitted_instruments": ["AAPL"], "reason": "start"},
            format="json",
        )
        with committed():
            response = client.patch(
                RISK + "accounts/ACC-2/",
                {
                    "permitted_instruments_only": True,
                    "permitted_instruments": ["INTC"],
                    "reason": "INTC only",
                },
                format="json",
            )
        assert response.json()["account"]["permitted_instruments"] == ["INTC"]
        sent = [
            (c.limit, c.value) if isinstance(c, SetRiskLimit) else (c.symbol, c.member)
            for c in commands_sent()
            if isinstance(c, SetRiskLimit | SetRiskListEntry)
        ]
        assert sent == [
            (RiskLimit.PERMITTED_INSTRUMENTS_ONLY, 1),
            ("AAPL", False),
            ("INTC", True),
        ]

    def test_an_instrument_limit_names_the_symbol_only(
        self, risk_manager: User, committed: Callable[[], Any]
    ) -> None:
        with committed():
            response = client_for(risk_manager).patch(
                RISK + "instruments/INTC/",
                {"max_order_notional": "250000.50", "reason": "thin name"},
                format="json",
            )
        assert response.json()["instrument"] == {
            "symbol": "INTC",
            "max_order_lots": None,
            "max_order_notional": "250000.50",
        }
        (command,) = commands_sent()
        assert isinstance(command, SetRiskLimit)
        assert (command.limit, command.value, command.account, command.symbol) == (
            RiskLimit.MAX_ORDER_NOTIONAL_MICROS,
            250_000_500_000,
            "",
            "INTC",
        )

    def test_a_position_limit_is_set_and_removed(
        self, risk_manager: User, committed: Callable[[], Any]
    ) -> None:
        client = client_for(risk_manager)
        body = {"account": "ACC-1", "symbol": "AAPL", "max_long": 100, "max_short": None}
        created = client.post(RISK + "positions/", {**body, "reason": "cap"}, format="json")
        assert created.json()["position_limit"] == {
            "account": "ACC-1",
            "symbol": "AAPL",
            "max_long": 100,
            "max_short": None,
        }
        assert client.get(RISK + "positions/", {"account": "ACC-1"}).json() == [
            created.json()["position_limit"]
        ]
        with committed():
            removed = client.put(
                RISK + "positions/", {**body, "max_long": None, "reason": "lift"}, format="json"
            )
        assert removed.json()["position_limit"] is None
        assert not PositionLimit.objects.exists()
        (command,) = commands_sent()
        assert isinstance(command, SetRiskLimit)
        assert (command.limit, command.value, command.account, command.symbol) == (
            RiskLimit.MAX_LONG_LOTS,
            None,
            "ACC-1",
            "AAPL",
        )

    def test_an_instrument_is_restricted_for_the_firm_and_lifted(
        self, risk_manager: User, committed: Callable[[], Any]
    ) -> None:
        client = client_for(risk_manager)
        with committed():
            created = client.post(
                RISK + "restricted/", {"symbol": "INTC", "reason": "Pending news"}, format="json"
            )
        assert created.status_code == 201
        entry = created.json()["restricted"]
        assert (entry["symbol"], entry["account"], entry["created_by"]) == ("INTC", None, "rita")
        again = client.post(RISK + "restricted/", {"symbol": "INTC", "reason": "x"}, format="json")
        assert (again.status_code, again.json()["code"]) == (409, "already_restricted")
        with committed():
            lifted = client.delete(
                f"{RISK}restricted/{entry['id']}/", {"reason": "News out"}, format="json"
            )
        assert lifted.status_code == 200
        assert not RestrictedInstrument.objects.exists()
        assert [
            (c.risk_list, c.account, c.symbol, c.member, c.change_reason)
            for c in commands_sent()
            if isinstance(c, SetRiskListEntry)
        ] == [
            (RiskList.RESTRICTED, "", "INTC", True, "Pending news"),
            (RiskList.RESTRICTED, "", "INTC", False, "News out"),
        ]

    def test_an_instrument_is_restricted_for_one_account(self, risk_manager: User) -> None:
        client = client_for(risk_manager)
        body = {"symbol": "AAPL", "account": "ACC-2", "reason": "Insider list"}
        assert client.post(RISK + "restricted/", body, format="json").status_code == 201
        assert client.get(RISK + "accounts/ACC-2/").json()["restricted"] == ["AAPL"]
        # The firm-wide entry is another entry.
        firm = client.post(RISK + "restricted/", {**body, "account": None}, format="json")
        assert firm.status_code == 201

    def test_the_firm_policy_starts_at_the_defaults(self, risk_manager: User) -> None:
        assert client_for(risk_manager).get(RISK + "firm/").json() == {
            "collar_percent": "10.00",
            "collar_minimum": "0.50",
            "duplicate_window_ms": 1000,
            "throttle_window_ms": 3000,
            "throttle_messages": 500,
            "throttle_cancels": 1500,
            "authorised_users_only": True,
        }

    def test_a_firm_change_sends_engine_units(
        self, risk_manager: User, committed: Callable[[], Any]
    ) -> None:
        with committed():
            response = client_for(risk_manager).patch(
                RISK + "firm/",
                {
                    "collar_percent": "7.5",
                    "collar_minimum": "0.25",
                    "duplicate_window_ms": None,
                    "throttle_window_ms": 1000,
                    "authorised_users_only": False,
                    "reason": "Tighter collar",
                },
                format="json",
            )
        assert response.status_code == 200, response.json()
        assert [(c.limit, c.value) for c in commands_sent() if isinstance(c, SetRiskLimit)] == [
            (RiskLimit.COLLAR_BPS, 750),
            (RiskLimit.COLLAR_MIN_MICROS, 250_000),
            (RiskLimit.DUPLICATE_WINDOW_NS, None),
            (RiskLimit.THROTTLE_WINDOW_NS, 1_000_000_000),
            (RiskLimit.AUTHORISED_USERS_ONLY, None),
        ]

    def test_a_kill_switch_command_names_its_scope(
        self, risk_manager: User, trader: User, committed: Callable[[], Any]
    ) -> None:
        with committed():
            client_for(risk_manager).post(
                RISK + "kill-switches/",
                {
                    "scope": "trader",
                    "trader": "alice",
                    "action": "engage",
                    "allow_risk_reducing": True,
                    "reason": "Runaway algo",
                },
                format="json",
            )
        (command,) = commands_sent()
        assert command == KillSwitch(
            command_id=command.command_id,
            ts_ns=0,
            user_id=risk_manager.pk,
            change_reason="Runaway algo",
            scope=KillScope.TRADER,
            engage=True,
            trader_user_id=trader.pk,
            allow_risk_reducing=True,
        )

    def test_a_trader_sets_own_cancel_on_disconnect(self, trader: User) -> None:
        client = client_for(trader)
        assert client.get(RISK + "me/settings/").json() == {"cancel_on_disconnect": False}
        response = client.patch(
            RISK + "me/settings/", {"cancel_on_disconnect": True}, format="json"
        )
        assert response.json() == {"cancel_on_disconnect": True}
        assert TraderRiskSettings.objects.get(user=trader).cancel_on_disconnect
        assert client.get(RISK + "me/settings/").json() == {"cancel_on_disconnect": True}


BAD: list[tuple[str, str, dict[str, Any], int, str]] = [
    ("patch", "accounts/ACC-1/", {"max_order_lots": 5}, 400, "reason_required"),
    ("patch", "accounts/ACC-1/", {"max_order_lots": 5, "reason": "   "}, 400, "reason_required"),
    ("patch", "accounts/ACC-1/", {"max_order_lots": 5, "reason": "x" * 201}, 400, "invalid_reason"),
    ("patch", "accounts/ACC-1/", {"max_order_lots": 5, "reason": "a\nb"}, 400, "invalid_reason"),
    ("patch", "accounts/ACC-1/", {"max_order_lots": 0, "reason": "x"}, 400, "invalid_request"),
    ("patch", "accounts/ACC-1/", {"max_order_lots": -3, "reason": "x"}, 400, "invalid_request"),
    ("patch", "accounts/ACC-1/", {"max_order_lots": "ten", "reason": "x"}, 400, "invalid_request"),
    ("patch", "accounts/ACC-1/", {"max_order_lot": 5, "reason": "x"}, 400, "invalid_request"),
    ("patch", "accounts/ACC-1/", {"credit_limit": "1.001", "reason": "x"}, 400, "invalid_request"),
    ("patch", "accounts/ACC-1/", {"credit_limit": "1e20", "reason": "x"}, 400, "invalid_request"),
    ("patch", "accounts/ACC-1/", {"credit_limit": "-5", "reason": "x"}, 400, "invalid_request"),
    (
        "patch",
        "accounts/ACC-1/",
        {"loss_warning": "500", "loss_kill": "100", "reason": "x"},
        400,
        "invalid_limit",
    ),
    (
        "patch",
        "accounts/ACC-1/",
        {"permitted_instruments": ["AAPL", "NOPE"], "reason": "x"},
        400,
        "unknown_instrument",
    ),
    ("patch", "accounts/NOPE/", {"max_order_lots": 5, "reason": "x"}, 404, "unknown_account"),
    ("patch", "instruments/NOPE/", {"max_order_lots": 5, "reason": "x"}, 404, "unknown_instrument"),
    (
        "put",
        "positions/",
        {"account": "ACC-1", "symbol": "NOPE", "max_long": 1, "max_short": 1, "reason": "x"},
        400,
        "unknown_instrument",
    ),
    (
        "put",
        "positions/",
        {"account": "NOPE", "symbol": "AAPL", "max_long": 1, "max_short": 1, "reason": "x"},
        400,
        "unknown_account",
    ),
    (
        "put",
        "positions/",
        {"account": "ACC-1", "symbol": "AAPL", "max_long": 1, "reason": "x"},
        400,
        "invalid_request",
    ),
    ("post", "restricted/", {"symbol": "NOPE", "reason": "x"}, 400, "unknown_instrument"),
    ("post", "restricted/", {"symbol": "AAPL"}, 400, "reason_required"),
    ("delete", "restricted/9999/", {"reason": "x"}, 404, "not_restricted"),
    ("patch", "firm/", {"collar_percent": "150", "reason": "x"}, 400, "invalid_request"),
    ("patch", "firm/", {"throttle_messages": 0, "reason": "x"}, 400, "invalid_request"),
    ("post", "kill-switches/", {"scope": "firm", "action": "engage"}, 400, "reason_required"),
    (
        "post",
        "kill-switches/",
        {"scope": "galaxy", "action": "engage", "reason": "x"},
        400,
        "invalid_request",
    ),
    (
        "post",
        "kill-switches/",
        {"scope": "firm", "action": "toggle", "reason": "x"},
        400,
        "invalid_request",
    ),
    (
        "post",
        "kill-switches/",
        {"scope": "account", "action": "engage", "reason": "x"},
        400,
        "invalid_scope",
    ),
    (
        "post",
        "kill-switches/",
        {"scope": "firm", "account": "ACC-1", "action": "engage", "reason": "x"},
        400,
        "invalid_scope",
    ),
    (
        "post",
        "kill-switches/",
        {"scope": "trader", "trader": "nobody", "action": "engage", "reason": "x"},
        400,
        "unknown_trader",
    ),
    (
        "post",
        "kill-switches/",
        {"scope": "account", "account": "NOPE", "action": "release", "reason": "x"},
        400,
        "unknown_account",
    ),
]


@pytest.mark.usefixtures("instruments", "accounts")
@pytest.mark.parametrize(("method", "path", "body", "status", "code"), BAD)
def test_bad_input_gets_a_code_and_a_sentence_and_changes_nothing(
    risk_manager: User,
    committed: Callable[[], Any],
    method: str,
    path: str,
    body: dict[str, Any],
    status: int,
    code: str,
) -> None:
    with committed():
        response = getattr(client_for(risk_manager), method)(RISK + path, body, format="json")
    assert (response.status_code, response.json()["code"]) == (status, code), response.json()
    assert response.json()["message"].endswith(".")
    assert no_risk_rows()
    assert nothing_sent()


@pytest.mark.usefixtures("instruments", "accounts")
def test_malformed_json_is_refused(risk_manager: User) -> None:
    response = client_for(risk_manager).patch(
        RISK + "accounts/ACC-1/", "{nope", content_type="application/json"
    )
    assert (response.status_code, response.json()["code"]) == (400, "malformed_request")
    assert no_risk_rows()


@pytest.mark.usefixtures("instruments", "accounts")
def test_the_schema_documents_the_risk_api() -> None:
    schema = APIClient().get("/api/schema/")
    assert schema.status_code == 200
    for path in ("/api/v1/risk/accounts/{code}/", "/api/v1/risk/kill-switches/"):
        assert path.encode() in schema.content


@pytest.fixture
def admin_client(accounts: dict[str, TradingAccount]) -> Client:
    from django.contrib.auth.models import Group

    user = User.objects.create_user("ada", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="admin"))
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.usefixtures("instruments")
class TestAdmin:
    def test_an_admin_edit_requires_a_reason_and_goes_through_the_service(
        self, admin_client: Client, committed: Callable[[], Any]
    ) -> None:
        account = TradingAccount.objects.get(code="ACC-1")
        form = {
            "account": account.pk,
            "max_order_lots": "40",
            "permitted_instruments": [Instrument.objects.get(symbol="AAPL").pk],
        }
        url = "/admin/risk/accountrisklimits/add/"
        refused = admin_client.post(url, form)
        assert refused.status_code == 200  # the form again, with its error
        assert not AccountRiskLimits.objects.exists()
        with committed():
            saved = admin_client.post(url, {**form, "change_reason": "Onboarding"})
        assert saved.status_code == 302
        row = AccountRiskLimits.objects.get()
        assert row.max_order_lots == 40
        assert [i.symbol for i in row.permitted_instruments.all()] == ["AAPL"]
        assert [(type(c).__name__, c.change_reason) for c in commands_sent()] == [
            ("SetRiskLimit", "Onboarding"),
            ("SetRiskListEntry", "Onboarding"),
        ]

    def test_the_admin_pages_render(self, admin_client: Client) -> None:
        for model in (
            "firmriskpolicy",
            "accountrisklimits",
            "instrumentrisklimits",
            "positionlimit",
            "restrictedinstrument",
            "traderrisksettings",
        ):
            assert admin_client.get(f"/admin/risk/{model}/").status_code == 200
        for model in ("firmriskpolicy", "accountrisklimits", "positionlimit"):
            assert admin_client.get(f"/admin/risk/{model}/add/").status_code == 200

    def test_a_restriction_is_lifted_in_the_admin_with_a_reason(
        self, admin_client: Client, committed: Callable[[], Any]
    ) -> None:
        instrument = Instrument.objects.get(symbol="AAPL")
        with committed():
            admin_client.post(
                "/admin/risk/restrictedinstrument/add/",
                {"instrument": instrument.pk, "account": "", "change_reason": "Halted name"},
            )
        entry = RestrictedInstrument.objects.get()
        assert entry.reason == "Halted name"
        action = {"action": "lift", "_selected_action": [entry.pk]}
        asked = admin_client.post("/admin/risk/restrictedinstrument/", action)
        assert b"change_reason" in asked.content
        assert RestrictedInstrument.objects.exists()
        with committed():
            admin_client.post(
                "/admin/risk/restrictedinstrument/",
                {**action, "apply": "1", "change_reason": "Resumed"},
            )
        assert not RestrictedInstrument.objects.exists()
        assert [c.change_reason for c in commands_sent() if isinstance(c, SetRiskListEntry)] == [
            "Halted name",
            "Resumed",
        ]


def test_money_converts_to_micros_exactly() -> None:
    from apps.risk.limits import bps, micros, ns_from_ms

    assert micros(Decimal("0.01")) == 10_000
    assert micros(Decimal("999999999999.99")) == 999_999_999_999_990_000
    assert bps(Decimal("10.00")) == 1000
    assert ns_from_ms(3000) == 3_000_000_000
