from celery import shared_task

from apps.risk.services import daily_risk_reset


@shared_task
def reset_daily_risk() -> None:
    """Session start: every shard's daily risk counters start again (a sequenced command)."""
    daily_risk_reset()
