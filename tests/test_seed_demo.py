import pytest
from django.core.management import call_command

from apps.accounts.models import TradingAccount, User
from apps.instruments.models import Instrument


@pytest.mark.django_db
def test_seeding_twice_gives_the_same_demo_desk() -> None:
    call_command("seed_demo")
    call_command("seed_demo")
    assert sorted(Instrument.objects.values_list("symbol", flat=True)) == [
        "AAPL",
        "AMZN",
        "GOOG",
        "INTC",
        "MSFT",
    ]
    trader1 = User.objects.get(username="trader1")
    assert trader1.role_names == ["trader"]
    assert trader1.check_password("demo")
    assert list(TradingAccount.objects.filter(traders=trader1).values_list("code", flat=True)) == [
        "ACC-1"
    ]
    assert User.objects.get(username="auditor1").has_perm("audit.view_eventrecord")
    assert not User.objects.get(username="auditor1").has_perm("trading.submit_order")
    assert User.objects.get(username="admin").is_staff
    assert User.objects.get(username="sim-taker").role_names == ["trader"]
