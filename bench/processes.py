"""Child processes of the benchmarks (servers under test)."""

from __future__ import annotations

import signal
import subprocess


def stop_process(proc: subprocess.Popen) -> None:
    """SIGTERM a running process, then SIGKILL it if it has not exited within 20 s."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
