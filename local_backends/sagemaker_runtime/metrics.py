"""Endpoint invocation metrics, aggregated per minute and published as SageMaker does.

Namespace ``AWS/SageMaker``, dimensions ``EndpointName`` and ``VariantName``:
``Invocations`` (Sum = requests), ``InvocationsPerInstance``, ``Invocation4XXErrors`` and
``Invocation5XXErrors`` (one sample per request, 1 for an error: Sum = errors, Average =
error rate), ``ModelLatency`` and ``OverheadLatency`` (microseconds). Each is sent once per
minute as a statistic set (SampleCount, Sum, Minimum, Maximum) with the minute's timestamp.

The local CloudWatch backend refuses ``PutMetricData`` in ``AWS/`` namespaces (as AWS
does); the metrics go through its ``publish_service_metrics(namespace, metric_data)`` when
it has one, else through ``PutMetricData`` (which moto accepts).

A minute is published by the first invocation after it ends, by :meth:`flush`
(``aws_ml.serving.flush(session)``), and at interpreter exit.
"""
from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timezone

logger = logging.getLogger("aws_ml")
NAMESPACE = "AWS/SageMaker"
UNITS = {"Invocations": "None", "InvocationsPerInstance": "None", "Invocation4XXErrors": "None",
         "Invocation5XXErrors": "None", "ModelLatency": "Microseconds",
         "OverheadLatency": "Microseconds"}


class _Stat:
    __slots__ = ("n", "sum", "min", "max")

    def __init__(self) -> None:
        self.n, self.sum, self.min, self.max = 0, 0.0, float("inf"), float("-inf")

    def add(self, value: float) -> None:
        self.n += 1
        self.sum += value
        if value < self.min:
            self.min = value
        if value > self.max:
            self.max = value


class EndpointMetrics:
    """Per-minute aggregates of invocations, put to CloudWatch through a boto3 client."""

    def __init__(self, cloudwatch_factory, local_cloudwatch=None) -> None:
        self._cw = cloudwatch_factory
        self._local = local_cloudwatch
        self._lock = threading.Lock()
        self._minutes: dict[tuple[int, str, str], dict[str, _Stat]] = {}

    def record(self, endpoint: str, variant: str, status: int, model_us: float | None,
               overhead_us: float, instances: int = 1) -> None:
        minute = int(time.time() // 60)
        with self._lock:
            stats = self._minutes.get((minute, endpoint, variant))
            if stats is None:
                stats = self._minutes[(minute, endpoint, variant)] = {m: _Stat() for m in UNITS}
            stats["Invocations"].add(1)
            stats["InvocationsPerInstance"].add(1 / max(instances, 1))
            stats["Invocation4XXErrors"].add(1 if 400 <= status < 500 else 0)
            stats["Invocation5XXErrors"].add(1 if status >= 500 else 0)
            if model_us is not None:
                stats["ModelLatency"].add(model_us)
            stats["OverheadLatency"].add(overhead_us)
            done = [k for k in self._minutes if k[0] < minute]
            due = [(k, self._minutes.pop(k)) for k in done]
        if due:
            self._put(due)

    def flush(self) -> None:
        with self._lock:
            due = list(self._minutes.items())
            self._minutes.clear()
        if due:
            self._put(due)

    def _put(self, due: list) -> None:
        data = []
        for (minute, endpoint, variant), stats in due:
            ts = datetime.fromtimestamp(minute * 60, timezone.utc)
            dims = [{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": variant}]
            for name, st in stats.items():
                if st.n == 0:
                    continue
                data.append({"MetricName": name, "Dimensions": dims, "Timestamp": ts,
                             "Unit": UNITS[name],
                             "StatisticValues": {"SampleCount": st.n, "Sum": st.sum,
                                                 "Minimum": st.min, "Maximum": st.max}})
        # AWS refuses PutMetricData in the AWS/ namespaces from users; the local CloudWatch
        # backend offers services a method that publishes there, as SageMaker does.
        local = self._local() if self._local is not None else None
        publish = getattr(local, "publish_service_metrics", None)
        for i in range(0, len(data), 500):
            try:
                if publish is not None:
                    publish(NAMESPACE, data[i:i + 500])
                else:
                    self._cw().put_metric_data(Namespace=NAMESPACE, MetricData=data[i:i + 500])
            except Exception as exc:  # invocations go on without their metrics: say so
                logger.warning("aws_ml: could not publish %d SageMaker endpoint metrics to "
                               "CloudWatch (%s: %s)", len(data[i:i + 500]), type(exc).__name__, exc)
