from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A person (or named algorithm) who uses the desk. Roles are groups: see roles.py."""

    def has_role(self, role: str) -> bool:
        return self.groups.filter(name=role).exists()

    @property
    def role_names(self) -> list[str]:
        return sorted(self.groups.values_list("name", flat=True))


class TradingAccount(models.Model):
    """A book of positions that orders are booked to; traders are entitled to trade it."""

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200, blank=True)
    traders = models.ManyToManyField(User, related_name="trading_accounts", blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code
