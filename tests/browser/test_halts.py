"""Halts on live desks: a price run into the LULD band pauses the instrument and every desk
shows why, until when, what is allowed and the reopening auction's indicative price; when the
pause ends the auction reopens trading, the banners go and the tape shows the auction's trade.
A risk manager halts and resumes by hand from the halts page, with a reason."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from apps.accounts.models import User
from apps.breakers.services import breaker_settings_update
from apps.instruments.models import Instrument
from apps.matching.engine.breakers import luld_band
from tests.browser.conftest import LiveDesk, log_in, place

pytestmark = pytest.mark.browser

# Generous: a pause needs the matcher's clock tick, a publish and a browser repaint.
LIVE_MS = 15_000
HALTED = re.compile(r"\bhalted\b")


def banner(page: Page, symbol: str = "AAPL") -> Locator:
    return page.locator(f'#halt-banners .halt-banner[data-symbol="{symbol}"]')


def open_halts_page(browser: Browser, desk: LiveDesk, username: str) -> Page:
    page = log_in(browser, desk, username, f"pw-{username}")
    page.goto(f"{desk.url}/halts/")
    expect(page.locator("#conn")).to_have_text("live")
    return page


def test_a_price_run_pauses_trading_on_every_desk_and_the_auction_reopens_it(
    live_desk: LiveDesk,
    browser: Browser,
    trader: User,
    second_trader: User,
    risk_manager: User,
) -> None:
    # Breakers that act within the test: 1 s of limit state, then a 6 s pause.
    breaker_settings_update(
        risk_manager,
        {"limit_state_seconds": Decimal(1), "pause_minutes": Decimal("0.1")},
        "Browser test: fast breakers",
    )
    aapl = Instrument.objects.get(symbol="AAPL")
    reference = int(aapl.reference_price / aapl.tick_size)
    band = luld_band(reference, int(aapl.tick_size * 1_000_000), aapl.luld_tier, False)
    upper = str(aapl.ticks_to_price(band.upper_ticks))

    buyer = log_in(browser, live_desk, "bob", "pw-bob")
    seller = log_in(browser, live_desk, "alice", "pw-alice")
    desks = (buyer, seller)
    for page in desks:
        page.select_option("#symbol-select", "AAPL")
    watcher = open_halts_page(browser, live_desk, "rita")

    # The buyer chases the price up to the upper band: limit state, and after 1 s a pause.
    place(buyer, "buy", "238.00", 100)
    place(buyer, "buy", upper, 100)
    for page in desks:
        expect(banner(page)).to_be_visible(timeout=LIVE_MS)
        expect(banner(page).locator(".halt-title")).to_contain_text("AAPL trading paused")
        expect(banner(page).locator(".halt-times")).to_contain_text("until")
        expect(banner(page).locator(".halt-allowed")).to_contain_text("Cancels are accepted")
        expect(page.locator("#book")).to_have_class(HALTED)
    expect(watcher.locator('#current-halts tr.halt[data-symbol="AAPL"]')).to_be_visible()

    # During the pause a seller's order rests for the reopening auction: every desk sees the
    # indicative price and what it pairs.
    place(seller, "sell", "240.00", 100)
    for page in desks:
        price = banner(page).locator(".indicative-price")
        expect(price).to_have_text("240.00", timeout=LIVE_MS)
        expect(banner(page).locator(".indicative-detail")).to_contain_text("paired 100")
    expect(watcher.locator("#current-halts td.indicative-price")).to_have_text("240.00")

    # The pause runs out: the auction reopens trading at one price.
    for page in desks:
        expect(banner(page)).to_have_count(0, timeout=LIVE_MS)
        expect(page.locator("#book")).not_to_have_class(HALTED)
        trade = page.locator("#trades tr.trade")
        expect(trade).to_have_count(1, timeout=LIVE_MS)
        expect(trade.locator("td.price")).to_have_text("240.00")
        expect(trade.locator("td.qty")).to_have_text("100")
    expect(watcher.locator("#current-halts tr.halt")).to_have_count(0)
    past = watcher.locator('#past-halts tr.past-halt[data-symbol="AAPL"]')
    expect(past).to_have_count(1, timeout=LIVE_MS)
    expect(past.locator("td.ended")).to_contain_text("Pause ran out")
    expect(past.locator("td.reopened")).to_have_text("240.00 \u00d7 100")


def test_a_risk_manager_halts_and_resumes_by_hand_from_the_halts_page(
    live_desk: LiveDesk, browser: Browser, trader: User, risk_manager: User
) -> None:
    desk = log_in(browser, live_desk, "alice", "pw-alice")
    desk.select_option("#symbol-select", "INTC")
    console = open_halts_page(browser, live_desk, "rita")
    expect(console.locator("#halt-symbol option", has_text="INTC")).to_have_count(1)

    console.select_option("#halt-symbol", "INTC")
    console.click("#halt-open")
    console.click("#halt-dialog-ok")
    expect(console.locator("#halt-dialog-error")).to_contain_text("Give a reason")
    console.fill("#halt-reason", "Corporate action pending")
    console.click("#halt-dialog-ok")
    expect(console.locator("#halts-status")).to_have_text("Halted INTC.", timeout=LIVE_MS)

    intc = banner(desk, "INTC")
    expect(intc).to_be_visible(timeout=LIVE_MS)
    expect(intc.locator(".halt-title")).to_contain_text("halted by a risk manager")
    expect(intc.locator(".halt-times")).to_contain_text("until resumed by hand")
    expect(desk.locator("#book")).to_have_class(HALTED)
    past = console.locator('#past-halts tr.past-halt[data-symbol="INTC"]')
    expect(past.locator("td.reason")).to_have_text("Corporate action pending", timeout=LIVE_MS)
    expect(past.locator("td.who")).to_have_text("rita")

    console.locator('#current-halts tr.halt[data-symbol="INTC"] button.resume').click()
    console.fill("#halt-reason", "Announcement made")
    console.click("#halt-dialog-ok")
    expect(console.locator("#halts-status")).to_contain_text("Resumed INTC", timeout=LIVE_MS)
    expect(intc).to_have_count(0, timeout=LIVE_MS)
    expect(desk.locator("#book")).not_to_have_class(HALTED)
    expect(past.locator("td.ended")).to_contain_text("Resumed by rita: Announcement made")


def test_a_trader_sees_the_halts_page_without_controls(
    live_desk: LiveDesk, browser: Browser, trader: User
) -> None:
    page = open_halts_page(browser, live_desk, "alice")
    expect(page.locator("#current-empty")).to_be_visible()
    expect(page.locator("#halt-open")).to_have_count(0)
