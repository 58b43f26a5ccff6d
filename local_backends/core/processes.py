"""Processes that outlive their caller (training jobs, model servers, queries): is a
recorded pid still that process?

A pid alone is not enough: pids are reused. Each record keeps the process's start time
(``process_token``), and a process counts as alive only while it runs, is not a zombie, and
started at that time.
"""
from __future__ import annotations

import os
from pathlib import Path


def process_token(pid: int) -> str | None:
    """The start time of process ``pid`` (Linux ``/proc``), to tell it from a reused pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]  # field 22 of proc(5): starttime, in clock ticks


def process_alive(pid: int | None, token: str | None = None) -> bool:
    """Whether ``pid`` still runs, is not a zombie, and (with ``token``) is the same process."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return not Path("/proc/self/stat").exists()  # no /proc (macOS): trust os.kill
    except OSError:
        return True
    tail = stat.rsplit(")", 1)[1].split()
    if tail[0] in ("Z", "X"):
        return False
    return token is None or tail[19] == token
