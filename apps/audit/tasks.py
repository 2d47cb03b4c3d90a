"""Scheduled audit chores: the nightly chain verification and the daily retention purge."""

import structlog
from celery import shared_task

from apps.audit.retention import audit_purge
from apps.audit.verify import chain_verify, result_as_dict, verification_record

log = structlog.get_logger(__name__)


@shared_task
def verify_chain() -> None:
    """Walk every shard's chain and record what was found on the web-side chain."""
    result = chain_verify()
    if result.intact:
        log.info("audit_chain_verified", **result_as_dict(result))
    else:
        log.error("audit_chain_broken", **result_as_dict(result))
    verification_record(result, actor_user_id=None)


@shared_task
def purge_expired() -> None:
    """Remove the rows whose retention has run out and no legal hold keeps."""
    result = audit_purge()
    log.info("audit_purged", purged=result.purged, cutoff_ns=result.cutoff_ns)
