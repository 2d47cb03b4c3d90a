"""An auditor reads the trail of real orders: rows the running matcher journaled, found by order
id, with the order's full life one click away, an export of the search and the chain verified."""

import json
import re
import urllib.request
from typing import Any

import pytest
from playwright.sync_api import Browser, expect
from rest_framework.authtoken.models import Token

from apps.accounts.models import User
from tests.browser.conftest import ROOT, LiveDesk, log_in
from tests.test_audit_api import ShardLog

pytestmark = pytest.mark.browser


def place_order(desk: LiveDesk, user: User, **fields: Any) -> dict[str, Any]:
    """An order through the desk's REST door, as a script with a token sends it; the answer
    comes back once the matcher has journaled the outcome."""
    token, _ = Token.objects.get_or_create(user=user)
    body = {"symbol": "AAPL", "type": "limit", "time_in_force": "GTC", **fields}
    request = urllib.request.Request(  # noqa: S310 - the live desk on 127.0.0.1
        f"{desk.url}/api/v1/orders/",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Token {token.key}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        assert response.status == 201
        order: dict[str, Any] = json.loads(response.read())
    return order


def test_an_auditor_finds_an_order_and_opens_its_life(
    live_desk: LiveDesk, browser: Browser, trader: User, second_trader: User, auditor: User
) -> None:
    assert (ROOT / "static" / "desk" / "audit.js").exists(), "build the front end first"
    resting = place_order(
        live_desk, trader, side="sell", price="232.50", quantity=100, client_order_id="s-1"
    )
    taking = place_order(
        live_desk, second_trader, side="buy", price="232.50", quantity=100, client_order_id="b-1"
    )
    assert taking["status"] == "filled"
    maker_id = resting["order_id"]

    page = log_in(browser, live_desk, "audrey", "pw-audrey")
    page.click("#nav-audit")
    # The page writes its search into the URL (?order=desc) as soon as it starts.
    page.wait_for_url(re.compile(rf"^{re.escape(live_desk.url)}/audit/"))
    rows = page.locator("#audit-rows tbody tr.event")
    expect(rows.first).to_be_visible()
    expect(page.locator('#audit-rows tr.event[data-kind="trade"]')).to_have_count(1)

    page.fill("#f-order-id", str(maker_id))
    page.click("#audit-search")
    # The maker's own rows: its acceptance (the trade names it as maker, in its payload).
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-kind", "order_accepted")
    expect(rows.first.locator("td.coid")).to_have_text("s-1")
    expect(page.locator("#audit-status")).to_contain_text("rows 1\N{EN DASH}1")
    expect(page.locator("#audit-export")).to_have_attribute(
        "href", f"/api/v1/audit/events/export.csv?order_id={maker_id}&order=desc"
    )

    rows.first.locator(f'button.order-link[data-order-id="{maker_id}"]').click()
    life = page.locator("#audit-life")
    expect(life).to_be_visible()
    expect(page.locator("#life-title")).to_have_text(f"Order {maker_id}")
    expect(life.locator("tr.life-event")).to_have_count(2)
    expect(life.locator('tr.life-event[data-kind="trade"] td.detail')).to_contain_text(
        f"maker {maker_id}"
    )
    # The two orders whose commands made that life: the maker's and the taker's.
    expect(life.locator("tr.life-command")).to_have_count(2)
    expect(life.locator("tr.life-command td.actor")).to_have_text(["alice", "bob"])

    page.click("#audit-verify")
    expect(page.locator("#audit-verify-result")).to_contain_text("Intact: shard 0 up to seq")


def test_a_trader_is_refused_the_audit_page(
    live_desk: LiveDesk, browser: Browser, trader: User
) -> None:
    page = log_in(browser, live_desk, "alice", "pw-alice")
    expect(page.locator("#nav-audit")).to_have_count(0)
    response = page.goto(f"{live_desk.url}/audit/")
    assert response is not None
    assert response.status == 403


def test_an_auditor_pages_forward_and_back_through_a_search(
    live_desk: LiveDesk, browser: Browser, trader: User, auditor: User
) -> None:
    # An instrument and 45 orders on a shard of their own: 137 rows, pages of 100 and 37.
    log = ShardLog(3)
    log.define("ZZZ")
    for n in range(45):
        log.order(trader, "ACC-1", "ZZZ", "buy", 1000 + n, 1, f"z-{n}")

    page = log_in(browser, live_desk, "audrey", "pw-audrey")
    page.goto(f"{live_desk.url}/audit/?symbol=ZZZ&order=asc")
    rows = page.locator("#audit-rows tbody tr.event")
    expect(rows).to_have_count(100)
    expect(page.locator("#audit-page")).to_have_text("page 1")
    expect(page.locator("#audit-back")).to_be_disabled()
    first_page = rows.locator("td.pos").all_text_contents()
    assert first_page[0] == "3:1"

    page.click("#audit-next")
    expect(page.locator("#audit-page")).to_have_text("page 2")
    expect(rows).to_have_count(37)
    expect(page.locator("#audit-next")).to_be_disabled()
    second_page = rows.locator("td.pos").all_text_contents()
    assert first_page + second_page == [f"3:{seq}" for seq in range(1, 138)]

    page.click("#audit-back")
    expect(page.locator("#audit-page")).to_have_text("page 1")
    expect(rows).to_have_count(100)
    assert rows.locator("td.pos").all_text_contents() == first_page


def test_a_bad_filter_is_explained_on_the_page(
    live_desk: LiveDesk, browser: Browser, auditor: User
) -> None:
    page = log_in(browser, live_desk, "audrey", "pw-audrey")
    page.goto(f"{live_desk.url}/audit/")
    page.fill("#f-from", "yesterday")
    page.click("#audit-search")
    expect(page.locator("#audit-banner")).to_contain_text("'from' must be an ISO 8601 time")
