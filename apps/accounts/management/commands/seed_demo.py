import os
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from apps.accounts import roles
from apps.accounts.models import TradingAccount, User
from apps.accounts.services import roles_ensure
from apps.instruments.models import Instrument
from apps.risk.services import (
    account_limits_update,
    firm_policy_update,
    instrument_limits_update,
    position_limit_set,
)

# Reference prices near where these names traded in late 2026's sessions; tick 0.01, lot 1.
DEMO_INSTRUMENTS = [
    ("AAPL", "Apple Inc.", Decimal("232.50"), 1),
    ("MSFT", "Microsoft Corporation", Decimal("415.20"), 1),
    ("AMZN", "Amazon.com, Inc.", Decimal("198.40"), 1),
    ("GOOG", "Alphabet Inc. Class C", Decimal("176.80"), 1),
    ("INTC", "Intel Corporation", Decimal("21.35"), 1),
]
# username → (role, trading accounts, is_staff)
DEMO_USERS: list[tuple[str, str, list[str], bool]] = [
    ("trader1", roles.TRADER, ["ACC-1"], False),
    ("trader2", roles.TRADER, ["ACC-2"], False),
    ("risk1", roles.RISK_MANAGER, [], False),
    ("auditor1", roles.AUDITOR, [], False),
    ("admin", roles.ADMIN, [], True),
    # The demo flow simulator trades as two named algorithms on accounts of their own: one
    # quotes, the other crosses the spread (one account alone would only meet itself, and
    # self-trade prevention would cancel instead of print).
    ("sim-mm", roles.TRADER, ["SIM-MM"], False),
    ("sim-taker", roles.TRADER, ["SIM-TK"], False),
]
# The demo's pre-trade limits, so that the risk console has figures to show. Money in dollars,
# quantities in lots (one share each here). The simulator's accounts (SIM-MM, SIM-TK) have no
# account limits of their own: only the firm policy and the per-instrument caps, which its
# orders (at most 200 shares, near the mid) stay well inside.
DEMO_ACCOUNT_LIMITS: dict[str, dict[str, object]] = {
    "ACC-1": {
        "max_order_lots": 5_000,
        "max_order_notional": Decimal("1000000"),
        "credit_limit": Decimal("5000000"),
        "loss_warning": Decimal("25000"),
        "loss_reduce_only": Decimal("50000"),
        "loss_kill": Decimal("100000"),
    },
    "ACC-2": {
        "max_order_lots": 2_000,
        "max_order_notional": Decimal("500000"),
        "credit_limit": Decimal("2000000"),
        "loss_warning": Decimal("10000"),
        "loss_reduce_only": Decimal("20000"),
        "loss_kill": Decimal("40000"),
    },
}
DEMO_INSTRUMENT_LIMITS = {"max_order_lots": 10_000, "max_order_notional": Decimal("2500000")}
# (account, symbol) → (max long, max short), lots.
DEMO_POSITION_LIMITS = {("ACC-1", "AAPL"): (20_000, 10_000), ("ACC-2", "INTC"): (50_000, 25_000)}
DEMO_RISK_REASON = "Demo seed: the desk's starting limits"


class Command(BaseCommand):
    help = "Create the demo users, accounts and instruments (idempotent)."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        password = os.environ.get("DEMO_PASSWORD", "demo")
        roles_ensure()
        for symbol, name, reference_price, tier in DEMO_INSTRUMENTS:
            Instrument.objects.update_or_create(
                symbol=symbol,
                defaults={
                    "name": name,
                    "reference_price": reference_price,
                    "luld_tier": tier,
                    "tick_size": Decimal("0.01"),
                    "lot_size": 1,
                },
            )
        for username, role, account_codes, is_staff in DEMO_USERS:
            user, created = User.objects.get_or_create(username=username)
            if created:
                user.set_password(password)
            user.is_staff = is_staff
            user.is_superuser = is_staff
            user.save()
            user.groups.set([Group.objects.get(name=role)])
            for code in account_codes:
                account, _ = TradingAccount.objects.get_or_create(
                    code=code, defaults={"name": code}
                )
                account.traders.add(user)
        self._seed_limits()
        password_note = "$DEMO_PASSWORD" if "DEMO_PASSWORD" in os.environ else "demo"
        self.stdout.write(
            f"Demo data ready: {len(DEMO_INSTRUMENTS)} instruments, "
            f"{len(DEMO_USERS)} users (password: {password_note})."
        )

    def _seed_limits(self) -> None:
        """Through the same services as the console, as the demo risk manager: each change is
        journaled by the matcher (once it runs), and seeding again changes nothing."""
        risk_manager = User.objects.get(username="risk1")
        firm_policy_update(risk_manager, {}, DEMO_RISK_REASON)
        for symbol, *_ in DEMO_INSTRUMENTS:
            instrument_limits_update(risk_manager, symbol, DEMO_INSTRUMENT_LIMITS, DEMO_RISK_REASON)
        for code, limits in DEMO_ACCOUNT_LIMITS.items():
            account_limits_update(risk_manager, code, limits, DEMO_RISK_REASON)
        for (code, symbol), (max_long, max_short) in DEMO_POSITION_LIMITS.items():
            position_limit_set(risk_manager, code, symbol, max_long, max_short, DEMO_RISK_REASON)
