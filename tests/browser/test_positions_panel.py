"""Both sides of a trade see their new position on the desk, without reloading."""

import pytest
from playwright.sync_api import Browser, expect

from apps.accounts.models import User
from tests.browser.conftest import LiveDesk, log_in, place

pytestmark = pytest.mark.browser


def test_a_trade_shows_in_both_traders_positions(
    live_desk: LiveDesk, browser: Browser, trader: User, second_trader: User
) -> None:
    seller = log_in(browser, live_desk, "alice", "pw-alice")
    buyer = log_in(browser, live_desk, "bob", "pw-bob")
    for page in (seller, buyer):
        page.select_option("#symbol-select", "AAPL")
        expect(page.locator("#positions tr.position")).to_have_count(0)

    place(seller, "sell", "232.50", 100)
    expect(seller.locator("#orders tr.order")).to_have_count(1)
    place(buyer, "buy", "232.50", 100)

    for page, account, quantity in ((seller, "ACC-1", "-100"), (buyer, "ACC-2", "100")):
        row = page.locator(f'#positions tr.position[data-account="{account}"][data-symbol="AAPL"]')
        expect(row).to_have_count(1)
        expect(row.locator("td.qty")).to_have_text(quantity)
        expect(row.locator("td.avg")).to_have_text("232.50")
        expect(row.locator("td.realised")).to_have_text("0.00")
        expect(row.locator("td.last")).to_have_text("232.50")
        expect(row.locator("td.account")).to_be_hidden()
        expect(page.locator("#positions tr.position")).to_have_count(1)
