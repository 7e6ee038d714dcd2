"""Network faults for tests: a TCP proxy that can cut a client off its server and restore it.

    proxy = TcpProxy("127.0.0.1", 15432)
    await proxy.start()            # clients connect to proxy.port instead
    proxy.cut()                    # every open connection dropped, new ones refused
    proxy.restore()                # new connections are forwarded again
    await proxy.stop()

``PostgresProxy`` cuts the way a restarting PostgreSQL does: open connections are told
"terminating connection due to administrator command" (57P01) and new ones "the database
system is starting up" (57P03), the errors drivers see while the server restarts.

The shared stack is never stopped: a test cuts its own path to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct


class TcpProxy:
    """Forwards 127.0.0.1:``port`` to ``host``:``target_port`` until cut."""

    def __init__(self, host: str, target_port: int) -> None:
        self.host = host
        self.target_port = target_port
        self.port = 0
        self.connections = 0  # accepted while not cut
        self._cut = False
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._clients: set[asyncio.StreamWriter] = set()  # the client side of each
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def cut(self) -> None:
        """Drop every open connection; refuse new ones until ``restore``."""
        self._cut = True
        for writer in list(self._writers):
            self._drop(writer)
        self._writers.clear()

    def restore(self) -> None:
        self._cut = False

    async def stop(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def _drop(self, writer: asyncio.StreamWriter) -> None:
        """End one open connection (client or server side) at a cut."""
        writer.transport.abort()

    async def _refuse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Answer a connection made while cut."""
        writer.transport.abort()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._cut:
            await self._refuse(reader, writer)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(self.host, self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self.connections += 1
        self._clients.add(writer)
        self._writers.update((writer, up_writer))
        pipes = [
            asyncio.create_task(self._pipe(reader, up_writer)),
            asyncio.create_task(self._pipe(up_reader, writer)),
        ]
        self._tasks.update(pipes)
        try:
            await asyncio.gather(*pipes, return_exceptions=True)
        finally:
            self._tasks.difference_update(pipes)
            self._clients.discard(writer)
            for w in (writer, up_writer):
                self._writers.discard(w)
                w.transport.abort()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.transport.abort()


def _pg_fatal(code: str, message: str) -> bytes:
    """A PostgreSQL ErrorResponse message, severity FATAL."""
    fields = b"".join(
        kind + value.encode() + b"\0"
        for kind, value in ((b"S", "FATAL"), (b"V", "FATAL"), (b"C", code), (b"M", message))
    )
    body = fields + b"\0"
    return b"E" + struct.pack("!i", len(body) + 4) + body


_SSL_REQUEST = 80877103


class PostgresProxy(TcpProxy):
    """A ``TcpProxy`` to PostgreSQL whose cut looks like the server restarting."""

    def _drop(self, writer: asyncio.StreamWriter) -> None:
        if writer in self._clients:
            writer.write(_pg_fatal("57P01", "terminating connection due to administrator command"))
        writer.close()

    async def _refuse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:  # an SSL request first (answered "no"), then the startup message
                size = struct.unpack("!i", await reader.readexactly(4))[0]
                body = await reader.readexactly(size - 4)
                if size == 8 and struct.unpack("!i", body)[0] == _SSL_REQUEST:
                    writer.write(b"N")
                    await writer.drain()
                    continue
                break
            writer.write(_pg_fatal("57P03", "the database system is starting up"))
            await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
