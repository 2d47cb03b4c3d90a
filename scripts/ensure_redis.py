"""Make sure Redis answers at REDIS_URL: start a private redis-server on 127.0.0.1 if none does."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import redis

URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
VAR = Path(__file__).resolve().parent.parent / "var"


def answers() -> bool:
    try:
        return bool(redis.Redis.from_url(URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def main() -> int:
    if answers():
        print(f"Redis answers at {URL}.")
        return 0
    parsed = urlparse(URL)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 6379
    server = shutil.which("redis-server")
    if host not in ("127.0.0.1", "localhost") or server is None:
        print(
            f"Redis does not answer at {URL}.\n"
            "Start one there, point REDIS_URL at one, or install redis-server "
            "(Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis).",
            file=sys.stderr,
        )
        return 1
    VAR.mkdir(exist_ok=True)
    subprocess.run(  # noqa: S603 - a fixed binary with fixed arguments
        [
            server,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--daemonize",
            "yes",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(VAR),
            "--logfile",
            str(VAR / "redis.log"),
            "--pidfile",
            str(VAR / "redis.pid"),
        ],
        check=True,
    )
    for _ in range(50):
        if answers():
            print(f"Started a private redis-server on 127.0.0.1:{port} (log: var/redis.log).")
            return 0
        time.sleep(0.1)
    print(
        f"redis-server was started but does not answer at {URL}; see var/redis.log.",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
