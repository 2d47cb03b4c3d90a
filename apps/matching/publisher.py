"""Fan-out to the channel layer, in a process of its own.

The channel layer costs a few Redis round trips per group and batch, driven by an asyncio loop.
In the matcher's process that work would hold the interpreter lock the matcher's threads
need, and it measured about a third of a small batch's acknowledgement latency. So the matcher
hands each batch's frames down a pipe, after the journal commit, and goes on; a child process
sends them. The pipe keeps the order: every group sees its frames in the order the matcher
produced them. Each group gets one message per batch (or per run of batches that queued while
the child was busy), not one per frame.

The child is started fresh (spawn), not forked from a process that holds threads and
connections. It takes the channel layer's configuration from the matcher rather than from its
own settings, so a matcher whose settings were changed at run time (a test's key prefix)
publishes where it should.
When the matcher closes the pipe, or dies, the child sends what it has and exits.
"""

import asyncio
import contextlib
import multiprocessing
import pickle
import queue
import threading
from multiprocessing.connection import Connection
from typing import Any

import django
import structlog
from channels.layers import DEFAULT_CHANNEL_LAYER
from django.conf import settings
from django.utils.module_loading import import_string

log = structlog.get_logger(__name__)

FRAMES_MESSAGE_TYPE = "desk.frames"
Frames = list[tuple[str, dict[str, Any]]]
CLOSE_TIMEOUT_S = 10.0
# Batches of frames waiting for the pipe. A child this far behind is not keeping up, and the
# fan-out is lossy by design: later batches are dropped until it catches up.
MAX_QUEUED_BATCHES = 1000


class Publisher:
    """The matcher's end of the pipe. Writes go through a thread of their own, so that a
    child that is behind (the pipe full) holds up the desks' frames, not the acknowledgements
    and answers of the batches after them."""

    def __init__(self) -> None:
        self._layer_config = settings.CHANNEL_LAYERS[DEFAULT_CHANNEL_LAYER]
        self._queue: queue.Queue[bytes | None] = queue.Queue(MAX_QUEUED_BATCHES)
        self._start()
        self._writer = threading.Thread(target=self._write_all, name="publisher-pipe", daemon=True)
        self._writer.start()

    def _start(self) -> None:
        context = multiprocessing.get_context("spawn")
        receiver, self._sender = context.Pipe(duplex=False)
        self._process = context.Process(
            target=run_publisher,
            args=(self._layer_config, receiver),
            name="publisher",
            daemon=True,
        )
        self._process.start()
        receiver.close()  # the child's end

    @staticmethod
    def pack(frames: Frames) -> bytes:
        """A batch's (group, frame) pairs as `publish` sends them: packed beforehand, on the
        matcher's thread, so that the publish thread only queues them for the pipe."""
        return pickle.dumps(frames, pickle.HIGHEST_PROTOCOL) if frames else b""

    def publish(self, packed: bytes) -> None:
        """Queue a batch's packed frames for the publisher process, in order."""
        if not packed:
            return
        try:
            self._queue.put_nowait(packed)
        except queue.Full:
            log.warning("publisher_behind", queued=MAX_QUEUED_BATCHES)

    def _write_all(self) -> None:
        while (packed := self._queue.get()) is not None:
            try:
                self._sender.send_bytes(packed)
            except OSError as exc:
                # The child is gone. A new child takes over from this batch on.
                log.warning("publisher_restarted", error=str(exc))
                self._sender.close()
                self._process.join(CLOSE_TIMEOUT_S)
                self._start()
                self._sender.send_bytes(packed)

    def close(self) -> None:
        """Let the child send what it has, then wait for it to exit."""
        with contextlib.suppress(queue.Full):
            self._queue.put(None, timeout=CLOSE_TIMEOUT_S)
        self._writer.join(CLOSE_TIMEOUT_S)
        self._sender.close()
        self._process.join(CLOSE_TIMEOUT_S)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()


def run_publisher(layer_config: dict[str, Any], receiver: Connection) -> None:
    """The child process: receive batches of frames and send them to their groups."""
    # Frames hold the read models' choice values, which unpickle only with the apps loaded.
    django.setup()
    layer = import_string(layer_config["BACKEND"])(**layer_config.get("CONFIG", {}))
    asyncio.run(_send_all(layer, receiver))


async def _send_all(layer: Any, receiver: Connection) -> None:
    loop = asyncio.get_running_loop()
    closing = False
    while not closing:
        try:
            pending = [await loop.run_in_executor(None, receiver.recv)]
        except EOFError:
            break
        # Batches that queued while the last ones were being sent go out together: one
        # message per group for all of them, in order, so a busy matcher costs the layer a
        # round trip per group, not per group and batch.
        while receiver.poll():
            try:
                pending.append(receiver.recv())
            except EOFError:
                closing = True
                break
        by_group: dict[str, list[dict[str, Any]]] = {}
        for frames in pending:
            for group, frame in frames:
                by_group.setdefault(group, []).append(frame)
        results = await asyncio.gather(
            *(
                layer.group_send(group, {"type": FRAMES_MESSAGE_TYPE, "frames": batch})
                for group, batch in by_group.items()
            ),
            return_exceptions=True,
        )
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            # The channel layer is lossy by design: a desk that misses a frame resyncs from a
            # snapshot. What matters (the journal, the stream ack) is already done.
            log.warning("publish_failed", groups=len(failures), error=str(failures[0]))
    close_pools = getattr(layer, "close_pools", None)
    if close_pools is not None:
        await close_pools()
