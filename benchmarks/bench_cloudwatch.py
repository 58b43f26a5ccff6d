"""PutMetricData of one datum: calls per second on the local backend vs moto in-process.

Run ``python benchmarks/bench_cloudwatch.py`` (about 15 s). Both go through a real boto3
client (parameter validation, serialisation hooks, response parsing); the local backend
also reports its own time per call (the backend method alone, without botocore), which
the design keeps well under 100 µs.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

from aws_ml import Session  # noqa: E402
from local_backends import get_backend  # noqa: E402
from local_backends.cloudwatch import CloudWatchBackend  # noqa: E402

SECONDS = 4.0
DATUM = [{"MetricName": "latency", "Value": 12.5, "Unit": "Milliseconds",
          "Dimensions": [{"Name": "Endpoint", "Value": "churn"}]}]


def rate(call, seconds: float = SECONDS) -> tuple[float, int]:
    """Calls per second of ``call`` over about ``seconds`` (after a short warm-up)."""
    for _ in range(50):
        call()
    n, start = 0, time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(50):
            call()
        n += 50
        now = time.perf_counter()
        if now >= deadline:
            return n / (now - start), n


def main() -> None:
    with tempfile.TemporaryDirectory() as home:
        os.environ["AWS_ML_HOME"] = home
        with Session(backend="local", home=home) as local:
            cw = local.client("cloudwatch")
            local_rate, local_n = rate(lambda: cw.put_metric_data(Namespace="bench", MetricData=DATUM))
        backend = get_backend(CloudWatchBackend, Path(home), "us-east-1")
        backend_rate, _ = rate(lambda: backend.put_metric_data(Namespace="bench", MetricData=DATUM), 2.0)
        with Session(backend="moto", home=home) as moto:
            cw = moto.client("cloudwatch")
            moto_rate, moto_n = rate(lambda: cw.put_metric_data(Namespace="bench", MetricData=DATUM))
    print("PutMetricData, 1 datum per call, through a boto3 client")
    print(f"  local : {local_rate:9.0f} calls/s  ({local_n} calls, durable in SQLite)")
    print(f"  moto  : {moto_rate:9.0f} calls/s  ({moto_n} calls, in memory)")
    print(f"  ratio local/moto: {local_rate / moto_rate:.2f}x")
    print(f"  local backend alone: {1e6 / backend_rate:.1f} µs per call ({backend_rate:.0f} calls/s)")


if __name__ == "__main__":
    main()
