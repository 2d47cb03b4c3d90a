from celery import shared_task

from apps.breakers.services import session_start


@shared_task
def start_session() -> None:
    """At the open: today's session (open and close from the breaker settings) reaches every
    shard as a sequenced StartSession."""
    session_start()
