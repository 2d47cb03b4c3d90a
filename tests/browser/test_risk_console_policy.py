"""A risk manager edits the firm policy, an instrument's limits and the restricted list in the
risk console against a live desk, and the trader's next order meets what was set."""

from decimal import Decimal

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from apps.accounts.models import User
from apps.audit.models import EventRecord
from apps.risk.models import FirmRiskPolicy, InstrumentRiskLimits, RestrictedInstrument
from apps.risk.selectors import firm_policy
from tests.browser.conftest import LiveDesk, log_in, place
from tests.browser.test_risk_console import confirm_with_reason, open_console

pytestmark = pytest.mark.browser


def firm_cell(console: Page, field: str) -> Locator:
    return console.locator(f'#risk-firm .limit-cell[data-field="{field}"]')


def instrument_cell(console: Page, symbol: str, field: str) -> Locator:
    return console.locator(
        f'#risk-instruments tr.instrument[data-symbol="{symbol}"] .limit-cell[data-field="{field}"]'
    )


def edit(cell: Locator, field: str, value: str) -> None:
    """Open the value's editor, type the new value and save: the reason dialog comes next."""
    cell.locator("button.limit-edit").click()
    cell.locator(f'[name="{field}"]').fill(value)
    cell.locator("button.limit-save").click()


def limit_events(user: User, **payload: object) -> int:
    """The limit changes the matcher journaled for `user` (its start-up sync acts as user 0)."""
    lookups = {f"payload__{name}": value for name, value in payload.items()}
    return EventRecord.objects.filter(
        kind="risk_limit_changed", payload__user_id=user.pk, **lookups
    ).count()


def trader_desk(browser: Browser, desk: LiveDesk) -> Page:
    alice = log_in(browser, desk, "alice", "pw-alice")
    alice.select_option("#symbol-select", "AAPL")
    return alice


# Personas come before the live desk in each test's arguments: its matcher then starts with
# their entitlements in the database.
def test_a_firm_policy_change_with_a_reason_is_in_force_for_the_next_order(
    trader: User, risk_manager: User, live_desk: LiveDesk, browser: Browser
) -> None:
    console = open_console(browser, live_desk)
    collar = firm_cell(console, "collar_percent")
    expect(collar.locator(".value")).to_have_text("10.00 %")
    expect(firm_cell(console, "throttle_window_ms").locator(".value")).to_have_text(
        "3,000 ms (3 s)"
    )
    expect(firm_cell(console, "collar_minimum").locator(".value")).to_have_text("$0.50")
    expect(firm_cell(console, "authorised_users_only").locator(".value")).to_have_text("on")

    # Within today's 10 % collar around the 232.50 reference, the order is taken.
    alice = trader_desk(browser, live_desk)
    place(alice, "buy", "240.00", 1)
    expect(alice.locator("#orders tr.order")).to_have_count(1)

    console.get_by_role("button", name="Edit Price collar (the firm)", exact=True).click()
    collar.get_by_label("Price collar (the firm)", exact=True).fill("1")
    collar.locator("button.limit-save").click()
    expect(console.locator("#confirm-title")).to_have_text("Change price collar of the firm?")
    expect(console.locator("#confirm-text")).to_contain_text("From 10.00 % to 1 %")
    confirm_with_reason(console, "volatile open")

    expect(collar).to_have_attribute("data-value", "1.00")
    expect(collar.locator(".value")).to_have_text("1.00 %")
    expect(collar.locator(".limit-note")).to_contain_text("in force from event")
    assert FirmRiskPolicy.objects.get().collar_percent == 1
    assert limit_events(risk_manager, limit="collar_bps", old_value=1000, new_value=100) == 1
    change = console.locator('#risk-alerts li[data-kind="limit"]').first
    expect(change).to_contain_text("rita set collar (firm) from 10 % to 1 %: volatile open")

    # The same order now lies outside the collar: refused, with the matcher's sentence.
    place(alice, "buy", "240.00", 2)
    expect(alice.locator("#ticket-status")).to_contain_text("above the reference price")
    expect(alice.locator("#orders tr.order")).to_have_count(1)
    refused = console.locator('#risk-rejections tr.rejection[data-code="price_collar"]')
    expect(refused).to_have_count(1)


def test_an_instrument_limit_change_refuses_the_next_order_over_it(
    trader: User, risk_manager: User, live_desk: LiveDesk, browser: Browser
) -> None:
    console = open_console(browser, live_desk)
    cell = instrument_cell(console, "AAPL", "max_order_lots")
    expect(cell.locator(".value")).to_have_text("none")
    expect(instrument_cell(console, "INTC", "max_order_lots").locator(".value")).to_have_text(
        "none"
    )

    edit(cell, "max_order_lots", "100")
    expect(console.locator("#confirm-title")).to_have_text("Change max order qty of AAPL?")
    confirm_with_reason(console, "thin book")
    expect(cell.locator(".value")).to_have_text("100 lots")
    assert InstrumentRiskLimits.objects.get(instrument__symbol="AAPL").max_order_lots == 100
    assert limit_events(risk_manager, limit="max_order_lots", symbol="AAPL", new_value=100) == 1

    notional = instrument_cell(console, "AAPL", "max_order_notional")
    edit(notional, "max_order_notional", "50000")
    confirm_with_reason(console, "thin book")
    expect(notional.locator(".value")).to_have_text("$50,000.00")
    expect(console.locator("#risk-status")).to_contain_text(
        "Max order notional of AAPL set to $50,000.00: in force from event"
    )

    alice = trader_desk(browser, live_desk)
    place(alice, "buy", "232.40", 101)
    expect(alice.locator("#ticket-status")).to_contain_text(
        "101 lots is more than the 100 lots an order may have"
    )
    expect(alice.locator("#orders tr.order")).to_have_count(0)
    place(alice, "buy", "232.40", 100)
    expect(alice.locator("#orders tr.order")).to_have_count(1)
    expect(
        console.locator('#risk-rejections tr.rejection[data-code="max_order_quantity"]')
    ).to_have_count(1)


