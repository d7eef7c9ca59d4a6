"""A TCP front for the test Postgres that misbehaves on demand: refuses first connections (a cold start), cuts a
connection after a given message (a write lost midway), or stalls (a NAT or proxy that drops a connection
silently, forwarding nothing and closing nothing)."""

import asyncio
import threading

from sqlalchemy import make_url


class FlakyProxy:
    """A TCP front for the test Postgres that hangs up on the first `refusals` connections (a cold start),
    and, given `cut_after`, on a connection as soon as it has forwarded a message containing those bytes."""

    def __init__(self, socket_path: str, refusals: int = 0, cut_after: bytes | None = None) -> None:
        self.attempts, self.refusals, self._socket_path = 0, refusals, socket_path
        # Connections numbered up to this forward nothing more (see `stall`).
        self._stalled_through = 0
        self.cut_after, self.cuts = cut_after, 0
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()

        async def serve() -> None:
            self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()

        threading.Thread(target=self._loop.run_forever, daemon=True).start()
        asyncio.run_coroutine_threadsafe(serve(), self._loop)
        ready.wait(5)

    def stall(self) -> None:
        """From now on the connections open so far forward nothing, and stay open; new ones work."""
        self._stalled_through = self.attempts

    async def _handle(self, reader, writer) -> None:
        self.attempts += 1
        number = self.attempts
        if self.attempts <= self.refusals:
            writer.close()
            return
        upstream_reader, upstream_writer = await asyncio.open_unix_connection(self._socket_path)

        async def pipe(source, sink, watch: bool) -> None:
            try:
                while data := await source.read(65536):
                    if number <= self._stalled_through:
                        continue  # swallowed: the other side waits for ever
                    sink.write(data)
                    await sink.drain()
                    if watch and self.cut_after and self.cut_after in data:
                        self.cuts += 1
                        self.cut_after = None  # once: the statement has gone out, its answer never comes back
                        writer.transport.abort()
                        await asyncio.sleep(0.05)
                        upstream_writer.transport.abort()
                        return
            finally:
                sink.close()

        await asyncio.gather(
            pipe(reader, upstream_writer, watch=True),
            pipe(upstream_reader, writer, watch=False),
            return_exceptions=True,
        )

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._server.close)


def proxied_url(proxy: FlakyProxy, database_url: str) -> str:
    """`database_url` (the embedded cluster's, on a Unix socket) as reached through `proxy`."""
    return make_url(database_url).set(host="127.0.0.1", port=proxy.port, query={}).render_as_string(hide_password=False)


def postgres_socket(database_url: str) -> str:
    return f"{make_url(database_url).query['host']}/.s.PGSQL.5432"
