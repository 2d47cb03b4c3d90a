import json
import time
from typing import Any

import redis
from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.generic import TemplateView

from apps.breakers.services import can_halt
from apps.desk.risk_console import RISK_PERMISSION
from apps.matching import keys
from apps.matching.redis import redis_client, redis_get

MATCHER_STATES = {
    "database_unavailable": "the database is unreachable: not taking commands until it answers",
}


class DeskView(LoginRequiredMixin, TemplateView):
    template_name = "desk/desk.html"


class AuditView(LoginRequiredMixin, PermissionRequiredMixin, TemplateView):
    """The auditors' page: search, order life, export and verification of the event log.
    Anonymous visitors are sent to log in; signed-in users without the permission get 403."""

    template_name = "desk/audit.html"
    permission_required = "audit.view_eventrecord"


class RiskView(LoginRequiredMixin, PermissionRequiredMixin, TemplateView):
    """The risk managers' console: live utilisation, limits, kill switches, alerts and
    rejections. Anonymous visitors are sent to log in; others get 403."""

    template_name = "desk/risk.html"
    permission_required = RISK_PERMISSION


class HaltsView(LoginRequiredMixin, TemplateView):
    """Current and past halts for every signed-in user; halt and resume for those allowed."""

    template_name = "desk/halts.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "can_halt": can_halt(self.request.user)}


def healthz(request: HttpRequest) -> JsonResponse:
    """The process is alive and serving requests."""
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> JsonResponse:
    """Ready to trade: the database answers, Redis answers, and every matcher is beating."""
    problems: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        problems["database"] = f"unreachable: {exc.__class__.__name__}"
    try:
        client = redis_client()
        client.ping()
        now_ns = time.time_ns()
        max_age_ns = int(settings.MATCHER_HEARTBEAT_MAX_AGE_S * 1e9)
        for shard in range(settings.MATCHER_SHARD_COUNT):
            beat = redis_get(keys.heartbeat(shard))
            if beat is None:
                problems[f"matcher.{shard}"] = "no heartbeat: the matcher is not running"
                continue
            heartbeat = json.loads(beat)
            age_ns = now_ns - int(heartbeat["ts_ns"])
            if age_ns > max_age_ns:
                problems[f"matcher.{shard}"] = f"heartbeat is {age_ns / 1e9:.1f}s old"
            elif heartbeat["state"] != "running":
                problems[f"matcher.{shard}"] = MATCHER_STATES.get(
                    heartbeat["state"], heartbeat["state"]
                )
    except redis.RedisError as exc:
        problems["redis"] = f"unreachable: {exc.__class__.__name__}"
    if problems:
        return JsonResponse({"status": "unavailable", "problems": problems}, status=503)
    return JsonResponse({"status": "ready"})
