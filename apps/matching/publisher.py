"""Fan-out to the channel layer from the matcher's synchronous loop.

The channel layer is asynchronous and keeps its Redis connections per event loop, so the
publisher owns one loop in a thread for the life of the process.
"""

import asyncio
import threading
from typing import Any

import structlog
from channels.layers import DEFAULT_CHANNEL_LAYER, channel_layers

log = structlog.get_logger(__name__)

FRAME_MESSAGE_TYPE = "desk.frame"


class Publisher:
    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="publisher", daemon=True
        )
        self._thread.start()
        # A private layer instance: its connection pools belong to this loop alone, so closing
        # them never touches the pools the process's other loops hold in the shared instance.
        self._layer = channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)

    def publish(self, frames: list[tuple[str, dict[str, Any]]]) -> None:
        """Send each (group, frame) in order; wait until all are handed to the layer."""
        if not frames or self._layer is None:
            return
        future = asyncio.run_coroutine_threadsafe(self._send(frames), self._loop)
        try:
            future.result(timeout=10)
        except Exception:
            # The channel layer is lossy by design: a desk that misses a frame resyncs from a
            # snapshot. What matters (the journal, the stream ack) is already done.
            log.exception("publish_failed", frames=len(frames))

    async def _send(self, frames: list[tuple[str, dict[str, Any]]]) -> None:
        assert self._layer is not None
        for group, frame in frames:
            await self._layer.group_send(group, {"type": FRAME_MESSAGE_TYPE, "frame": frame})

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        # Closing the stopped loop lets the channel layer close its connections on that loop.
        self._loop.close()
