"""What the breaker tests share: API clients and reading back the commands that were sent."""

import json
from typing import Any

from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.matching import keys
from apps.matching.codec import command_from_dict
from apps.matching.engine import Command
from apps.matching.redis import redis_client

BREAKERS = "/api/v1/breakers/"


def client_for(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def commands_sent(shard: int = 0) -> list[Command]:
    """Every command on the shard's stream, oldest first."""
    entries: Any = redis_client().xrange(keys.command_stream(shard))
    return [command_from_dict(json.loads(fields[b"command"])) for _, fields in entries]


def nothing_sent(*shards: int) -> bool:
    return all(redis_client().xlen(keys.command_stream(s)) == 0 for s in shards or (0,))
