"""The REST API: each role can do what it should and nothing else; bad input changes nothing."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.instruments.models import Instrument
from apps.matching import keys
from apps.matching.redis import redis_client
from apps.matching.worker import Matcher
from apps.trading.models import Order

ORDERS = "/api/v1/orders/"


def client_for(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def order_body(**changes: Any) -> dict[str, Any]:
    return {
        "symbol": "AAPL",
        "side": "buy",
        "type": "limit",
        "price": "232.40",
        "quantity": 100,
        "time_in_force": "GTC",
        "client_order_id": "api-1",
        **changes,
    }


def assert_nothing_changed() -> None:
    assert redis_client().xlen(keys.command_stream(0)) == 0
    assert not Order.objects.exists()


@pytest.mark.django_db(transaction=True)
class TestWithMatcher:
    def test_a_trader_submits_an_order_and_sees_it_open(
        self, running_matcher: Matcher, trader: User
    ) -> None:
        client = client_for(trader)
        response = client.post(ORDERS, order_body(), format="json")
        assert response.status_code == 201, response.json()
        created = response.json()
        assert (created["status"], created["price"], created["account"]) == (
            "new",
            "232.40",
            "ACC-1",
        )
        listed = client.get(ORDERS, {"status": "open"}).json()
        assert [o["order_id"] for o in listed] == [created["order_id"]]

    def test_the_book_endpoint_shows_the_published_levels(
        self, running_matcher: Matcher, trader: User
    ) -> None:
        client = client_for(trader)
        client.post(ORDERS, order_body(side="sell", price="232.60", quantity=7), format="json")
        client.post(
            ORDERS, order_body(price="232.40", quantity=3, client_order_id="api-2"), format="json"
        )
        book = client.get("/api/v1/instruments/AAPL/book/").json()
        assert book == {
            "symbol": "AAPL",
            "seq": 2,
            "bids": [["232.40", 3, 1]],
            "asks": [["232.60", 7, 1]],
        }

    def test_a_trader_cancels_an_own_order(self, running_matcher: Matcher, trader: User) -> None:
        client = client_for(trader)
        order_id = client.post(ORDERS, order_body(), format="json").json()["order_id"]
        response = client.delete(f"{ORDERS}{order_id}/")
        assert response.status_code == 200
        assert response.json()["status"] == "cancelled"
        again = client.delete(f"{ORDERS}{order_id}/")
        assert (again.status_code, again.json()["code"]) == (409, "order_not_open")

    def test_a_trader_cannot_cancel_another_traders_order(
        self, running_matcher: Matcher, trader: User, second_trader: User
    ) -> None:
        order_id = client_for(trader).post(ORDERS, order_body(), format="json").json()["order_id"]
        response = client_for(second_trader).delete(f"{ORDERS}{order_id}/")
        assert (response.status_code, response.json()["code"]) == (404, "order_not_found")
        assert Order.objects.get(order_id=order_id).status == "new"

    def test_a_trader_sees_only_own_orders(
        self, running_matcher: Matcher, trader: User, second_trader: User
    ) -> None:
        client_for(trader).post(ORDERS, order_body(), format="json")
        assert client_for(second_trader).get(ORDERS).json() == []

    def test_a_fill_or_kill_that_cannot_fill_is_refused_with_the_matchers_reason(
        self, running_matcher: Matcher, trader: User
    ) -> None:
        response = client_for(trader).post(ORDERS, order_body(time_in_force="FOK"), format="json")
        assert (response.status_code, response.json()["code"]) == (409, "fok_not_fillable")
        assert not Order.objects.exists()

    def test_readyz_is_ready_with_a_beating_matcher(self, running_matcher: Matcher) -> None:
        response = APIClient().get("/readyz")
        assert (response.status_code, response.json()) == (200, {"status": "ready"})


@pytest.mark.django_db
class TestRolesAndBadInput:
    @pytest.mark.parametrize("persona", ["auditor", "risk_manager", "outsider"])
    def test_only_traders_can_submit_orders(
        self, request: pytest.FixtureRequest, persona: str, instruments: dict[str, Instrument]
    ) -> None:
        user = request.getfixturevalue(persona)
        response = client_for(user).post(ORDERS, order_body(), format="json")
        assert response.status_code == 403
        assert response.json()["code"] in ("permission_denied", "account_not_permitted")
        assert_nothing_changed()

    def test_a_trader_cannot_trade_another_traders_account(
        self, trader: User, second_trader: User, instruments: dict[str, Instrument]
    ) -> None:
        response = client_for(trader).post(ORDERS, order_body(account="ACC-2"), format="json")
        assert (response.status_code, response.json()["code"]) == (403, "account_not_permitted")
        assert_nothing_changed()

    def test_anonymous_callers_are_told_to_authenticate(
        self, instruments: dict[str, Instrument]
    ) -> None:
        response = client_for(None).post(ORDERS, order_body(), format="json")
        assert (response.status_code, response.json()["code"]) == (401, "not_authenticated")
        assert response.json()["message"]
        assert_nothing_changed()

    @pytest.mark.parametrize(
        ("body", "code"),
        [
            (order_body(symbol="NOPE"), "unknown_instrument"),
            (order_body(quantity=-5), "invalid_request"),
            (order_body(quantity=0), "invalid_request"),
            (order_body(quantity="lots"), "invalid_request"),
            (order_body(price="232.405"), "price_off_tick"),
            (order_body(price="-3"), "invalid_request"),
            (order_body(side="hold"), "invalid_request"),
            ({k: v for k, v in order_body().items() if k != "client_order_id"}, "invalid_request"),
        ],
    )
    def test_bad_orders_get_a_reason_and_change_nothing(
        self, trader: User, instruments: dict[str, Instrument], body: dict[str, Any], code: str
    ) -> None:
        response = client_for(trader).post(ORDERS, body, format="json")
        assert response.status_code == 400
        payload = response.json()
        assert payload["code"] == code
        assert payload["message"].endswith(".")
        assert_nothing_changed()

    def test_malformed_json_gets_a_reason(self, trader: User) -> None:
        response = client_for(trader).post(ORDERS, "{nope", content_type="application/json")
        assert (response.status_code, response.json()["code"]) == (400, "malformed_request")
        assert_nothing_changed()

    def test_cancelling_an_unknown_order_is_not_found(self, trader: User) -> None:
        response = client_for(trader).delete(f"{ORDERS}98765/")
        assert (response.status_code, response.json()["code"]) == (404, "order_not_found")

    def test_an_unknown_status_filter_is_refused(self, trader: User) -> None:
        response = client_for(trader).get(ORDERS, {"status": "sideways"})
        assert (response.status_code, response.json()["code"]) == (400, "invalid_filter")

    def test_a_token_is_issued_for_good_credentials_and_works(self, trader: User) -> None:
        response = APIClient().post(
            "/api/v1/auth/token/", {"username": "alice", "password": "pw-alice"}, format="json"
        )
        assert response.status_code == 200
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
        me = client.get("/api/v1/me/").json()
        assert me == {"username": "alice", "roles": ["trader"], "accounts": ["ACC-1"]}

    def test_bad_credentials_get_no_token(self, trader: User) -> None:
        response = APIClient().post(
            "/api/v1/auth/token/", {"username": "alice", "password": "wrong"}, format="json"
        )
        assert (response.status_code, response.json()["code"]) == (400, "invalid_request")

    def test_instruments_are_listed_with_decimal_prices(
        self, auditor: User, instruments: dict[str, Instrument]
    ) -> None:
        listed = client_for(auditor).get("/api/v1/instruments/").json()
        assert listed[0] == {
            "symbol": "AAPL",
            "name": "AAPL",
            "tick_size": "0.01",
            "lot_size": 1,
            "reference_price": "232.50",
            "luld_tier": 1,
        }

    def test_an_unknown_instruments_book_is_not_found(self, trader: User) -> None:
        response = client_for(trader).get("/api/v1/instruments/NOPE/book/")
        assert (response.status_code, response.json()["code"]) == (404, "not_found")

    def test_the_schema_and_docs_are_served(self) -> None:
        client = APIClient()
        schema = client.get("/api/schema/")
        assert schema.status_code == 200
        assert b"/api/v1/orders/" in schema.content
        assert client.get("/api/docs/").status_code == 200

    def test_healthz_says_alive(self) -> None:
        assert APIClient().get("/healthz").json() == {"status": "ok"}

    def test_readyz_names_a_missing_matcher(self) -> None:
        response = APIClient().get("/readyz")
        assert response.status_code == 503
        assert response.json()["problems"] == {
            "matcher.0": "no heartbeat: the matcher is not running"
        }

    def test_the_desk_page_requires_login(self, trader: User) -> None:
        client = APIClient()
        assert client.get("/").status_code == 302
        client.force_login(trader)
        page = client.get("/")
        assert page.status_code == 200
        assert b"desk/desk.js" in page.content
