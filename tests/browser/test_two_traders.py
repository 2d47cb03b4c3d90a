"""Two traders in two browsers trade with each other, live, without reloading."""

import pytest
from playwright.sync_api import Browser, expect

from apps.accounts.models import User
from tests.browser.conftest import LiveDesk, log_in, place

pytestmark = pytest.mark.browser


def test_two_traders_see_each_others_orders_and_their_trade_live(
    live_desk: LiveDesk, browser: Browser, trader: User, second_trader: User
) -> None:
    seller = log_in(browser, live_desk, "alice", "pw-alice")
    buyer = log_in(browser, live_desk, "bob", "pw-bob")
    for page in (seller, buyer):
        page.select_option("#symbol-select", "AAPL")

    place(seller, "sell", "232.50", 100)
    expect(seller.locator("#orders tr.order")).to_have_count(1)
    resting_ask = buyer.locator('#book-asks tr.level[data-price="232.50"]')
    expect(resting_ask.locator("td.qty")).to_have_text("100")

    place(buyer, "buy", "232.50", 100)
    for page in (seller, buyer):
        trade = page.locator("#trades tr.trade")
        expect(trade).to_have_count(1)
        expect(trade.locator("td.price")).to_have_text("232.50")
        expect(trade.locator("td.qty")).to_have_text("100")
        expect(page.locator('#book-asks tr.level[data-price="232.50"]')).to_have_count(0)
        expect(page.locator("#fills tr.fill")).to_have_count(1)
    expect(seller.locator("#orders tr.order")).to_have_count(0)


def test_a_rejected_order_shows_the_reason_in_the_ticket(
    live_desk: LiveDesk, browser: Browser, trader: User
) -> None:
    page = log_in(browser, live_desk, "alice", "pw-alice")
    place(page, "buy", "232.505", 10)
    expect(page.locator("#ticket-status")).to_contain_text("not a multiple of AAPL's tick 0.01")
    expect(page.locator("#orders tr.order")).to_have_count(0)
