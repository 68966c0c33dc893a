"""LISTEN for PostgreSQL notifications on the event loop, with a watchdog and reconnection.

A process keeping database state in memory (the tile fast path) may trust it only while it is sure to
hear of every change: ``on_up`` is called once the channels are listened to (everything remembered
before must be forgotten then), ``on_down`` as soon as the connection is lost or stops answering
(nothing may be trusted until the next ``on_up``). A lost connection is retried with back-off.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import asyncpg

from server.db.session import asyncpg_connect_kwargs

logger = logging.getLogger(__name__)

#: Channels of migration 0006: new tile data versions (``group:version``) and changed logins.
TILES_CHANNEL = "sitewatch_tiles"
AUTH_CHANNEL = "sitewatch_auth"


class Listener:
    """Listen to ``channels`` (name -> callback taking the payload) for as long as it runs."""

    def __init__(
        self,
        url: str,
        channels: dict[str, Callable[[str], None]],
        *,
        on_up: Callable[[], None],
        on_down: Callable[[], None],
        check_every_s: float = 5.0,
        max_backoff_s: float = 30.0,
    ):
        self._connect_kwargs = asyncpg_connect_kwargs(url)
        self._channels = channels
        self._on_up = on_up
        self._on_down = on_down
        self._check_every_s = check_every_s
        self._max_backoff_s = max_backoff_s
        self._task: asyncio.Task[None] | None = None
        self._connection: asyncpg.Connection | None = None
        self._lost = asyncio.Event()
        self._listening = False

    @property
    def up(self) -> bool:
        """Whether the channels are being listened to now."""
        return self._listening and self._connection is not None and not self._connection.is_closed()

    async def start(self, *, wait_s: float = 5.0) -> None:
        """Start listening (in the background); wait up to ``wait_s`` for the first connection."""
        self._task = asyncio.create_task(self._run(), name="sitewatch-listener")
        deadline = asyncio.get_running_loop().time() + wait_s
        while not self.up and asyncio.get_running_loop().time() < deadline and not self._task.done():
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        """Stop listening and close the connection."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def _notified(self, connection: object, pid: int, channel: str, payload: str) -> None:
        callback = self._channels.get(channel)
        if callback is not None:
            callback(payload)

    def _terminated(self, connection: object) -> None:
        self._lost.set()

    async def _run(self) -> None:
        backoff = 0.5
        while True:
            try:
                await self._listen()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # a database that is down or restarting: try again later
                logger.warning("listening for changes failed (%s); retrying in %.1f s", error, backoff)
            finally:
                was_up, self._listening = self._listening, False
                self._on_down()
                await self._close()
            backoff = 0.5 if was_up else min(backoff * 2, self._max_backoff_s)
            await asyncio.sleep(backoff)

    async def _listen(self) -> None:
        self._lost.clear()
        self._listening = False
        connection = await asyncpg.connect(**self._connect_kwargs)
        self._connection = connection
        connection.add_termination_listener(self._terminated)
        for channel in self._channels:
            await connection.add_listener(channel, self._notified)
        self._listening = True
        self._on_up()
        logger.debug("listening to %s", ", ".join(self._channels))
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._lost.wait(), timeout=self._check_every_s)
            if self._lost.is_set() or connection.is_closed():
                raise ConnectionError("the listening connection was closed")
            # A connection can die without a word (a half-open TCP connection): ask it something.
            await connection.fetchval("SELECT 1", timeout=self._check_every_s)

    async def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), timeout=2)
            if not connection.is_closed():
                connection.terminate()

    def drop_connection(self) -> None:
        """Cut the connection as a failing network would; it is opened again with back-off."""
        if self._connection is not None:
            self._connection.terminate()
