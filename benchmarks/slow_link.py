"""A loopback TCP proxy that behaves like a learner's link to Binder: delay and bandwidth caps.

Each direction delays every byte by `one_way_delay_s` and sends at most `down_bits_per_s`
(server -> browser) or `up_bits_per_s` (browser -> server): a chunk leaves when the link has
sent the chunks before it and its own bits, and arrives one delay later. The default, 40 ms each
way (80 ms round trip), 20 Mbit/s down and 5 Mbit/s up, is a typical home link to mybinder.org.

    with SlowLink(target_port=8888) as link:     # then browse http://127.0.0.1:{link.port}/
        ...
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from types import TracebackType

CHUNK_BYTES = 16 * 1024  # read at most this much at once: a picture is sent in several chunks


class SlowLink:
    """The proxy, run by an asyncio loop in a daemon thread; `port` is where it listens."""

    def __init__(
        self,
        target_port: int,
        one_way_delay_s: float = 0.040,
        down_bits_per_s: float = 20e6,
        up_bits_per_s: float = 5e6,
    ) -> None:
        self.target_port = target_port
        self.one_way_delay_s = one_way_delay_s
        self.down_bits_per_s = down_bits_per_s
        self.up_bits_per_s = up_bits_per_s
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> SlowLink:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._serve(), self._loop).result(timeout=10)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def describe(self) -> str:
        return (
            f"{2e3 * self.one_way_delay_s:.0f} ms round trip, {self.down_bits_per_s / 1e6:g} "
            f"Mbit/s down, {self.up_bits_per_s / 1e6:g} Mbit/s up"
        )

    async def _serve(self) -> None:
        self._server = await asyncio.start_server(self._connect, sock=self._listener)

    async def _connect(
        self, browser_reader: asyncio.StreamReader, browser_writer: asyncio.StreamWriter
    ) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(
                "127.0.0.1", self.target_port
            )
        except OSError:
            browser_writer.close()
            return
        for writer in (browser_writer, server_writer):  # the link's delay, not Nagle's
            writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        await asyncio.gather(
            self._pipe(browser_reader, server_writer, self.up_bits_per_s),
            self._pipe(server_reader, browser_writer, self.down_bits_per_s),
        )

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, bits_per_s: float
    ) -> None:
        """Copy reader to writer, each chunk arriving when the link would deliver it."""
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        async def receive() -> None:
            link_free_at = 0.0  # when the link has sent everything queued so far
            with contextlib.suppress(ConnectionError):
                while chunk := await reader.read(CHUNK_BYTES):
                    link_free_at = max(loop.time(), link_free_at) + 8 * len(chunk) / bits_per_s
                    queue.put_nowait((link_free_at + self.one_way_delay_s, chunk))
            queue.put_nowait((loop.time() + self.one_way_delay_s, b""))  # end of stream

        async def deliver() -> None:
            with contextlib.suppress(ConnectionError):
                while True:
                    arrives_at, chunk = await queue.get()
                    await asyncio.sleep(max(0.0, arrives_at - loop.time()))
                    if not chunk:
                        break
                    writer.write(chunk)
                    await writer.drain()
            writer.close()

        await asyncio.gather(receive(), deliver())
