"""A live desk (daphne and a matcher, as `make run` starts them) on the test database, and a
headless Debian chromium driven by Playwright."""

import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.db import connection, connections
from playwright.sync_api import Browser, Page, expect, sync_playwright

from apps.instruments.models import Instrument

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without these, chromium reaches out to the network at start; this machine has none.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Process:
    """A child process whose combined output is read line by line until it says it is ready."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], ready_text: str) -> None:
        self.name = name
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self._ready = threading.Event()
        self._ready_text = ready_text
        threading.Thread(target=self._drain, daemon=True).start()
        if not self._ready.wait(60):
            self.stop()
            raise RuntimeError(f"{name} did not start:\n" + "".join(self.lines[-40:]))

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)
            if self._ready_text in line:
                self._ready.set()
        self._ready.set()  # the process ended: stop waiting, the caller sees the output

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


@dataclass
class LiveDesk:
    url: str


@pytest.fixture
def live_desk(
    transactional_db: None, instruments: dict[str, Instrument], isolated_redis_keys: str
) -> Iterator[LiveDesk]:
    static = ROOT / "static" / "desk" / "desk.js"
    assert static.exists(), "build the front end first: `make frontend` (make test does)"
    port = _free_port()
    env = {
        **os.environ,
        "SECRET_KEY": "browser-test",
        "DEBUG": "false",
        "DATABASE_URL": _database_url(),
        "ALLOWED_HOSTS": "127.0.0.1",
        "CSRF_TRUSTED_ORIGINS": f"http://127.0.0.1:{port}",
        "MATCHER_KEY_PREFIX": isolated_redis_keys,
        "CHANNEL_LAYER_PREFIX": f"{isolated_redis_keys}:asgi",
        "PYTHONUNBUFFERED": "1",
    }
    bin_dir = Path(sys.executable).parent
    matcher = Process(
        "matcher", [sys.executable, "manage.py", "run_matcher"], env, "matcher_started"
    )
    web = Process(
        "daphne",
        [str(bin_dir / "daphne"), "-b", "127.0.0.1", "-p", str(port), "project.asgi:application"],
        env,
        "Listening on TCP address",
    )
    try:
        yield LiveDesk(url=f"http://127.0.0.1:{port}")
    finally:
        web.stop()
        matcher.stop()
        # Their connections must be gone before the test database is flushed.
        connection.close()


@pytest.fixture
def browser(live_desk: LiveDesk, monkeypatch: pytest.MonkeyPatch) -> Iterator[Browser]:
    """Chromium for one test. Playwright's sync API keeps an event loop running in this
    thread while it lives, so Django's sync-only guard is lifted for that time only."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()
        # Database work done while Playwright's loop ran used connections bound to that
        # loop's context; close them there, or they outlive the test database.
        connections.close_all()


def log_in(browser: Browser, desk: LiveDesk, username: str, password: str) -> Page:
    page = browser.new_context().new_page()
    page.goto(f"{desk.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("#login-submit")
    page.wait_for_url(f"{desk.url}/")
    expect(page.locator("#conn")).to_have_text("live")
    return page


def place(page: Page, side: str, price: str, quantity: int) -> None:
    """Send a limit GTC order from the desk's ticket, as a trader would."""
    page.select_option("#ticket-side", side)
    page.fill("#ticket-price", price)
    page.fill("#ticket-qty", str(quantity))
    page.click("#ticket-submit")
