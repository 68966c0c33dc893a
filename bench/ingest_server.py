"""Launcher of the server under test for ``bench.ingest``: the real app plus a measuring probe, all in bench/.

``python -m bench.ingest_server --port P`` serves ``create_app(Settings())`` (settings from the usual
``SITEWATCH_*`` environment) with uvicorn, exactly as ``python -m uvicorn server.app:create_app --factory``
would (same loop and HTTP implementations: uvicorn's "auto", i.e. uvloop + httptools when installed),
with three additions that live only here:

* the baselines of :mod:`bench.naive_ingest` (the naive pipeline and the bytes-only floor) as extra
  routes under ``/bench/``; the app's own routes are untouched, and the benchmark calls only one
  variant per server process;
* an event-loop probe: a task that sleeps 5 ms in a loop and records how late it wakes up
  (``time.perf_counter``; uvloop's ``loop.time()`` is only millisecond-resolution);
* server-side request timing: for requests carrying an ``x-bench-tag`` header, the time from the
  ASGI scope arriving (headers parsed) to the response start, kept per tag.

``GET /bench/stats`` returns both; ``POST /bench/reset`` clears them.  Nothing in ``server/`` is changed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import defaultdict
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

PROBE_INTERVAL_S = 0.005


class LoopProbe:
    """Records how late a periodic 5 ms sleep wakes up: the longest time the loop could not run a callback.

    Each sample is also split with the loop thread's ``/proc/self/task/<tid>/schedstat`` (CPU time and
    time spent runnable but waiting for a CPU): ``lag - runqueue wait`` is the part the kernel's
    scheduling does not explain, i.e. the loop busy in a callback or waiting for the GIL.  On a shared
    machine, runqueue wait includes other processes' load; on any machine, our own worker threads'.
    """

    def __init__(self) -> None:
        self.reset()
        self._task: asyncio.Task[None] | None = None

    def reset(self) -> None:
        self.max_lag_s = 0.0
        self.max_unexplained_s = 0.0
        self.worst: dict[str, float] = {}
        self.samples = 0
        self.over_10ms = 0
        self.over_20ms = 0
        self.unexplained_over_20ms = 0
        self.lags: list[float] = []

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        import os
        import threading

        try:
            fd: int | None = os.open(f"/proc/self/task/{threading.get_native_id()}/schedstat", os.O_RDONLY)
        except OSError:
            fd = None

        def sched() -> tuple[float, float]:
            if fd is None:
                return 0.0, 0.0
            cpu, wait, _slices = os.pread(fd, 128, 0).split()
            return int(cpu) / 1e9, int(wait) / 1e9

        while True:
            cpu0, wait0 = sched()
            before = time.perf_counter()
            await asyncio.sleep(PROBE_INTERVAL_S)
            lag = max(0.0, time.perf_counter() - before - PROBE_INTERVAL_S)
            cpu1, wait1 = sched()
            unexplained = max(0.0, lag - (wait1 - wait0))
            self.samples += 1
            self.lags.append(lag)
            self.over_10ms += lag > 0.010
            self.over_20ms += lag > 0.020
            self.unexplained_over_20ms += unexplained > 0.020
            self.max_unexplained_s = max(self.max_unexplained_s, unexplained)
            if lag > self.max_lag_s:
                self.max_lag_s = lag
                self.worst = {
                    "lag_ms": round(lag * 1000, 2),
                    "loop_cpu_ms": round((cpu1 - cpu0) * 1000, 2),
                    "runqueue_wait_ms": round((wait1 - wait0) * 1000, 2),
                    "at": time.time(),
                }

    def stats(self) -> dict[str, Any]:
        ordered = sorted(self.lags)

        def pct(q: float) -> float:
            return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2) if ordered else 0.0

        return {
            "samples": self.samples,
            "max_ms": round(self.max_lag_s * 1000, 2),
            "max_excl_runqueue_ms": round(self.max_unexplained_s * 1000, 2),
            "worst": self.worst,
            "p50_ms": pct(0.50),
            "p99_ms": pct(0.99),
            "over_10ms": self.over_10ms,
            "over_20ms": self.over_20ms,
            "excl_runqueue_over_20ms": self.unexplained_over_20ms,
        }


class BenchProbe:
    """ASGI wrapper: starts the loop probe with the lifespan; answers ``/bench/stats``, ``/bench/reset``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.probe = LoopProbe()
        self.timings: dict[str, list[float]] = defaultdict(list)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            self.probe.start()
            await self.app(scope, receive, send)
            return
        if scope["type"] == "http" and scope["path"] in ("/bench/stats", "/bench/reset"):
            if scope["path"] == "/bench/reset":
                self.probe.reset()
                self.timings.clear()
            body = json.dumps({"loop": self.probe.stats(), "timings_ms": self.timings}).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        tag = None
        if scope["type"] == "http":
            for name, value in scope.get("headers", []):
                if name == b"x-bench-tag":
                    tag = value.decode("latin-1")
        if tag is None:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                self.timings[tag].append(round((time.perf_counter() - started) * 1000, 3))
            await send(message)

        await self.app(scope, receive, timed_send)


def build() -> BenchProbe:
    """The app under test, wrapped."""
    from bench.naive_ingest import floor_router, naive_router
    from server.app import create_app
    from server.settings import Settings

    app = create_app(Settings())
    app.include_router(naive_router)
    app.include_router(floor_router)
    return BenchProbe(app)


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m bench.ingest_server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(build(), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
