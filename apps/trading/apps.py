from django.apps import AppConfig


class TradingConfig(AppConfig):
    name = "apps.trading"
    verbose_name = "Order gateway and read models"