def test_a_refused_change_shows_the_servers_sentence_and_changes_nothing(
    risk_manager: User, live_desk: LiveDesk, browser: Browser
) -> None:
    console = open_console(browser, live_desk)
    collar = firm_cell(console, "collar_percent")
    expect(collar.locator(".value")).to_have_text("10.00 %")

    edit(collar, "collar_percent", "250")
    confirm_with_reason(console, "a typo")
    # The dialog closes; the sentence stays beside the field, the editor open for a fix.
    expect(collar).to_have_attribute("data-state", "refused")
    expect(collar.locator(".limit-note")).to_contain_text("less than or equal to 100")
    expect(collar.locator('[name="collar_percent"]')).to_have_value("250")
    collar.locator("button.limit-cancel").click()
    expect(collar.locator(".value")).to_have_text("10.00 %")

    lots = instrument_cell(console, "INTC", "max_order_lots")
    edit(lots, "max_order_lots", "-5")
    confirm_with_reason(console, "another typo")
    expect(lots.locator(".limit-note")).to_contain_text("greater than or equal to 1")

    # Saving what is already there is not sent at all.
    cell = firm_cell(console, "throttle_messages")
    edit(cell, "throttle_messages", "500")
    expect(cell.locator(".limit-note")).to_have_text("Nothing changed.")
    expect(console.locator("#risk-confirm")).to_be_hidden()

    assert firm_policy().collar_percent == Decimal("10.00")
    assert not InstrumentRiskLimits.objects.filter(max_order_lots__isnull=False).exists()
    assert limit_events(risk_manager) == 0


def test_a_risk_manager_restricts_an_instrument_for_an_account_and_lifts_it(
    trader: User, risk_manager: User, live_desk: LiveDesk, browser: Browser
) -> None:
    console = open_console(browser, live_desk)
    expect(console.locator("#restricted-empty")).to_be_visible()
    form = console.get_by_role("form", name="Restrict an instrument")

    # No reason, nothing sent.
    form.get_by_label("Symbol").fill("AAPL")
    form.get_by_label("Account").fill("ACC-1")
    form.get_by_role("button", name="Restrict").click()
    expect(console.locator("#restrict-error")).to_contain_text("Give a reason")

    form.get_by_label("Reason").fill("pending news")
    form.get_by_role("button", name="Restrict").click()
    entry = console.locator('#risk-restricted tr.restricted[data-symbol="AAPL"]')
    expect(entry).to_have_count(1)
    expect(entry.locator("td.scope")).to_have_text("ACC-1")
    expect(entry.locator("td.reason")).to_have_text("pending news")
    expect(entry.locator("td.by")).to_have_text("rita")
    expect(console.locator("#restrict-error")).to_have_text("")
    row = RestrictedInstrument.objects.get()
    assert (row.instrument.symbol, row.account and row.account.code) == ("AAPL", "ACC-1")
    listed = console.locator('#risk-alerts li[data-kind="list"]').first
    expect(listed).to_contain_text("rita added AAPL to the restricted instruments of ACC-1")

    # The same entry twice: the server's sentence.
    form.get_by_label("Symbol").fill("AAPL")
    form.get_by_label("Account").fill("ACC-1")
    form.get_by_label("Reason").fill("again")
    form.get_by_role("button", name="Restrict").click()
    expect(console.locator("#restrict-error")).to_have_text("AAPL is already restricted for ACC-1.")

    alice = trader_desk(browser, live_desk)
    place(alice, "buy", "232.40", 5)
    expect(alice.locator("#ticket-status")).to_contain_text("AAPL is on the restricted list")
    expect(alice.locator("#orders tr.order")).to_have_count(0)

    console.get_by_role(
        "button", name="Remove AAPL (account ACC-1) from the restricted list"
    ).click()
    expect(console.locator("#confirm-title")).to_contain_text("Remove AAPL")
    confirm_with_reason(console, "news is out")
    expect(entry).to_have_count(0)
    expect(console.locator("#restricted-empty")).to_be_visible()
    assert not RestrictedInstrument.objects.exists()
    lifted = console.locator('#risk-alerts li[data-kind="list"]').first
    expect(lifted).to_contain_text("rita removed AAPL from the restricted instruments of ACC-1")
    expect(lifted).to_contain_text("news is out")

    place(alice, "buy", "232.40", 6)
    expect(alice.locator("#orders tr.order")).to_have_count(1)
