"""Fan-out to the channel layer from the matcher's synchronous loop.

The channel layer is asynchronous and keeps its Redis connections per event loop, so the
publisher owns one loop in a thread for the life of the process. The matcher hands it each
batch's frames and goes on at once: publishing is off the matcher's critical path, after the
journal commit. One consumer task takes batches in order, so every group sees its frames in the
order the matcher produced them; each group gets one message per batch (or per run of batches
that queued while the publisher was busy), not one per frame.
"""

import asyncio
import threading
from typing import Any

import structlog
from channels.layers import DEFAULT_CHANNEL_LAYER, channel_layers

log = structlog.get_logger(__name__)

FRAMES_MESSAGE_TYPE = "desk.frames"
Frames = list[tuple[str, dict[str, Any]]]


class Publisher:
    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._queue: asyncio.Queue[Frames | None] = asyncio.Queue()
        self._thread = threading.Thread(target=self._run, name="publisher", daemon=True)
        # A private layer instance: its connection pools belong to this loop alone, so closing
        # them never touches the pools the process's other loops hold in the shared instance.
        self._layer = channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)
        self._thread.start()

    def publish(self, frames: Frames) -> None:
        """Queue a batch's (group, frame) pairs for sending, in order; returns at once."""
        if frames:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, frames)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._drain())

    async def _drain(self) -> None:
        closing = False
        while not closing:
            frames = await self._queue.get()
            if frames is None:
                break
            # Batches that queued while the last ones were being sent go out together: one
            # message per group for all of them, in order, so a busy matcher costs the layer
            # a round trip per group, not per group and batch.
            pending = [frames]
            while not self._queue.empty():
                more = self._queue.get_nowait()
                if more is None:
                    closing = True
                    break
                pending.append(more)
            by_group: dict[str, list[dict[str, Any]]] = {}
            for batch_frames in pending:
                for group, frame in batch_frames:
                    by_group.setdefault(group, []).append(frame)
            results = await asyncio.gather(
                *(
                    self._layer.group_send(group, {"type": FRAMES_MESSAGE_TYPE, "frames": batch})
                    for group, batch in by_group.items()
                ),
                return_exceptions=True,
            )
            failures = [r for r in results if isinstance(r, BaseException)]
            if failures:
                # The channel layer is lossy by design: a desk that misses a frame resyncs
                # from a snapshot. What matters (the journal, the stream ack) is already done.
                log.warning("publish_failed", groups=len(failures), error=str(failures[0]))

    def close(self) -> None:
        """Send what is queued, then stop the loop and close its connections."""
        self._loop.call_soon_threadsafe(self._queue.put_nowait, None)
        self._thread.join(timeout=10)
        # Closing the stopped loop lets the channel layer close its connections on that loop.
        self._loop.close()
