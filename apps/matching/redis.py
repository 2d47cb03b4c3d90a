"""The shared synchronous Redis client of a process."""

from functools import cache
from typing import cast

import redis
from django.conf import settings


@cache
def redis_client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, health_check_interval=30)


def redis_get(key: str) -> bytes | None:
    # redis-py types every reply as "awaitable or value" for its sync and async clients alike.
    return cast(bytes | None, redis_client().get(key))
