"""Model-server output shipped to CloudWatch Logs, where SageMaker puts it.

Log group ``/aws/sagemaker/Endpoints/<endpoint>``, one stream per server
``<variant>/<instance id>``. A server writes to its own file; the lines written since the
last shipment are sent when the endpoint is described, when an invocation fails with a
model error, and before the endpoint is deleted. The range of bytes sent is claimed in
SQLite first, so two processes never send the same lines twice.
"""
from __future__ import annotations

import logging
import os
import time

from .store import HostingStore

logger = logging.getLogger("aws_ml")
MAX_BATCH = 5000


def log_group(endpoint: str) -> str:
    return f"/aws/sagemaker/Endpoints/{endpoint}"


def log_stream(server: dict) -> str:
    return f"{server['variant']}/i-{server['id']:017x}"


def _ensure(logs, group: str, stream: str) -> None:
    try:
        logs.create_log_group(logGroupName=group)
    except logs.exceptions.ResourceAlreadyExistsException:
        pass
    try:
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
    except logs.exceptions.ResourceAlreadyExistsException:
        pass


def ship(store: HostingStore, logs, endpoint: str, servers: list[dict]) -> int:
    """Send the new lines of ``servers``' logs; the number of events sent."""
    sent = 0
    for server in servers:
        try:
            size = os.path.getsize(server["log_file"])
        except OSError:
            continue
        if size <= server["log_offset"]:
            continue
        start = store.claim_log_range(server["id"], size)
        if start is None:
            continue
        with open(server["log_file"], "rb") as f:
            f.seek(start)
            text = f.read(size - start).decode("utf-8", errors="replace")
        lines = [line for line in text.splitlines() if line.strip()]
        if not lines:
            continue
        group, stream = log_group(endpoint), log_stream(server)
        now = int(time.time() * 1000)
        try:
            _ensure(logs, group, stream)
            for i in range(0, len(lines), MAX_BATCH):
                logs.put_log_events(logGroupName=group, logStreamName=stream,
                                    logEvents=[{"timestamp": now, "message": line}
                                               for line in lines[i:i + MAX_BATCH]])
        except Exception as exc:  # the endpoint works without its logs: say so, go on
            logger.warning("aws_ml: could not ship the logs of endpoint %s to CloudWatch Logs "
                           "(%s: %s)", endpoint, type(exc).__name__, exc)
            continue
        sent += len(lines)
    return sent
