"""A risk manager runs the risk console against a live desk: pulls a trader's kill switch, sees
the trader's refused order, edits an account's limits in place, and releases the switch."""

import re

import pytest
from django.contrib.auth.models import Permission
from playwright.sync_api import Browser, Page, expect

from apps.accounts.models import User
from tests.browser.conftest import ROOT, LiveDesk, log_in, place

pytestmark = pytest.mark.browser


def open_console(browser: Browser, desk: LiveDesk) -> Page:
    assert (ROOT / "static" / "desk" / "risk.js").exists(), "build the front end first"
    page = log_in(browser, desk, "rita", "pw-rita")
    page.click("#nav-risk")
    page.wait_for_url(f"{desk.url}/risk/")
    expect(page.locator("#conn")).to_have_text("live")
    expect(page.locator("#risk-status")).to_contain_text("account")
    return page


def confirm_with_reason(console: Page, reason: str) -> None:
    dialog = console.locator("#risk-confirm")
    expect(dialog).to_be_visible()
    # No reason, no action: the dialog says so and stays open.
    console.click("#confirm-ok")
    expect(console.locator("#confirm-error")).to_contain_text("Give a reason")
    console.fill("#confirm-reason", reason)
    console.click("#confirm-ok")
    expect(dialog).to_be_hidden()


# Personas come before the live desk in each test's arguments: its matcher then starts with
# their entitlements in the database.
def test_a_risk_manager_pulls_a_traders_kill_switch_and_releases_it(
    trader: User, risk_manager: User, live_desk: LiveDesk, browser: Browser
) -> None:
    alice = log_in(browser, live_desk, "alice", "pw-alice")
    alice.select_option("#symbol-select", "AAPL")
    place(alice, "buy", "232.40", 10)
    expect(alice.locator("#orders tr.order")).to_have_count(1)

    console = open_console(browser, live_desk)
    row = console.locator('#risk-traders tr.trader[data-username="alice"]')
    expect(row).to_have_attribute("data-kill-switch", "off")
    row.locator("button.kill-toggle").click()
    expect(console.locator("#confirm-title")).to_contain_text("trader alice")
    confirm_with_reason(console, "runaway algo")

    expect(row).to_have_attribute("data-kill-switch", "engaged")
    expect(row.locator("td.kill-switch")).to_contain_text("runaway algo")
    engaged = console.locator('#risk-alerts li[data-kind="kill_switch"][data-engaged="true"]')
    expect(engaged).to_contain_text("rita engaged alice's kill switch (1 order cancelled)")

    # Alice's desk: the working order is gone, and a new one is refused with the reason.
    expect(alice.locator("#orders tr.order")).to_have_count(0)
    place(alice, "buy", "232.30", 5)
    expect(alice.locator("#ticket-status")).to_contain_text(
        "The kill switch is engaged for you: runaway algo"
    )
    expect(alice.locator("#orders tr.order")).to_have_count(0)

    # The console lists the refused order with its trader, account and reason.
    refused = console.locator('#risk-rejections tr.rejection[data-code="kill_switch"]')
    expect(refused).to_have_count(1)
    expect(refused.locator("td.trader")).to_have_text("alice")
    expect(refused.locator("td.account")).to_have_text("ACC-1")
    expect(refused.locator("td.symbol")).to_have_text("AAPL")
    expect(refused.locator("td.message")).to_contain_text("runaway algo")

    row.locator("button.kill-toggle").click()
    expect(console.locator("#confirm-title")).to_contain_text("Release")
    confirm_with_reason(console, "algo fixed")
    expect(row).to_have_attribute("data-kill-switch", "off")
    released = console.locator('#risk-alerts li[data-kind="kill_switch"][data-engaged="false"]')
    expect(released).to_contain_text("rita released alice's kill switch: algo fixed")

    place(alice, "buy", "232.30", 5)
    expect(alice.locator("#orders tr.order")).to_have_count(1)
    expect(alice.locator("#ticket-status")).to_contain_text("accepted")


def test_a_risk_manager_edits_an_accounts_limits_in_place(
    trader: User, risk_manager: User, live_desk: LiveDesk, browser: Browser
) -> None:
    console = open_console(browser, live_desk)
    account = console.locator('#risk-accounts tr.account[data-account="ACC-1"]')
    expect(account.locator("td.credit")).to_contain_text("no limit")
    account.locator("button.limits-toggle").click()
    editor = console.locator('#risk-accounts tr.limits-editor[data-account="ACC-1"]')
    credit = editor.locator('input[name="credit_limit"]')
    expect(credit).to_be_enabled()

    credit.fill("1000.00")
    editor.locator("button.limits-save").click()
    expect(editor.locator(".limits-error")).to_contain_text("Give a reason")

    # The server's refusal reaches the risk manager with its sentence.
    credit.fill("-5")
    editor.locator('input[name="reason"]').fill("tighter for the test")
    editor.locator("button.limits-save").click()
    expect(editor.locator(".limits-error")).to_contain_text("credit_limit")

    credit.fill("1000.00")
    editor.locator("button.limits-save").click()
    expect(editor).to_be_hidden()
    expect(account.locator("td.credit")).to_contain_text("/ 1,000.00")
    # The feed shows the change, newest first.
    change = console.locator('#risk-alerts li[data-kind="limit"]').first
    expect(change).to_contain_text(
        re.compile(r"rita set credit limit \(ACC-1\) from none to 1000\.00")
    )
    expect(change).to_contain_text("tighter for the test")

    # Position limits, one instrument at a time, in the same editor.
    account.locator("button.limits-toggle").click()
    expect(credit).to_be_enabled()
    expect(credit).to_have_value("1000.00")
    editor.locator('input[name="position_symbol"]').fill("AAPL")
    editor.locator('input[name="max_long"]').fill("50")
    editor.locator('input[name="reason"]').fill("cap AAPL")
    editor.locator("button.position-save").click()
    position = console.locator('#risk-alerts li[data-kind="limit"]').first
    expect(position).to_contain_text("rita set max long (ACC-1 AAPL) from none to 50: cap AAPL")


def test_the_risk_console_is_for_risk_managers_only(
    trader: User, live_desk: LiveDesk, browser: Browser
) -> None:
    alice = log_in(browser, live_desk, "alice", "pw-alice")
    expect(alice.locator("#nav-risk")).to_have_count(0)
    response = alice.goto(f"{live_desk.url}/risk/")
    assert response is not None
    assert response.status == 403
    expect(alice.locator("#forbidden-text")).to_contain_text("does not give you access")


def test_whoever_may_edit_limits_but_not_kill_is_offered_no_kill_switch(
    trader: User, live_desk: LiveDesk, browser: Browser
) -> None:
    lena = User.objects.create_user(username="lena", password="pw-lena")
    lena.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="risk", codename__in=("view_risk_limits", "change_risk_limits")
        )
    )
    console = log_in(browser, live_desk, "lena", "pw-lena")
    console.goto(f"{live_desk.url}/risk/")
    expect(console.locator("#risk-status")).to_contain_text("account")

    account = console.locator('#risk-accounts tr.account[data-account="ACC-1"]')
    expect(account.locator("button.limits-toggle")).to_be_visible()
    expect(account.locator("button.kill-toggle")).to_be_hidden()
    trader_row = console.locator('#risk-traders tr.trader[data-username="alice"]')
    expect(trader_row).to_have_attribute("data-kill-switch", "off")
    expect(trader_row.locator("button.kill-toggle")).to_be_hidden()
    expect(console.locator("#firm-kill-toggle")).to_be_hidden()
