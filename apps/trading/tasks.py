from celery import shared_task

from apps.trading.services import orders_expire


@shared_task
def expire_day_orders() -> None:
    """Session close: every working DAY order expires (a sequenced command per shard)."""
    orders_expire()
