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
        password_note = "$DEMO_PASSWORD" if "DEMO_PASSWORD" in os.environ else "demo"
        self.stdout.write(
            f"Demo data ready: {len(DEMO_INSTRUMENTS)} instruments, "
            f"{len(DEMO_USERS)} users (password: {password_note})."
        )
