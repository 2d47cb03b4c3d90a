"""The shared synchronous Redis client of a process."""

from functools import cache

import redis
from django.conf import settings


@cache
def redis_client() -> "redis.Redis[bytes]":
    return redis.Redis.from_url(settings.REDIS_URL, health_check_interval=30)
